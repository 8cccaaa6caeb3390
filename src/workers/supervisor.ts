// The supervisor (DESIGN.md §3, §10): placement and supervision of the one actor runtime.
//
//   supervisor (main thread)          engine thread 0..N-1 (engine-thread.ts)      calling thread
//   ─ login phase, directory  ─ctl─▶  Scheduler ─ LUN actors (lun-actor.ts)         (embedded, or
//   ─ places sessions, hands           ├ ThreadEngine (thread-engine.ts)           engine.threads 0)
//     sockets over                     └ SessionHost ─ session actors              Scheduler + the
//   ─ replaces dead threads            ◀──── SPSC ring per ordered pair ────▶      same parts
//
// Members of the mesh: N engine threads (worker_threads), each a Scheduler hosting the LUN
// actors of its home devices and the session actors placed on it; plus, when asked (embedded
// mode, or `threads: 0`), the calling thread as member N, running the same parts
// (startEngineThread) with its sessions' commands: local units are direct calls, units on
// engine threads go through the rings. With 0 engine threads the calling thread is the only
// member and hosts every unit, so every command is a direct call.
//
// Placement (placement.ts): by default the devices a target exports (with those of every other
// target that shares one of them) are homed together on one engine thread, so a session, placed
// on the thread that hosts most of the units its initiator sees (a tie: fewest sessions), reaches
// every unit with a direct call; `homing: 'spread'` puts device i on thread i mod N instead. With
// 0 engine threads every unit is on the calling thread.
//
// Transports: the supervisor names none. A transport whose sessions run on engine threads
// registers its session factory under its fabric name (session-actor.ts, via
// src/transports/fabric.ts) in the module the threads start from (`threadEntry`, given by the
// daemon); the hand-off names the fabric.
//
// Supervision: an engine thread that dies is replaced on the same rings (published descriptors of
// the dead thread refer to nexuses every peer drops at peerDown, so none executes). Its sessions
// are gone: their sockets closed with the thread and the initiators log in again, which places
// them on the replacement once it serves. Peers (the calling thread too) lose only the nexuses
// that had units there; their commands in flight there complete aborted.
// Acknowledged writes are safe: a write is acknowledged after pwrite returned, into the page
// cache of the file, which the replacement's fresh descriptor reads.
//
// Pool buffers of a dead thread (buffer-pool.ts owner tags), recovered before its replacement
// starts, one death at a time:
//   1. peerDown to every serving member; each fails what it had in flight there, drops unread
//      what the dead thread sent it, and answers peerDownDone (bounded wait: PEER_DOWN_WAIT_MS).
//   2. The rings into the dead thread are drained here (it was their only consumer and is gone):
//      a buffer a descriptor there carries is freed if its sender still holds it, i.e. the dead
//      thread never adopted it. The rings out of it towards threads that died too are dropped.
//   3. reclaim(dead): every buffer still tagged with the dead thread (got and not sent, adopted
//      and in use, staged Data-In, descriptors dropped in step 1) goes back to the pool.
//   4. Only then the replacement, which reuses the owner id, starts.

import { setDataPathStatistics } from '../engine/statistics-switch';
import * as net from 'node:net';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Engine, EngineOptions } from '../engine/engine';
import { NullBackstore } from '../engine/backstores/null';
import type { EngineApi } from '../engine/engine-api';
import type { TargetConfig } from '../engine/topology';
import type { DeviceConfig, EngineSettings, Topology } from '../engine/topology';
import { MeshChange, applyEngineChange, applyMeshChange, encodeMeshChange } from './reconfigure';
import { NexusError } from '../engine/result';
import { BufferPool, SizeClass } from './buffer-pool';
import { ControlMessage, StatsReply, postControl, receiveControl } from './messages';
import type { ConfigValue } from './messages';
import { RingMesh } from './scheduler';
import type { ThreadEngine } from './thread-engine';
import { BufferRecovery, PEER_DOWN_WAIT_MS, drainRingsInto } from './recovery';
import { SessionRegistry, SessionEntry, sessionKeyOf } from './session-registry';
import { Homing, homeThreads, placeSession } from './placement';
import { UnitAnswer, unitCall, UnitOpName } from './unit-ops';
import type { AccessStateName } from '../engine/topology';
import type { SessionState } from './session-actor';
import { EngineThreadData, EngineThreadParts, meshControl, memberCounters, memberUnitStats, startEngineThread } from './engine-thread';
import { closeOrphanedDescriptor, detachSocket, socketIdentity, stopReading, writeAll } from './socket-handoff';

/** Name of the placeholder left in a removed unit's mesh slot (never a valid device name). */
const REMOVED_PREFIX = '\u0000removed:';

/** The slot of a removed unit: a placeholder that opens nothing and no LUN maps. */
function removedSlot(index: number): DeviceConfig {
  return { name: `${REMOVED_PREFIX}${index}`, handler: 'nullio', sizeBytes: 512n, blockSize: 512, writeCache: 'writethrough', thin: false, readOnly: true };
}

function isRemovedSlot(d: DeviceConfig): boolean { return d.name.startsWith(REMOVED_PREFIX); }

/** What the runtime needs of a topology. */
export type RuntimeTopology = Pick<Topology, 'devices' | 'targets'> & { engine?: Partial<EngineSettings>; stateDir?: string };

export type { BufferRecovery } from './recovery';

export interface SupervisorOptions {
  /** Engine threads, 0..64 (default topology.engine.threads, else 1). */
  readonly threads?: number;
  /**
   * The calling thread joins the mesh as member N and runs sessions there (`here`): embedded
   * mode. Always so with 0 engine threads, where it hosts every unit too.
   */
  readonly callingThread?: boolean;
  /**
   * Entry module of the engine threads (default engine-thread.ts): the daemon's entry imports the
   * transports whose session factories must be registered on every thread, then runs
   * runEngineThread().
   */
  readonly threadEntry?: string;
  /** How the calling thread's units open backstores, log and persist reservations (not cloneable). */
  readonly here?: EngineOptions;
  /** How devices are homed on the engine threads (placement.ts; default 'colocate'). */
  readonly homing?: Homing;
  /** Slots per ring, a power of two (default 1024). */
  readonly ringCapacity?: number;
  readonly poolClasses?: readonly SizeClass[];
  /** Busy-poll window of every engine thread's loop, sockets and rings (busy-poll.ts; 0 = off). */
  readonly busyPollMicros?: number;
  /** Operations queued locally (ring full, pool empty) before TASK SET FULL (default 4096). */
  readonly queueBound?: number;
  /** Replacement threads per index before it stays down (default 3). */
  readonly maxRestarts?: number;
  readonly onThreadRestart?: (threadIndex: number, failed: boolean) => void;
  /** An engine thread exited without being asked to (before its recovery starts). */
  readonly onThreadExit?: (exit: ThreadExit) => void;
  /** The pool buffers a dead thread held were recovered (before its replacement starts). */
  readonly onBuffersReclaimed?: (r: BufferRecovery) => void;
  /** A hosted session ended on its thread (logout, connection loss, closed on request, thread death). */
  readonly onSessionEnded?: (entry: SessionEntry, reason: string) => void;
}

/** An engine thread that exited without being asked to, with the actors it hosted. */
export interface ThreadExit {
  readonly threadIndex: number;
  readonly exitCode: number;
  /** Message of the uncaught error, if the thread died of one. */
  readonly error: string;
  /** Devices whose LUN actors it hosted. */
  readonly units: readonly string[];
  /** Registry keys of the sessions it hosted. */
  readonly sessions: readonly string[];
}


/** What the login phase settled; the registry key is derived from it. */
export type LoginOutcome = Omit<SessionState, 'sessionKey'>;

export interface HandOffRequest {
  /** Fabric whose registered session factory takes the connection there (session-actor.ts). */
  readonly fabric: string;
  readonly socket: net.Socket;
  readonly state: LoginOutcome;
  /** Bytes the login codec read past the last Login Request (its framer's leftovers). */
  readonly leftover?: Uint8Array;
  /** The final Login Response: written after reading stops, before the descriptor moves. */
  readonly finalResponse?: Uint8Array;
}

export type HandOffResult =
  | { readonly ok: true; readonly thread: number; readonly sessionKey: string }
  | { readonly ok: false; readonly error: string };

interface Thread {
  readonly index: number;
  worker: Worker | null;
  up: boolean;
  failed: boolean;
  generation: number;
  restarts: number;
  readyWaiters: (() => void)[];
  closed: (() => void) | null;
}

interface Waiter<T> { readonly thread: number; readonly resolve: (v: T) => void }
/** A hand-off on its way to a thread: the descriptor sent and which socket it is. */
interface HandOffWaiter extends Waiter<string> { readonly fd: number; readonly identity: number }

/**
 * V8 heap limits of each engine thread's isolate. Node's defaults are sized for one isolate per
 * process: a young generation of 48 MiB (two 16 MiB semi-spaces, which a steady allocation rate
 * grows to full size) and an old generation limit of a quarter of the machine's memory, at which
 * V8 lets a heap grow to about four times its live size between full collections. Under the
 * hostile-load test that made each engine thread 55-77 MiB of heap around 18-48 MiB in use, with
 * 20-50 MiB more of Buffers that only a full collection frees, and the daemon's resident set
 * rose with the traffic (403 MiB after 60 s and still rising). With 8 MiB semi-spaces (a scavenge
 * costs what survives, not the space's size) and an old generation limit of 256 MiB, at which V8
 * collects at a small multiple of the live size, the same run levels off at about 40 MiB of heap
 * and 20 MiB of Buffers per thread (323 MiB resident, flat over the second half of the load).
 * 256 MiB is still several times what a thread holds live with the test's hundreds of sessions.
 */
const ENGINE_THREAD_HEAP = { maxYoungGenerationSizeMb: 24, maxOldGenerationSizeMb: 256 } as const;

export class Supervisor {
  readonly registry: SessionRegistry;
  readonly pool: BufferPool;
  private readonly mesh: RingMesh;
  private readonly threadList: Thread[] = [];
  private readonly homeThread: number[];
  /** Units by mesh index (lunActorId): a removed unit's slot keeps a placeholder, never reused. */
  private readonly meshDevices: DeviceConfig[];
  private readonly reconfigWaiters = new Map<number, Waiter<string>>();
  /** The calling thread's member (index `threads`), when it takes part. */
  private here: EngineThreadParts | undefined;
  private readonly hereIndex: number;
  private readonly members: number;
  private readonly handOffs = new Map<number, HandOffWaiter>();
  private readonly closing = new Map<string, Waiter<void>[]>();
  private readonly statsWaiters = new Map<number, Waiter<StatsReply | undefined>>();
  private readonly unitWaiters = new Map<number, Waiter<UnitAnswer>>();
  private idleWaiters: (() => void)[] = [];
  /** Dead thread → survivors that have not acknowledged peerDown yet, and who waits for them. */
  private readonly peerDownAcks = new Map<number, { readonly waiting: Set<number>; readonly done: () => void }>();
  /** Recoveries run one dead thread at a time (a second death waits for the first). */
  private recovering: Promise<void> = Promise.resolve();
  /** Totals over every recovered thread (see BufferRecovery). */
  readonly recovery = { threads: 0, reclaimed: 0, returned: 0, unacknowledged: 0 };
  private nextHandOff = 1;
  private nextRequest = 1;
  private stopping = false;

  private constructor(
    private topology: RuntimeTopology,
    /** Placeholder units only: answers the login phase (canSee, groupFor, targetConfig). */
    readonly directory: Engine,
    private readonly opts: SupervisorOptions,
    readonly threads: number,
  ) {
    this.registry = new SessionRegistry(threads);
    this.pool = BufferPool.create({ classes: opts.poolClasses });
    const calling = threads === 0 || opts.callingThread === true;
    this.hereIndex = calling ? threads : -1;
    this.members = threads + (calling ? 1 : 0);
    this.mesh = RingMesh.create(this.members, opts.ringCapacity ?? 1024);
    this.homeThread = threads === 0 ? topology.devices.map(() => 0) : homeThreads(topology, threads, opts.homing);
    this.meshDevices = [...topology.devices];
    for (let t = 0; t < threads; t++) {
      this.threadList.push({ index: t, worker: null, up: false, failed: false, generation: 0, restarts: 0, readyWaiters: [], closed: null });
    }
  }

  static async create(topology: RuntimeTopology, opts: SupervisorOptions = {}): Promise<Supervisor> {
    const threads = opts.threads ?? topology.engine?.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 0 || threads > 64) {
      throw new NexusError('ERR_TOPOLOGY', `engine threads must be 0..64, got ${threads}`);
    }
    const directory = await Engine.create({ devices: topology.devices, targets: topology.targets }, {
      openBackstore: cfg => Promise.resolve(new NullBackstore({ sizeBytes: cfg.sizeBytes, readOnly: cfg.readOnly, thin: cfg.thin })),
    });
    const s = new Supervisor(topology, directory, opts, threads);
    // This thread counts too: sessions on the supervisor's thread (engine.threads 0) and its member.
    setDataPathStatistics(topology.engine?.statistics !== false);
    try {
      if (s.hereIndex >= 0) {
        s.here = await startEngineThread(s.dataFor(s.hereIndex, 0), m => s.fromHere(m), opts.here);
      }
      await Promise.all(s.threadList.map(t => s.spawn(t)));
    } catch (err) {
      await s.close();
      throw err;
    }
    return s;
  }

  // ---- login phase (control plane) -----------------------------------------------------------

  /** What the login phase asks of the engine. */
  get loginApi(): Pick<EngineApi, 'canSee' | 'groupFor' | 'targetConfig' | 'targetNames'> { return this.directory; }

  targetConfig(name: string): TargetConfig | undefined { return this.directory.targetConfig(name); }

  /** Engine thread a device is homed on. */
  threadOf(device: string): number | undefined {
    const i = this.meshDevices.findIndex(d => d.name === device);
    return i < 0 ? undefined : this.homeThread[i];
  }

  /** The thread a new session of `initiatorName` with `targetName` goes to (-1: none serves). */
  placeFor(targetName: string, initiatorName: string): number {
    const n = this.directory.openNexus({ targetName, initiatorName });
    const unitThreads = n ? n.units().map(u => this.threadOf(u.name) ?? -1) : [];
    if (n) void n.close('logout');
    return placeSession(unitThreads, this.threadList.map(t => t.up), t => this.registry.load(t));
  }

  /** TSIH of the live session of (initiator, ISID, target, portal group) on an engine thread. */
  findSession(initiatorName: string, isid: string, targetName: string, tpgt: number): number | undefined {
    return this.registry.get(sessionKeyOf(initiatorName, isid, targetName, tpgt))?.tsih;
  }

  sessionByTsih(tsih: number): SessionEntry | undefined { return this.registry.byTsihOf(tsih); }

  get sessionCount(): number { return this.registry.size; }

  /** Connections of `initiatorName`'s sessions on engine threads. */
  connectionsOf(initiatorName: string): number { return this.registry.connectionsOf(initiatorName); }

  /**
   * RFC 7143 6.3.5 session reinstatement: a login with the ISID of a live session and TSIH 0
   * replaces it. Closes the old session on its thread; resolves once it ended.
   */
  reinstate(initiatorName: string, isid: string, targetName: string, tpgt: number): Promise<void> {
    return this.closeSession(sessionKeyOf(initiatorName, isid, targetName, tpgt), 'reinstatement');
  }

  /** Asks the hosting thread to end a session (reinstatement, logout); resolves when it did. */
  closeSession(key: string, reason: string): Promise<void> {
    const e = this.registry.get(key);
    const t = e ? this.threadList[e.thread] : undefined;
    if (!e || !t || !t.worker || !t.up) {
      if (e) this.forget(key, reason);
      return Promise.resolve();
    }
    return new Promise<void>(resolve => {
      const list = this.closing.get(key) ?? [];
      list.push({ thread: e.thread, resolve });
      this.closing.set(key, list);
      postControl(t.worker!, { type: 'sessionClose', sessionKey: key, reason });
    });
  }

  /**
   * The login reached the full feature phase: place the session, stop reading, write the final
   * Login Response, hand the descriptor to the chosen thread and drop this thread's socket.
   */
  async handOff(req: HandOffRequest): Promise<HandOffResult> {
    const s = req.state;
    const key = sessionKeyOf(s.initiatorName, s.isid, s.targetName, s.tpgt);
    if (this.registry.get(key)) await this.closeSession(key, 'reinstatement');
    const thread = this.placeFor(s.targetName, s.initiatorName);
    if (thread < 0) return { ok: false, error: 'no engine thread serves' };
    let fd: number;
    let pending: Uint8Array;
    const local = req.socket.localAddress ?? '';
    const portal = `${local.includes(':') ? `[${local}]` : local}:${req.socket.localPort ?? 0}`;
    try {
      const unread = stopReading(req.socket);
      pending = req.leftover && req.leftover.length > 0 ? Buffer.concat([req.leftover, unread]) : unread;
      if (req.finalResponse) await writeAll(req.socket, req.finalResponse);
      fd = detachSocket(req.socket);
    } catch (e) {
      req.socket.destroy();
      return { ok: false, error: (e as Error).message };
    }
    const t = this.threadList[thread];
    const handOffId = this.nextHandOff++;
    this.registry.add({
      key, initiatorName: s.initiatorName, targetName: s.targetName, isid: s.isid, tpgt: s.tpgt, tsih: s.tsih, thread,
      cid: s.cid, portal, params: s.params,
    });
    const identity = socketIdentity(fd);
    const accepted = new Promise<string>(resolve => this.handOffs.set(handOffId, { thread, resolve, fd, identity }));
    postControl(t.worker!, {
      type: 'connectionHandOff', handOffId, fd, fabric: req.fabric, sessionKey: key, targetName: s.targetName, initiatorName: s.initiatorName,
      isid: s.isid, tsih: s.tsih, cid: s.cid, tpgt: s.tpgt, portal: s.portal, statSN: s.statSN, expCmdSN: s.expCmdSN, maxCmdSN: s.maxCmdSN,
      params: s.params, pending,
    });
    const error = await accepted;
    if (error !== '') {
      this.forget(key, error);
      return { ok: false, error };
    }
    return { ok: true, thread, sessionKey: key };
  }

  /**
   * Shutdown, first step: every hosted session's initiator is asked to log out (RFC 7143 11.9.1);
   * resolves once no session is hosted any more, or after `waitMs`.
   */
  async requestLogout(waitMs: number): Promise<void> {
    if (this.registry.size === 0) return;
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    for (const t of this.threadList) if (t.worker && t.up) postControl(t.worker, { type: 'sessionLogoutRequest', seconds });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>(res => this.idleWaiters.push(res)),
      new Promise<void>(res => { timer = setTimeout(res, waitMs); }),
    ]);
    if (timer) clearTimeout(timer);
  }

  /**
   * The engine API on the calling thread (embedded mode, `threads: 0`): sessions opened here
   * reach units homed here directly and units on engine threads through the rings.
   */
  get engine(): ThreadEngine {
    if (!this.here) throw new NexusError('ERR_NO_CALLING_THREAD', 'the calling thread is not a member of this runtime');
    return this.here.engine;
  }

  /** Counters of the calling thread's member (ring client, scheduler), when it takes part. */
  hereCounters(): { [name: string]: number } | undefined {
    return this.here ? memberCounters(this.here) : undefined;
  }

  // ---- diagnostics ---------------------------------------------------------------------------

  /**
   * Counters and unit statistics of every serving member (ThreadEngine, rings, scheduler,
   * sessions, home units), the calling thread's last: gathered on demand over the control plane.
   */
  async stats(): Promise<StatsReply[]> {
    const replies = this.threadList.filter(t => t.up && t.worker).map(t => new Promise<StatsReply | undefined>(resolve => {
      const requestId = this.nextRequest++;
      this.statsWaiters.set(requestId, { thread: t.index, resolve });
      postControl(t.worker!, { type: 'statsRequest', requestId });
    }));
    const out = (await Promise.all(replies)).filter((r): r is StatsReply => r !== undefined);
    if (this.here) {
      out.push({ type: 'statsReply', requestId: 0, threadIndex: this.hereIndex, counters: memberCounters(this.here), units: memberUnitStats(this.here), sessions: [] });
    }
    return out;
  }

  /**
   * An operation on one unit the control plane asks for (unit-ops.ts: a changer's library, a
   * unit's ALUA states), carried out on the thread that homes it: directly when that is the
   * calling thread, else as a unitRequest over the control plane.
   */
  async unit(device: string, op: UnitOpName, args: ConfigValue): Promise<UnitAnswer> {
    const home = this.threadOf(device);
    if (home === undefined) return { error: 'ERR_TOPOLOGY', message: `unknown device "${device}"`, result: null };
    if (home === this.hereIndex && this.here) return unitCall(this.here.lun.engine, device, op, args);
    const t = this.threadList[home];
    if (!t?.up || !t.worker) return { error: 'ERR_THREAD_DOWN', message: `engine thread ${home} of "${device}" is not serving`, result: null };
    return new Promise<UnitAnswer>(resolve => {
      const requestId = this.nextRequest++;
      this.unitWaiters.set(requestId, { thread: home, resolve });
      postControl(t.worker!, { type: 'unitRequest', requestId, device, op, args });
    });
  }

  /**
   * Forced logout of one session (RFC 7143 11.9.1): its thread sends the Async Message asking the
   * initiator to log out within the bound; a session still there after `waitMs` is dropped.
   * Resolves with false when no such session is hosted.
   */
  async logoutSession(key: string, waitMs: number): Promise<boolean> {
    const e = this.registry.get(key);
    const t = e ? this.threadList[e.thread] : undefined;
    if (!e || !t) return false;
    if (t.worker && t.up) {
      const ended = new Promise<void>(resolve => {
        const list = this.closing.get(key) ?? [];
        list.push({ thread: e.thread, resolve });
        this.closing.set(key, list);
      });
      postControl(t.worker, { type: 'sessionLogout', sessionKey: key, seconds: Math.max(1, Math.ceil(waitMs / 1000)) });
      let timer: NodeJS.Timeout | undefined;
      const inTime = await Promise.race([
        ended.then(() => true),
        new Promise<boolean>(res => { timer = setTimeout(() => res(false), waitMs); }),
      ]);
      if (timer) clearTimeout(timer);
      if (inTime) return true;
    }
    await this.closeSession(key, 'forced logout');
    return true;
  }

  // ---- live reconfiguration (reconfigure.ts) ------------------------------------------------

  /**
   * Where a device added while running is homed: with the devices it is exported with (the
   * colocate rule of start-up, placement.ts, over `next`, the topology once it is mapped) when one
   * of them is running already, else where start-up placement over `next` puts it.
   */
  homeForNewDevice(name: string, next: Pick<Topology, 'devices' | 'targets'>): number {
    if (this.threads === 0) return 0;
    const homes = homeThreads(next, this.threads, this.opts.homing);
    const index = new Map(next.devices.map((d, i) => [d.name, i]));
    const i = index.get(name);
    if (i === undefined) return 0;
    if (this.opts.homing !== 'spread') {
      for (const t of next.targets) {
        const maps = [t.luns, ...t.groups.map(g => g.luns)];
        const names = maps.flatMap(m => m.map(l => l.device));
        if (!names.includes(name)) continue;
        for (const other of names) {
          const running = other !== name ? this.threadOf(other) : undefined;
          if (running !== undefined) return running;
        }
      }
    }
    return homes[i];
  }

  /** Mesh index and home thread a new unit gets (addUnit); the unit is not added yet. */
  slotForNewDevice(home: number): { index: number; home: number } {
    return { index: this.meshDevices.length, home };
  }

  /**
   * Applies one change to every member and to the directory: the member that hosts the unit it
   * concerns first (its backstore is the part that can fail), the others after it. When a member
   * refuses, `undo` is applied where `change` already was and the error is thrown: the mesh is as
   * before. `after` is the runtime topology once the change is made (what replacement threads are
   * built from).
   */
  async reconfigure(change: MeshChange, undo: MeshChange, after: Pick<Topology, 'devices' | 'targets'>): Promise<void> {
    const device = change.kind === 'addUnit' ? change.device.name
      : change.kind === 'removeUnit' || change.kind === 'resize' || change.kind === 'writeCache' || change.kind === 'medium' || change.kind === 'mapLun'
        || change.kind === 'readOnly' || change.kind === 'inquiry'
        ? change.device : undefined;
    const home = change.kind === 'addUnit' ? change.home : device !== undefined ? this.threadOf(device) : undefined;
    // Capacity, cache mode, medium, write protection and INQUIRY data are the home unit's alone:
    // placeholders elsewhere hold no data and answer no command.
    const homeOnly = change.kind === 'resize' || change.kind === 'writeCache' || change.kind === 'medium'
      || change.kind === 'readOnly' || change.kind === 'inquiry';
    const members: number[] = [];
    if (this.hereIndex >= 0) members.push(this.hereIndex);
    for (const t of this.threadList) if (t.worker && t.up) members.push(t.index);
    members.sort((a, b) => (a === home ? -1 : b === home ? 1 : a - b));
    const targets = homeOnly ? members.filter(m => m === home || (this.threads === 0 && m === this.hereIndex)) : members;
    const done: number[] = [];
    let directoryDone = false;
    try {
      if (!homeOnly) {
        // The directory first: it refuses what no member could do (a LUN already mapped ...).
        await applyEngineChange(this.directory, change);
        directoryDone = true;
      }
      for (const m of targets) {
        const error = await this.reconfigureMember(m, change);
        if (error !== '') throw new NexusError('ERR_RECONFIGURE', m === this.hereIndex ? error : `engine thread ${m}: ${error}`);
        done.push(m);
      }
    } catch (e) {
      for (const m of done.reverse()) await this.reconfigureMember(m, undo);
      if (directoryDone) await applyEngineChange(this.directory, undo).catch(() => undefined);
      throw e;
    }
    if (change.kind === 'addUnit') {
      this.meshDevices[change.index] = { ...change.device, sizeBytes: BigInt(change.device.sizeBytes) };
      this.homeThread[change.index] = change.home;
    } else if (change.kind === 'removeUnit') {
      this.meshDevices[change.index] = removedSlot(change.index);
    }
    this.topology = { ...this.topology, targets: after.targets };
  }

  /** Mesh index of a running device. */
  meshIndexOf(device: string): number {
    return this.meshDevices.findIndex(d => d.name === device);
  }

  /** '' when member `m` applied `c`, else why not. */
  private async reconfigureMember(m: number, c: MeshChange): Promise<string> {
    if (m === this.hereIndex) {
      if (!this.here) return 'the calling thread is not a member';
      return applyMeshChange(this.here, m, c).then(() => '', (e: Error) => e.message);
    }
    const t = this.threadList[m];
    if (!t.worker || !t.up) return `engine thread ${m} is not serving`;
    const requestId = this.nextRequest++;
    const answered = new Promise<string>(resolve => this.reconfigWaiters.set(requestId, { thread: m, resolve }));
    postControl(t.worker, { type: 'reconfigure', requestId, change: encodeMeshChange(c) });
    return answered;
  }

  worker(i: number): Worker | null { return this.threadList[i].worker; }

  isUp(i: number): boolean { return this.threadList[i].up; }

  whenReady(i: number): Promise<void> {
    const t = this.threadList[i];
    if (t.up) return Promise.resolve();
    return new Promise(res => t.readyWaiters.push(res));
  }

  /**
   * Ends every session, flushes and closes the units, stops the threads. The calling thread's
   * nexuses close first, while the units they reach still serve.
   */
  async close(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const here = this.here;
    if (here) await here.engine.close();
    await Promise.all(this.threadList.map(t => this.stop(t)));
    if (here) await here.lun.close();
    await this.directory.close();
  }

  // ---- threads and supervision ---------------------------------------------------------------

  private forget(key: string, reason: string): void {
    const e = this.registry.remove(key);
    for (const w of this.closing.get(key) ?? []) w.resolve();
    this.closing.delete(key);
    if (e) this.opts.onSessionEnded?.(e, reason);
    this.wakeIdle();
  }

  private wakeIdle(): void {
    if (this.registry.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private onControl(t: Thread, m: ControlMessage): void {
    switch (m.type) {
      case 'threadReady': {
        t.up = true;
        for (const o of this.threadList) {
          if (o === t || !o.worker || !o.up) continue;
          postControl(o.worker, { type: 'peerUp', threadIndex: t.index });
          // And the other way: a thread that was still starting when a peer died got peerDown.
          postControl(t.worker!, { type: 'peerUp', threadIndex: o.index });
        }
        if (this.here) meshControl(this.here, this.hereIndex, { type: 'peerUp', threadIndex: t.index });
        for (const w of t.readyWaiters.splice(0)) w();
        break;
      }
      case 'handOffAccepted': {
        const w = this.handOffs.get(m.handOffId);
        if (w) { this.handOffs.delete(m.handOffId); w.resolve(m.error); }
        break;
      }
      case 'sessionEnded': {
        const e = this.registry.get(m.sessionKey);
        if (e && e.thread === t.index) this.forget(m.sessionKey, m.reason);
        else {
          for (const w of this.closing.get(m.sessionKey) ?? []) w.resolve();
          this.closing.delete(m.sessionKey);
        }
        break;
      }
      case 'reconfigured': {
        const w = this.reconfigWaiters.get(m.requestId);
        if (w) { this.reconfigWaiters.delete(m.requestId); w.resolve(m.error); }
        break;
      }
      case 'statsReply': {
        const w = this.statsWaiters.get(m.requestId);
        if (w) { this.statsWaiters.delete(m.requestId); w.resolve(m); }
        break;
      }
      case 'unitReply': {
        const w = this.unitWaiters.get(m.requestId);
        if (w) { this.unitWaiters.delete(m.requestId); w.resolve({ error: m.error, message: m.message, result: m.result }); }
        break;
      }
      case 'meshSpill':
        this.relaySpill(m);
        break;
      case 'peerDownDone':
        this.acked(m.threadIndex, t.index);
        break;
      case 'threadClosed':
        t.closed?.();
        break;
      default: break;
    }
  }

  private acked(dead: number, from: number): void {
    const a = this.peerDownAcks.get(dead);
    if (!a || !a.waiting.delete(from) || a.waiting.size > 0) return;
    this.peerDownAcks.delete(dead);
    a.done();
  }

  /** What mesh member `index` is built from. */
  private dataFor(index: number, generation: number): EngineThreadData {
    return {
      threadIndex: index,
      threads: this.members,
      generation,
      devices: this.meshDevices,
      targets: this.topology.targets,
      homeThread: this.homeThread,
      rings: this.mesh.forThread(index),
      pool: this.pool.handle(),
      scheduler: { pollMicros: index === this.hereIndex ? 0 : this.opts.busyPollMicros ?? 0 },
      stateDir: this.topology.stateDir ?? '',
      queueBound: this.opts.queueBound ?? 0,
      statistics: this.topology.engine?.statistics !== false,
      lendReadBuffers: index !== this.hereIndex,
    };
  }

  /** What the calling thread's member posts: spills to relay, peerDown acknowledgements. */
  private fromHere(m: ControlMessage): void {
    if (m.type === 'meshSpill') this.relaySpill(m);
    else if (m.type === 'peerDownDone') this.acked(m.threadIndex, this.hereIndex);
  }

  private relaySpill(m: ControlMessage & { type: 'meshSpill' }): void {
    // Rare by construction (data larger than the largest pool class): relayed, not carried.
    if (m.toThread === this.hereIndex) {
      if (this.here) meshControl(this.here, this.hereIndex, m);
      return;
    }
    const to = this.threadList[m.toThread];
    if (to?.worker && to.up) postControl(to.worker, m);
  }

  private spawn(t: Thread): Promise<void> {
    const data = this.dataFor(t.index, t.generation);
    const ts = __filename.endsWith('.ts');
    const entry = this.opts.threadEntry ?? path.join(__dirname, ts ? 'engine-thread.ts' : 'engine-thread.js');
    const w = new Worker(entry, {
      // tsx's loader by its resolved path: a worker resolves a bare name from the working directory.
      // A profiling flag given to the daemon (`node --cpu-prof …`) profiles its engine threads too.
      execArgv: [...profilingFlags(), ...(entry.endsWith('.ts') ? ['--require', require.resolve('tsx/cjs')] : [])],
      workerData: { engineThread: true, data },
      resourceLimits: ENGINE_THREAD_HEAP,
    });
    t.worker = w;
    let startError = '';
    return new Promise<void>((resolve, reject) => {
      t.readyWaiters.push(resolve);
      w.on('message', (raw: unknown) => {
        const r = receiveControl(raw);
        if (!r.ok) return;
        if (r.msg.type === 'threadClosed' && !t.up) startError = r.msg.error;
        this.onControl(t, r.msg);
      });
      w.on('error', (e: Error) => { startError = e.message; });
      w.on('exit', (code: number) => {
        if (!t.up && t.worker === w) {
          reject(new NexusError('ERR_THREAD_START', `engine thread ${t.index} failed to start: ${startError || `exit ${code}`}`));
        }
        this.onExit(t, w, code, startError);
      });
    });
  }

  private onExit(t: Thread, w: Worker, exitCode: number, error: string): void {
    if (t.worker !== w) return;
    const wasUp = t.up;
    t.up = false;
    t.worker = null;
    t.closed?.();
    for (const [id, h] of this.handOffs) {
      if (h.thread !== t.index) continue;
      this.handOffs.delete(id);
      closeOrphanedDescriptor(h.fd, h.identity);
      h.resolve('engine thread died');
    }
    for (const [id, s] of this.statsWaiters) if (s.thread === t.index) { this.statsWaiters.delete(id); s.resolve(undefined); }
    for (const [id, w] of this.unitWaiters) {
      if (w.thread === t.index) { this.unitWaiters.delete(id); w.resolve({ error: 'ERR_THREAD_DOWN', message: `engine thread ${t.index} died`, result: null }); }
    }
    for (const [id, r] of this.reconfigWaiters) if (r.thread === t.index) { this.reconfigWaiters.delete(id); r.resolve('engine thread died'); }
    // A dead thread acknowledges nothing (even one that never finished starting): stop waiting for it.
    for (const dead of [...this.peerDownAcks.keys()]) this.acked(dead, t.index);
    if (this.stopping || !wasUp) return;
    const sessions = this.registry.all().filter(e => e.thread === t.index).map(e => e.key);
    const units = this.meshDevices.filter((_, i) => this.homeThread[i] === t.index && !isRemovedSlot(this.meshDevices[i])).map(d => d.name);
    this.opts.onThreadExit?.({ threadIndex: t.index, exitCode, error, units, sessions });
    // Its connections died with it (the worker's handles closed); initiators log in again.
    for (const e of this.registry.removeThread(t.index)) {
      for (const c of this.closing.get(e.key) ?? []) c.resolve();
      this.closing.delete(e.key);
      this.opts.onSessionEnded?.(e, 'engine thread died');
    }
    this.wakeIdle();
    this.recovering = this.recovering.then(() => this.recover(t));
  }

  /** Steps 1-4 of the header: the dead thread's buffers back to the pool, then the replacement. */
  private async recover(t: Thread): Promise<void> {
    // Threads still starting count too: their schedulers may already read rings from `t`.
    const survivors = this.threadList.filter(o => o !== t && o.worker);
    const here = this.here;
    let acknowledged = true;
    if (survivors.length > 0 || here) {
      let timer: NodeJS.Timeout | undefined;
      acknowledged = await new Promise<boolean>(resolve => {
        const waiting = new Set(survivors.map(o => o.index));
        if (here) waiting.add(this.hereIndex);
        this.peerDownAcks.set(t.index, { waiting, done: () => resolve(true) });
        timer = setTimeout(() => resolve(false), PEER_DOWN_WAIT_MS);
        timer.unref();
        for (const o of survivors) postControl(o.worker!, { type: 'peerDown', threadIndex: t.index });
        if (here) meshControl(here, this.hereIndex, { type: 'peerDown', threadIndex: t.index }, m => this.fromHere(m));
      });
      clearTimeout(timer);
      this.peerDownAcks.delete(t.index);
    }
    if (this.stopping) return;
    const returned = drainRingsInto(this.mesh, this.pool, this.members, t.index, o => {
      const th = this.threadList[o];
      return th !== undefined && !th.worker; // the calling thread never dies
    });
    const reclaimed = this.pool.reclaim(t.index);
    this.recovery.threads++;
    this.recovery.reclaimed += reclaimed;
    this.recovery.returned += returned;
    if (!acknowledged) this.recovery.unacknowledged++;
    this.opts.onBuffersReclaimed?.({ threadIndex: t.index, reclaimed, returned, acknowledged });
    if (t.restarts >= (this.opts.maxRestarts ?? 3)) {
      t.failed = true;
      this.opts.onThreadRestart?.(t.index, true);
      return;
    }
    t.restarts++;
    t.generation++;
    this.spawn(t).then(() => this.opts.onThreadRestart?.(t.index, false), () => undefined);
  }

  private async stop(t: Thread): Promise<void> {
    const w = t.worker;
    if (!w) return;
    const exited = new Promise<void>(res => w.once('exit', () => res()));
    const closed = new Promise<void>(res => { t.closed = res; });
    postControl(w, { type: 'shutdown', reason: 'close' });
    const timer = setTimeout(() => { void w.terminate(); }, 5000);
    await Promise.race([closed, exited]);
    await Promise.race([exited, new Promise<void>(res => setTimeout(res, 1000).unref())]);
    clearTimeout(timer);
    if (t.worker === w) await w.terminate();
    t.up = false;
  }
}

/**
 * The V8 profiling flags among a process's `execArgv` (`--cpu-prof`, `--cpu-prof-dir=DIR`,
 * `--heap-prof…`, each in its `=` form), which a worker given an execArgv of its own would not
 * inherit: with them every engine thread writes its own profile when it stops.
 */
export function profilingFlags(execArgv: readonly string[] = process.execArgv): string[] {
  return execArgv.filter((a) => /^--(cpu|heap)-prof/.test(a));
}
