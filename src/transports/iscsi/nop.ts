// RFC 7143 11.18 / 11.19 and 7.1.3: NOP-Out/NOP-In. An initiator ping (ITT != 0xffffffff) is
// answered with its data echoed; the target pings an idle initiator with a NOP-In carrying a
// Target Transfer Tag, and a connection whose peer never answers is dropped.

export interface NopPingOptions {
  intervalSec: number;
  timeoutSec: number;
  /** Send a ping with this Target Transfer Tag. */
  ping(ttt: number): void;
  /** No answer in time. */
  expired(): void;
  allocTtt(): number;
}

export class NopPinger {
  private interval: NodeJS.Timeout | undefined;
  private timeout: NodeJS.Timeout | undefined;
  private outstanding: number | undefined;

  constructor(private readonly o: NopPingOptions) {}

  start(): void {
    if (this.o.intervalSec <= 0 || this.interval) return;
    this.interval = setInterval(() => this.tick(), this.o.intervalSec * 1000);
    this.interval.unref();
  }

  /** A NOP-Out with ITT 0xffffffff answering our ping. Returns whether it matched one. */
  answered(ttt: number): boolean {
    if (this.outstanding === undefined || ttt !== this.outstanding) return false;
    this.outstanding = undefined;
    if (this.timeout) clearTimeout(this.timeout);
    this.timeout = undefined;
    return true;
  }

  stop(): void {
    if (this.interval) clearInterval(this.interval);
    if (this.timeout) clearTimeout(this.timeout);
    this.interval = this.timeout = undefined;
  }

  private tick(): void {
    if (this.outstanding !== undefined) return;
    const ttt = this.o.allocTtt();
    this.outstanding = ttt;
    this.o.ping(ttt);
    if (this.o.timeoutSec > 0) {
      this.timeout = setTimeout(() => {
        this.timeout = undefined;
        if (this.outstanding === ttt) this.o.expired();
      }, this.o.timeoutSec * 1000);
      this.timeout.unref();
    }
  }
}
