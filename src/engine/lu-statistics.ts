/** Monotonic clock in nanoseconds as a plain number (exact to well below a microsecond for years). */
export function nowNs(): number { return performance.now() * 1e6; }

import { LatencyHistogram } from './latency-histogram';
import { dataPathStatistics } from './statistics-switch';

export { LATENCY_BOUNDS_US } from './latency-histogram';

/** SPC-4 4.5.6 table 28: sense keys 0h..Fh. */
export const SENSE_KEYS = 16;

/**
 * Per-unit counters behind log page 19h (SPC-4 7.3.6). The engine records each read and write
 * command of SPC-4 table 375 when it completes (READ(n) are reads; WRITE(n), WRITE AND VERIFY(n)
 * and UNMAP are writes) and the time the task set spends empty.
 *
 * Plain numbers, not bigint: they are updated on every command (DESIGN.md §10), and a double
 * counts exactly to 2^53 (285 years of nanoseconds at one command per nanosecond would still
 * round only in the last digits). Page 19h turns them into 64-bit fields when it is read.
 */
export class LuStatistics {
  readCommands = 0;
  writeCommands = 0;
  /** Logical blocks sent to initiators by read commands (NUMBER OF LOGICAL BLOCKS TRANSMITTED). */
  blocksTransmitted = 0;
  /** Logical blocks received from initiators by write commands (NUMBER OF LOGICAL BLOCKS RECEIVED). */
  blocksReceived = 0;
  /** Time from entering the task set to the service response, summed over read commands. */
  readProcessingNs = 0;
  writeProcessingNs = 0;
  /** Time with an empty task set and nothing in progress. */
  idleNs = 0;
  readFuaCommands = 0;
  writeFuaCommands = 0;
  readFuaProcessingNs = 0;
  writeFuaProcessingNs = 0;
  /**
   * Every command answered (any status), with what it was answered: CHECK CONDITION counted by
   * sense key, other non-GOOD statuses (BUSY, RESERVATION CONFLICT, TASK SET FULL, ...) together.
   * For the control plane and metrics (DESIGN.md §8a); not part of page 19h, LOG SELECT keeps them.
   */
  commands = 0;
  readonly checkConditionsBySenseKey: number[] = new Array<number>(SENSE_KEYS).fill(0);
  otherErrors = 0;
  /** Commands that went through the task set, by transfer size and latency (latency-histogram.ts). */
  readonly latency = new LatencyHistogram();
  /** When the task set last became empty (nowNs()), or -1 while it holds tasks. */
  private idleSinceNs = nowNs();

  recordRead(blocks: number, fua: boolean, elapsedNs: number): void {
    this.readCommands++;
    this.blocksTransmitted += blocks;
    this.readProcessingNs += elapsedNs;
    if (fua) { this.readFuaCommands++; this.readFuaProcessingNs += elapsedNs; }
  }

  recordWrite(blocks: number, fua: boolean, elapsedNs: number): void {
    this.writeCommands++;
    this.blocksReceived += blocks;
    this.writeProcessingNs += elapsedNs;
    if (fua) { this.writeFuaCommands++; this.writeFuaProcessingNs += elapsedNs; }
  }

  /** A command was answered with `status` (SAM-5 5.3.1); `senseKey` counts for CHECK CONDITION. */
  recordStatus(status: number, senseKey: number): void {
    if (!dataPathStatistics.enabled) return;
    this.commands++;
    if (status === 0x00 || status === 0x04 /* CONDITION MET */) return;
    if (status === 0x02) this.checkConditionsBySenseKey[senseKey & 0x0f]++;
    else this.otherErrors++;
  }

  /** A command moving `bytes` left the task set `elapsedNs` after it entered it. */
  recordLatency(elapsedNs: number, bytes: number): void {
    if (dataPathStatistics.enabled) this.latency.record(elapsedNs, bytes);
  }

  recordIdle(ns: number): void { this.idleNs += ns; }

  /** The task set received a task at `now` (nowNs()): an idle period, if any, ends. */
  busyAt(now: number): void {
    if (this.idleSinceNs < 0) return;
    if (now > this.idleSinceNs) this.idleNs += now - this.idleSinceNs;
    this.idleSinceNs = -1;
  }

  /** The task set became empty at `now`. */
  idleAt(now: number): void { this.idleSinceNs = now; }

  /** LOG SELECT: every parameter of page 19h is "Reset Only" (SPC-4 table 374). */
  reset(): void {
    this.readCommands = this.writeCommands = this.blocksTransmitted = this.blocksReceived = 0;
    this.readProcessingNs = this.writeProcessingNs = this.idleNs = 0;
    this.readFuaCommands = this.writeFuaCommands = this.readFuaProcessingNs = this.writeFuaProcessingNs = 0;
    if (this.idleSinceNs >= 0) this.idleSinceNs = nowNs();
  }
}
