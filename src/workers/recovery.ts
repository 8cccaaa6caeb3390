// Recovery of a dead engine thread's pool buffers (supervisor.ts header, steps 1-4): what it
// found, how long the supervisor waits for the survivors' peerDownDone, and step 2, the drain of
// the rings into the dead thread.

import type { BufferPool } from './buffer-pool';
import type { RingMesh } from './scheduler';
import { SpscRing } from './ring/spsc-ring';
import { NO_BUFFER } from './ring/descriptor';
import { SPILL_BUFFER } from './actor-protocol';

/** What recovering a dead thread's pool buffers found (supervisor.ts header, steps 1-3). */
export interface BufferRecovery {
  readonly threadIndex: number;
  /** Buffers tagged with the dead thread, freed by reclaim. */
  readonly reclaimed: number;
  /** Buffers in descriptors sent to it and never adopted, freed for their senders. */
  readonly returned: number;
  /** Every serving thread acknowledged peerDown (false: the bounded wait ran out). */
  readonly acknowledged: boolean;
}

/** Longest wait for the survivors' peerDownDone before reclaiming anyway. */
export const PEER_DOWN_WAIT_MS = 2000;

/**
 * Step 2: reads every ring into dead member `dead` (its only consumer is gone) and frees each
 * carried buffer its sender still holds; drops what `dead` sent to members that died too
 * (`isDead`: no one else consumes those rings; their buffers are the dead thread's, for
 * reclaim). Returns buffers freed.
 */
export function drainRingsInto(mesh: RingMesh, pool: BufferPool, members: number, dead: number, isDead: (member: number) => boolean): number {
  let freed = 0;
  const inbound = mesh.forThread(dead).inbound;
  for (let from = 0; from < members; from++) {
    const h = inbound[from];
    if (from === dead || h === null) continue;
    const ring = SpscRing.attach(h);
    const n = ring.peek();
    for (let i = 0; i < n; i++) {
      const b = ring.reader(i).bufferHandle;
      if (b !== NO_BUFFER && b !== SPILL_BUFFER && pool.isHandle(b) && pool.putIfOwner(b, from)) freed++;
    }
    ring.consume(n);
    const toDead = mesh.forThread(from).inbound[dead];
    if (isDead(from) && toDead !== null) {
      const r = SpscRing.attach(toDead);
      r.consume(r.peek());
    }
  }
  return freed;
}
