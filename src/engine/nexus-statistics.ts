// Statistics of one I_T nexus (a session), counted by its transport on the thread that runs the
// session when each command is answered: commands, bytes each way, CHECK CONDITION answers by
// sense key, latency by transfer size (latency-histogram.ts). The commands outstanding (the
// session's share of the task sets) are read from the transport's task table when asked. Plain
// increments only; the control plane copies them on demand (DESIGN.md §8a).

import { LatencyHistogram } from './latency-histogram';
import { SENSE_KEYS } from './lu-statistics';
import { dataPathStatistics } from './statistics-switch';

/** SAM-5 5.3.1 status codes this module tells apart. */
const GOOD = 0x00;
const CHECK_CONDITION = 0x02;
const CONDITION_MET = 0x04;

/**
 * The sense key of sense data in either format (SPC-4 4.5.2): descriptor format (response code
 * 72h/73h) has it in byte 1, fixed format (70h/71h) in byte 2; 0 when there is none.
 */
export function senseKeyOf(sense: Uint8Array | undefined): number {
  if (sense === undefined || sense.length < 3) return 0;
  const code = sense[0] & 0x7f;
  if (code === 0x72 || code === 0x73) return sense[1] & 0x0f;
  return sense[2] & 0x0f;
}

export class NexusStatistics {
  /** Commands answered, any status. */
  commands = 0;
  /** Commands with Data-In and with Data-Out answered GOOD, and the bytes they moved. */
  readCommands = 0;
  writeCommands = 0;
  readBytes = 0;
  writeBytes = 0;
  /** CHECK CONDITION answers by sense key (SPC-4 table 28). */
  readonly checkConditionsBySenseKey: number[] = new Array<number>(SENSE_KEYS).fill(0);
  /** BUSY, RESERVATION CONFLICT, TASK SET FULL and other non-GOOD statuses. */
  otherErrors = 0;
  /** From the command's arrival to its answer, by transfer size. */
  readonly latency = new LatencyHistogram();

  /**
   * A command was answered with `status`: `readBytes`/`writeBytes` it moved (Data-In sent,
   * Data-Out taken), `transferBytes` its expected data transfer length (the size class),
   * `elapsedNs` since it arrived.
   */
  record(status: number, sense: Uint8Array | undefined, readBytes: number, writeBytes: number, transferBytes: number, elapsedNs: number): void {
    if (!dataPathStatistics.enabled) return;
    this.commands++;
    this.latency.record(elapsedNs, transferBytes);
    if (status === GOOD || status === CONDITION_MET) {
      if (readBytes > 0) { this.readCommands++; this.readBytes += readBytes; }
      if (writeBytes > 0) { this.writeCommands++; this.writeBytes += writeBytes; }
      return;
    }
    if (status === CHECK_CONDITION) this.checkConditionsBySenseKey[senseKeyOf(sense)]++;
    else this.otherErrors++;
  }
}
