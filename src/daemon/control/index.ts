// The daemon's control plane (DESIGN.md §8a): the control socket with the daemon's methods and,
// when the topology asks for it, the Prometheus endpoint over the same statistics. daemon.ts
// starts them once the portals listen and stops them first on shutdown.

import * as path from 'node:path';
import type { Topology } from '../../engine/topology';
import type { IscsiServer } from '../../transports/iscsi/server';
import type { Supervisor } from '../../workers/supervisor';
import { NexusError } from '../../engine/result';
import type { Logger } from '../log';
import { parsePortal } from '../config/portal';
import { startMetricsEndpoint, type MetricsEndpoint } from '../metrics';
import { daemonControl } from './daemon-control';
import { daemonMethods, gatherStats } from './daemon-methods';
import { libraryMethods } from './library-methods';
import { ControlServer } from './server';

/** The control socket's path: the topology's, else <stateDir>/control.sock. */
export function controlSocketPath(topology: Topology): string | undefined {
  if (topology.control?.socket !== undefined) return topology.control.socket;
  return topology.stateDir !== '' ? path.join(topology.stateDir, 'control.sock') : undefined;
}

export interface ControlPlane {
  readonly socketPath: string | undefined;
  /** Where the Prometheus endpoint listens, when on. */
  readonly metrics: string | undefined;
  close(): Promise<void>;
}

export async function startControlPlane(o: {
  topology: Topology; runtime: Supervisor; iscsi: IscsiServer; engineThreads: number; log: Logger;
}): Promise<ControlPlane> {
  const socketPath = controlSocketPath(o.topology);
  const log = o.log.child({ subsystem: 'control' });
  let metrics: MetricsEndpoint | undefined;
  const control = daemonControl({
    topology: o.topology, runtime: o.runtime, iscsi: o.iscsi, engineThreads: o.engineThreads, tpgt: 1,
    controlSocket: socketPath ?? '', metricsListen: () => metrics?.address,
  });
  const listen = o.topology.metrics?.listen;
  if (listen !== undefined) {
    const p = parsePortal(listen);
    if (!p.ok) throw new NexusError('ERR_METRICS_LISTEN', `/metrics/listen: ${p.message}`);
    metrics = await startMetricsEndpoint({
      host: p.portal.host, port: p.portal.port, gather: () => gatherStats(control), version: control.version, log,
    });
    log.info({ address: metrics.address }, 'metrics endpoint listening');
  }
  let server: ControlServer | undefined;
  if (socketPath !== undefined) {
    try {
      server = await ControlServer.start({ socketPath, methods: [...daemonMethods(control), ...libraryMethods(control)], log });
    } catch (e) {
      await metrics?.close();
      throw e;
    }
    log.info({ socket: socketPath }, 'control socket listening');
  }
  return {
    socketPath,
    metrics: metrics?.address,
    close: async () => { await Promise.all([server?.close(), metrics?.close()]); },
  };
}
