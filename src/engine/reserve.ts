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

  /** Loss of an I_T nexus or a reset: drop the reservation if that nexus (or anyone) held it. */
  clear(itKey?: string): void {
    if (itKey === undefined || this.holderKey === itKey) this.holderKey = undefined;
  }
}
