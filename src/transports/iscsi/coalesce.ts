/**
 * When a connection writes its queued responses: adaptive coalescing, in the spirit of a NIC's
 * interrupt moderation.
 *
 * Writing every response on its own costs one writev per command; at high queue depth that
 * syscall is most of the target's CPU (DESIGN.md §10: socket writes), so responses are gathered
 * and written together. But gathering at low depth makes target and initiator take turns: the
 * initiator gets all its answers at once, goes quiet while it issues the next commands, and the
 * target idles meanwhile. On a virtual machine each of those idle spells also costs a CPU wake-up.
 * So the connection coalesces only under load: it tracks how many commands a socket read brings
 * (a moving average), and while that stays small it writes each response as soon as it is
 * queued; once reads bring more than LOAD_COMMANDS commands, it writes every BATCH responses
 * (and whatever is left at the end of the read, as always).
 */

/** Average commands per socket read above which responses are coalesced. */
export const LOAD_COMMANDS = 10;
/** Responses per write while coalescing. */
export const BATCH = 8;
/** Weight of the newest read in the moving average (1/8: about the last eight reads). */
const WEIGHT = 0.125;

export class ResponseCoalescer {
  /** Moving average of SCSI commands per socket read. */
  private load = 0;
  private commandsThisRead = 0;
  private queued = 0;

  /** A socket read begins: fold the previous read's command count into the average. */
  readStarted(): void {
    if (this.commandsThisRead > 0) {
      this.load += (this.commandsThisRead - this.load) * WEIGHT;
      this.commandsThisRead = 0;
    }
  }

  /** A SCSI command arrived in the current read. */
  commandArrived(): void {
    this.commandsThisRead++;
  }

  /** A response was queued: true when the queue should be written now. */
  responseQueued(): boolean {
    this.queued++;
    if (this.queued < (this.load > LOAD_COMMANDS ? BATCH : 1)) return false;
    this.queued = 0;
    return true;
  }

  /** The queue was written (for any reason): the next batch starts empty. */
  flushed(): void {
    this.queued = 0;
  }

  /** Current moving average of commands per read (for statistics and tests). */
  get commandsPerRead(): number {
    return this.load;
  }
}
