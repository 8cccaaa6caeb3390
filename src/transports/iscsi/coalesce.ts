/**
 * When a connection writes its queued responses: adaptive coalescing, in the spirit of a NIC's
 * interrupt moderation.
 *
 * Writing every response on its own costs one write system call per command (on loopback the
 * call also runs the peer's TCP receive and wakes it); once the thread is the bottleneck that is
 * most of its CPU (DESIGN.md §10: socket writes), so responses are gathered and written together.
 * But gathering while the thread has time to spare makes target and initiator take turns: the
 * initiator gets all its answers at once, goes quiet while it issues the next commands, and the
 * target idles meanwhile (iscsi-perf QD8 on the null LUN, quiet host: 73k IOPS batched against
 * 124k written at once).
 *
 * Which of the two applies is a property of the thread, not of one connection: four sessions at
 * queue depth 8 each bring a few commands per socket read, yet together they keep the thread
 * busy. So the thread counts the SCSI commands that arrive in each turn of its event loop (all
 * its connections together; a moving average over about the last eight turns that brought any),
 * and while that stays at or below LOAD_COMMANDS every response is written as soon as it is
 * queued; above it, a connection writes every BATCH responses (and whatever is left at the end of
 * its socket read, as always). Measured interleaved, null LUN, target pinned, busy host:
 * iscsi-perf 4 sessions x QD8 39.9k -> 87.9k IOPS and 12.5 -> 7.2 µs of target CPU per command
 * (tgtd 38.6k, 8.8 µs in the same run).
 *
 * Both rules assume the thread has a core to itself. When it shares one (an unpinned engine
 * thread on a host whose cores are busy with the initiators and other work; cpu-contention.ts),
 * every write wakes an initiator that then preempts the thread on its own core, so a connection
 * writes every BATCH responses (and at the end of each socket read) whatever the load: iscsi-perf QD8 on the null LUN, unpinned, load average 11 on 2 cores: 22.1k IOPS at
 * 11.6 µs of thread CPU and 0.6 involuntary context switches per command written at once,
 * 115.7k at 4.2 µs and 0.12 gathered per read.
 */
import { CpuShare, threadContention } from '../fabric';

/** Average commands per event-loop turn of the thread above which responses are coalesced. */
export const LOAD_COMMANDS = 10;
/** Responses per write while coalescing. */
export const BATCH = 8;
/** Weight of the newest turn in the moving average (1/8: about the last eight turns). */
const WEIGHT = 0.125;

/**
 * SCSI commands per event-loop turn on one thread. The first command of a turn schedules the
 * fold for the check phase of that same turn (setImmediate runs after the poll phase that
 * delivered the socket reads), so one timer per busy turn, none on an idle thread.
 */
export class TurnLoad {
  /** Moving average of commands per turn (turns that brought none are not counted). */
  private load = 0;
  private thisTurn = 0;
  private scheduled = false;
  private readonly foldBound = (): void => this.fold();

  constructor(
    private readonly schedule: (fn: () => void) => void = setImmediate,
    private readonly cpu: CpuShare = threadContention(),
  ) {}

  /** A SCSI command arrived in the current turn. */
  commandArrived(): void {
    this.thisTurn++;
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(this.foldBound);
    }
  }

  /** The turn ended: its count enters the average. */
  fold(): void {
    this.scheduled = false;
    this.cpu.tick(performance.now());
    if (this.thisTurn === 0) return;
    this.load += (this.thisTurn - this.load) * WEIGHT;
    this.thisTurn = 0;
  }

  /** Whether the thread is loaded enough for responses to be coalesced. */
  get loaded(): boolean {
    return this.load > LOAD_COMMANDS;
  }

  /** Whether the thread shares its core: responses are gathered as under load. */
  get contended(): boolean {
    return this.cpu.contended;
  }

  /** Current moving average of commands per turn (for statistics and tests). */
  get commandsPerTurn(): number {
    return this.load;
  }
}

/** The thread's load (module state is per thread): every connection on it shares one. */
let perThread: TurnLoad | undefined;

export function threadTurnLoad(): TurnLoad {
  perThread ??= new TurnLoad();
  return perThread;
}

/** One connection's output batching, driven by its thread's load. */
export class ResponseCoalescer {
  private queued = 0;

  constructor(private readonly turns: TurnLoad = threadTurnLoad()) {}

  /** A SCSI command arrived on this connection. */
  commandArrived(): void {
    this.turns.commandArrived();
  }

  /** A response was queued: true when the queue should be written now. */
  responseQueued(): boolean {
    this.queued++;
    if (this.queued < (this.turns.loaded || this.turns.contended ? BATCH : 1)) return false;
    this.queued = 0;
    return true;
  }

  /** The queue was written (for any reason): the next batch starts empty. */
  flushed(): void {
    this.queued = 0;
  }
}
