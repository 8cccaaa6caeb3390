// The daemon: the engine plus every transport the topology asks for. The CLI owns signals and
// calls stop(); stop() stops accepting, asks initiators to log out, drops what is left, flushes
// write-back caches and resolves.
//
// Where things run (DESIGN.md §3, src/workers/supervisor.ts): with engine.threads N > 0 (default:
// one per core) the units and the full feature phase of every Normal iSCSI session live on N
// engine threads, started from engine-thread.ts (which registers the iSCSI session factory
// there); this thread, the supervisor, accepts connections, runs logins and discovery sessions,
// places sessions and replaces a thread that dies. It is never on the data path. With
// engine.threads 0 the same runtime runs on this thread alone: one scheduler hosting every unit,
// and the iSCSI sessions call it directly. Without the native addon (which moves a socket to an
// engine thread) the daemon runs with 0 engine threads and logs one warning saying why.
import * as path from 'node:path';
import type { EngineApi } from '../engine/engine-api';
import type { Topology } from '../engine/topology';
import { IscsiServer } from '../transports/iscsi/server';
import type { ListeningAddress } from '../transports/fabric';
import { Supervisor } from '../workers/supervisor';
import { socketHandOffUnavailable } from '../workers/socket-handoff';
import { parsePortal } from './config/portal';
import { createStorageDirectories, FILE_STATE_DIR } from './config/storage-paths';
import { startControlPlane, type ControlPlane, type TopologySource } from './control';
import type { Logger } from './log';
import { locateStartError, startFailed, type StartOrigins } from './start-failure';

export interface DaemonHandle {
  stop(): Promise<void>;
  /** SIGHUP: the topology file read again and applied as one transaction (config.apply). */
  reload(): Promise<void>;
  listening: ListeningAddress[];
}

/** How long shutdown waits for initiators to answer the Async logout request. */
const LOGOUT_WAIT_MS = 2000;

export interface StartOptions {
  log: Logger;
  /** Which values the command line set, so a failure names them rather than a JSON path. */
  origins?: StartOrigins;
  /** Where the topology came from: config.apply, config.save and SIGHUP read and write it the same way. */
  source?: TopologySource;
}

/**
 * Start everything or nothing. A failure that a value of the topology explains is thrown as one
 * NexusError ERR_START whose message names that value's JSON path and the cause (start-failure.ts).
 */
export async function startDaemon(topology: Topology, opts: StartOptions): Promise<DaemonHandle> {
  const origins = opts.origins ?? { stateDir: FILE_STATE_DIR.stateDir };
  try {
    return await startEverything(topology, opts.log, origins, opts.source);
  } catch (e) {
    throw locateStartError(e, topology, origins);
  }
}

async function startEverything(topology: Topology, log: Logger, origins: StartOrigins, source: TopologySource | undefined): Promise<DaemonHandle> {
  // The state directory and every fileio directory exist before the engine opens a file.
  const dirErrors = createStorageDirectories(topology, origins);
  if (dirErrors.length > 0) throw startFailed(dirErrors[0].path, dirErrors[0].message);
  const threadCount = engineThreads(topology.engine?.threads ?? 0, log);
  const runtime = await Supervisor.create(topology, {
    threads: threadCount,
    threadEntry: path.join(__dirname, __filename.endsWith('.ts') ? 'engine-thread.ts' : 'engine-thread.js'),
    busyPollMicros: topology.iscsi.busyPollMicros ?? 0,
    onThreadRestart: (threadIndex, failed) =>
      (failed ? log.error({ threadIndex }, 'engine thread died too often; its units stay offline')
        : log.warn({ threadIndex }, 'engine thread died and was replaced; its sessions log in again')),
    onBuffersReclaimed: (r) =>
      (r.acknowledged ? log.info(r, 'pool buffers of the dead engine thread returned')
        : log.warn(r, 'pool buffers of the dead engine thread returned without every peer acknowledging')),
    onSessionEnded: (e, reason) => log.debug({ initiator: e.initiatorName, tsih: e.tsih, thread: e.thread, reason }, 'session ended'),
  });
  const threads = threadCount > 0 ? runtime : undefined;
  const engine: EngineApi = threadCount > 0 ? runtime.directory : runtime.engine;
  const closeEngine = (): Promise<void> => runtime.close();
  const iscsi = new IscsiServer({
    engine,
    settings: topology.iscsi,
    targets: topology.targets,
    parsePortal: (text) => {
      const r = parsePortal(text);
      return r.ok ? { host: r.portal.host, port: r.portal.port } : undefined;
    },
    log: log.child({ subsystem: 'iscsi' }),
    logoutWaitMs: LOGOUT_WAIT_MS,
    sessionThreads: threads,
    threadLogLevel: typeof log.level === 'string' ? log.level : undefined,
  });
  let listening: ListeningAddress[];
  try {
    listening = await iscsi.start();
  } catch (e) {
    await closeEngine();
    throw e;
  }
  for (const l of listening) log.info({ host: l.host, port: l.port, engineThreads: threadCount }, 'listening');
  let control: ControlPlane;
  try {
    control = await startControlPlane({ topology, runtime, iscsi, engineThreads: threadCount, log, source });
  } catch (e) {
    await iscsi.stop();
    await closeEngine();
    throw e;
  }
  const unhook = threads ? testHooks(threads, log) : () => undefined;
  let stopped: Promise<void> | undefined;
  return {
    listening,
    reload: () => control.reload(),
    stop(): Promise<void> {
      stopped ??= (async () => {
        unhook();
        await control.close();
        // RFC 7143 11.9.1: sessions on engine threads are asked to log out there, those here by
        // the server; then what is left is dropped, in-flight commands abort, caches flush.
        await Promise.all([iscsi.stop(), threads?.requestLogout(LOGOUT_WAIT_MS)]);
        await closeEngine();
      })();
      return stopped;
    },
  };
}

/**
 * The engine threads the daemon runs. A Normal session's full feature phase moves to an engine
 * thread with its socket, a descriptor duplicated by the native addon (workers/socket-handoff.ts);
 * without the addon no session could get there, every login would end in a failed hand-off. The
 * daemon then runs everything on this thread (engine.threads 0: correct, one core) and says so
 * once, with the prerequisite, rather than refusing to start: the default topology asks for one
 * engine thread per core, and a host without build tools should still serve.
 */
function engineThreads(asked: number, log: Logger): number {
  const missing = asked > 0 ? socketHandOffUnavailable() : undefined;
  if (missing === undefined) return asked;
  log.warn(
    { engineThreads: asked, reason: missing },
    `engine.threads ${asked} needs the native addon to move sessions to engine threads; running with engine.threads 0 `
      + '(build the addon: npx node-gyp rebuild, with build-essential and python3)',
  );
  return 0;
}

/**
 * NEXUS_TEST_HOOKS=1 only (integration tests of supervision): SIGUSR2 terminates engine thread 0
 * when it hosts a session, as a crash would; the supervisor replaces it.
 */
function testHooks(threads: Supervisor, log: Logger): () => void {
  if (process.env.NEXUS_TEST_HOOKS !== '1') return () => undefined;
  const onSignal = (): void => {
    const hosted = [...threads.registry.all()].filter((e) => e.thread === 0).length;
    const w = threads.worker(0);
    if (hosted === 0 || !w || !threads.isUp(0)) {
      process.stderr.write(`test hook: engine thread 0 hosts no session (${hosted})\n`);
      return;
    }
    process.stderr.write(`test hook: terminating engine thread 0 (${hosted} sessions)\n`);
    log.warn({ threadIndex: 0 }, 'test hook: terminating an engine thread');
    void w.terminate();
  };
  process.on('SIGUSR2', onSignal);
  return () => process.removeListener('SIGUSR2', onSignal);
}
