// What the actors of different engine threads agree on beyond the descriptor layout: actor ids,
// descriptor flags and pseudo task-management functions (DESIGN.md §3).
//
// Actor ids are global across the mesh: a LUN actor's id is derived from its device's index in
// the topology, a completion sink's from its thread, so every scheduler can route to any actor
// with a table filled at start-up (scheduler.ts setRoute).

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
