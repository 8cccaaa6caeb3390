import { ResvClass } from './cdb/dsl';
import type { PersistentReservations } from './pr';

/**
 * SPC-2 RESERVE/RELEASE reservations (SPC-2 5.5.1, 7.21, 7.24): one holder per logical unit,
 * identified by its I_T nexus. Released by RELEASE from the holder, by loss of the holder's
 * I_T nexus, by LOGICAL UNIT RESET and by TARGET RESET. A RELEASE from anyone else is a no-op
 * that returns GOOD (SPC-2 7.24).
 */
export class Spc2Reservation {
  private holderKey: string | undefined;

  get holder(): string | undefined { return this.holderKey; }

  /** Whether a command from `itKey` conflicts with the current reservation. */
  conflicts(itKey: string): boolean {
    return this.holderKey !== undefined && this.holderKey !== itKey;
  }

  /** RESERVE: true when granted (free or already ours). */
  reserve(itKey: string): boolean {
    if (this.conflicts(itKey)) return false;
    this.holderKey = itKey;
    return true;
  }

  release(itKey: string): void {
    if (this.holderKey === itKey) this.holderKey = undefined;
  }

  /** The holder as the cluster has it (a unit several gateways export, shared-reservations.ts). */
  install(holder: string | undefined): void { this.holderKey = holder; }

  /** Loss of an I_T nexus or a reset: drop the reservation if that nexus (or anyone) held it. */
  clear(itKey?: string): void {
    if (itKey === undefined || this.holderKey === itKey) this.holderKey = undefined;
  }
}

/**
 * The pipeline's reservation step, read from the row's reservation class alone:
 *  - SPC-2 5.5.1: a RESERVE(6)/(10) held by another I_T nexus blocks every class but ALLOWED,
 *    RELEASE and PERSISTENT_RESERVE; PERSISTENT RESERVE commands conflict while any RESERVE is in
 *    effect, whoever holds it; RESERVE and RELEASE conflict while any I_T nexus is registered
 *    (CRH 0).
 *  - SPC-4 5.13 table 66 / SBC-4 table 13: otherwise READ is a read and CONFLICTS a write under
 *    persistent reservations; ALLOWED and SPC2_ONLY (TEST UNIT READY, ALLOW COMMANDS 001b) pass.
 */
export function reservationConflict(
  spc2: Spc2Reservation, pr: Pick<PersistentReservations, 'hasRegistrations' | 'conflicts'>, itKey: string, cls: ResvClass,
): boolean {
  switch (cls) {
    case ResvClass.ALLOWED: return false;
    case ResvClass.RELEASE: return pr.hasRegistrations;
    case ResvClass.RESERVE: return spc2.conflicts(itKey) || pr.hasRegistrations;
    case ResvClass.PERSISTENT_RESERVE: return spc2.holder !== undefined;
    case ResvClass.SPC2_ONLY: return spc2.conflicts(itKey);
    case ResvClass.READ: return spc2.conflicts(itKey) || pr.conflicts(itKey, 'read');
    case ResvClass.CONFLICTS: return spc2.conflicts(itKey) || pr.conflicts(itKey, 'write');
  }
}
