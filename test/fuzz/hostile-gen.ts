// The hostile side of the hostile-load test: one function per kind of misbehaving initiator,
// each a single TCP connection (or a short series of them) that is bounded in PDUs and in time.
// They do not judge the target's answers (iscsi-fuzz.test.ts does that); they load it, and the
// well-behaved sessions beside them are what the test measures. Every socket is registered in
// `Hostiles.sockets` so that the test's after() hook can destroy whatever is still open.
import net from 'node:net';
import { Prng } from './prng';
import { OPERATIONAL_KEYS, Wire, login } from './client';
import { FUZZ_TARGET, FfState, Gen, ffPdu, loginAttempt, mutateStream } from './pdu-gen';
import { NO_TAG, Op, loginPdu, logoutPdu, nopOut, scsiCommand, textKeys } from './wire';

/** The kinds the generator mixes (issue 9: "every kind above" plus the slow ones). */
export const enum HostileKind {
  RANDOM_BYTES = 'random-bytes',
  TRUNCATED = 'truncated',
  OVERSIZED = 'oversized',
  GARBAGE_LOGIN = 'garbage-login',
  MUTATED_FULL_FEATURE = 'mutated-full-feature',
  LOGIN_LOOP = 'login-loop',
  HALF_OPEN = 'half-open',
  SLOW_LORIS = 'slow-loris',
  NEVER_READS = 'never-reads',
  DATA_OUT_WITHHELD = 'data-out-withheld',
  DATA_OUT_WITHHELD_ORDERED = 'data-out-withheld-ordered',
}

/** Kinds that finish quickly and make up the bulk of the PDUs and connections. */
export const FAST_KINDS: ReadonlyArray<readonly [number, HostileKind]> = [
  [30, HostileKind.MUTATED_FULL_FEATURE], [16, HostileKind.RANDOM_BYTES], [10, HostileKind.TRUNCATED],
  [8, HostileKind.OVERSIZED], [20, HostileKind.GARBAGE_LOGIN], [16, HostileKind.LOGIN_LOOP],
];

/** Kinds that hold a connection open for a while (seconds) doing little or nothing. */
export const SLOW_KINDS: ReadonlyArray<readonly [number, HostileKind]> = [
  [2, HostileKind.HALF_OPEN], [2, HostileKind.SLOW_LORIS], [2, HostileKind.NEVER_READS],
  [3, HostileKind.DATA_OUT_WITHHELD], [2, HostileKind.DATA_OUT_WITHHELD_ORDERED],
];

export interface HostileConfig {
  host: string;
  port: number;
  /** The target the well-behaved sessions use (its LUN 0 is the fileio LUN, LUN 1 the null LUN). */
  sharedTarget: string;
  /** Byte ranges of LUN 0 the well-behaved sessions write: withheld WRITEs aim at them. */
  sharedRanges: ReadonlyArray<{ offset: number; length: number }>;
  /** How long a slow kind holds its connection, at most. */
  holdMs: number;
  /** Source addresses the hostile connections come from (never the well-behaved ones' 127.0.0.1). */
  sources: readonly string[];
}

const ANSWER_MS = 4000;
const CLOSE_MS = 3000;
const BLOCK = 512;

export class Hostiles {
  readonly sockets = new Set<net.Socket>();
  readonly kinds = new Map<string, number>();
  readonly errors = new Map<string, number>();
  pdus = 0;
  connections = 0;
  bytes = 0;
  private nextIsid = 1;
  private readonly timers = new Set<NodeJS.Timeout>();
  stopped = false;

  constructor(readonly cfg: HostileConfig) {}

  /** Run one hostile episode of `kind` (one or more connections), never throwing. */
  async run(kind: HostileKind, r: Prng): Promise<void> {
    this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + 1);
    try {
      switch (kind) {
        case HostileKind.RANDOM_BYTES: return await this.randomBytes(r);
        case HostileKind.TRUNCATED: return await this.truncated(r);
        case HostileKind.OVERSIZED: return await this.oversized(r);
        case HostileKind.GARBAGE_LOGIN: return await this.garbageLogin(r);
        case HostileKind.MUTATED_FULL_FEATURE: return await this.mutatedFullFeature(r);
        case HostileKind.LOGIN_LOOP: return await this.loginLoop(r);
        case HostileKind.HALF_OPEN: return await this.halfOpen(r);
        case HostileKind.SLOW_LORIS: return await this.slowLoris(r);
        case HostileKind.NEVER_READS: return await this.neverReads(r);
        case HostileKind.DATA_OUT_WITHHELD: return await this.dataOutWithheld(r, false);
        case HostileKind.DATA_OUT_WITHHELD_ORDERED: return await this.dataOutWithheld(r, true);
      }
    } catch (e) {
      // A refused or reset connection is an answer the target may give; counted, not judged.
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message.slice(0, 40);
      this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
    }
  }

  /** Destroy every socket still open and cancel every pending trickle (after() hooks). */
  closeAll(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  // ------------------------------------------------------------------ plumbing

  private async connect(r: Prng): Promise<Wire> {
    const w = await Wire.connect(this.cfg.host, this.cfg.port, 5000, r.pick(this.cfg.sources));
    this.connections++;
    this.sockets.add(w.socket);
    w.socket.once('close', () => this.sockets.delete(w.socket));
    return w;
  }

  private send(w: Wire, bytes: Buffer, pdus: number): void {
    w.send(bytes);
    this.pdus += pdus;
    this.bytes += bytes.length;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((res) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        res();
      }, ms);
      this.timers.add(t);
    });
  }

  /** FIN, then wait (bounded) for the target to close; destroy in any case. */
  private async finish(w: Wire): Promise<void> {
    w.finish();
    await w.waitClosed(CLOSE_MS);
    w.destroy();
  }

  private isid(): Buffer {
    const n = this.nextIsid++;
    // RFC 7143 10.12.5: ISID type 2 (random), qualifier from a counter, so sessions are distinct.
    return Buffer.from([0x80, 0x7e, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
  }

  private initiator(r: Prng): string {
    return `iqn.2026-11.example:hostile-${r.int(32)}`;
  }

  private async loginShared(w: Wire, r: Prng): Promise<FfState | undefined> {
    const o = await login(w, { initiator: this.initiator(r), target: this.cfg.sharedTarget, isid: this.isid(), timeoutMs: ANSWER_MS });
    this.pdus += 1;
    if (!o.ok) return undefined;
    return {
      cmdSN: o.cmdSN, expStatSN: o.expStatSN, maxCmdSN: o.maxCmdSN, nextItt: 1, cid: 0, maxRecv: Math.min(8192, o.targetMaxRecv),
      writes: [], recentItts: [], r2ts: [], hostility: 0.1,
    };
  }

  // ------------------------------------------------------------------ fast kinds

  /** Random bytes in a few bursts, then FIN. */
  private async randomBytes(r: Prng): Promise<void> {
    const w = await this.connect(r);
    for (let i = r.range(1, 6); i > 0 && !w.isClosed; i--) this.send(w, r.bytes(r.range(1, 4096)), 1);
    await this.finish(w);
  }

  /** A valid Login Request or a valid command after login, cut short; then FIN. */
  private async truncated(r: Prng): Promise<void> {
    const w = await this.connect(r);
    let whole: Buffer;
    if (r.chance(0.5)) {
      whole = loginPdu({ transit: true, csg: 1, nsg: 3, isid: this.isid(), itt: 1, cmdSN: 0, data: textKeys([
        ['InitiatorName', this.initiator(r)], ['TargetName', this.cfg.sharedTarget], ['SessionType', 'Normal'], ...OPERATIONAL_KEYS,
      ]) });
    } else {
      const st = await this.loginShared(w, r);
      if (st === undefined) return this.finish(w);
      const lba = r.int(1024);
      whole = scsiCommand({ lun: 0, itt: 7, cmdSN: st.cmdSN, expStatSN: st.expStatSN, write: true, edtl: 4 * BLOCK,
        cdb: [0x2a, 0, 0, 0, (lba >>> 8) & 0xff, lba & 0xff, 0, 0, 4, 0], data: r.bytes(4 * BLOCK) });
    }
    this.send(w, whole.subarray(0, r.int(whole.length)), 1);
    await this.finish(w);
  }

  /** PDUs longer than any negotiated or login-phase limit (RFC 7143 13.12, 6.3). */
  private async oversized(r: Prng): Promise<void> {
    const w = await this.connect(r);
    const dsl = r.pick([8193, 65536, 262145, 0xffffff]);
    const sent = Math.min(dsl, r.range(8193, 300_000));
    const b = loginPdu({ transit: true, csg: 1, nsg: 3, isid: this.isid(), itt: 1, cmdSN: 0, data: r.bytes(sent), dsl });
    this.send(w, b, 1);
    await w.drained();
    await this.finish(w);
  }

  /** Login Requests with garbage keys, lengths, stages and versions (pdu-gen's loginAttempt). */
  private async garbageLogin(r: Prng): Promise<void> {
    const w = await this.connect(r);
    for (const g of loginAttempt(r, this.initiator(r))) {
      this.send(w, g.bytes, 1);
      if (!g.framing) break;
      const res = await w.waitFor((p) => p.op === Op.LOGIN_RESP || p.op === Op.REJECT, ANSWER_MS);
      if (typeof res === 'string' || (res.op === Op.LOGIN_RESP && res.header[36] !== 0)) break;
    }
    await this.finish(w);
  }

  /**
   * A valid login to the fuzz target, then batches of hostile full-feature PDUs (pdu-gen's ffPdu),
   * each batch followed by an immediate NOP-Out, and at the end a mutated stream. The fuzz target's
   * LUNs are its own devices: random CDBs may reserve, stop or reset them, which SAM-5 lets them
   * do to other initiators of the same LUN, so that is kept off the shared LUNs.
   */
  private async mutatedFullFeature(r: Prng): Promise<void> {
    const w = await this.connect(r);
    const o = await login(w, { initiator: `iqn.2026-11.example:fuzz-${r.int(64)}`, target: FUZZ_TARGET, isid: this.isid(), timeoutMs: ANSWER_MS });
    this.pdus += 1;
    if (!o.ok) return this.finish(w);
    const st: FfState = {
      cmdSN: o.cmdSN, expStatSN: o.expStatSN, maxCmdSN: o.maxCmdSN, nextItt: 1, cid: 0, maxRecv: Math.min(8192, o.targetMaxRecv),
      writes: [], recentItts: [], r2ts: [], hostility: r.pick([0.02, 0.1, 0.3]),
    };
    let ping = 0xfff00000;
    let framing = true;
    for (let b = r.range(2, 12); b > 0 && framing && !w.isClosed && !this.stopped; b--) {
      const gens: Gen[] = [];
      for (let i = r.range(10, 60); i > 0; i--) {
        const g = ffPdu(st, r);
        gens.push(g);
        if (!g.framing) {
          framing = false;
          break;
        }
      }
      this.send(w, Buffer.concat(gens.map((g) => g.bytes)), gens.length);
      if (!framing) break;
      // RFC 7143 11.18: an immediate NOP-Out with a fresh ITT paces the batches.
      const itt = ping++;
      this.send(w, nopOut({ itt, ttt: NO_TAG, cmdSN: st.cmdSN, expStatSN: st.expStatSN }), 1);
      await w.drained();
      const res = await w.waitFor((p) => p.itt === itt && p.op === Op.NOP_IN, ANSWER_MS);
      if (typeof res === 'string') break;
      st.maxCmdSN = res.header.readUInt32BE(32);
      st.expStatSN = (res.statSN + 1) >>> 0;
    }
    if (framing && !w.isClosed) {
      const valid: Buffer[] = [];
      for (let i = r.range(2, 8); i > 0; i--) {
        let g: Gen;
        do g = ffPdu(st, r); while (!g.framing);
        valid.push(g.bytes);
      }
      this.send(w, mutateStream(r, valid), valid.length);
    }
    await this.finish(w);
  }

  /** Log in to the shared target, log out, again, each time on a new connection. */
  private async loginLoop(r: Prng): Promise<void> {
    const initiator = this.initiator(r);
    for (let i = r.range(2, 10); i > 0 && !this.stopped; i--) {
      const w = await this.connect(r);
      const o = await login(w, { initiator, target: this.cfg.sharedTarget, isid: this.isid(), timeoutMs: ANSWER_MS });
      this.pdus += 1;
      if (o.ok) {
        // RFC 7143 11.14: logout reason 0, close the session.
        this.send(w, logoutPdu({ reason: 0, itt: 0x2000, cid: 0, cmdSN: o.cmdSN, expStatSN: o.expStatSN }), 1);
        await w.waitFor((p) => p.op === Op.LOGOUT_RESP, ANSWER_MS);
      }
      await this.finish(w);
      if (!o.ok) break;
    }
  }

  // ------------------------------------------------------------------ slow kinds

  /** Connect and say nothing (or half a BHS), hold, then vanish without a FIN. */
  private async halfOpen(r: Prng): Promise<void> {
    const w = await this.connect(r);
    if (r.chance(0.5)) this.send(w, r.bytes(r.range(1, 47)), 1);
    await this.sleep(r.range(this.cfg.holdMs / 2, this.cfg.holdMs));
    w.destroy();
  }

  /** A valid Login Request, one byte per second, for as long as the hold lasts. */
  private async slowLoris(r: Prng): Promise<void> {
    const w = await this.connect(r);
    const login = loginPdu({ transit: true, csg: 1, nsg: 3, isid: this.isid(), itt: 1, cmdSN: 0, data: textKeys([
      ['InitiatorName', this.initiator(r)], ['TargetName', this.cfg.sharedTarget], ['SessionType', 'Normal'], ...OPERATIONAL_KEYS,
    ]) });
    this.pdus += 1;
    const until = Date.now() + this.cfg.holdMs;
    for (let i = 0; i < login.length && Date.now() < until && !w.isClosed && !this.stopped; i++) {
      w.send(login.subarray(i, i + 1));
      this.bytes += 1;
      await this.sleep(1000);
    }
    w.destroy();
  }

  /**
   * Log in, stop reading, and ask for more than the socket buffers hold: READs of the shared
   * LUNs up to the CmdSN window and immediate NOP-Outs with ping data, which the target must
   * echo (RFC 7143 11.18). Its send buffer fills; what it queues beyond that must stay bounded.
   */
  private async neverReads(r: Prng): Promise<void> {
    const w = await this.connect(r);
    const st = await this.loginShared(w, r);
    if (st === undefined) return this.finish(w);
    w.socket.pause();
    const out: Buffer[] = [];
    for (let i = 0; i < 32; i++) {
      const lun = r.int(2);
      const blocks = 256;
      const lba = r.int(2048);
      out.push(scsiCommand({ lun, itt: i + 1, cmdSN: st.cmdSN, expStatSN: st.expStatSN, read: true, edtl: blocks * BLOCK,
        cdb: [0x28, 0, 0, 0, (lba >>> 8) & 0xff, lba & 0xff, 0, blocks >>> 8, blocks & 0xff, 0] }));
      st.cmdSN = (st.cmdSN + 1) >>> 0;
      if (st.cmdSN === ((st.maxCmdSN + 1) >>> 0)) break;
    }
    const ping = r.bytes(Math.min(st.maxRecv, 8192));
    for (let i = 0; i < 128; i++) out.push(nopOut({ itt: 0x1000 + i, ttt: NO_TAG, cmdSN: st.cmdSN, expStatSN: st.expStatSN, data: ping }));
    this.send(w, Buffer.concat(out), out.length);
    await this.sleep(r.range(this.cfg.holdMs / 2, this.cfg.holdMs));
    w.destroy();
  }

  /**
   * Log in and send WRITEs to the shared LUNs, on the fileio LUN over the ranges the well-behaved
   * sessions use, and never send their Data-Out: with F=1 and no data (the target sends an R2T that is
   * never answered), with part of the data immediate, or with F=0 promising unsolicited Data-Out
   * that never comes (RFC 7143 11.3.1). `ordered`: the task attribute is ORDERED (SAM-5 8.6.3),
   * so the task set waits for it; its completion or abort bounds that wait, not our silence.
   */
  private async dataOutWithheld(r: Prng, ordered: boolean): Promise<void> {
    const w = await this.connect(r);
    const st = await this.loginShared(w, r);
    if (st === undefined) return this.finish(w);
    const out: Buffer[] = [];
    for (let i = r.range(1, 4); i > 0; i--) {
      // Mostly the fileio LUN's ranges the qemu-io sessions write; now and then the null LUN
      // that the iscsi-perf stream reads.
      const lun = r.chance(0.75) ? 0 : 1;
      const range = r.pick(this.cfg.sharedRanges);
      const lba = lun === 1 ? r.int(1 << 20) : Math.floor(range.offset / BLOCK) + r.int(Math.max(1, range.length / BLOCK - 128));
      const blocks = 128;
      const how = r.int(3);
      const immediate = how === 1 ? r.bytes(Math.min(st.maxRecv, 8192)) : undefined;
      out.push(scsiCommand({
        lun, itt: 0x100 + i, cmdSN: st.cmdSN, expStatSN: st.expStatSN, write: true, edtl: blocks * BLOCK, attr: ordered ? 2 : 1,
        final: how !== 2, data: immediate,
        cdb: [0x2a, 0, (lba >>> 24) & 0xff, (lba >>> 16) & 0xff, (lba >>> 8) & 0xff, lba & 0xff, 0, blocks >>> 8, blocks & 0xff, 0],
      }));
      st.cmdSN = (st.cmdSN + 1) >>> 0;
    }
    this.send(w, Buffer.concat(out), out.length);
    await this.sleep(r.range(this.cfg.holdMs / 2, this.cfg.holdMs));
    if (r.chance(0.5)) w.destroy();
    else await this.finish(w);
  }
}

