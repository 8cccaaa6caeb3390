// The daemon: the engine plus every transport the topology asks for. The CLI owns signals and
// calls stop(); stop() stops accepting, asks initiators to log out, drops what is left, flushes
// write-back caches (engine.close) and resolves.
import { Engine } from '../engine/engine';
import type { Topology } from '../engine/topology';
import { IscsiServer } from '../transports/iscsi/server';
import type { ListeningAddress } from '../transports/fabric';
import { parsePortal } from './config/portal';
import type { Logger } from './log';

export interface DaemonHandle {
  stop(): Promise<void>;
  listening: ListeningAddress[];
}

export async function startDaemon(topology: Topology, opts: { log: Logger }): Promise<DaemonHandle> {
  const log = opts.log;
  const engine = await Engine.create(topology, { log: log.child({ subsystem: 'engine' }) });
  const iscsi = new IscsiServer({
    engine,
    settings: topology.iscsi,
    targets: topology.targets,
    parsePortal: (text) => {
      const r = parsePortal(text);
      return r.ok ? { host: r.portal.host, port: r.portal.port } : undefined;
    },
    log: log.child({ subsystem: 'iscsi' }),
  });
  let listening: ListeningAddress[];
  try {
    listening = await iscsi.start();
  } catch (e) {
    await engine.close();
    throw e;
  }
  for (const l of listening) log.info({ host: l.host, port: l.port }, 'listening');
  let stopped: Promise<void> | undefined;
  return {
    listening,
    stop(): Promise<void> {
      stopped ??= (async () => {
        await iscsi.stop();
        await engine.close();
      })();
      return stopped;
    },
  };
}
