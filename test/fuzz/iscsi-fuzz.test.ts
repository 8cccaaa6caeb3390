// Fuzz of the iSCSI target over TCP (DESIGN.md §9): the daemon on loopback, a well-behaved
// session doing verified writes and reads the whole time, and many fuzz connections sending
// seeded hostile traffic: bad logins, PDUs before login, random opcodes, lying lengths, random
// CDBs, Data-Out for unknown tasks, out-of-window CmdSNs, TMFs, logouts, NOPs, SNACKs, broken
// text continuations and mutated streams. Each connection must be answered (Reject, Login
// Response, SCSI Response, ...) or closed, never left silent; between batches an immediate
// NOP-Out must come back. At the end the daemon is alive and serves iscsi-inq.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { RunningDaemon, startDaemon } from '../helpers/daemon';
import { Prng, fuzzSeed } from './prng';
import { SteadySession, Wire, login } from './client';
import { FUZZ_TARGET, FfState, Gen, ffPdu, loginAttempt, mutateStream } from './pdu-gen';
import { NO_TAG, Op, TargetPdu, logoutPdu, nopOut } from './wire';
import { senseDefect } from './sense-check';
import { demandInCi, describeNeeds, NATIVE_ADDON, tool } from '../helpers/prereq';

const STEADY_TARGET = 'iqn.2026-11.io.nexus:steady';
const STEADY_INITIATOR = 'iqn.2026-11.example:steady';
const PDU_GOAL = Number(process.env.NEXUS_FUZZ_PDUS ?? 100_000);
const TIME_BUDGET_MS = Number(process.env.NEXUS_FUZZ_MS ?? 100_000);
const PARALLEL = 6;
const ANSWER_TIMEOUT_MS = 8000;
const CLOSE_TIMEOUT_MS = 10000;

const OP_NAMES = new Map<number, string>([
  [Op.NOP_IN, 'nop-in'], [Op.SCSI_RESPONSE, 'scsi-response'], [Op.TASK_MGMT_RESP, 'tmf-response'], [Op.LOGIN_RESP, 'login-response'],
  [Op.TEXT_RESP, 'text-response'], [Op.SCSI_DATA_IN, 'data-in'], [Op.LOGOUT_RESP, 'logout-response'], [Op.R2T, 'r2t'],
  [Op.ASYNC_MSG, 'async'], [Op.REJECT, 'reject'],
]);
const SCSI_STATUS = new Map<number, string>([
  [0x00, 'good'], [0x02, 'check-condition'], [0x04, 'condition-met'], [0x08, 'busy'], [0x18, 'reservation-conflict'],
  [0x28, 'task-set-full'], [0x40, 'task-aborted'],
]);

function which(tool: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d !== '' && existsSync(path.join(d, tool)));
}

function run(tool: string, args: string[], timeoutMs = 30000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(tool, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, out: String(stdout) + String(stderr) });
    });
  });
}

class Tally {
  readonly counts = new Map<string, number>();
  add(k: string, n = 1): void {
    this.counts.set(k, (this.counts.get(k) ?? 0) + n);
  }
  get(k: string): number {
    return this.counts.get(k) ?? 0;
  }
  line(): string {
    return [...this.counts].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k} ${v}`).join(', ');
  }
}

interface Ctx {
  host: string;
  port: number;
  seed: number;
  answers: Tally;
  kinds: Tally;
  senses: Tally;
  problems: string[];
  sent: number;
}

/** Judge and count every PDU the target sent on one connection. */
function audit(ctx: Ctx, w: Wire, label: string): void {
  if (w.malformed) ctx.problems.push(`${label}: ${w.malformed}`);
  for (const p of w.received) {
    const name = OP_NAMES.get(p.op) ?? `op-0x${p.op.toString(16)}`;
    if (p.op === Op.SCSI_RESPONSE) {
      ctx.answers.add(`scsi-response:${SCSI_STATUS.get(p.b3) ?? `0x${p.b3.toString(16)}`}`);
      if (p.b2 !== 0) ctx.problems.push(`${label}: SCSI Response with response 0x${p.b2.toString(16)} (target failure), itt 0x${p.itt.toString(16)}`);
      if (!SCSI_STATUS.has(p.b3)) ctx.problems.push(`${label}: SCSI status 0x${p.b3.toString(16)}`);
      if (p.b3 === 0x02) {
        const sense = p.data.length >= 2 ? p.data.subarray(2, 2 + p.data.readUInt16BE(0)) : Buffer.alloc(0);
        const d = senseDefect(sense);
        if (d) ctx.problems.push(`${label}: ${d} (segment ${p.data.toString('hex')})`);
        else {
          const fixed = (sense[0] & 0x7f) <= 0x71;
          const [key, asc] = fixed ? [sense[2] & 0x0f, sense[12]] : [sense[1] & 0x0f, sense[2]];
          ctx.senses.add(`${key.toString(16)}/${asc.toString(16).padStart(2, '0')}`);
        }
        // SPC-4 / STYLE: HARDWARE ERROR with INTERNAL TARGET FAILURE is what a handler that threw becomes.
        if (!d && (sense[0] & 0x7f) <= 0x71 && (sense[2] & 0x0f) === 4 && sense[12] === 0x44) {
          ctx.problems.push(`${label}: INTERNAL TARGET FAILURE (a handler threw), itt 0x${p.itt.toString(16)}`);
        }
      }
    } else if (p.op === Op.SCSI_DATA_IN && (p.b1 & 0x01) !== 0) {
      ctx.answers.add(`data-in-status:${SCSI_STATUS.get(p.b3) ?? `0x${p.b3.toString(16)}`}`);
      if (p.b3 !== 0x00 && p.b3 !== 0x04) ctx.problems.push(`${label}: Data-In carrying status 0x${p.b3.toString(16)}`);
    } else if (p.op === Op.LOGIN_RESP) {
      const cls = p.header[36];
      ctx.answers.add(cls === 0 ? 'login-response:success' : `login-response:class-${cls}`);
      if (cls !== 0 && cls !== 2 && cls !== 3) ctx.problems.push(`${label}: login status class ${cls}`);
    } else if (p.op === Op.REJECT) {
      ctx.answers.add(`reject:0x${p.b2.toString(16)}`);
      if (p.data.length < 48) ctx.problems.push(`${label}: Reject without the rejected header (${p.data.length} bytes)`);
    } else {
      ctx.answers.add(name);
    }
  }
}

/** FIN, then the target must close; a target that keeps the socket is silent forever. */
async function finishAndWait(ctx: Ctx, w: Wire, label: string): Promise<void> {
  if (!w.isClosed) {
    w.finish();
    if (!(await w.waitClosed(CLOSE_TIMEOUT_MS))) {
      ctx.problems.push(`${label}: connection still open ${CLOSE_TIMEOUT_MS} ms after our FIN`);
      w.destroy();
    }
  }
}

function send(ctx: Ctx, w: Wire, gens: Gen[]): void {
  for (const g of gens) {
    ctx.kinds.add(g.kind.split(':')[0]);
    ctx.sent++;
  }
  w.send(Buffer.concat(gens.map((g) => g.bytes)));
}

/** Hostile logins: every Login Request with intact framing gets a Login Response or the connection closes. */
async function loginConnection(ctx: Ctx, r: Prng, id: number): Promise<void> {
  const label = `seed ${ctx.seed} conn ${id} (login)`;
  const w = await Wire.connect(ctx.host, ctx.port);
  const gens = loginAttempt(r, `iqn.2026-11.example:fuzz-${id % 64}`);
  for (const g of gens) {
    const before = w.received.length;
    send(ctx, w, [g]);
    if (!g.framing) break;
    const res = await w.waitFor((p) => p.op === Op.LOGIN_RESP || p.op === Op.REJECT, ANSWER_TIMEOUT_MS);
    if (res === 'closed') break;
    if (res === 'timeout') {
      ctx.problems.push(`${label}: no answer and no close ${ANSWER_TIMEOUT_MS} ms after ${g.kind} ${g.bytes.subarray(0, 48).toString('hex')} (received ${w.received.length - before})`);
      break;
    }
    if (res.op === Op.LOGIN_RESP && res.header[36] !== 0) break; // a failed login: the target closes
  }
  if (gens.every((g) => g.framing) && gens[0].kind.startsWith('before-login')) {
    // RFC 7143 6.3: a non-login PDU before login ends the connection without our FIN.
    if (!(await w.waitClosed(CLOSE_TIMEOUT_MS))) ctx.problems.push(`${label}: ${gens[0].kind} before login left the connection open`);
  }
  await finishAndWait(ctx, w, label);
  audit(ctx, w, label);
  ctx.answers.add(w.isClosed ? 'connection-closed' : 'connection-open');
}

/** Log in properly, then batches of hostile full-feature PDUs, each batch followed by a ping. */
async function fullFeatureConnection(ctx: Ctx, r: Prng, id: number): Promise<void> {
  const label = `seed ${ctx.seed} conn ${id} (full feature)`;
  const w = await Wire.connect(ctx.host, ctx.port);
  const discovery = r.chance(0.08);
  // RFC 7143 6.3.5: now and then the initiator name and ISID of a connection likely still
  // running in parallel, so the target reinstates (drops) that session under load.
  const as = id > 0 && r.chance(0.1) ? id - 1 : id;
  const isid = Buffer.from([0x80, 0x00, (as >>> 16) & 0xff, (as >>> 8) & 0xff, as & 0xff, 0]);
  const o = await login(w, { initiator: `iqn.2026-11.example:fuzz-${as % 64}`, target: discovery ? undefined : FUZZ_TARGET, discovery, isid });
  ctx.sent += 1;
  if (!o.ok) {
    ctx.problems.push(`${label}: a valid login failed: ${String(o.status)}`);
    w.destroy();
    return;
  }
  const st: FfState = {
    cmdSN: o.cmdSN, expStatSN: o.expStatSN, maxCmdSN: o.maxCmdSN, nextItt: 1, cid: 0, maxRecv: Math.min(8192, o.targetMaxRecv),
    writes: [], recentItts: [], r2ts: [], hostility: r.pick([0.02, 0.1, 0.3, 1]),
  };
  let seen = 0;
  const collectR2ts = (): void => {
    for (; seen < w.received.length; seen++) {
      const p = w.received[seen];
      // RFC 7143 11.8: R2T: TTT at 20, Buffer Offset at 40, Desired Data Transfer Length at 44.
      if (p.op === Op.R2T) st.r2ts.push({ itt: p.itt, ttt: p.header.readUInt32BE(20), offset: p.header.readUInt32BE(40), length: p.header.readUInt32BE(44) });
    }
    if (st.r2ts.length > 16) st.r2ts.splice(0, st.r2ts.length - 16);
  };
  let framing = true;
  let pingItt = 0xfff00000;
  const batches = r.range(2, 14);
  const trail: string[] = [];
  for (let b = 0; b < batches && framing && !w.isClosed; b++) {
    const gens: Gen[] = [];
    for (let i = r.range(5, 40); i > 0; i--) {
      const g = ffPdu(st, r);
      gens.push(g);
      if (!g.framing) {
        framing = false;
        break;
      }
    }
    trail.push(gens.map((g) => g.kind).join(','));
    send(ctx, w, gens);
    if (!framing) break;
    // RFC 7143 11.18: an immediate NOP-Out with a fresh ITT is always answered by a NOP-In.
    const itt = pingItt++;
    w.send(nopOut({ itt, ttt: NO_TAG, cmdSN: st.cmdSN, expStatSN: st.expStatSN }));
    ctx.sent++;
    await w.drained();
    const res = await w.waitFor((p) => p.itt === itt && p.op === Op.NOP_IN, ANSWER_TIMEOUT_MS);
    if (res === 'closed') break;
    if (res === 'timeout') {
      ctx.problems.push(`${label}: ping ${b} not answered in ${ANSWER_TIMEOUT_MS} ms and the connection is open; batches: ${trail.slice(-2).join(' | ')}`);
      break;
    }
    collectR2ts();
    st.maxCmdSN = res.header.readUInt32BE(32);
    st.expStatSN = (res.statSN + 1) >>> 0;
  }
  if (!w.isClosed) {
    if (framing && r.chance(0.25)) {
      // Mutations of a plausible stream: bit flips, truncation, duplication, reordering.
      const valid: Buffer[] = [];
      for (let i = r.range(2, 8); i > 0; i--) {
        let g: Gen;
        do g = ffPdu(st, r); while (!g.framing || (g.kind !== 'scsi' && g.kind !== 'nop' && g.kind !== 'tmf' && g.kind !== 'text'));
        valid.push(g.bytes);
      }
      w.send(mutateStream(r, valid));
      ctx.sent += valid.length;
      ctx.kinds.add('mutated', valid.length);
    } else if (framing && r.chance(0.4)) {
      // RFC 7143 11.14: a clean logout closes the session; the answer comes before the close.
      const itt = pingItt++;
      w.send(logoutPdu({ reason: 0, itt, cid: 0, cmdSN: st.cmdSN, expStatSN: st.expStatSN }));
      ctx.sent++;
      ctx.kinds.add('logout-clean');
      const res = await w.waitFor((p) => p.itt === itt, ANSWER_TIMEOUT_MS);
      if (res === 'timeout') ctx.problems.push(`${label}: Logout not answered in ${ANSWER_TIMEOUT_MS} ms`);
    }
  }
  await finishAndWait(ctx, w, label);
  audit(ctx, w, label);
  ctx.answers.add(w.isClosed ? 'connection-closed' : 'connection-open');
}

/** The well-behaved session: verified 512-byte-block writes and reads until told to stop. */
async function steadyIo(host: string, port: number, r: Prng, stop: () => boolean): Promise<{ ops: number; error?: string }> {
  let ops = 0;
  let s: SteadySession | undefined;
  try {
    s = await SteadySession.open(host, port, STEADY_INITIATOR, STEADY_TARGET);
    // SAM-5 6.2: the first commands of a new I_T nexus report POWER ON/RESET; TEST UNIT READY clears it.
    let ready = false;
    for (let i = 0; i < 4 && !ready; i++) ready = (await s.command(0, [0, 0, 0, 0, 0, 0])).status === 0;
    if (!ready) return { ops, error: 'TEST UNIT READY never became GOOD' };
    const blocks = (16 << 20) / 512;
    while (!stop()) {
      const n = r.range(1, 8);
      const lba = r.int(blocks - n);
      const data = r.bytes(n * 512);
      const cdbW = [0x2a, 0, lba >>> 24, (lba >>> 16) & 0xff, (lba >>> 8) & 0xff, lba & 0xff, 0, 0, n, 0];
      const wr = await s.command(0, cdbW, { dataOut: data });
      if (wr.status !== 0) return { ops, error: `WRITE(10) lba ${lba} status 0x${wr.status.toString(16)} sense ${wr.sense.toString('hex')}` };
      const cdbR = [0x28, 0, lba >>> 24, (lba >>> 16) & 0xff, (lba >>> 8) & 0xff, lba & 0xff, 0, 0, n, 0];
      const rd = await s.command(0, cdbR, { readLength: n * 512 });
      if (rd.status !== 0) return { ops, error: `READ(10) lba ${lba} status 0x${rd.status.toString(16)} sense ${rd.sense.toString('hex')}` };
      if (!rd.data.equals(data)) return { ops, error: `READ(10) lba ${lba} returned other data than written` };
      ops += 2;
    }
    if (!(await s.ping())) return { ops, error: 'final NOP-Out not answered' };
    return { ops };
  } catch (e) {
    return { ops, error: (e as Error).message };
  } finally {
    s?.close();
  }
}

describeNeeds(NATIVE_ADDON)('fuzz: iSCSI target over TCP', function () {
  this.timeout(TIME_BUDGET_MS + 120_000);
  const seed = fuzzSeed();
  let d: RunningDaemon | undefined;

  before(async () => {
    d = await startDaemon({
      iscsi: {
        maxRecvDataSegmentLength: 8192, firstBurstLength: 65536, maxBurstLength: 262144, immediateData: true, initialR2T: false,
        maxOutstandingR2T: 4, queueDepth: 32, nopInIntervalSec: 0, headerDigest: ['None'], dataDigest: ['None'],
        defaultTime2Wait: 0, defaultTime2Retain: 0,
        // This test's valid logins all come from 127.0.0.1 at fuzzing speed: the per-address login rate
        // limit (README Reliability) has its own test; here it would refuse the logins the test verifies.
        maxLoginsPerSecond: 100000,
      },
      devices: [
        { name: 'fuzz0', handler: 'ram', size: '8MiB', blockSize: 512 },
        { name: 'fuzz1', handler: 'ram', size: '4MiB', blockSize: 4096 },
        { name: 'null0', handler: 'nullio', size: '1GiB' },
        { name: 'steady0', handler: 'ram', size: '16MiB', blockSize: 512 },
      ],
      targets: [
        {
          driver: 'iscsi', name: FUZZ_TARGET, portals: ['127.0.0.1:0'],
          luns: [{ lun: 0, device: 'fuzz0' }, { lun: 1, device: 'fuzz1' }, { lun: 2, device: 'null0' }],
        },
        {
          // Only the steady initiator sees this target, so no fuzz reset or reservation reaches it.
          driver: 'iscsi', name: STEADY_TARGET, portals: ['127.0.0.1:0'], luns: [],
          groups: [{ name: 'steady', initiators: [STEADY_INITIATOR], luns: [{ lun: 0, device: 'steady0' }] }],
        },
      ],
    }, { logLevel: 'error' });
  });

  after(async () => {
    if (d) await d.stop();
  });

  it(`survives ${PDU_GOAL} hostile PDUs beside a verified session (seed ${seed})`, async function () {
    const daemon = d as RunningDaemon;
    const ctx: Ctx = { host: daemon.host, port: daemon.port, seed, answers: new Tally(), kinds: new Tally(), senses: new Tally(), problems: [], sent: 0 };
    const root = new Prng(seed);
    const started = Date.now();
    let fuzzing = true;
    const steady = steadyIo(daemon.host, daemon.port, root.fork(), () => !fuzzing);
    let nextId = 0;
    const runners = Array.from({ length: PARALLEL }, async () => {
      while (ctx.sent < PDU_GOAL && Date.now() - started < TIME_BUDGET_MS && ctx.problems.length < 20) {
        const id = nextId++;
        const r = new Prng((seed ^ Math.imul(id + 1, 0x9e3779b1)) >>> 0);
        try {
          if (r.chance(0.3)) await loginConnection(ctx, r, id);
          else await fullFeatureConnection(ctx, r, id);
        } catch (e) {
          ctx.problems.push(`seed ${seed} conn ${id}: ${(e as Error).stack ?? String(e)}`);
        }
      }
    });
    await Promise.all(runners);
    fuzzing = false;
    const io = await steady;
    const ms = Date.now() - started;
    console.log(`      iscsi fuzz: seed ${seed}, ${ctx.sent} PDUs over ${nextId} connections in ${ms} ms; steady session ${io.ops} verified I/Os`);
    console.log(`      sent: ${ctx.kinds.line()}`);
    console.log(`      answers: ${ctx.answers.line()}`);
    console.log(`      sense key/ASC of CHECK CONDITIONs: ${ctx.senses.line()}`);

    // The daemon is alive and still serves a real initiator.
    expect(() => process.kill(daemon.pid, 0), 'daemon process died').not.to.throw();
    const errors = daemon.output().split('\n').filter((l) => /"level":(50|60)|fault|uncaught|unhandled/i.test(l));
    const reproduce = `NEXUS_FUZZ_SEED=${seed} reproduces`;
    expect(ctx.problems, `${reproduce}\n${ctx.problems.slice(0, 20).join('\n')}`).to.deep.equal([]);
    expect(io.error, `steady session (${reproduce})`).to.equal(undefined);
    expect(io.ops).to.be.greaterThan(0);
    expect(errors, `daemon logged errors (${reproduce}):\n${errors.slice(0, 10).join('\n')}`).to.deep.equal([]);
    expect(ctx.sent, `time budget ran out (${reproduce})`).to.be.at.least(PDU_GOAL);
    if (which('iscsi-inq')) {
      // The steady target: fuzz CDBs may legitimately have stopped the fuzz target's units
      // (START STOP UNIT), which libiscsi's login then reports as NOT READY.
      const inq = await run('iscsi-inq', ['-i', STEADY_INITIATOR, `iscsi://${daemon.host}:${daemon.port}/${STEADY_TARGET}/0`]);
      expect(inq.code, inq.out).to.equal(0);
      expect(inq.out).to.contain('DIRECT_ACCESS');
    } else {
      demandInCi(tool('iscsi-inq')); console.log('      iscsi-inq not installed (Debian: libiscsi-bin); checked with the built-in client only');
      const w = await Wire.connect(daemon.host, daemon.port);
      const o = await login(w, { initiator: 'iqn.2026-11.example:after', target: FUZZ_TARGET, isid: Buffer.from([0x80, 1, 2, 3, 4, 5]) });
      w.destroy();
      expect(o.ok, String(o.status)).to.equal(true);
    }
  });
});

export type { TargetPdu };
