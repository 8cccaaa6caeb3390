// RFC 7143 11.10 / 11.11: Text Request and Text Response in the full feature phase. The only
// request served is SendTargets (RFC 7143 Appendix C); nothing is renegotiated here. Requests
// with C=1 are gathered until the set is complete; an answer longer than the initiator's
// MaxRecvDataSegmentLength goes out in parts, each fetched with an empty request carrying our TTT.
import type { TextRequest } from './initiator-pdu';
import { encodeTextResponse } from './target-pdu';
import { RESERVED_TAG } from './spec';
import { transportDefault } from './settings';
import { TextAccumulator, encodeText, splitText } from './text';
import { maxValueLength } from './keys';
import { sendTargets } from './discovery';
import type { PhaseContext } from './phase-context';

/** What this module uses of the full feature phase. */
export type TextContext = Pick<PhaseContext, 'allocTtt' | 'finishedCommand' | 'host' | 'nextSeq' | 'ordered' | 'out' | 'params' | 'protocolError' | 'session'>;

const EMPTY = Buffer.alloc(0);

export class TextResponder {
  private readonly acc = new TextAccumulator({ maxValueLength });
  /** The parts of a long answer still to be fetched, under their Target Transfer Tag. */
  private pending: { ttt: number; chunks: Buffer[] } | undefined;
  /** Requests received so far in the unfinished exchange (maxTextRequests). */
  private exchangeRequests = 0;

  constructor(private readonly ffp: TextContext) {}

  private readonly runBound = (p: TextRequest): void => this.run(p);

  onTextRequest(p: TextRequest, header: Buffer): void {
    // RFC 7143 11.10: an exchange goes on while the initiator sends C=1 or fetches with our TTT.
    // One that never ends is cut off: a protocol error, and the connection closes.
    const ongoing = p.continue || p.ttt !== RESERVED_TAG;
    this.exchangeRequests = ongoing ? this.exchangeRequests + 1 : 0;
    const max = this.ffp.host.ctx.settings.maxTextRequests ?? transportDefault('maxTextRequests');
    if (this.exchangeRequests > max) {
      this.ffp.protocolError(`text exchange longer than ${max} requests`, header);
      return;
    }
    // The data segment may alias a socket chunk; the request may wait for a CmdSN gap.
    p.data = Buffer.from(p.data);
    this.ffp.ordered(p.cmdSN, p.immediate, this.runBound, p);
  }

  /** The connection is gone: a half-fetched answer is forgotten. */
  clear(): void {
    this.pending = undefined;
  }

  private run(p: TextRequest): void {
    const ffp = this.ffp;
    ffp.finishedCommand(p.immediate);
    // RFC 7143 11.10.4: an empty request with our TTT fetches the next part of a long answer.
    if (p.ttt !== RESERVED_TAG && this.pending && this.pending.ttt === p.ttt && p.data.length === 0) {
      const [next, ...rest] = this.pending.chunks;
      this.pending = rest.length > 0 ? { ttt: p.ttt, chunks: rest } : undefined;
      this.send(p, next, rest.length > 0 ? p.ttt : RESERVED_TAG);
      return;
    }
    this.pending = undefined;
    const acc = this.acc.push(p.data, p.continue);
    if (!acc.done) {
      // RFC 7143 11.10.2: C=1 requests get an empty answer until the set is complete.
      this.send(p, EMPTY, ffp.allocTtt(), false);
      return;
    }
    const answers: Array<[string, string]> = [];
    if (acc.result.ok) {
      const id = ffp.session.id;
      for (const [k, v] of acc.result.pairs) {
        if (k === 'SendTargets') answers.push(...sendTargets(ffp.host.ctx.discovery, id.initiatorName, v, id.targetName));
        // RFC 7143 6.2: nothing is renegotiated in the full feature phase here.
        else answers.push([k, k.startsWith('X-') || k.startsWith('X#') ? 'NotUnderstood' : 'Reject']);
      }
    }
    const chunks = splitText(encodeText(answers), ffp.params.maxXmitDataSegmentLength);
    if (chunks.length > 1) {
      const ttt = ffp.allocTtt();
      this.pending = { ttt, chunks: chunks.slice(1) };
      this.send(p, chunks[0], ttt);
    } else {
      this.send(p, chunks[0], RESERVED_TAG);
    }
  }

  private send(p: TextRequest, data: Buffer, ttt: number, final = ttt === RESERVED_TAG): void {
    const ffp = this.ffp;
    const bhs = ffp.out.bhs();
    // RFC 7143 11.11.1: C=1 (more to come) with F=0; the last part has F=1, TTT 0xffffffff.
    const more = final ? false : data.length > 0;
    encodeTextResponse(bhs, 0, { ...ffp.nextSeq(), final, continue: more, lun: 0, itt: p.itt, ttt, dataSegmentLength: data.length });
    ffp.out.queue(bhs, data);
  }
}
