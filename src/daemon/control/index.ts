// The daemon's control plane (DESIGN.md §8a): the control socket with the daemon's methods.
// daemon.ts starts it once the portals listen and stops it first on shutdown.

import * as path from 'node:path';
import type { Topology } from '../../engine/topology';
import type { IscsiServer } from '../../transports/iscsi/server';
import type { Supervisor } from '../../workers/supervisor';
import type { Logger } from '../log';
import { daemonControl } from './daemon-control';
import { daemonMethods } from './daemon-methods';
import { ControlServer } from './server';

/** The control socket's path: the topology's, else <stateDir>/control.sock. */
export function controlSocketPath(topology: Topology): string | undefined {
  if (topology.control?.socket !== undefined) return topology.control.socket;
  return topology.stateDir !== '' ? path.join(topology.stateDir, 'control.sock') : undefined;
}

export interface ControlPlane {
  readonly socketPath: string | undefined;
  close(): Promise<void>;
}

export async function startControlPlane(o: {
  topology: Topology; runtime: Supervisor; iscsi: IscsiServer; engineThreads: number; log: Logger;
}): Promise<ControlPlane> {
  const socketPath = controlSocketPath(o.topology);
  if (socketPath === undefined) return { socketPath, close: () => Promise.resolve() };
  const log = o.log.child({ subsystem: 'control' });
  const control = daemonControl({
    topology: o.topology, runtime: o.runtime, iscsi: o.iscsi, engineThreads: o.engineThreads, tpgt: 1,
    controlSocket: socketPath, metricsListen: () => undefined,
  });
  const server = await ControlServer.start({ socketPath, methods: daemonMethods(control), log });
  log.info({ socket: socketPath }, 'control socket listening');
  return { socketPath, close: () => server.close() };
}
