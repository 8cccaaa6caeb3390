// What the supervisor-side ActorEngine and its engine threads (lun-thread.ts) agree on beyond the
// descriptor layout: actor ids, descriptor flags, pseudo task-management functions and the
// thread's start-up data.
//
// Each engine thread is linked to the supervisor by a pair of SPSC rings (requests out,
// completions back) seen by both sides as a two-thread RingMesh: the supervisor is thread 0 of
// every link, the engine thread is thread 1 of its own link. A replacement thread gets fresh
// rings, so nothing a dead thread left half-written is ever read again.

import { TaskAttr } from '../engine/spec/status';
import type { DeviceConfig, TargetConfig } from '../engine/topology';
import type { BufferPoolHandle } from './buffer-pool';
import { DescTaskAttr } from './ring/descriptor';
import type { SchedulerOptions, ThreadRings } from './scheduler';

/** The supervisor's completion sink on every link. */
export const MAIN_ACTOR = 0;
/** Per engine thread: commands to unmapped LUNs, nexus close and nexus-wide TMFs. */
export const THREAD_ACTOR = 1;
/** First actor id of the per-thread completion sinks of the engine-thread mesh (thread-engine.ts). */
export const SINK_ACTOR_BASE = 0x4000_0000;
/** Completion sink of engine thread `t`: where its ThreadEngine's descriptors are answered. */
export function sinkActorId(t: number): number { return SINK_ACTOR_BASE + t; }
/** Engine thread whose sink `actorId` is, or -1. */
export function sinkThread(actorId: number): number {
  return actorId >= SINK_ACTOR_BASE && actorId < SINK_ACTOR_BASE + 256 ? actorId - SINK_ACTOR_BASE : -1;
}
/** Actor id of the LUN actor for topology device `index`. */
export function lunActorId(deviceIndex: number): number { return 2 + deviceIndex; }
/** Topology device index of a LUN actor id, or -1. */
export function lunDeviceIndex(actorId: number): number { return actorId >= 2 && actorId < SINK_ACTOR_BASE ? actorId - 2 : -1; }

/** bufferHandle value: the data travels as a spillData control message with the same sequence. */
export const SPILL_BUFFER = 0xfffffffe;

/** Bits of the descriptor FLAGS byte. */
export enum DescFlag {
  /** COMPLETION: aborted by task management with no status to return (TAS = 0). */
  ABORTED = 1,
  /** COMPLETION: the nexus is not open on that thread (closed, or lost with a dead thread). */
  NEXUS_GONE = 2,
  /** COMMAND: Data-Out follows in a DATA_OUT descriptor (or a spill) with the same sequence. */
  DATA_LATER = 4,
  /** DATA_OUT: the transfer failed or was aborted on the wire; no data. */
  DATA_FAILED = 8,
}

/**
 * Pseudo task-management functions for ending a nexus on a thread. They ride the request ring
 * like TMFs so they are ordered after every command sent before them, and answer with TMF_DONE.
 * SAM-5 function codes stop at 12 (iSCSI's field is 7 bits), so these never collide.
 */
export enum NexusCloseFn {
  LOSS = 0xf0,
  LOGOUT = 0xf1,
}

export function toDescAttr(a: TaskAttr): DescTaskAttr {
  switch (a) {
    case TaskAttr.ORDERED: return DescTaskAttr.ORDERED;
    case TaskAttr.HEAD_OF_QUEUE: return DescTaskAttr.HEAD_OF_QUEUE;
    case TaskAttr.ACA: return DescTaskAttr.ACA;
    default: return DescTaskAttr.SIMPLE; // SAM-5 8.6: an untagged task is a SIMPLE one
  }
}

export function fromDescAttr(a: DescTaskAttr): TaskAttr {
  switch (a) {
    case DescTaskAttr.ORDERED: return TaskAttr.ORDERED;
    case DescTaskAttr.HEAD_OF_QUEUE: return TaskAttr.HEAD_OF_QUEUE;
    case DescTaskAttr.ACA: return TaskAttr.ACA;
    default: return TaskAttr.SIMPLE;
  }
}

/** workerData of an engine thread that hosts LUN actors (structured-clone safe). */
export interface LunThreadData {
  readonly threadIndex: number;
  readonly devices: readonly DeviceConfig[];
  readonly targets: readonly TargetConfig[];
  /** Names of the devices whose logical units live on this thread. */
  readonly home: readonly string[];
  readonly rings: ThreadRings;
  readonly pool: BufferPoolHandle;
  readonly scheduler: SchedulerOptions;
  /**
   * Module exporting `openBackstore(cfg): Promise<Backstore>` to use instead of the standard one
   * (tests inject slow or failing stores); '' = standard.
   */
  readonly backstoreModule: string;
  /** Where the home units keep persistent state (APTPL reservations); '' = none. */
  readonly stateDir: string;
}
