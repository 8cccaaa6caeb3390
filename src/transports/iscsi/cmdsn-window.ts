// RFC 7143 4.2.2.1 / 3.2.2.1: command numbering of a session. The window the target advertises
// is [ExpCmdSN, MaxCmdSN]; commands outside it are silently dropped, commands inside it that
// arrive ahead of a gap are held, and work is handed on strictly in CmdSN order. Immediate
// commands bypass the order (they carry, but do not consume, a CmdSN).
import { inWindow, serialAdd } from './serial';

export type Admit = 'accept' | 'drop';

interface Slot {
  ready: boolean;
  run: (arg: unknown) => void;
  arg: unknown;
}

const NOTHING = (): void => undefined;

export class CmdSnWindow {
  /** Next CmdSN expected to arrive (every lower one has arrived). */
  private exp: number;
  /** Next CmdSN to hand on (every lower one has been handed on). */
  private next: number;
  /** Base of the flow-control window: one step per finished non-immediate command. */
  private base: number;
  private readonly slots = new Map<number, Slot>();

  constructor(firstCmdSN: number, readonly depth: number) {
    this.exp = this.next = this.base = firstCmdSN >>> 0;
  }

  get expCmdSN(): number {
    return this.exp;
  }

  /**
   * RFC 7143 4.2.2.1: MaxCmdSN never shrinks; it advances as commands finish, so at most
   * `depth` non-immediate commands are queued at the target at any time.
   */
  get maxCmdSN(): number {
    return serialAdd(this.base, this.depth - 1);
  }

  /** RFC 7143 4.2.2.1: outside [ExpCmdSN, MaxCmdSN] (or a duplicate) is dropped silently. */
  admit(cmdSN: number, immediate: boolean): Admit {
    if (immediate) return 'accept';
    if (!inWindow(cmdSN, this.exp, this.maxCmdSN) || this.slots.has(cmdSN)) return 'drop';
    return 'accept';
  }

  /**
   * Register an admitted non-immediate command. `run(arg)` is called, in CmdSN order, once this
   * command and every earlier one are ready. Passing the command as `arg` to a function bound
   * once lets the caller enqueue without a closure per command (DESIGN.md §10).
   */
  enqueue<T>(cmdSN: number, ready: boolean, run: (arg: T) => void, arg?: T): void {
    const sn = cmdSN >>> 0;
    if (ready && sn === this.exp && this.next === this.exp && this.slots.size === 0) {
      // In order with nothing held: runs now, no slot.
      this.exp = this.next = serialAdd(sn, 1);
      run(arg as T);
      return;
    }
    this.slots.set(sn, { ready, run: run as (arg: unknown) => void, arg });
    while (this.slots.has(this.exp)) this.exp = serialAdd(this.exp, 1);
    this.drain();
  }

  /** The command has all it needs (e.g. its Data-Out); it runs when its turn comes. */
  markReady(cmdSN: number): void {
    const s = this.slots.get(cmdSN >>> 0);
    if (!s) return;
    s.ready = true;
    this.drain();
  }

  /** Whether `cmdSN` is queued and not yet handed on. */
  has(cmdSN: number): boolean {
    return this.slots.has(cmdSN >>> 0);
  }

  /**
   * Drop a queued command without running it (ABORT TASK on a command still collecting data,
   * RFC 7143 11.5.1: or a referenced CmdSN not yet received, which then counts as received).
   * The caller calls finished() for it.
   */
  skip(cmdSN: number): void {
    this.slots.set(cmdSN >>> 0, { ready: true, run: NOTHING, arg: undefined });
    while (this.slots.has(this.exp)) this.exp = serialAdd(this.exp, 1);
    this.drain();
  }

  /** A non-immediate command is finished: the window slides by one. */
  finished(): void {
    this.base = serialAdd(this.base, 1);
  }

  /** Commands handed on but not finished, plus those still queued, cannot exceed depth. */
  get queued(): number {
    return this.slots.size;
  }

  private drain(): void {
    for (;;) {
      const s = this.slots.get(this.next);
      if (!s || !s.ready) return;
      this.slots.delete(this.next);
      this.next = serialAdd(this.next, 1);
      s.run(s.arg);
    }
  }
}
