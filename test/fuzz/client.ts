// A small hand-written iSCSI initiator for the fuzz tests: a socket wrapper that collects the
// target's PDUs, a login that goes straight to the operational stage (no CHAP), and SCSI
// commands with immediate data. Enough for a well-behaved session and for the fuzzer's
// connections; nothing here comes from the target's code.
import net from 'node:net';
import { NO_TAG, Op, PduReader, TargetPdu, loginPdu, nopOut, parseKeys, scsiCommand, textKeys } from './wire';

export type WaitResult = TargetPdu | 'closed' | 'timeout';

export class Wire {
  private readonly reader = new PduReader();
  private readonly inbox: TargetPdu[] = [];
  private waiters: Array<{ pred: (p: TargetPdu) => boolean; resolve: (r: WaitResult) => void; timer: NodeJS.Timeout }> = [];
  /** Every PDU received, by opcode (for the fuzz summary). */
  readonly received: TargetPdu[] = [];
  isClosed = false;
  readonly closed: Promise<void>;
  private bytesOut = 0;

  private constructor(readonly socket: net.Socket) {
    let done!: () => void;
    this.closed = new Promise((r) => (done = r));
    socket.setNoDelay(true);
    socket.on('data', (c: Buffer) => {
      for (const p of this.reader.push(c)) {
        this.received.push(p);
        const i = this.waiters.findIndex((w) => w.pred(p));
        if (i >= 0) {
          const [w] = this.waiters.splice(i, 1);
          clearTimeout(w.timer);
          w.resolve(p);
        } else {
          this.inbox.push(p);
        }
      }
    });
    const onClose = (): void => {
      if (this.isClosed) return;
      this.isClosed = true;
      for (const w of this.waiters) {
        clearTimeout(w.timer);
        w.resolve('closed');
      }
      this.waiters = [];
      done();
    };
    socket.on('close', onClose);
    socket.on('error', () => socket.destroy());
  }

  /** `localAddress` binds the source address (another 127.x.y.z stands in for another host). */
  static connect(host: string, port: number, timeoutMs = 5000, localAddress?: string): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host, port, localAddress });
      const t = setTimeout(() => {
        s.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(t);
        resolve(new Wire(s));
      });
      s.once('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
    });
  }

  get malformed(): string | undefined {
    return this.reader.malformed;
  }

  get sent(): number {
    return this.bytesOut;
  }

  send(b: Buffer): void {
    if (this.isClosed || this.socket.destroyed || !this.socket.writable) return;
    this.bytesOut += b.length;
    this.socket.write(b);
  }

  /** Resolves once everything written so far has been handed to the kernel. */
  drained(): Promise<void> {
    if (this.isClosed || !this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((r) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        r();
      };
      this.socket.once('drain', done);
      this.socket.once('close', done);
    });
  }

  /** The first PDU (already received or still to come) that matches, or closed/timeout. */
  waitFor(pred: (p: TargetPdu) => boolean, timeoutMs: number): Promise<WaitResult> {
    const i = this.inbox.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]);
    if (this.isClosed) return Promise.resolve('closed');
    return new Promise((resolve) => {
      const w = { pred, resolve, timer: setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        resolve('timeout');
      }, timeoutMs) };
      this.waiters.push(w);
    });
  }

  /** Wait until the target closes; true if it did within the time. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    if (this.isClosed) return true;
    let t: NodeJS.Timeout | undefined;
    const r = await Promise.race([this.closed.then(() => true), new Promise<boolean>((res) => (t = setTimeout(() => res(false), timeoutMs)))]);
    clearTimeout(t);
    return r;
  }

  /** Half-close: the target sees end of stream. */
  finish(): void {
    if (!this.isClosed && this.socket.writable) this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export interface LoginOutcome {
  ok: boolean;
  /** Status class and detail of the last Login Response, or 'closed'/'timeout'. */
  status: number | 'closed' | 'timeout';
  cmdSN: number;
  expStatSN: number;
  maxCmdSN: number;
  targetMaxRecv: number;
  /** RFC 7143 13.9: the TargetPortalGroupTag a normal session's first Login Response declared. */
  portalGroupTag?: number;
}

/** Operational keys that leave the target nothing to offer back (RFC 7143 13). */
export const OPERATIONAL_KEYS: ReadonlyArray<readonly [string, string]> = [
  ['HeaderDigest', 'None'], ['DataDigest', 'None'], ['MaxConnections', '1'], ['InitialR2T', 'No'], ['ImmediateData', 'Yes'],
  ['MaxRecvDataSegmentLength', '262144'], ['MaxBurstLength', '262144'], ['FirstBurstLength', '65536'],
  ['DefaultTime2Wait', '0'], ['DefaultTime2Retain', '0'], ['MaxOutstandingR2T', '1'], ['DataPDUInOrder', 'Yes'],
  ['DataSequenceInOrder', 'Yes'], ['ErrorRecoveryLevel', '0'],
];

/**
 * RFC 7143 6.3: log in to the operational stage directly (no authentication) and ask to move
 * to the full feature phase, answering any offer the target makes with its own value.
 */
export async function login(w: Wire, opts: { initiator: string; target?: string; discovery?: boolean; isid: Buffer; itt?: number; timeoutMs?: number }): Promise<LoginOutcome> {
  const itt = opts.itt ?? 0x1000;
  let keys: Array<readonly [string, string]> = [
    ['InitiatorName', opts.initiator],
    ['SessionType', opts.discovery ? 'Discovery' : 'Normal'],
    ...(opts.target !== undefined ? [['TargetName', opts.target] as const] : []),
    ...OPERATIONAL_KEYS,
  ];
  let expStatSN = 0;
  let targetMaxRecv = 8192;
  let portalGroupTag: number | undefined;
  for (let round = 0; round < 6; round++) {
    w.send(loginPdu({ transit: true, csg: 1, nsg: 3, isid: opts.isid, itt, cmdSN: 0, expStatSN, data: textKeys(keys) }));
    const r = await w.waitFor((p) => p.op === Op.LOGIN_RESP && p.itt === itt, opts.timeoutMs ?? 5000);
    if (r === 'closed' || r === 'timeout') return { ok: false, status: r, cmdSN: 0, expStatSN, maxCmdSN: 0, targetMaxRecv };
    const status = r.header.readUInt16BE(36);
    expStatSN = (r.statSN + 1) >>> 0;
    const answered = parseKeys(r.data);
    const mrdsl = answered.get('MaxRecvDataSegmentLength');
    if (mrdsl) targetMaxRecv = Number(mrdsl);
    const tag = answered.get('TargetPortalGroupTag');
    if (tag !== undefined && portalGroupTag === undefined) portalGroupTag = Number(tag);
    if (status !== 0) return { ok: false, status, cmdSN: 0, expStatSN, maxCmdSN: 0, targetMaxRecv };
    const transit = (r.b1 & 0x80) !== 0;
    if (transit && (r.b1 & 3) === 3) {
      return { ok: true, status, cmdSN: r.header.readUInt32BE(28), expStatSN, maxCmdSN: r.header.readUInt32BE(32), targetMaxRecv, portalGroupTag };
    }
    // The target held us in the stage: accept what it offered (declarations need no answer).
    answered.delete('MaxRecvDataSegmentLength');
    answered.delete('TargetPortalGroupTag');
    answered.delete('TargetAlias');
    keys = [...answered.entries()];
  }
  return { ok: false, status: 'timeout', cmdSN: 0, expStatSN, maxCmdSN: 0, targetMaxRecv };
}

export interface CommandResult {
  status: number;
  sense: Buffer;
  data: Buffer;
}

/**
 * A well-behaved session: one command at a time, immediate data for writes, Data-In collected
 * until the status. Any protocol surprise is an error.
 */
export class SteadySession {
  private itt = 1;
  private cmdSN: number;
  private expStatSN: number;
  /** The TargetPortalGroupTag the login declared. */
  readonly portalGroupTag: number | undefined;

  private constructor(readonly wire: Wire, o: LoginOutcome) {
    this.cmdSN = o.cmdSN;
    this.expStatSN = o.expStatSN;
    this.portalGroupTag = o.portalGroupTag;
  }

  /** `isid`: the initiator port's ISID (another one opens another I_T nexus, RFC 7143 4.4.2). */
  static async open(host: string, port: number, initiator: string, target: string, isid = Buffer.from([0x80, 0x12, 0x34, 0x56, 0x78, 0x9a])): Promise<SteadySession> {
    const w = await Wire.connect(host, port);
    const o = await login(w, { initiator, target, isid });
    if (!o.ok) {
      w.destroy();
      throw new Error(`steady login failed: ${String(o.status)}`);
    }
    return new SteadySession(w, o);
  }

  async command(lun: number, cdb: number[], opts: { dataOut?: Buffer; readLength?: number; timeoutMs?: number } = {}): Promise<CommandResult> {
    const itt = this.itt++ >>> 0;
    const data = opts.dataOut;
    this.wire.send(scsiCommand({
      lun, itt, cdb, cmdSN: this.cmdSN, expStatSN: this.expStatSN, read: (opts.readLength ?? 0) > 0, write: !!data,
      edtl: data ? data.length : opts.readLength ?? 0, data,
    }));
    this.cmdSN = (this.cmdSN + 1) >>> 0;
    const chunks: Buffer[] = [];
    const deadline = Date.now() + (opts.timeoutMs ?? 10000);
    for (;;) {
      const r = await this.wire.waitFor((p) => p.itt === itt, Math.max(1, deadline - Date.now()));
      if (r === 'closed' || r === 'timeout') throw new Error(`command 0x${cdb[0].toString(16)} itt ${itt}: ${r}`);
      if (r.op === Op.SCSI_DATA_IN) {
        chunks.push(Buffer.from(r.data));
        if (r.b1 & 0x01) {
          this.expStatSN = (r.statSN + 1) >>> 0;
          return { status: r.b3, sense: Buffer.alloc(0), data: Buffer.concat(chunks) };
        }
      } else if (r.op === Op.SCSI_RESPONSE) {
        this.expStatSN = (r.statSN + 1) >>> 0;
        const sense = r.data.length >= 2 ? Buffer.from(r.data.subarray(2, 2 + r.data.readUInt16BE(0))) : Buffer.alloc(0);
        return { status: r.b3, sense, data: Buffer.concat(chunks) };
      } else {
        throw new Error(`command 0x${cdb[0].toString(16)}: unexpected PDU opcode 0x${r.op.toString(16)}`);
      }
    }
  }

  /** NOP-Out ping (immediate): the target must echo it. */
  async ping(timeoutMs = 5000): Promise<boolean> {
    const itt = this.itt++ >>> 0;
    this.wire.send(nopOut({ itt, ttt: NO_TAG, cmdSN: this.cmdSN, expStatSN: this.expStatSN }));
    const r = await this.wire.waitFor((p) => p.itt === itt, timeoutMs);
    return typeof r !== 'string' && r.op === Op.NOP_IN;
  }

  close(): void {
    this.wire.destroy();
  }
}
