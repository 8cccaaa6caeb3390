import { SENSE, SenseCondition } from './spec/asc';
import { PrInSa, PrOutSa } from './spec/opcodes';
import { invalidField, SERVICE_ACTION } from './cdb/dsl';
import { PROUT_FIELDS } from './cdb/defs/pr';
import { check, good, GOOD, invalidParamField, Outcome, RESERVATION_CONFLICT } from './result';

/**
 * SPC-4 persistent reservations (5.12, 6.15, 6.16) of one logical unit, as pure state and logic:
 * registrations per I_T nexus, the reservation and its type, the PRgeneration counter, the
 * parameter data of PERSISTENT RESERVE IN and the effects of PERSISTENT RESERVE OUT. The caller
 * (pr-commands.ts) applies the effects: unit attentions and the tasks PREEMPT AND ABORT aborts.
 *
 * Registrations are keyed by I_T nexus identity (initiator port + target port), so they survive
 * I_T nexus loss, session reinstatement and LOGICAL UNIT RESET (SPC-4 5.12.1).
 *
 * Supported: every reservation type, all service actions but REGISTER AND MOVE; not SPEC_I_PT
 * (SIP_C 0), not ALL_TG_PT (ATP_C 0); APTPL only when a persistence hook is injected (PTPL_C).
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

/** SPC-4 6.16.3: the basic PERSISTENT RESERVE OUT parameter list is 24 bytes. */
export const PROUT_BASIC_LENGTH = 24;

/** SPC-4 7.6.4.1: PROTOCOL IDENTIFIER of iSCSI. */
export const ISCSI_PROTOCOL_ID = 0x5;

const VALID_TYPES: ReadonlySet<number> = new Set([1, 3, 5, 6, 7, 8]);

export function isAllRegistrants(t: PrType): boolean {
  return t === PrType.WRITE_EXCLUSIVE_ALL_REGISTRANTS || t === PrType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS;
}

function isRegistrantsOnly(t: PrType): boolean {
  return t === PrType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY || t === PrType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY;
}

/** The I_T nexus a PERSISTENT RESERVE command came through. */
export interface PrInitiator {
  readonly itKey: string;
  /** Initiator port name; for iSCSI "<name>,i,0x<ISID>" (SPC-4 7.6.4.6), or the name alone. */
  readonly initiatorPort: string;
  readonly relativeTargetPortId: number;
}

export interface Registration {
  readonly itKey: string;
  key: bigint;
  readonly initiatorPort: string;
  readonly relativeTargetPortId: number;
}

export interface Reservation {
  /** The I_T nexus that made it (for all-registrants types every registrant holds it). */
  holder: string;
  type: PrType;
}

/** What persistence (APTPL) stores and restores. */
export interface PrSnapshot {
  generation: number;
  aptpl: boolean;
  registrations: Registration[];
  reservation?: Reservation;
}

/** The decoded PERSISTENT RESERVE OUT command and its basic parameter list (SPC-4 6.16.3). */
export interface PrOutRequest {
  sa: PrOutSa;
  scope: number;
  type: number;
  reservationKey: bigint;
  serviceActionReservationKey: bigint;
  specIPt: boolean;
  allTgPt: boolean;
  aptpl: boolean;
}

export interface PrUnitAttention { itKey: string; cond: SenseCondition }

/** The result of a PERSISTENT RESERVE OUT: the outcome and what the caller must apply. */
export interface PrOutEffects {
  outcome: Outcome;
  /** Unit attentions to establish, one per affected I_T nexus. */
  ua: PrUnitAttention[];
  /** I_T nexuses whose tasks PREEMPT AND ABORT aborts (never the sender's). */
  abort: string[];
}

export interface PrOptions {
  /** Called after every change with the whole state; its presence is what PTPL_C reports. */
  persist?: (s: PrSnapshot) => void;
}

/**
 * Parse and length-check a PERSISTENT RESERVE OUT parameter list (SPC-4 6.16.3). The list must be
 * exactly 24 bytes unless SPEC_I_PT is one (REGISTER AND MOVE is not supported).
 */
export function parsePrOut(sa: PrOutSa, scope: number, type: number, data: Uint8Array | undefined): PrOutRequest | Outcome {
  const len = data?.length ?? 0;
  if (len < PROUT_BASIC_LENGTH || !data) return check(SENSE.PARAMETER_LIST_LENGTH_ERROR);
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const req: PrOutRequest = {
    sa, scope, type,
    reservationKey: b.readBigUInt64BE(0),
    serviceActionReservationKey: b.readBigUInt64BE(8),
    specIPt: (b[20] & 0x08) !== 0,
    allTgPt: (b[20] & 0x04) !== 0,
    aptpl: (b[20] & 0x01) !== 0,
  };
  if (len !== PROUT_BASIC_LENGTH && !req.specIPt) return check(SENSE.PARAMETER_LIST_LENGTH_ERROR);
  return req;
}

export class PersistentReservations {
  private gen = 0;
  private aptpl = false;
  private readonly regs = new Map<string, Registration>();
  private res: Reservation | undefined;

  constructor(private readonly opts: PrOptions = {}) {}

  get generation(): number { return this.gen; }
  get reservation(): Readonly<Reservation> | undefined { return this.res; }
  get hasRegistrations(): boolean { return this.regs.size > 0; }
  registrations(): readonly Readonly<Registration>[] { return [...this.regs.values()]; }
  isRegistered(itKey: string): boolean { return this.regs.has(itKey); }

  /** SPC-4 5.12.10: every registrant holds an all-registrants reservation; otherwise its maker. */
  isHolder(itKey: string): boolean {
    const r = this.res;
    if (!r) return false;
    return isAllRegistrants(r.type) ? this.regs.has(itKey) : r.holder === itKey;
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
      generation: this.gen, aptpl: this.aptpl,
      registrations: [...this.regs.values()].map(r => ({ ...r })),
      reservation: this.res ? { ...this.res } : undefined,
    };
  }

  /** Load persisted state (APTPL) at start-up. */
  restore(s: PrSnapshot): void {
    this.gen = s.generation >>> 0;
    this.aptpl = s.aptpl;
    this.regs.clear();
    for (const r of s.registrations) this.regs.set(r.itKey, { ...r });
    this.res = s.reservation && this.regs.has(s.reservation.holder) ? { ...s.reservation } : undefined;
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
    // byte 2: CRH 0 | SIP_C 0 | ATP_C 0 | PTPL_C
    b[2] = this.opts.persist ? 0x01 : 0x00;
    // byte 3: TMV 1 | ALLOW COMMANDS 001b (TEST UNIT READY passes every reservation) | PTPL_A
    b[3] = 0x80 | (0b001 << 4) | (this.aptpl ? 0x01 : 0x00);
    // bytes 4..5 PERSISTENT RESERVATION TYPE MASK (table 183): WR_EX_AR, EX_AC_RO, WR_EX_RO,
    // EX_AC, WR_EX in byte 4; EX_AC_AR in byte 5.
    b[4] = 0x80 | 0x40 | 0x20 | 0x08 | 0x02;
    b[5] = 0x01;
    return b;
  }

  /** SPC-4 6.15.5 tables 184-185: one full status descriptor per registration. */
  readFullStatus(): Buffer {
    const descs = [...this.regs.values()].map(reg => {
      const tid = iscsiTransportId(reg.initiatorPort);
      const d = Buffer.alloc(24 + tid.length);
      d.writeBigUInt64BE(reg.key, 0); // RESERVATION KEY
      const holder = this.isHolder(reg.itKey);
      d[12] = holder ? 0x01 : 0x00; // ALL_TG_PT 0 | R_HOLDER
      if (holder) d[13] = (LU_SCOPE << 4) | this.res!.type;
      d.writeUInt16BE(reg.relativeTargetPortId & 0xffff, 18); // RELATIVE TARGET PORT IDENTIFIER
      d.writeUInt32BE(tid.length, 20); // ADDITIONAL DESCRIPTOR LENGTH
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

  out(who: PrInitiator, req: PrOutRequest): PrOutEffects {
    const fx: PrOutEffects = { outcome: GOOD, ua: [], abort: [] };
    const done = (o: Outcome): PrOutEffects => { fx.outcome = o; return fx; };
    const isRegister = req.sa === PrOutSa.REGISTER || req.sa === PrOutSa.REGISTER_AND_IGNORE_EXISTING_KEY;
    if (isRegister) {
      // SPC-4 6.16.3: SIP_C, ATP_C and PTPL_C are what REPORT CAPABILITIES says.
      if (req.specIPt) return done(invalidParamField(20, 3));
      if (req.allTgPt) return done(invalidParamField(20, 2));
      if (req.aptpl && !this.opts.persist) return done(invalidParamField(20, 0));
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
      default:
        return done(invalidField(SERVICE_ACTION));
    }
    if (this.opts.persist && (this.gen !== before || this.res !== beforeRes)) this.opts.persist(this.snapshot());
    return result;
  }

  private bump(): void { this.gen = (this.gen + 1) >>> 0; }

  /** SPC-4 5.12.7 / 5.12.11.2.3: register, change the key, or unregister (key zero). */
  private register(who: PrInitiator, mine: Registration | undefined, req: PrOutRequest, fx: PrOutEffects): PrOutEffects {
    const sark = req.serviceActionReservationKey;
    if (!mine) {
      if (sark === 0n) return fx; // nothing to register, nothing changes
      this.regs.set(who.itKey, { itKey: who.itKey, key: sark, initiatorPort: who.initiatorPort, relativeTargetPortId: who.relativeTargetPortId });
    } else if (sark === 0n) {
      this.unregister(who.itKey, fx);
    } else {
      mine.key = sark;
    }
    this.aptpl = req.aptpl;
    this.bump();
    return fx;
  }

  /**
   * SPC-4 5.12.11.2.3: removing the holder's registration releases a reservation that is not of
   * an all-registrants type (those last while any registrant remains); releasing a
   * registrants-only reservation tells every remaining registrant RESERVATIONS RELEASED.
   */
  private unregister(itKey: string, fx: PrOutEffects): void {
    const wasHolder = this.isHolder(itKey);
    this.regs.delete(itKey);
    const r = this.res;
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
}

function checkScopeType(req: PrOutRequest): Outcome | undefined {
  if (req.scope !== LU_SCOPE) return invalidField(PROUT_FIELDS.scope);
  if (!VALID_TYPES.has(req.type)) return invalidField(PROUT_FIELDS.type);
  return undefined;
}

/**
 * SPC-4 7.6.4.6 tables 392-393: the iSCSI TransportID. Format 01b carries "<name>,i,0x<ISID>"
 * for an initiator port with an ISID, format 00b the name alone; the string is NUL-terminated and
 * padded to a multiple of four, with an ADDITIONAL LENGTH of at least 20.
 */
export function iscsiTransportId(initiatorPort: string): Buffer {
  const withIsid = /,i,0x[0-9a-fA-F]+$/.test(initiatorPort);
  const name = Buffer.from(initiatorPort, 'utf8');
  const addl = Math.max(20, (name.length + 1 + 3) & ~3);
  const b = Buffer.alloc(4 + addl);
  b[0] = ((withIsid ? 0b01 : 0b00) << 6) | ISCSI_PROTOCOL_ID;
  b.writeUInt16BE(addl, 2);
  name.copy(b, 4);
  return b;
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
