import { SENSE, SenseCondition } from './spec/asc';

/**
 * The conditions an initiator should learn of without waiting for its next command: changes made
 * by the target's operator or by another initiator to what this one sees of the unit (SPC-4 5.14:
 * inventory, inquiry data, capacity, mode parameters, medium, access states). The transport may
 * report them as asynchronous events (RFC 7143 11.9.1 AsyncEvent 0, SAM-5 6.5); the unit attention
 * stays queued all the same, because an initiator may ignore the event (libiscsi does) and SAM-5
 * still owes it the condition on its next command. Resets, nexus loss and cleared commands are
 * not here: the initiator caused or sees those itself.
 */
export const ANNOUNCED_CONDITIONS: ReadonlySet<SenseCondition> = new Set([
  SENSE.REPORTED_LUNS_DATA_HAS_CHANGED,
  SENSE.INQUIRY_DATA_HAS_CHANGED,
  SENSE.CAPACITY_DATA_HAS_CHANGED,
  SENSE.MODE_PARAMETERS_CHANGED,
  SENSE.ASYMMETRIC_ACCESS_STATE_CHANGED,
  SENSE.NOT_READY_TO_READY_CHANGE,
  SENSE.IMPORT_OR_EXPORT_ELEMENT_ACCESSED,
]);

/** Told when a condition is newly established for an I_T nexus identity. */
export type UaEstablished = (itKey: string, c: SenseCondition) => void;

/**
 * Unit attention conditions, queued per I_T_L nexus (SAM-5 5.14, SPC-4 5.14).
 *
 * Keys are I_T nexus identities (initiator port + target port), not session objects, so that a
 * condition established while an initiator was away (I_T NEXUS LOSS OCCURRED, a LUN reset done by
 * another initiator) is still there when it logs in again with the same ISID.
 *
 * Priority, highest first: the reset family (29h), commands cleared (2Fh), parameter changes (2Ah),
 * inventory/inquiry changes (3Fh), anything else. A reset-family condition supersedes the lower
 * ones already queued: after a reset the initiator re-reads everything anyway, which is what SAM-5
 * means by a reset UA taking precedence.
 */
function priority(c: SenseCondition): number {
  switch (c.asc) {
    case 0x29: return 0;
    case 0x2f: return 1;
    case 0x2a: return 2;
    case 0x3f: return 3;
    default: return 4;
  }
}

export class UaQueue {
  private readonly pending: SenseCondition[] = [];

  constructor(private readonly established?: (c: SenseCondition) => void) {}

  get size(): number { return this.pending.length; }

  add(c: SenseCondition): void {
    if (this.pending.includes(c)) return;
    const p = priority(c);
    if (p === 0) {
      for (let i = this.pending.length - 1; i >= 0; i--) if (priority(this.pending[i]) > 0) this.pending.splice(i, 1);
    }
    let i = 0;
    while (i < this.pending.length && priority(this.pending[i]) <= p) i++;
    this.pending.splice(i, 0, c);
    this.established?.(c);
  }

  peek(): SenseCondition | undefined { return this.pending[0]; }

  /** Report (and clear) the highest-priority condition. */
  take(): SenseCondition | undefined { return this.pending.shift(); }

  clear(): void { this.pending.length = 0; }

  list(): readonly SenseCondition[] { return this.pending; }
}

/**
 * Nexus identities a unit remembers after their nexus was lost, so a returning initiator is told
 * I_T NEXUS LOSS OCCURRED (and whatever else happened meanwhile) rather than POWER ON. Bounded:
 * an initiator that logs in with a new ISID each time would otherwise grow every unit's table for
 * ever. The oldest lost identities are forgotten first; one that returns after that simply starts
 * again with POWER ON, RESET, which SAM-5 allows for a new I_T nexus.
 */
export const MAX_DETACHED_NEXUSES = 1024;

/** The UA queues of one logical unit, one per I_T nexus identity that has been seen. */
export class UaTable {
  private readonly queues = new Map<string, UaQueue>();
  /** Identities whose nexus is gone, oldest first (Set iteration is insertion order). */
  private readonly detached = new Set<string>();

  constructor(private readonly maxDetached = MAX_DETACHED_NEXUSES, private readonly established?: UaEstablished) {}

  queue(itKey: string): UaQueue {
    let q = this.queues.get(itKey);
    if (!q) {
      const tell = this.established;
      q = new UaQueue(tell ? c => tell(itKey, c) : undefined);
      this.queues.set(itKey, q);
    }
    return q;
  }

  has(itKey: string): boolean { return this.queues.has(itKey); }

  /** Establish `c` for every known nexus except `exceptKey`. */
  raiseAll(c: SenseCondition, exceptKey?: string): void {
    for (const [k, q] of this.queues) if (k !== exceptKey) q.add(c);
  }

  forget(itKey: string): void {
    this.queues.delete(itKey);
    this.detached.delete(itKey);
  }

  /** The nexus of `itKey` is attached again (its identity is no longer a candidate to forget). */
  attached(itKey: string): void { this.detached.delete(itKey); }

  /** The nexus of `itKey` was lost: its queue is kept for its return, within the bound. */
  detach(itKey: string): void {
    if (!this.queues.has(itKey)) return;
    this.detached.delete(itKey);
    this.detached.add(itKey);
    while (this.detached.size > this.maxDetached) {
      const oldest = this.detached.values().next().value as string;
      this.detached.delete(oldest);
      this.queues.delete(oldest);
    }
  }

  /** Identities with a queue (attached and remembered), for statistics and tests. */
  get size(): number { return this.queues.size; }
}
