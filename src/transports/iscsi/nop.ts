// RFC 7143 11.18 / 11.19 and 7.1.3: NOP-Out/NOP-In. An initiator ping (ITT != 0xffffffff) is
// answered with its data echoed; the target pings an idle initiator with a NOP-In carrying a
// Target Transfer Tag, and a connection whose peer never answers is dropped.
import type { NopOut } from './initiator-pdu';
import { encodeNopIn } from './target-pdu';
import { RESERVED_TAG } from './spec';
import type { PhaseContext } from './phase-context';

/** What this module uses of the full feature phase. */
export type NopContext = Pick<PhaseContext, 'allocTtt' | 'finishedCommand' | 'host' | 'log' | 'nextSeq' | 'ordered' | 'out' | 'remote' | 'seq'>;

const EMPTY = Buffer.alloc(0);

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

/** NOP-Out answered, NOP-In pings sent: one per connection in the full feature phase. */
export class NopResponder {
  private pinger: NopPinger | undefined;

  constructor(private readonly ffp: NopContext) {}

  onNopOut(p: NopOut): void {
    const ffp = this.ffp;
    if (p.itt === RESERVED_TAG) {
      // RFC 7143 11.18: the answer to our ping; it consumes no CmdSN.
      this.pinger?.answered(p.ttt);
      return;
    }
    // The echo is copied: the data may alias a socket chunk, and the answer may wait for a CmdSN gap.
    p.data = Buffer.from(p.data);
    ffp.ordered(p.cmdSN, p.immediate, this.answerBound, p);
  }

  private readonly answerBound = (p: NopOut): void => this.answer(p);

  private answer(p: NopOut): void {
    const ffp = this.ffp;
    const bhs = ffp.out.bhs();
    ffp.finishedCommand(p.immediate);
    // RFC 7143 11.19: a ping answer echoes the data and carries TTT 0xffffffff.
    encodeNopIn(bhs, 0, { ...ffp.nextSeq(), lun: Math.max(0, p.lun), itt: p.itt, ttt: RESERVED_TAG, dataSegmentLength: p.data.length });
    ffp.out.queue(bhs, p.data);
  }

  /** RFC 7143 7.1.3: ping an idle initiator every nopInIntervalSec (0: never). */
  startPinger(): void {
    const ffp = this.ffp;
    const { nopInIntervalSec, nopInTimeoutSec } = ffp.host.ctx.settings;
    if (nopInIntervalSec <= 0) return;
    this.pinger = new NopPinger({
      intervalSec: nopInIntervalSec,
      timeoutSec: nopInTimeoutSec,
      allocTtt: ffp.allocTtt,
      ping: (ttt) => {
        if (!ffp.host.isFullFeature) return;
        const bhs = ffp.out.bhs();
        // RFC 7143 11.19: a target ping has ITT 0xffffffff and StatSN not advanced.
        encodeNopIn(bhs, 0, { ...ffp.seq(), lun: 0, itt: RESERVED_TAG, ttt, dataSegmentLength: 0 });
        ffp.out.queue(bhs, EMPTY);
        ffp.out.scheduleFlush();
      },
      expired: () => {
        ffp.log.warn({ remote: ffp.remote }, 'no answer to NOP-In; closing the connection');
        ffp.host.destroy('NOP-In timeout');
      },
    });
    this.pinger.start();
  }

  stopPinger(): void {
    this.pinger?.stop();
  }
}
