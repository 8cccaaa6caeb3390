import { SENSE, SenseCondition } from './spec/asc';
import { NexusError } from './result';
import type {
  PrSnapshot, PrUnitAttention, ReservationChange, ReservationChannel, ReservationEvent, ReservationSharing,
  SharedReservationState, VersionedReservations,
} from './pr';
import type { LuView } from './types';

/**
 * Reservations of a logical unit that several gateways export (README "Scaling out with Ceph"):
 * the persistent reservations, the PRgeneration and the SPC-2 reservation live in the cluster
 * (one object per image, backstores/rbd-reservations.ts), and each gateway checks every command
 * against its cached copy, with no round trip per command.
 *
 * DESIGN. Why a command through gateway B never passes a reservation it should not:
 * - Every change is one guarded write of the whole state (compare-and-swap on its version, atomic
 *   in the OSD), so changes made through different gateways are ordered; a gateway whose copy is
 *   stale loses the swap, reloads and works its PERSISTENT RESERVE OUT out again on the new state.
 * - A change completes (GOOD to the initiator) only after every other gateway has installed it:
 *   the writer notifies the object's watchers and waits for each member gateway's acknowledgement,
 *   which a gateway sends only once its cache holds the new version and it has queued the unit
 *   attentions and aborted the tasks the change owes its own I_T nexuses.
 * - A member that does not acknowledge in time (dead, partitioned, its watch lost) is fenced
 *   before the change completes: its clients are blocklisted in the cluster, so whatever it still
 *   believes it can no longer read or write the image, and it is dropped from the members. It
 *   comes back only by joining again, which loads the current state before it serves.
 * So any command an initiator sends after seeing the change complete meets the new state on
 * every gateway that can still reach the image. Commands already in the task sets when the change
 * is made are not re-checked, as on a single target (SPC-4 5.12.1 checks a command on arrival).
 */

export const NO_EVENT: ReservationEvent = { ua: [], abort: [] };

export class SharedReservations implements ReservationSharing {
  private version = 0;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly lu: LuView, private readonly channel: ReservationChannel) {}

  /** Load the state and follow the other gateways' changes; the unit serves only after this. */
  async start(): Promise<void> {
    this.channel.listen(e => applyReservationEvent(this.lu, e), v => this.install(v));
    this.install(await this.channel.load());
  }

  private install(v: VersionedReservations): void {
    if (v.version <= this.version) return;
    this.version = v.version;
    this.lu.pr.install(v.state.generation, v.state.pr);
    this.lu.reservation.install(v.state.spc2);
  }

  private current(): SharedReservationState {
    const spc2 = this.lu.reservation.holder;
    return { generation: this.lu.pr.generation, pr: this.lu.pr.snapshot(), ...(spc2 === undefined ? {} : { spc2 }) };
  }

  update<T>(change: () => ReservationChange<T>): Promise<T> {
    const run = async (): Promise<T> => {
      for (let attempt = 0; ; attempt++) {
        const c = change();
        if (c.next === undefined) return c.result;
        const next = { ...this.current(), ...c.next };
        if (next.spc2 === undefined) delete next.spc2;
        const v = await this.channel.publish(this.version, next, c.event ?? NO_EVENT);
        if (v !== undefined) {
          this.install({ version: v, state: next });
          return c.result;
        }
        // Another gateway changed it first: work the change out again on what it left.
        if (attempt >= 100) throw new NexusError('ERR_RESERVATION_CONTENTION', `${this.lu.name}: the shared reservation state kept changing`);
        this.install(await this.channel.load());
      }
    };
    const p = this.tail.then(run, run);
    this.tail = p.catch(() => undefined);
    return p;
  }

  announce(event: ReservationEvent): Promise<void> {
    const p = this.tail.then(() => this.channel.announce(event));
    this.tail = p.catch(() => undefined);
    return p;
  }

  close(): Promise<void> { return this.channel.close(); }
}

/**
 * Apply what a reservation change owes the unit's I_T nexuses here: unit attentions to those that
 * have a queue (SAM-5 5.14: a nexus not seen since power on gets POWER ON, RESET instead), the
 * preempted nexuses' tasks aborted with COMMANDS CLEARED BY ANOTHER INITIATOR (SPC-4 5.12.11.4.4,
 * never `sender`'s), and a LOGICAL UNIT RESET made through another gateway (SAM-5 7.7).
 */
export async function applyReservationEvent(lu: LuView, e: ReservationEvent, sender?: number): Promise<void> {
  for (const u of e.ua) if (lu.ua.has(u.itKey)) lu.ua.queue(u.itKey).add(u.cond);
  if (e.abort.length > 0) {
    const victims = new Set(e.abort);
    const { tasks, quiesced } = lu.tasks.abort(t => victims.has(t.itKey) && t.nexusId !== sender);
    for (const k of new Set(tasks.map(t => t.itKey))) lu.ua.queue(k).add(SENSE.COMMANDS_CLEARED_BY_ANOTHER_INITIATOR);
    await quiesced;
  }
  if (e.reset) {
    const { quiesced } = lu.tasks.abort(() => true);
    await quiesced;
    lu.preventRemoval.clear();
    lu.ua.raiseAll(SENSE.BUS_DEVICE_RESET_FUNCTION_OCCURRED);
  }
}

/**
 * SPC-2 reservation release on I_T nexus loss or a reset (SPC-2 5.5.1): at once on a unit of one
 * gateway, through the cluster on a shared one.
 */
export function releaseSpc2(lu: LuView, itKey?: string): void {
  const sharing = lu.pr.sharing;
  if (sharing === undefined) { lu.reservation.clear(itKey); return; }
  void sharing.update(() => {
    const h = lu.reservation.holder;
    return h !== undefined && (itKey === undefined || h === itKey) ? { result: undefined, next: { spc2: undefined } } : { result: undefined };
  }).catch(() => undefined);
}

/** The wire form of an event between gateways: conditions by name (SENSE), nothing else. */
export function encodeEvent(e: ReservationEvent): unknown {
  return { ua: e.ua.map(u => ({ itKey: u.itKey, cond: u.cond.name })), abort: e.abort, ...(e.reset ? { reset: true } : {}) };
}

const BY_NAME = new Map<string, SenseCondition>(Object.values(SENSE).map(c => [c.name, c]));

export function decodeEvent(v: unknown): ReservationEvent {
  const o = (typeof v === 'object' && v !== null ? v : {}) as { ua?: Array<{ itKey?: unknown; cond?: unknown }>; abort?: unknown[]; reset?: unknown };
  const ua: PrUnitAttention[] = [];
  for (const u of o.ua ?? []) {
    const cond = typeof u.cond === 'string' ? BY_NAME.get(u.cond) : undefined;
    if (cond !== undefined && typeof u.itKey === 'string') ua.push({ itKey: u.itKey, cond });
  }
  return { ua, abort: (o.abort ?? []).filter((k): k is string => typeof k === 'string'), ...(o.reset === true ? { reset: true } : {}) };
}

/** The wire form of the state: reservation keys (64-bit) as decimal strings. */
export function encodeState(s: SharedReservationState): unknown {
  return JSON.parse(JSON.stringify(s, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
}

export function decodeState(v: unknown): SharedReservationState {
  const o = v as { generation?: number; pr?: { aptpl?: boolean; registrations?: Array<Record<string, unknown>>; reservation?: PrSnapshot['reservation'] }; spc2?: string };
  const registrations = (o.pr?.registrations ?? []).map(r => ({
    itKey: String(r.itKey), key: BigInt(String(r.key)), initiatorPort: String(r.initiatorPort),
    relativeTargetPortId: Number(r.relativeTargetPortId), allTgPt: r.allTgPt === true,
  }));
  return {
    generation: o.generation ?? 0,
    pr: { aptpl: o.pr?.aptpl ?? false, registrations, ...(o.pr?.reservation ? { reservation: o.pr.reservation } : {}) },
    ...(typeof o.spc2 === 'string' ? { spc2: o.spc2 } : {}),
  };
}
