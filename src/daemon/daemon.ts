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
//
// Fabric targets (loopback, fc, fcoe, srp: DESIGN.md §8) are served from the same runtime by the
// HBA target-mode shim (kernel-shim/shim.ts, the code `nexus shim` runs on a runtime of its own):
// it wires them in LIO's configfs after the iSCSI portals listen and removes that wiring first at
// stop. Each TCMU ring is served on this thread, which then takes part in the runtime as one more
// member (its commands reach the units on the engine threads through the rings); a kernel-side
// change of such a device (configfs dev_size, emulate_write_cache) becomes a transaction of the
// control plane, so config.get says what the kernel set.
import * as path from 'node:path';
import type { EngineApi } from '../engine/engine-api';
import type { Topology } from '../engine/topology';
import { IscsiServer } from '../transports/iscsi/server';
import type { ListeningAddress } from '../transports/fabric';
import { Supervisor } from '../workers/supervisor';
import { Shim, type ShimDeps } from '../../kernel-shim/shim';
import { isFabricDriver } from '../../kernel-shim/fabrics';
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
  /** The fabric targets' kernel side (tests: a fake configfs, simulated rings and netlink). */
  shim?: Pick<ShimDeps, 'fsys' | 'settings' | 'sysModule' | 'sysClassUio' | 'devDir' | 'openRing' | 'openNetlink'>;
}

/**
 * Start everything or nothing. A failure that a value of the topology explains is thrown as one
 * NexusError ERR_START whose message names that value's JSON path and the cause (start-failure.ts).
 */
export async function startDaemon(topology: Topology, opts: StartOptions): Promise<DaemonHandle> {
  const origins = opts.origins ?? { stateDir: FILE_STATE_DIR.stateDir };
  try {
    return await startEverything(topology, opts.log, origins, opts.source, opts.shim);
  } catch (e) {
    throw locateStartError(e, topology, origins);
  }
}

async function startEverything(topology: Topology, log: Logger, origins: StartOrigins, source: TopologySource | undefined, shimDeps: StartOptions['shim']): Promise<DaemonHandle> {
  // The state directory and every fileio directory exist before the engine opens a file.
  const dirErrors = createStorageDirectories(topology, origins);
  if (dirErrors.length > 0) throw startFailed(dirErrors[0].path, dirErrors[0].message);
  const threadCount = engineThreads(topology.engine?.threads ?? 0, log);
  const fabricAt = topology.targets.findIndex(t => isFabricDriver(t.driver));
  const runtime = await Supervisor.create(topology, {
    threads: threadCount,
    // The TCMU rings are served here: this thread joins the mesh to reach the units.
    ...(fabricAt >= 0 && threadCount > 0 ? { callingThread: true } : {}),
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
  let shim: Shim | undefined;
  if (fabricAt >= 0) {
    const r = await Shim.start(topology, {
      ...shimDeps,
      log: log.child({ subsystem: 'tcmu' }),
      stateFile: topology.stateDir !== '' ? path.join(topology.stateDir, 'shim-ops.json') : undefined,
    }, {
      openNexus: (target, initiator) => runtime.engine.openNexus({ targetName: target, initiatorName: initiator }),
      changeDevice: (device, change) => control.changeDevice(device, change),
      stop: async () => undefined,
    });
    if (!(r instanceof Shim)) {
      await control.close();
      await iscsi.stop();
      await closeEngine();
      throw startFailed(`/targets/${fabricAt}`, r.errors.join('; '));
    }
    shim = r;
    log.info({ targets: topology.targets.filter(t => isFabricDriver(t.driver)).map(t => `${t.driver} ${t.fabric?.wwn ?? t.name}`) }, 'fabric targets wired through LIO\'s TCMU');
  }
  const unhook = threads ? testHooks(threads, log) : () => undefined;
  let stopped: Promise<void> | undefined;
  return {
    listening,
    reload: () => control.reload(),
    stop(): Promise<void> {
      stopped ??= (async () => {
        unhook();
        // The fabric wiring first: unlinking a LUN waits for its commands, which the runtime completes.
        for (const f of await shim?.stop() ?? []) log.error({ failure: f }, 'tcmu: while removing the fabric wiring');
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
