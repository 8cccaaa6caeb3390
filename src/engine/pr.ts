import { SENSE, SenseCondition } from './spec/asc';
import { PrInSa, PrOutSa } from './spec/opcodes';
import { invalidField, SERVICE_ACTION } from './cdb/dsl';
import { PROUT_FIELDS } from './cdb/defs/pr';
import { check, good, GOOD, invalidParamField, Outcome, RESERVATION_CONFLICT } from './result';
import { PrOutRequest } from './pr-out-parameters';
import { iscsiTransportId } from './transport-id';

/**
 * SPC-4 persistent reservations (5.12, 6.15, 6.16) of one logical unit, as pure state and logic:
 * registrations per I_T nexus, the reservation and its type, the PRgeneration counter, the
 * parameter data of PERSISTENT RESERVE IN and the effects of PERSISTENT RESERVE OUT. The caller
 * (pr-commands.ts) applies the effects: unit attentions and the tasks PREEMPT AND ABORT aborts.
 *
 * Registrations are keyed by I_T nexus identity (initiator port + target port), so they survive
 * I_T nexus loss, session reinstatement and LOGICAL UNIT RESET (SPC-4 5.12.1), and hold for an
 * initiator that has not logged in since they were restored (APTPL).
 *
 * Supported: every reservation type and every service action, SPEC_I_PT (SIP_C), ALL_TG_PT
 * (ATP_C) and, when a persistence hook is injected, APTPL (PTPL_C). A change becomes visible only
 * once the hook has made it durable (commit()).
 */

/** SPC-4 6.16.2 table 197: persistent reservation TYPE codes. */
export enum PrType {
  WRITE_EXCLUSIVE = 0x1,
  EXCLUSIVE_ACCESS = 0x3,
  WRITE_EXCLUSIVE_REGISTRANTS_ONLY = 0x5,
  EXCLUSIVE_ACCESS_REGISTRANTS_ONLY = 0x6,
  WRITE_EXCLUSIVE_ALL_REGISTRANTS = 0x7,
  EXCLUSIVE_ACCESS_ALL_REGISTRANTS = 0x8,
}

/** SPC-4 6.16.2: the only SCOPE is LU_SCOPE (0h). */
export const LU_SCOPE = 0x0;

const VALID_TYPES: ReadonlySet<number> = new Set([1, 3, 5, 6, 7, 8]);

export function isAllRegistrants(t: PrType): boolean {
  return t === PrType.WRITE_EXCLUSIVE_ALL_REGISTRANTS || t === PrType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS;
}

function isRegistrantsOnly(t: PrType): boolean {
  return t === PrType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY || t === PrType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY;
}

/** The I_T nexus a PERSISTENT RESERVE command came through, and the target ports around it. */
export interface PrInitiator {
  readonly itKey: string;
  /** Initiator port name; for iSCSI "<name>,i,0x<ISID>" (SPC-4 7.6.4.6), or the name alone. */
  readonly initiatorPort: string;
  readonly relativeTargetPortId: number;
  /** The relative identifiers of every target port of the sender's target (ALL_TG_PT). */
  readonly relativeTargetPortIds: readonly number[];
  /**
   * The identity of the I_T nexus between `initiatorPort` and the target port `relativeTargetPortId`
   * of the sender's target; undefined when the target has no such port.
   */
  nexusKeyAt(initiatorPort: string, relativeTargetPortId: number): string | undefined;
}

export interface Registration {
  readonly itKey: string;
  key: bigint;
  readonly initiatorPort: string;
  readonly relativeTargetPortId: number;
  /** Made with ALL_TG_PT: one of the registrations of its initiator port on every target port. */
  readonly allTgPt: boolean;
}

export interface Reservation {
  /** The I_T nexus that made it (for all-registrants types every registrant holds it). */
  holder: string;
  type: PrType;
}

/**
 * What persistence (APTPL) stores and restores. The PRgeneration is not part of it: a power on
 * sets it to zero whatever APTPL says (SPC-4 6.15.2).
 */
export interface PrSnapshot {
  aptpl: boolean;
  registrations: Registration[];
  reservation?: Reservation;
}

export interface PrUnitAttention { itKey: string; cond: SenseCondition }

/** The result of a PERSISTENT RESERVE OUT: the outcome and what the caller must apply. */
export interface PrOutEffects {
  outcome: Outcome;
  /** Unit attentions to establish, one per affected I_T nexus. */
  ua: PrUnitAttention[];
  /** I_T nexuses whose tasks PREEMPT AND ABORT aborts (never the sender's). */
  abort: string[];
  /** The registrations or the reservation changed (what persistence must store). */
  changed: boolean;
}

export interface PrOptions {
  /**
   * Make a new state durable; PERSISTENT RESERVE OUT completes only once the promise resolves, and
   * the change is not visible before. Its presence is what PTPL_C reports.
   */
  persist?: (s: PrSnapshot) => Promise<void>;
  /** Whether the state last made durable had APTPL set (what a restart would restore). */
  persistedAptpl?: boolean;
}

// -------------------------------------------------------------------------------------------
// Sharing through a cluster (several gateways, one unit): the types shared-reservations.ts and
// the stores that keep the state (backstores/rbd-reservations.ts) speak.
// -------------------------------------------------------------------------------------------

/** The reservations of a unit as the cluster keeps them. */
export interface SharedReservationState {
  /** SPC-4 6.15.2 PRgeneration: one counter for the unit, whichever gateway changed it. */
  generation: number;
  pr: PrSnapshot;
  /** The I_T nexus holding an SPC-2 RESERVE, if any. */
  spc2?: string;
}

/** What a change owes the I_T nexuses of the other gateways. */
export interface ReservationEvent {
  ua: PrUnitAttention[];
  /** I_T nexuses whose tasks are aborted (PREEMPT AND ABORT, SPC-4 5.12.11.4.4). */
  abort: string[];
  /** A LOGICAL UNIT RESET through another gateway (SAM-5 7.7): the whole unit resets. */
  reset?: boolean;
}

export interface VersionedReservations { version: number; state: SharedReservationState }

/** The cluster side (backstores/rbd-reservations.ts). */
export interface ReservationChannel {
  /** The current state and its version. */
  load(): Promise<VersionedReservations>;
  /**
   * Replace version `base` with `next`; resolves with the new version once every other member
   * gateway has installed it (or been fenced), or undefined when `base` is no longer current.
   */
  publish(base: number, next: SharedReservationState, event: ReservationEvent): Promise<number | undefined>;
  /** Tell the other gateways `event` (no state change); resolves once they acknowledged. */
  announce(event: ReservationEvent): Promise<void>;
  /** Changes and events from other gateways; each is acknowledged once `apply` resolves. */
  listen(apply: (event: ReservationEvent) => Promise<void>, refreshed: (v: VersionedReservations) => void): void;
  close(): Promise<void>;
}

/** A change of the shared state: the outcome, and the parts of the state it replaces (none: no change). */
export interface ReservationChange<T> {
  result: T;
  next?: Partial<SharedReservationState>;
  event?: ReservationEvent;
}

/** What the engine's reservation code sees of the sharing (PersistentReservations.sharing). */
export interface ReservationSharing {
  /** Work `change` out on the current state and publish it, again on a fresher state if needed. */
  update<T>(change: () => ReservationChange<T>): Promise<T>;
  announce(event: ReservationEvent): Promise<void>;
}

export class PersistentReservations {
  private gen = 0;
  private aptpl = false;
  private readonly regs = new Map<string, Registration>();
  private res: Reservation | undefined;
  /** The PERSISTENT RESERVE OUT in progress: the next one starts from the state it leaves. */
  private tail: Promise<unknown> = Promise.resolve();
  private persistedAptpl: boolean;
  /** The cluster that keeps the state when several gateways export the unit (shared-reservations.ts). */
  private shared: ReservationSharing | undefined;

  constructor(private readonly opts: PrOptions = {}) {
    this.persistedAptpl = opts.persistedAptpl ?? false;
  }

  get sharing(): ReservationSharing | undefined { return this.shared; }

  /**
   * From now on the state lives in the cluster: PERSISTENT RESERVE OUT publishes there, and the
   * state (with its PRgeneration) follows what the cluster holds (install). The cluster keeps it
   * across restarts of any gateway, so APTPL is offered (PTPL_C) and kept with it.
   */
  share(sharing: ReservationSharing): void { this.shared = sharing; }

  /** The cluster's state, made through any gateway (shared-reservations.ts). */
  install(generation: number, s: PrSnapshot): void {
    this.gen = generation;
    this.adopt(s);
  }

  get generation(): number { return this.gen; }
  get reservation(): Readonly<Reservation> | undefined { return this.res; }
  get hasRegistrations(): boolean { return this.regs.size > 0; }
  registrations(): readonly Readonly<Registration>[] { return [...this.regs.values()]; }
  isRegistered(itKey: string): boolean { return this.regs.has(itKey); }

  /**
   * SPC-4 5.12.10: every registrant holds an all-registrants reservation; otherwise the I_T
   * nexus that made it, and with it the other I_T nexuses its initiator port registered through
   * the same ALL_TG_PT registration (the registration speaks for all of them, 6.16.3).
   */
  isHolder(itKey: string): boolean {
    const r = this.res;
    if (!r) return false;
    if (isAllRegistrants(r.type)) return this.regs.has(itKey);
    if (r.holder === itKey) return true;
    const h = this.regs.get(r.holder);
    const me = this.regs.get(itKey);
    return !!h && !!me && h.allTgPt && me.allTgPt && me.initiatorPort === h.initiatorPort && me.key === h.key;
  }

  /**
   * SPC-4 5.13 table 66 and SBC-4 table 13: whether a read or a write from `itKey` conflicts with
   * the reservation. The holder never conflicts; Write Exclusive types let everyone read;
   * registrants-only and all-registrants types let registrants read and write.
   */
  conflicts(itKey: string, access: 'read' | 'write'): boolean {
    const r = this.res;
    if (!r || this.isHolder(itKey)) return false;
    switch (r.type) {
      case PrType.WRITE_EXCLUSIVE: return access === 'write';
      case PrType.EXCLUSIVE_ACCESS: return true;
      case PrType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY:
      case PrType.WRITE_EXCLUSIVE_ALL_REGISTRANTS:
        return access === 'write' && !this.regs.has(itKey);
      default: return !this.regs.has(itKey);
    }
  }

  snapshot(): PrSnapshot {
    return {
      aptpl: this.aptpl,
      registrations: [...this.regs.values()].map(r => ({ ...r })),
      reservation: this.res ? { ...this.res } : undefined,
    };
  }

  /**
   * Load persisted state (APTPL) at power on. Registrations come back for every I_T nexus,
   * logged in or not; the PRgeneration starts at zero (SPC-4 6.15.2).
   */
  restore(s: PrSnapshot): void {
    this.gen = 0;
    this.adopt(s);
    // A reservation needs its holder's registration (any registration, for all-registrants types).
    const r = this.res;
    if (r && !(isAllRegistrants(r.type) ? this.regs.size > 0 : this.regs.has(r.holder))) this.res = undefined;
  }

  private adopt(s: PrSnapshot): void {
    this.aptpl = s.aptpl;
    this.regs.clear();
    for (const r of s.registrations) this.regs.set(r.itKey, { ...r, allTgPt: r.allTgPt ?? false });
    this.res = s.reservation ? { ...s.reservation } : undefined;
  }

  // -------------------------------------------------------------------------------------------
  // PERSISTENT RESERVE IN (SPC-4 6.15)
  // -------------------------------------------------------------------------------------------

  /** SPC-4 6.15.2 table 172: PRGENERATION, ADDITIONAL LENGTH, then every registered key. */
  readKeys(): Buffer {
    const keys = [...this.regs.values()];
    const b = Buffer.alloc(8 + 8 * keys.length);
    b.writeUInt32BE(this.gen, 0);
    b.writeUInt32BE(8 * keys.length, 4);
    keys.forEach((r, i) => b.writeBigUInt64BE(r.key, 8 + 8 * i));
    return b;
  }

  /**
   * SPC-4 6.15.3 tables 173-174: with a reservation, a 16-byte descriptor with its key (zero for
   * all-registrants types, 5.12.10), SCOPE and TYPE.
   */
  readReservation(): Buffer {
    const r = this.res;
    const b = Buffer.alloc(r ? 24 : 8);
    b.writeUInt32BE(this.gen, 0);
    if (!r) return b;
    b.writeUInt32BE(16, 4);
    const key = isAllRegistrants(r.type) ? 0n : this.regs.get(r.holder)?.key ?? 0n;
    b.writeBigUInt64BE(key, 8);
    b[21] = (LU_SCOPE << 4) | r.type;
    return b;
  }

  /** SPC-4 6.15.4 table 181. */
  reportCapabilities(): Buffer {
    const b = Buffer.alloc(8);
    b.writeUInt16BE(8, 0); // LENGTH
    // byte 2: CRH 0 | SIP_C 1 | ATP_C 1 | PTPL_C
    b[2] = 0x08 | 0x04 | (this.opts.persist || this.shared ? 0x01 : 0x00);
    // byte 3: TMV 1 | ALLOW COMMANDS 001b (TEST UNIT READY passes every reservation) | PTPL_A
    b[3] = 0x80 | (0b001 << 4) | (this.aptpl ? 0x01 : 0x00);
    // bytes 4..5 PERSISTENT RESERVATION TYPE MASK (table 183): WR_EX_AR, EX_AC_RO, WR_EX_RO,
    // EX_AC, WR_EX in byte 4; EX_AC_AR in byte 5.
    b[4] = 0x80 | 0x40 | 0x20 | 0x08 | 0x02;
    b[5] = 0x01;
    return b;
  }

  /**
   * SPC-4 6.15.5 tables 184-185: one full status descriptor per registered I_T nexus, with
   * ALL_TG_PT for those an ALL_TG_PT registration made, R_HOLDER with SCOPE and TYPE for each
   * reservation holder, the relative target port and the initiator port's TransportID.
   */
  readFullStatus(): Buffer {
    const descs = [...this.regs.values()].map(reg => {
      const tid = iscsiTransportId(reg.initiatorPort);
      const d = Buffer.alloc(24 + tid.length);
      d.writeBigUInt64BE(reg.key, 0); // bytes 0..7 RESERVATION KEY
      const holder = this.isHolder(reg.itKey);
      // byte 12: ALL_TG_PT (1) | R_HOLDER (0); byte 13: SCOPE | TYPE of a holder
      d[12] = (reg.allTgPt ? 0x02 : 0x00) | (holder ? 0x01 : 0x00);
      if (holder) d[13] = (LU_SCOPE << 4) | this.res!.type;
      d.writeUInt16BE(reg.relativeTargetPortId & 0xffff, 18); // bytes 18..19 RELATIVE TARGET PORT IDENTIFIER
      d.writeUInt32BE(tid.length, 20); // bytes 20..23 ADDITIONAL DESCRIPTOR LENGTH
      tid.copy(d, 24);
      return d;
    });
    const body = Buffer.concat(descs);
    const h = Buffer.alloc(8);
    h.writeUInt32BE(this.gen, 0);
    h.writeUInt32BE(body.length, 4);
    return Buffer.concat([h, body]);
  }

  // -------------------------------------------------------------------------------------------
  // PERSISTENT RESERVE OUT (SPC-4 5.12.7-5.12.11, 6.16)
  // -------------------------------------------------------------------------------------------

  /**
   * PERSISTENT RESERVE OUT as one step at a time per logical unit: the change is worked out on a
   * copy of the state, made durable through the persistence hook when there is one (SPC-4 5.12.5:
   * with APTPL, or to drop what an earlier APTPL saved), and only then becomes the unit's state.
   * When persistence fails, nothing changes and the command ends with INTERNAL TARGET FAILURE.
   */
  commit(who: PrInitiator, req: PrOutRequest): Promise<PrOutEffects> {
    const shared = this.shared;
    if (shared) {
      // Worked out on the cluster's current state; published, then installed (shared-reservations.ts).
      return shared.update(() => {
        const draft = new PersistentReservations();
        draft.install(this.gen, this.snapshot());
        const fx = draft.outWith(who, req, true);
        return { result: fx, ...(fx.changed ? { next: { generation: draft.gen, pr: draft.snapshot() }, event: { ua: fx.ua, abort: fx.abort } } : {}) };
      });
    }
    const run = async (): Promise<PrOutEffects> => {
      const draft = new PersistentReservations();
      draft.gen = this.gen;
      draft.adopt(this.snapshot());
      const fx = draft.outWith(who, req, this.opts.persist !== undefined);
      if (!fx.changed) return fx;
      const next = draft.snapshot();
      const persist = this.opts.persist;
      if (persist && (next.aptpl || this.persistedAptpl)) {
        try {
          await persist(next);
        } catch {
          return { outcome: check(SENSE.INTERNAL_TARGET_FAILURE), ua: [], abort: [], changed: false };
        }
        this.persistedAptpl = next.aptpl;
      }
      this.gen = draft.gen;
      this.adopt(next);
      return fx;
    };
    const p = this.tail.then(run, run);
    this.tail = p;
    return p;
  }

  /** PERSISTENT RESERVE OUT on this state at once, without persistence (tests, and commit's copy). */
  out(who: PrInitiator, req: PrOutRequest): PrOutEffects {
    return this.outWith(who, req, this.opts.persist !== undefined);
  }

  private outWith(who: PrInitiator, req: PrOutRequest, canPersist: boolean): PrOutEffects {
    const fx: PrOutEffects = { outcome: GOOD, ua: [], abort: [], changed: false };
    const done = (o: Outcome): PrOutEffects => { fx.outcome = o; return fx; };
    const isRegister = req.sa === PrOutSa.REGISTER || req.sa === PrOutSa.REGISTER_AND_IGNORE_EXISTING_KEY;
    // SPC-4 6.16.3: PTPL_C is what REPORT CAPABILITIES says (SIP_C and ATP_C are one).
    if ((isRegister || req.sa === PrOutSa.REGISTER_AND_MOVE) && req.aptpl && !canPersist) {
      return done(req.sa === PrOutSa.REGISTER_AND_MOVE ? invalidParamField(17, 0) : invalidParamField(20, 0));
    }
    const mine = this.regs.get(who.itKey);
    // SPC-4 5.12.7 table 45 and 6.16.2: an unregistered I_T nexus may only register; a
    // registered one must present its own key (REGISTER AND IGNORE EXISTING KEY excepted).
    if (req.sa !== PrOutSa.REGISTER_AND_IGNORE_EXISTING_KEY) {
      if (mine ? mine.key !== req.reservationKey : (req.sa !== PrOutSa.REGISTER || req.reservationKey !== 0n)) {
        return done(RESERVATION_CONFLICT);
      }
    }
    const before = this.gen;
    const beforeRes = this.res;
    let result: PrOutEffects;
    switch (req.sa) {
      case PrOutSa.REGISTER:
      case PrOutSa.REGISTER_AND_IGNORE_EXISTING_KEY:
        result = this.register(who, mine, req, fx); break;
      case PrOutSa.RESERVE: result = this.reserve(who, req, fx); break;
      case PrOutSa.RELEASE: result = this.release(who, req, fx); break;
      case PrOutSa.CLEAR: result = this.clear(who, fx); break;
      case PrOutSa.PREEMPT:
      case PrOutSa.PREEMPT_AND_ABORT:
        result = this.preempt(who, req, fx, req.sa === PrOutSa.PREEMPT_AND_ABORT); break;
      case PrOutSa.REGISTER_AND_MOVE: result = this.registerAndMove(who, mine!, req, fx); break;
      default:
        return done(invalidField(SERVICE_ACTION));
    }
    result.changed = this.gen !== before || this.res !== beforeRes;
    return result;
  }

  private bump(): void { this.gen = (this.gen + 1) >>> 0; }

  /**
   * SPC-4 5.12.7 / 5.12.11.2.3: register (with SPEC_I_PT the initiator ports the TransportIDs
   * name too, with ALL_TG_PT through every target port), change the key, or unregister (key zero).
   */
  private register(who: PrInitiator, mine: Registration | undefined, req: PrOutRequest, fx: PrOutEffects): PrOutEffects {
    const sark = req.serviceActionReservationKey;
    if (!mine) {
      if (sark === 0n) return fx; // nothing to register, nothing changes
      // SPC-4 6.16.3: every registration SPEC_I_PT asks for is made, or none is. I_T nexuses
      // already registered keep their registration.
      const add: Registration[] = [];
      const ports = [{ initiatorPort: who.initiatorPort, offset: 0 }, ...req.transportIds];
      for (const p of ports) {
        const rtpis = req.allTgPt ? who.relativeTargetPortIds : [who.relativeTargetPortId];
        for (const rtpi of rtpis) {
          const itKey = p.offset === 0 && rtpi === who.relativeTargetPortId ? who.itKey : who.nexusKeyAt(p.initiatorPort, rtpi);
          if (itKey === undefined) continue;
          if (this.regs.has(itKey) || add.some(x => x.itKey === itKey)) continue;
          add.push({ itKey, key: sark, initiatorPort: p.initiatorPort, relativeTargetPortId: rtpi, allTgPt: req.allTgPt });
        }
      }
      for (const r of add) this.regs.set(r.itKey, r);
    } else {
      // SPC-4 5.12.7 table 46: SPEC_I_PT through a registered I_T nexus is refused.
      if (req.specIPt) { fx.outcome = invalidParamField(20, 3); return fx; }
      // An ALL_TG_PT registration is one registration of the initiator port on every target
      // port: its key changes, or it goes, on all of them together.
      const group = mine.allTgPt
        ? [...this.regs.values()].filter(r => r.allTgPt && r.initiatorPort === mine.initiatorPort && r.key === mine.key)
        : [mine];
      if (sark === 0n) this.unregister(group.map(r => r.itKey), fx);
      else for (const r of group) r.key = sark;
    }
    this.aptpl = req.aptpl;
    this.bump();
    return fx;
  }

  /**
   * SPC-4 5.12.11.2.3: removing the holder's registration releases a reservation that is not of
   * an all-registrants type (those last while any registrant remains); releasing a
   * registrants-only reservation tells every remaining registrant RESERVATIONS RELEASED. `itKeys`
   * are one registration: one I_T nexus, or the I_T nexuses of one ALL_TG_PT registration.
   */
  private unregister(itKeys: readonly string[], fx: PrOutEffects): void {
    const wasHolder = itKeys.some(k => this.isHolder(k));
    const r = this.res;
    for (const k of itKeys) this.regs.delete(k);
    if (!r || !wasHolder) return;
    if (isAllRegistrants(r.type)) {
      if (this.regs.size === 0) this.res = undefined;
      return;
    }
    this.res = undefined;
    if (isRegistrantsOnly(r.type)) for (const k of this.regs.keys()) fx.ua.push({ itKey: k, cond: SENSE.RESERVATIONS_RELEASED });
  }

  /** SPC-4 5.12.9: a second RESERVE by the holder with the same type and scope is GOOD. */
  private reserve(who: PrInitiator, req: PrOutRequest, fx: PrOutEffects): PrOutEffects {
    const bad = checkScopeType(req);
    if (bad) { fx.outcome = bad; return fx; }
    const r = this.res;
    if (r) {
      if (!this.isHolder(who.itKey) || r.type !== req.type) fx.outcome = RESERVATION_CONFLICT;
      return fx;
    }
    this.res = { holder: who.itKey, type: req.type as PrType };
    return fx;
  }

  /** SPC-4 5.12.11.2.2. */
  private release(who: PrInitiator, req: PrOutRequest, fx: PrOutEffects): PrOutEffects {
    const r = this.res;
    if (!r || !this.isHolder(who.itKey)) return fx; // nothing this nexus holds: GOOD, no change
    if (req.scope !== LU_SCOPE || req.type !== r.type) {
      fx.outcome = check(SENSE.INVALID_RELEASE_OF_PERSISTENT_RESERVATION);
      return fx;
    }
    this.res = undefined;
    if (isRegistrantsOnly(r.type) || isAllRegistrants(r.type)) {
      for (const k of this.regs.keys()) if (k !== who.itKey) fx.ua.push({ itKey: k, cond: SENSE.RESERVATIONS_RELEASED });
    }
    return fx;
  }

  /** SPC-4 5.12.11.2.6: CLEAR drops every registration and the reservation. */
  private clear(who: PrInitiator, fx: PrOutEffects): PrOutEffects {
    for (const k of this.regs.keys()) if (k !== who.itKey) fx.ua.push({ itKey: k, cond: SENSE.RESERVATIONS_PREEMPTED });
    this.regs.clear();
    this.res = undefined;
    this.bump();
    return fx;
  }

  /**
   * SPC-4 5.12.11.4: PREEMPT and PREEMPT AND ABORT. With SERVICE ACTION RESERVATION KEY naming the
   * holder (or zero under an all-registrants reservation) the reservation passes to the sender
   * with the CDB's type; otherwise only the registrations with that key are removed. The sender's
   * own registration is never removed (5.12.11.4.3).
   */
  private preempt(who: PrInitiator, req: PrOutRequest, fx: PrOutEffects, abort: boolean): PrOutEffects {
    const sark = req.serviceActionReservationKey;
    const r = this.res;
    const holderKey = r && !isAllRegistrants(r.type) ? this.regs.get(r.holder)?.key : undefined;
    const takesReservation = r !== undefined && (isAllRegistrants(r.type) ? sark === 0n : sark === holderKey);
    if (!takesReservation) {
      // 5.12.11.4.3 (removing registrations): a zero key names no registration.
      if (sark === 0n) { fx.outcome = invalidParamField(8); return fx; }
      if (![...this.regs.values()].some(x => x.key === sark)) { fx.outcome = RESERVATION_CONFLICT; return fx; }
    } else {
      const bad = checkScopeType(req);
      if (bad) { fx.outcome = bad; return fx; }
    }
    const victims = [...this.regs.values()]
      .filter(x => x.itKey !== who.itKey && (takesReservation && sark === 0n ? true : x.key === sark))
      .map(x => x.itKey);
    for (const k of victims) {
      this.regs.delete(k);
      fx.ua.push({ itKey: k, cond: SENSE.REGISTRATIONS_PREEMPTED });
    }
    if (takesReservation) {
      const changed = r!.type !== req.type;
      this.res = { holder: who.itKey, type: req.type as PrType };
      // 5.12.11.4.3 f): a changed type or scope releases what the other registrants shared.
      if (changed) for (const k of this.regs.keys()) if (k !== who.itKey) fx.ua.push({ itKey: k, cond: SENSE.RESERVATIONS_RELEASED });
    } else if (r && !this.regs.has(r.holder) && !isAllRegistrants(r.type)) {
      this.res = undefined; // the holder lost its registration
    } else if (r && isAllRegistrants(r.type) && this.regs.size === 0) {
      this.res = undefined;
    }
    if (abort) fx.abort = victims;
    this.bump();
    return fx;
  }

  /**
   * SPC-4 5.12.8 (registering and moving the reservation) and 6.16.4: the holder registers the
   * I_T nexus that the TransportID and RELATIVE TARGET PORT IDENTIFIER name with the SERVICE
   * ACTION RESERVATION KEY, moves the reservation there with its type and scope (the CDB's SCOPE
   * and TYPE are ignored) and, with UNREG, unregisters itself.
   */
  private registerAndMove(who: PrInitiator, mine: Registration, req: PrOutRequest, fx: PrOutEffects): PrOutEffects {
    const sark = req.serviceActionReservationKey;
    // A zero key registers nothing.
    if (sark === 0n) { fx.outcome = invalidParamField(8); return fx; }
    const r = this.res;
    // No persistent reservation to move: ILLEGAL REQUEST, INVALID FIELD IN CDB.
    if (!r) { fx.outcome = invalidField(SERVICE_ACTION); return fx; }
    // Only the holder moves it, and an all-registrants reservation has no one holder to move.
    if (!this.isHolder(who.itKey) || isAllRegistrants(r.type)) { fx.outcome = RESERVATION_CONFLICT; return fx; }
    const dest = req.transportIds[0];
    // The destination must be another initiator port than the sender's.
    if (dest.initiatorPort === who.initiatorPort) { fx.outcome = invalidParamField(dest.offset); return fx; }
    const destKey = who.nexusKeyAt(dest.initiatorPort, req.relativeTargetPortId);
    if (destKey === undefined) { fx.outcome = invalidParamField(18); return fx; }
    // Registering an I_T nexus already registered is no error: it takes the new key.
    const existing = this.regs.get(destKey);
    if (existing) existing.key = sark;
    else {
      this.regs.set(destKey, {
        itKey: destKey, key: sark, initiatorPort: dest.initiatorPort, relativeTargetPortId: req.relativeTargetPortId, allTgPt: false,
      });
    }
    this.res = { holder: destKey, type: r.type };
    if (req.unreg) this.regs.delete(mine.itKey);
    this.aptpl = req.aptpl;
    this.bump();
    return fx;
  }
}

function checkScopeType(req: PrOutRequest): Outcome | undefined {
  if (req.scope !== LU_SCOPE) return invalidField(PROUT_FIELDS.scope);
  if (!VALID_TYPES.has(req.type)) return invalidField(PROUT_FIELDS.type);
  return undefined;
}

/** PERSISTENT RESERVE IN data, whatever the service action (the pipeline trims it). */
export function prInData(pr: PersistentReservations, sa: number): Outcome {
  switch (sa) {
    case PrInSa.READ_KEYS: return good(pr.readKeys());
    case PrInSa.READ_RESERVATION: return good(pr.readReservation());
    case PrInSa.REPORT_CAPABILITIES: return good(pr.reportCapabilities());
    case PrInSa.READ_FULL_STATUS: return good(pr.readFullStatus());
    default: return invalidField(SERVICE_ACTION);
  }
}
