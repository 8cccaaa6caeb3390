// The persistent reservation kill test (issue 14): two initiators drive PERSISTENT RESERVE OUT
// (REGISTER, REGISTER AND IGNORE EXISTING KEY, RESERVE, RELEASE, PREEMPT, PREEMPT AND ABORT,
// CLEAR, REGISTER AND MOVE, every registration with APTPL) through the project's own iSCSI test
// client while the daemon is killed with SIGKILL at random points and restarted on the same state
// directory. A third initiator writes with FUA, or writes and then SYNCHRONIZE CACHE, to a fileio
// LUN and a blockio LUN (O_DIRECT on a file).
//
// The test keeps a model. Commands go one at a time, so the model after the last acknowledged
// command is exact; a command whose response was not received when the daemon died may or may not
// have applied, and exactly those two states are accepted. After every acknowledged PR OUT and
// after every restart, READ FULL STATUS (keys, holder, type, TransportIDs, PRgeneration) must equal
// the model; after every restart every acknowledged write must read back, block for block.
//
// `runPrKill` is shared by the mocha test (test/fuzz/pr-kill.test.ts, a few dozen kills) and
// `npm run pr-kill -- --kills 300` (this file's main), which prints the figures.
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RunningDaemon, startDaemon } from '../helpers/daemon';
import { CommandResult, SteadySession } from './client';
import { fuzzSeed, Prng } from './prng';

const TARGET = 'iqn.2026-12.io.nexus:pr-kill';
const INITIATORS = {
  A: { name: 'iqn.2026-12.example:cluster-a', isid: '400000000a01' },
  B: { name: 'iqn.2026-12.example:cluster-b', isid: '400000000b02' },
} as const;
const WRITER = { name: 'iqn.2026-12.example:writer', isid: '400000000c03' };
type Who = keyof typeof INITIATORS;
const portOf = (w: Who): string => `${INITIATORS[w].name},i,0x${INITIATORS[w].isid}`;
const other = (w: Who): Who => (w === 'A' ? 'B' : 'A');

// SPC-4 6.16.2 tables 196-197
const enum Sa { REGISTER = 0, RESERVE = 1, RELEASE = 2, CLEAR = 3, PREEMPT = 4, PREEMPT_AND_ABORT = 5, REGISTER_AND_IGNORE = 6, REGISTER_AND_MOVE = 7 }
const TYPES = [1, 3, 5, 6]; // WE, EA, WE_RO, EA_RO: one holder each
const PR_LUN = 0;
const DATA_LUNS = [1, 2]; // fileio, blockio
const SLOTS = 32; // 4 KiB slots of each data LUN
const SLOT_BLOCKS = 8;
const MAGIC = 0x50524b4c; // "PRKL"

/** The reservation state as READ FULL STATUS reports it, canonical. */
interface PrState {
  keys: Partial<Record<Who, bigint>>;
  res?: { holder: Who; type: number };
  generation: number;
}

interface PrOp { who: Who; sa: Sa; type: number; list: Buffer; name: string }

const clone = (s: PrState): PrState => ({ keys: { ...s.keys }, res: s.res && { ...s.res }, generation: s.generation });

function canonical(s: PrState): string {
  const regs = (['A', 'B'] as const).filter(w => s.keys[w] !== undefined)
    .map(w => `${w}:${s.keys[w]!.toString(16)}${s.res?.holder === w ? `:holds:${s.res.type}` : ''}`);
  return `gen ${s.generation} [${regs.join(' ')}]`;
}

/** The basic PERSISTENT RESERVE OUT parameter list (SPC-4 6.16.3 table 198), APTPL set. */
function basicList(rk: bigint, sark: bigint): Buffer {
  const b = Buffer.alloc(24);
  b.writeBigUInt64BE(rk, 0);
  b.writeBigUInt64BE(sark, 8);
  b[20] = 0x01; // APTPL
  return b;
}

/** The REGISTER AND MOVE list (SPC-4 6.16.4 table 201) with an iSCSI TransportID (7.6.4.6). */
function moveList(rk: bigint, sark: bigint, dest: string, unreg: boolean): Buffer {
  const addl = (Buffer.byteLength(dest) + 1 + 3) & ~3;
  const b = Buffer.alloc(24 + 4 + addl);
  b.writeBigUInt64BE(rk, 0);
  b.writeBigUInt64BE(sark, 8);
  b[17] = (unreg ? 0x02 : 0) | 0x01; // UNREG | APTPL
  b.writeUInt16BE(1, 18); // RELATIVE TARGET PORT IDENTIFIER
  b.writeUInt32BE(4 + addl, 20);
  b[24] = (0b01 << 6) | 0x05; // FORMAT CODE 01b, iSCSI
  b.writeUInt16BE(addl, 26);
  b.write(dest, 28);
  return b;
}

/** Pick a command that is valid in `s` and work out the state it leads to (SPC-4 5.12). */
function nextOp(rng: Prng, s: PrState, newKey: () => bigint): { op: PrOp; after: PrState } {
  const who: Who = rng.chance(0.5) ? 'A' : 'B';
  const o = other(who);
  const mine = s.keys[who];
  const after = clone(s);
  after.generation = (s.generation + 1) >>> 0;
  const op = (sa: Sa, list: Buffer, name: string, type = 0): PrOp => ({ who, sa, type, list, name });
  if (mine === undefined) {
    const k = newKey();
    after.keys[who] = k;
    return rng.chance(0.5)
      ? { op: op(Sa.REGISTER, basicList(0n, k), 'REGISTER'), after }
      : { op: op(Sa.REGISTER_AND_IGNORE, basicList(0n, k), 'REGISTER AND IGNORE EXISTING KEY'), after };
  }
  const choices: Array<() => { op: PrOp; after: PrState }> = [
    () => {
      const k = newKey();
      after.keys[who] = k;
      return { op: op(Sa.REGISTER, basicList(mine, k), 'REGISTER (new key)'), after };
    },
    () => {
      delete after.keys[who];
      if (s.res?.holder === who) delete after.res;
      return { op: op(Sa.REGISTER, basicList(mine, 0n), 'REGISTER (unregister)'), after };
    },
    () => {
      delete after.keys.A; delete after.keys.B; delete after.res;
      return { op: op(Sa.CLEAR, basicList(mine, 0n), 'CLEAR'), after };
    },
  ];
  if (!s.res) {
    const type = rng.pick(TYPES);
    choices.push(() => {
      after.generation = s.generation; // SPC-4 6.15.2: RESERVE leaves PRgeneration alone
      after.res = { holder: who, type };
      return { op: op(Sa.RESERVE, basicList(mine, 0n), 'RESERVE', type), after };
    });
  }
  if (s.res?.holder === who) {
    choices.push(() => {
      after.generation = s.generation;
      delete after.res;
      return { op: op(Sa.RELEASE, basicList(mine, 0n), 'RELEASE', s.res!.type), after };
    });
    choices.push(() => {
      const k = newKey();
      const unreg = rng.chance(0.5);
      after.keys[o] = k;
      after.res = { holder: o, type: s.res!.type };
      if (unreg) delete after.keys[who];
      return { op: op(Sa.REGISTER_AND_MOVE, moveList(mine, k, portOf(o), unreg), `REGISTER AND MOVE${unreg ? ' (UNREG)' : ''}`), after };
    });
  }
  const theirs = s.keys[o];
  if (theirs !== undefined) {
    choices.push(() => {
      const type = rng.pick(TYPES);
      const abort = rng.chance(0.5);
      delete after.keys[o];
      if (s.res?.holder === o) after.res = { holder: who, type };
      const sa = abort ? Sa.PREEMPT_AND_ABORT : Sa.PREEMPT;
      return { op: op(sa, basicList(mine, theirs), abort ? 'PREEMPT AND ABORT' : 'PREEMPT', type), after };
    });
  }
  return rng.pick(choices)();
}

/** READ FULL STATUS (SPC-4 6.15.5) decoded into the canonical state; undefined if not ours. */
function decodeFullStatus(d: Buffer): PrState | string {
  const s: PrState = { keys: {}, generation: d.readUInt32BE(0) };
  const end = 8 + d.readUInt32BE(4);
  for (let at = 8; at < end;) {
    const key = d.readBigUInt64BE(at);
    const holder = (d[at + 12] & 0x01) !== 0;
    const type = d[at + 13] & 0x0f;
    const rtpi = d.readUInt16BE(at + 18);
    const len = d.readUInt32BE(at + 20);
    const tid = d.subarray(at + 24, at + 24 + len);
    const port = tid.subarray(4, tid.indexOf(0, 4)).toString();
    const who = (['A', 'B'] as const).find(w => portOf(w) === port);
    if (!who || rtpi !== 1 || tid[0] !== 0x45) return `unexpected descriptor ${port} rtpi ${rtpi} tid byte 0 ${tid[0]}`;
    s.keys[who] = key;
    if (holder) s.res = { holder: who, type };
    at += 24 + len;
  }
  return s;
}

const prIn = (sa: number): number[] => [0x5e, sa, 0, 0, 0, 0, 0, 0x10, 0x00, 0];
const prOut = (op: PrOp): number[] => [0x5f, op.sa, op.type, 0, 0, 0, 0, 0, op.list.length, 0];
const tur = [0, 0, 0, 0, 0, 0];

function slotData(lun: number, slot: number, seq: number): Buffer {
  const b = Buffer.alloc(SLOT_BLOCKS * 512);
  for (let blk = 0; blk < SLOT_BLOCKS; blk++) {
    for (let off = 0; off < 512; off += 16) {
      const at = blk * 512 + off;
      b.writeUInt32BE(MAGIC, at); b.writeUInt32BE(lun, at + 4); b.writeUInt32BE(slot * SLOT_BLOCKS + blk, at + 8); b.writeUInt32BE(seq, at + 12);
    }
  }
  return b;
}

/** The write sequence number a block holds (0 = never written), or -1 when it is neither. */
function blockSeq(b: Buffer, lun: number, lba: number): number {
  if (b.every(x => x === 0)) return 0;
  const seq = b.readUInt32BE(12);
  for (let off = 0; off < 512; off += 16) {
    if (b.readUInt32BE(off) !== MAGIC || b.readUInt32BE(off + 4) !== lun || b.readUInt32BE(off + 8) !== lba || b.readUInt32BE(off + 12) !== seq) return -1;
  }
  return seq;
}

const be32 = (n: number): number[] => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

export interface PrKillOptions {
  kills: number;
  seed?: number;
  /** Stop killing after this long (the run reports what it did). */
  budgetMs: number;
  /** engine.threads of the daemon (absent: one per core, the default). */
  threads?: number;
  /** Longest run of commands between a restart and the next kill. */
  maxKillDelayMs?: number;
  log?: (line: string) => void;
}

export interface PrKillFigures {
  seed: number;
  kills: number;
  prCommandsSent: number;
  prCommandsAcknowledged: number;
  /** Commands in flight at a kill, by what the restart showed. */
  inFlightApplied: number;
  inFlightNotApplied: number;
  statesChecked: number;
  dataWritesAcknowledged: number;
  dataBlocksChecked: number;
  mismatches: number;
  mismatchDetails: string[];
  elapsedMs: number;
}

/** CHECK CONDITION with sense key UNIT ATTENTION (fixed or descriptor format). */
function isUnitAttention(r: CommandResult): boolean {
  if (r.status !== 0x02 || r.sense.length < 3) return false;
  const key = (r.sense[0] & 0x7f) >= 0x72 ? r.sense[1] & 0x0f : r.sense[2] & 0x0f;
  return key === 0x6;
}

/** The daemon died under a command: the connection closed or timed out. */
class Lost extends Error {}

export async function runPrKill(o: PrKillOptions): Promise<PrKillFigures> {
  const seed = o.seed ?? fuzzSeed();
  const rng = new Prng(seed);
  const log = o.log ?? (() => undefined);
  const dir = mkdtempSync(path.join(tmpdir(), 'nexus-pr-kill-'));
  const blockFile = path.join(dir, 'block0.img');
  writeFileSync(blockFile, '');
  truncateSync(blockFile, SLOTS * SLOT_BLOCKS * 512);
  const topology = {
    stateDir: path.join(dir, 'state'),
    devices: [
      { name: 'pr0', handler: 'ram', size: '1MiB', blockSize: 512 },
      { name: 'file0', handler: 'fileio', path: path.join(dir, 'file0.img'), size: `${SLOTS * SLOT_BLOCKS / 2}KiB`, blockSize: 512, writeCache: 'writeback' },
      { name: 'block0', handler: 'blockio', path: blockFile, blockSize: 512, writeCache: 'writeback' },
    ],
    targets: [{
      driver: 'iscsi', name: TARGET, portals: ['127.0.0.1:0'],
      luns: [{ lun: PR_LUN, device: 'pr0' }, { lun: 1, device: 'file0' }, { lun: 2, device: 'block0' }],
    }],
  };
  const f: PrKillFigures = {
    seed, kills: 0, prCommandsSent: 0, prCommandsAcknowledged: 0, inFlightApplied: 0, inFlightNotApplied: 0,
    statesChecked: 0, dataWritesAcknowledged: 0, dataBlocksChecked: 0, mismatches: 0, mismatchDetails: [], elapsedMs: 0,
  };
  const mismatch = (what: string): void => {
    f.mismatches++;
    if (f.mismatchDetails.length < 20) f.mismatchDetails.push(what);
    log(`MISMATCH ${what}`);
  };
  let keySeq = 0;
  const newKey = (): bigint => (BigInt(seed) << 24n) | BigInt(++keySeq);
  let model: PrState = { keys: {}, generation: 0 };
  let pending: PrState | undefined;
  // data[lun][slot]: the acknowledged sequence number, and one that may or may not have landed
  const data = new Map<number, Array<{ seq: number; maybe?: number }>>(DATA_LUNS.map(l => [l, Array.from({ length: SLOTS }, () => ({ seq: 0 }))]));
  let writeSeq = 0;
  const started = Date.now();
  let d: RunningDaemon | undefined;
  const sessions: SteadySession[] = [];

  const run = async (s: SteadySession, lun: number, cdb: number[], opts: { dataOut?: Buffer; readLength?: number } = {}): Promise<CommandResult> => {
    for (let attempt = 0; ; attempt++) {
      let r: CommandResult;
      try {
        r = await s.command(lun, cdb, { ...opts, timeoutMs: 15000 });
      } catch (err) {
        throw new Lost((err as Error).message);
      }
      // SAM-5 5.14: a UNIT ATTENTION (another initiator's PREEMPT, CLEAR or RELEASE) reports
      // the condition instead of running the command; the initiator sends it again.
      if (!isUnitAttention(r) || attempt === 8) return r;
    }
  };
  const readState = async (s: SteadySession): Promise<PrState | string> => {
    const r = await run(s, PR_LUN, prIn(3), { readLength: 4096 });
    if (r.status !== 0) return `READ FULL STATUS status ${r.status}`;
    return decodeFullStatus(r.data);
  };

  try {
    while (f.kills < o.kills && Date.now() - started < o.budgetMs) {
      d = await startDaemon(topology, { logLevel: 'error', startTimeoutMs: 120000, ...(o.threads !== undefined ? { threads: o.threads } : {}) });
      const host = d.host;
      const port = d.port;
      const open = async (who: { name: string; isid: string }) => {
        const s = await SteadySession.open(host, port, who.name, TARGET, Buffer.from(who.isid, 'hex'));
        sessions.push(s);
        // SAM-5 5.14: the first commands report POWER ON, RESET; clear them on every LUN.
        for (const lun of [PR_LUN, ...DATA_LUNS]) await run(s, lun, tur);
        return s;
      };
      const pa = await open(INITIATORS.A);
      const pb = await open(INITIATORS.B);
      const writer = await open(WRITER);
      const pr = { A: pa, B: pb };

      // After a restart: the state is the model's, or the in-flight command's; PRgeneration 0.
      const seen = await readState(pa);
      f.statesChecked++;
      if (typeof seen === 'string') mismatch(`after kill ${f.kills}: ${seen}`);
      else {
        const want = { ...model, generation: 0 };
        const alt = pending && { ...pending, generation: 0 };
        if (canonical(seen) === canonical(want)) { if (pending) f.inFlightNotApplied++; }
        else if (alt && canonical(seen) === canonical(alt)) f.inFlightApplied++;
        else mismatch(`after kill ${f.kills}: read ${canonical(seen)}, expected ${canonical(want)}${alt ? ` or ${canonical(alt)}` : ''}`);
        model = seen; // continue from what the target holds
      }
      pending = undefined;
      // Every acknowledged write reads back, block for block.
      for (const lun of DATA_LUNS) {
        const slots = data.get(lun)!;
        for (let slot = 0; slot < SLOTS; slot++) {
          const lba = slot * SLOT_BLOCKS;
          const r = await run(writer, lun, [0x28, 0, ...be32(lba), 0, 0, SLOT_BLOCKS, 0], { readLength: SLOT_BLOCKS * 512 });
          const cell = slots[slot];
          let landed = cell.seq;
          for (let blk = 0; blk < SLOT_BLOCKS; blk++) {
            f.dataBlocksChecked++;
            const got = r.status === 0 ? blockSeq(r.data.subarray(blk * 512, blk * 512 + 512), lun, lba + blk) : -2;
            if (got === cell.seq) continue;
            if (cell.maybe !== undefined && got === cell.maybe) { landed = got; continue; }
            mismatch(`after kill ${f.kills}: LUN ${lun} LBA ${lba + blk} holds write ${got}, acknowledged ${cell.seq}${cell.maybe !== undefined ? ` (in flight ${cell.maybe})` : ''}`);
          }
          slots[slot] = { seq: landed };
          if (cell.maybe === undefined) continue;
          // The write in flight at the kill may have landed in part: a new acknowledged write
          // (FUA) gives the slot one known content again.
          const seq = ++writeSeq;
          const w = await run(writer, lun, [0x2a, 0x08, ...be32(lba), 0, 0, SLOT_BLOCKS, 0], { dataOut: slotData(lun, slot, seq) });
          if (w.status !== 0) mismatch(`WRITE LUN ${lun} LBA ${lba}: status ${w.status}`);
          else slots[slot] = { seq };
        }
      }

      // Hammer until the kill: half the kills at a random time, half a few milliseconds after
      // the n-th PERSISTENT RESERVE OUT went out (while the target works out and saves it).
      const pid = d.pid;
      const kill = (): void => { try { process.kill(pid, 'SIGKILL'); } catch { /* gone already */ } };
      let killTimer = rng.chance(0.5) ? setTimeout(kill, rng.range(20, o.maxKillDelayMs ?? 800)) : undefined;
      let killAtPrOut = killTimer === undefined ? rng.range(1, 12) : -1;
      try {
        for (;;) {
          if (rng.chance(0.75)) {
            const { op, after } = nextOp(rng, model, newKey);
            f.prCommandsSent++;
            pending = after;
            const sent = run(pr[op.who], PR_LUN, prOut(op), { dataOut: op.list });
            if (--killAtPrOut === 0) killTimer = setTimeout(kill, rng.int(5));
            const r = await sent;
            pending = undefined;
            f.prCommandsAcknowledged++;
            if (r.status !== 0) {
              mismatch(`${op.who} ${op.name} in ${canonical(model)}: status ${r.status} sense ${r.sense.toString('hex')}`);
            } else model = after;
            const now = await readState(pa);
            f.statesChecked++;
            if (typeof now === 'string') mismatch(`after ${op.name}: ${now}`);
            else {
              if (canonical(now) !== canonical(model)) mismatch(`after ${op.who} ${op.name}: read ${canonical(now)}, expected ${canonical(model)}`);
              model = now;
            }
          } else {
            const lun = rng.pick(DATA_LUNS);
            const slot = rng.int(SLOTS);
            const seq = ++writeSeq;
            const cell = data.get(lun)![slot];
            const fua = rng.chance(0.5);
            cell.maybe = seq;
            const lba = slot * SLOT_BLOCKS;
            // WRITE(10): FUA (byte 1 bit 3), or a plain write that SYNCHRONIZE CACHE(10) makes durable
            const w = await run(writer, lun, [0x2a, fua ? 0x08 : 0, ...be32(lba), 0, 0, SLOT_BLOCKS, 0], { dataOut: slotData(lun, slot, seq) });
            if (w.status !== 0) { mismatch(`WRITE LUN ${lun} LBA ${lba}: status ${w.status}`); continue; }
            if (!fua) {
              const s = await run(writer, lun, [0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
              if (s.status !== 0) { mismatch(`SYNCHRONIZE CACHE LUN ${lun}: status ${s.status}`); continue; }
            }
            data.get(lun)![slot] = { seq };
            f.dataWritesAcknowledged++;
          }
        }
      } catch (err) {
        if (!(err instanceof Lost)) throw err;
      } finally {
        clearTimeout(killTimer);
      }
      for (const s of sessions.splice(0)) s.close();
      await d.stop();
      d = undefined;
      f.kills++;
      if (f.kills % 10 === 0) log(`${f.kills} kills, ${f.prCommandsAcknowledged} PR OUT acknowledged, ${f.mismatches} mismatches`);
    }
    // The state the last restart has to show is checked once more on a final start.
    d = await startDaemon(topology, { logLevel: 'error', startTimeoutMs: 120000, ...(o.threads !== undefined ? { threads: o.threads } : {}) });
    const s = await SteadySession.open(d.host, d.port, INITIATORS.A.name, TARGET, Buffer.from(INITIATORS.A.isid, 'hex'));
    sessions.push(s);
    await run(s, PR_LUN, tur);
    const last = await readState(s);
    f.statesChecked++;
    const want = { ...model, generation: 0 };
    const alt = pending && { ...pending, generation: 0 };
    if (typeof last === 'string') mismatch(`final: ${last}`);
    else if (canonical(last) !== canonical(want) && !(alt && canonical(last) === canonical(alt))) {
      mismatch(`final: read ${canonical(last)}, expected ${canonical(want)}`);
    }
  } finally {
    for (const s of sessions.splice(0)) s.close();
    await d?.stop();
    rmSync(dir, { recursive: true, force: true });
    f.elapsedMs = Date.now() - started;
  }
  return f;
}

/**
 * `npm run pr-kill -- --kills N [--seed S] [--budget-s T] [--threads N]`: run and print the
 * figures (engine threads: the daemon's default unless --threads says otherwise).
 */
async function main(argv: string[]): Promise<number> {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const kills = Number(arg('--kills') ?? 300);
  const seedArg = arg('--seed');
  const budgetS = Number(arg('--budget-s') ?? 3600);
  const threadsArg = arg('--threads');
  if (!Number.isInteger(kills) || kills < 1 || !Number.isFinite(budgetS)) {
    process.stderr.write('usage: npm run pr-kill -- [--kills N] [--seed S] [--budget-s T] [--threads N]\n');
    return 2;
  }
  const f = await runPrKill({
    kills, budgetMs: budgetS * 1000, ...(seedArg !== undefined ? { seed: Number(seedArg) >>> 0 } : {}),
    ...(threadsArg !== undefined ? { threads: Number(threadsArg) } : {}),
    log: line => process.stdout.write(`${line}\n`),
  });
  const rows: Array<[string, string | number]> = [
    ['seed', `0x${f.seed.toString(16)}`],
    ['engine threads', threadsArg ?? 'default (one per core)'],
    ['kills (SIGKILL + restart)', f.kills < kills ? `${f.kills} (of ${kills}: --budget-s ended the run)` : f.kills],
    ['PR OUT commands sent', f.prCommandsSent],
    ['PR OUT commands acknowledged', f.prCommandsAcknowledged],
    ['in flight at a kill: applied / not applied', `${f.inFlightApplied} / ${f.inFlightNotApplied}`],
    ['states checked (READ FULL STATUS)', f.statesChecked],
    ['data writes acknowledged (FUA or + SYNCHRONIZE CACHE)', f.dataWritesAcknowledged],
    ['data blocks read back', f.dataBlocksChecked],
    ['mismatches', f.mismatches],
    ['elapsed', `${(f.elapsedMs / 1000).toFixed(1)} s`],
  ];
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(56)} ${v}\n`);
  for (const m of f.mismatchDetails) process.stdout.write(`  ${m}\n`);
  // The budget bounds the run; what it checked must all have matched.
  return f.mismatches === 0 && f.kills > 0 ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(code => process.exit(code), err => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
