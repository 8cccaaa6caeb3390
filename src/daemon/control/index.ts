// The daemon's control plane (DESIGN.md §8a): the control socket with the daemon's methods and,
// when the topology asks for it, the Prometheus endpoint over the same statistics. daemon.ts
// starts them once the portals listen and stops them first on shutdown.

import * as path from 'node:path';
import type { Topology } from '../../engine/topology';
import { topologyDocument } from './config-document';
import type { IscsiServer } from '../../transports/iscsi/server';
import type { Supervisor } from '../../workers/supervisor';
import { NexusError } from '../../engine/result';
import type { Logger } from '../log';
import { parsePortal } from '../config/portal';
import { startMetricsEndpoint, type MetricsEndpoint } from '../metrics';
import { daemonControl } from './daemon-control';
import { daemonMethods, gatherStats } from './daemon-methods';
import { libraryMethods } from './library-methods';
import { aluaMethods } from './alua-methods';
import { ControlServer } from './server';
import { normalizeTopology, type TopologyResult } from '../config/load';
import { ConfigTransactions } from './config-apply';
import { configMethods } from './config-methods';
import { DaemonLiveApplier } from './live-apply';

/** The control socket's path: the topology's, else <stateDir>/control.sock. */
export function controlSocketPath(topology: Topology): string | undefined {
  if (topology.control?.socket !== undefined) return topology.control.socket;
  return topology.stateDir !== '' ? path.join(topology.stateDir, 'control.sock') : undefined;
}

export interface ControlPlane {
  readonly socketPath: string | undefined;
  /** Where the Prometheus endpoint listens, when on. */
  readonly metrics: string | undefined;
  /** SIGHUP: the topology file read again and applied as config.apply would. */
  reload(): Promise<void>;
  /**
   * A device change the kernel made through configfs (a TCMU device's dev_size or
   * emulate_write_cache, kernel-shim/shim.ts), applied as one transaction so that the running
   * topology (config.get, config.save) says so too.
   */
  changeDevice(device: string, change: { sizeBytes: bigint } | { writeCache: 'writeback' | 'writethrough' }): Promise<void>;
  close(): Promise<void>;
}

/** Where the running topology came from, and how a new one is read the same way (cli/main.ts). */
export interface TopologySource {
  /** The topology file (config.save writes it); undefined for the built-in default. */
  readonly file: string | undefined;
  /** A topology document validated as the file was at start-up (same options, same overrides). */
  normalize(doc: unknown): TopologyResult;
  /** The file read again the same way. */
  reload(): TopologyResult;
}

export async function startControlPlane(o: {
  topology: Topology; runtime: Supervisor; iscsi: IscsiServer; engineThreads: number; log: Logger; source?: TopologySource;
}): Promise<ControlPlane> {
  const socketPath = controlSocketPath(o.topology);
  const log = o.log.child({ subsystem: 'control' });
  let metrics: MetricsEndpoint | undefined;
  const source: TopologySource = o.source ?? {
    file: undefined,
    normalize: doc => normalizeTopology(doc, { stateDir: o.topology.stateDir === '' ? null : o.topology.stateDir }),
    reload: () => ({ ok: true, topology: o.topology }),
  };
  let tx: ConfigTransactions | undefined;
  const control = daemonControl({
    topology: () => tx?.running ?? o.topology, runtime: o.runtime, iscsi: o.iscsi, engineThreads: o.engineThreads,
    controlSocket: socketPath ?? '', metricsListen: () => metrics?.address,
  });
  const live = new DaemonLiveApplier({
    running: o.topology, runtime: o.runtime, iscsi: o.iscsi, settings: o.topology.iscsi, control, log,
  });
  tx = new ConfigTransactions(o.topology, doc => source.normalize(doc), live, log);
  const transactions = tx;
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
      server = await ControlServer.start({
        socketPath, methods: [...daemonMethods(control), ...libraryMethods(control), ...aluaMethods(control), ...configMethods({ tx: transactions, file: source.file })], log,
      });
    } catch (e) {
      await metrics?.close();
      throw e;
    }
    log.info({ socket: socketPath }, 'control socket listening');
  }
  return {
    socketPath,
    metrics: metrics?.address,
    changeDevice: async (device, change) => {
      await transactions.edit(t => topologyDocument(t, { secrets: true }), doc => {
        const d = (doc.devices as Array<Record<string, unknown>>).find(x => x.name === device);
        if (d === undefined) throw new NexusError('ERR_TOPOLOGY', `unknown device "${device}"`);
        if ('sizeBytes' in change) d.size = change.sizeBytes <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(change.sizeBytes) : `${change.sizeBytes}B`;
        else d.writeCache = change.writeCache;
      }, { who: 'TCMU (configfs)', at: '' });
    },
    reload: async () => {
      if (source.file === undefined) {
        log.info({ signal: 'SIGHUP' }, 'SIGHUP: serving the built-in default topology, there is no topology file to re-read; nothing changed');
        return;
      }
      try {
        const r = await transactions.applyLoaded(() => source.reload(), { who: 'SIGHUP', at: '' });
        log.info({ signal: 'SIGHUP', file: source.file, steps: r.steps.map(x => x.description) }, r.applied
          ? `SIGHUP: re-read ${source.file}: applied ${r.steps.length} step${r.steps.length === 1 ? '' : 's'}`
          : `SIGHUP: re-read ${source.file}: valid; nothing changed`);
      } catch (e) {
        const err = e as { message?: string; data?: { errors?: readonly unknown[] } };
        const n = err.data?.errors?.length ?? 0;
        log.error({ signal: 'SIGHUP', file: source.file, errors: err.data?.errors },
          `SIGHUP: re-read ${source.file}: ${n > 0 ? `${n} error${n === 1 ? '' : 's'}` : 'failed'}: ${err.message ?? String(e)}; nothing changed`);
      }
    },
    close: async () => { await Promise.all([server?.close(), metrics?.close()]); },
  };
}
