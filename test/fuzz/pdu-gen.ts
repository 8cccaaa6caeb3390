// Seeded generators of hostile iSCSI traffic (RFC 7143): malformed, truncated, oversized and
// out-of-order PDUs for the login phase and the full feature phase, and mutations of a valid
// stream. Each generated item says whether the framing (BHS + AHS + DataSegmentLength + padding)
// is still what the bytes on the wire are, so the test knows when a silent target is a bug.
import { Prng } from './prng';
import { randomCdb } from './cdb-gen';
import {
  NO_TAG, Op, dataOut, loginPdu, logoutPdu, lunBytes, nopOut, pdu, scsiCommand, snackPdu, textKeys, textPdu, tmfPdu,
} from './wire';
import { OPERATIONAL_KEYS } from './client';

export interface Gen {
  bytes: Buffer;
  kind: string;
  /** False when the PDU's lengths do not match the bytes sent (the target's framer is lost). */
  framing: boolean;
}

/** What the generator knows of a logged-in session. */
export interface FfState {
  cmdSN: number;
  expStatSN: number;
  maxCmdSN: number;
  nextItt: number;
  cid: number;
  /** The target's MaxRecvDataSegmentLength (what we may send in one PDU). */
  maxRecv: number;
  /** Writes recently sent, for Data-Out aimed at them. */
  writes: Array<{ itt: number; edtl: number; sent: number }>;
  recentItts: number[];
  /** R2Ts the target sent and we have not answered yet (RFC 7143 11.8). */
  r2ts: Array<{ itt: number; ttt: number; offset: number; length: number }>;
  /** 0..1: how often the connection-ending kinds are drawn. */
  hostility: number;
}

/** Data-Out PDUs covering [offset, offset+length) of one sequence, F on the last (RFC 7143 11.7). */
function dataOutSequence(st: FfState, r: Prng, itt: number, ttt: number, offset: number, length: number): Buffer[] {
  const out: Buffer[] = [];
  let dataSN = 0;
  for (let o = offset; o < offset + length;) {
    const n = Math.min(offset + length - o, r.chance(0.5) ? st.maxRecv : r.range(1, st.maxRecv));
    out.push(dataOut({ final: o + n === offset + length, lun: 0, itt, ttt, expStatSN: st.expStatSN, dataSN: dataSN++, offset: o, data: r.bytes(n) }));
    o += n;
  }
  return out;
}

const serialLe = (a: number, b: number): boolean => a === b || ((b - a) >>> 0) < 0x80000000;

/** Opcodes no initiator may send: reserved initiator codes and every target code. */
const BAD_OPCODES = [
  0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
  0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2f, 0x30, 0x31, 0x32, 0x3c, 0x3d, 0x3e, 0x3f,
];

function itt(st: FfState, r: Prng): number {
  if (r.chance(0.03) && st.recentItts.length > 0) return r.pick(st.recentItts); // ITT already in use
  const t = st.nextItt;
  st.nextItt = (st.nextItt + 1) >>> 0;
  if (st.nextItt === NO_TAG) st.nextItt = 1;
  st.recentItts.push(t);
  if (st.recentItts.length > 32) st.recentItts.shift();
  return t;
}

/** CmdSN for a non-immediate request: the next one while the window has room. */
function nextCmdSN(st: FfState): number {
  const c = st.cmdSN;
  st.cmdSN = (st.cmdSN + 1) >>> 0;
  return c;
}

function windowOpen(st: FfState): boolean {
  return serialLe(st.cmdSN, st.maxCmdSN);
}

function randomLun(r: Prng): number | Buffer {
  return r.weighted<number | Buffer>([[5, 0], [3, 1], [2, 2], [1, r.int(16384)], [1, r.bytes(8)]]);
}

function garbageText(r: Prng, max: number): Buffer {
  const parts: Buffer[] = [];
  const n = r.range(1, 6);
  for (let i = 0; i < n; i++) {
    const kind = r.int(8);
    if (kind === 0) parts.push(r.bytes(r.int(64)));
    else if (kind === 1) parts.push(Buffer.from(`${'K'.repeat(r.range(60, 300))}=v\0`)); // key too long
    else if (kind === 2) parts.push(Buffer.from(`X-fuzz=${'v'.repeat(r.range(200, 1200))}\0`)); // value too long
    else if (kind === 3) parts.push(Buffer.from('novalue\0'));
    else if (kind === 4) parts.push(Buffer.from('=empty\0'));
    else if (kind === 5) parts.push(Buffer.from('SendTargets=All\0SendTargets=All\0')); // duplicate key
    else if (kind === 6) parts.push(Buffer.from(`MaxRecvDataSegmentLength=${r.pick(['-1', '0', '99999999999999', 'abc', '0x10'])}\0`));
    else parts.push(Buffer.from(`SendTargets=${r.pick(['All', '', 'iqn.2026-11.io.nexus:fuzz', 'nope'])}`)); // no NUL
  }
  const b = Buffer.concat(parts);
  return b.subarray(0, Math.min(b.length, max));
}

/** One full-feature-phase PDU, most of them plausible, a steady share hostile. */
export function ffPdu(st: FfState, r: Prng): Gen {
  const h = Math.max(1, Math.round(st.hostility * 20));
  const kind = r.weighted([
    [800, 'scsi'], [80, 'scsi-out-of-window'], [st.r2ts.length > 0 ? 200 : 0, 'data-out-r2t'], [160, 'data-out'], [200, 'nop'],
    [120, 'tmf'], [100, 'text'], [60, 'snack'], [80, 'bad-opcode'], [h, 'logout'], [h, 'login-in-ffp'], [2 * h, 'ahs'],
    [h, 'too-long'], [h, 'dsl-lie'],
  ] as const);
  const hostile = (p: number): boolean => r.chance(p * st.hostility);
  const exp = st.expStatSN;
  switch (kind) {
    case 'scsi':
    case 'scsi-out-of-window': {
      const immediate = kind === 'scsi' && (!windowOpen(st) || r.chance(0.1));
      const cmdSN = kind === 'scsi-out-of-window'
        ? (st.cmdSN + r.pick([1000, 0x7fffffff, 0x80000000, -1, -100, r.u32()])) >>> 0
        : immediate ? st.cmdSN : nextCmdSN(st);
      const write = r.chance(0.25);
      const read = r.chance(0.5);
      const edtl = r.weighted([[6, r.int(4097)], [2, r.int(65537)], [3, 0], [1, r.edgyU32()]] as const);
      let data: Buffer | undefined;
      let final = true;
      if (write && edtl > 0 && r.chance(0.6)) data = r.bytes(Math.min(edtl, r.int(st.maxRecv + 1)));
      if (write && r.chance(0.15)) final = false;
      if (!write && hostile(0.02)) data = r.bytes(r.range(1, 64)); // data on a command that takes none
      if (!write && hostile(0.01)) final = false;
      const t = itt(st, r);
      if (write && edtl > 0) st.writes.push({ itt: t, edtl, sent: data?.length ?? 0 });
      if (st.writes.length > 8) st.writes.shift();
      const cdb = randomCdb(r);
      const cmd = scsiCommand({
        immediate, final, read, write, attr: r.chance(0.9) ? r.int(5) : r.int(8), lun: randomLun(r), itt: t, edtl,
        cmdSN, expStatSN: exp, cdb, data,
      });
      // RFC 7143 3.2.4.2: with InitialR2T=No, F=0 announces unsolicited Data-Out up to FirstBurstLength.
      const immediateLength = data?.length ?? 0;
      const unsolicitedEnd = Math.min(65536, edtl);
      if (write && !final && unsolicitedEnd > immediateLength && r.chance(0.8)) {
        const seq = dataOutSequence(st, r, t, NO_TAG, immediateLength, unsolicitedEnd - immediateLength);
        return { kind, framing: true, bytes: Buffer.concat([cmd, ...seq]) };
      }
      return { kind, framing: true, bytes: cmd };
    }
    case 'data-out-r2t': {
      // Answer an R2T, now and then with a wrong DataSN, offset or length.
      const x = st.r2ts.splice(r.int(st.r2ts.length), 1)[0];
      const seq = dataOutSequence(st, r, x.itt, x.ttt, x.offset, x.length);
      if (hostile(0.3)) {
        const k = r.int(seq.length);
        seq[k][r.pick([36, 39, 40, 43, 1])] ^= 1 << r.int(8); // DataSN, Buffer Offset or F bit
      }
      return { kind, framing: true, bytes: Buffer.concat(seq) };
    }
    case 'data-out': {
      const w = st.writes.length > 0 && hostile(0.6) ? r.pick(st.writes) : undefined;
      const len = r.weighted([[3, r.int(513)], [1, r.int(st.maxRecv + 1)]] as const);
      const bytes = dataOut({
        final: r.chance(0.7), lun: 0, itt: w ? w.itt : r.u32(), ttt: w && r.chance(0.7) ? NO_TAG : r.edgyU32(), expStatSN: exp,
        dataSN: w && r.chance(0.7) ? 0 : r.edgyU32(), offset: w && r.chance(0.7) ? w.sent : r.edgyU32(), data: r.bytes(len),
      });
      if (w) w.sent += len;
      return { kind, framing: true, bytes };
    }
    case 'nop': {
      const immediate = !windowOpen(st) || r.chance(0.8);
      const reply = r.chance(0.03); // ITT 0xffffffff: an answer to a ping never sent
      const bytes = nopOut({
        immediate: reply ? !hostile(0.5) : immediate, itt: reply ? NO_TAG : itt(st, r), ttt: r.edgyU32(),
        cmdSN: immediate || reply ? st.cmdSN : nextCmdSN(st), expStatSN: exp, lun: r.int(4),
        data: r.chance(0.3) ? r.bytes(r.int(Math.min(1024, st.maxRecv) + 1)) : undefined, final: !hostile(0.05),
      });
      return { kind, framing: true, bytes };
    }
    case 'tmf': {
      const immediate = !windowOpen(st) || r.chance(0.8);
      const fn = r.weighted([[10, r.range(1, 12)], [2, r.int(128)], [1, 0]] as const);
      return {
        kind, framing: true,
        bytes: tmfPdu({
          immediate, fn, lun: r.weighted([[4, 0], [2, 1], [1, 2], [1, r.int(16384)]] as const),
          itt: itt(st, r), refItt: r.chance(0.6) && st.recentItts.length > 0 ? r.pick(st.recentItts) : r.u32(),
          cmdSN: immediate ? st.cmdSN : nextCmdSN(st), expStatSN: exp,
          refCmdSN: r.chance(0.5) ? (st.cmdSN - r.int(4)) >>> 0 : (st.cmdSN + r.int(40)) >>> 0,
          b1: hostile(0.05) ? fn & 0x7f : undefined, // F bit missing
        }),
      };
    }
    case 'text': {
      const immediate = !windowOpen(st) || r.chance(0.5);
      const cont = r.chance(0.4);
      const final = cont ? hostile(0.1) : !hostile(0.1); // F with C is a protocol error
      const data = r.chance(0.5) ? textKeys([['SendTargets', r.pick(['All', '', 'iqn.2026-11.io.nexus:fuzz'])]]) : garbageText(r, st.maxRecv);
      return {
        kind, framing: true,
        bytes: textPdu({
          immediate, final, cont, itt: itt(st, r), ttt: r.chance(0.7) ? NO_TAG : r.edgyU32(),
          cmdSN: immediate ? st.cmdSN : nextCmdSN(st), expStatSN: exp, data: r.chance(0.1) ? Buffer.alloc(0) : data,
        }),
      };
    }
    case 'snack':
      return {
        kind, framing: true,
        bytes: snackPdu({ b1: r.int(256), lun: r.int(3), itt: r.chance(0.5) && st.recentItts.length ? r.pick(st.recentItts) : r.u32(), ttt: r.edgyU32(), expStatSN: exp, begRun: r.edgyU32(), runLength: r.edgyU32() }),
      };
    case 'bad-opcode': {
      const h = r.bytes(48);
      h[0] = (r.chance(0.5) ? 0x40 : 0) | r.pick(BAD_OPCODES);
      const data = r.chance(0.3) ? r.bytes(r.int(257)) : Buffer.alloc(0);
      return {
        kind, framing: true,
        bytes: pdu({ op: h[0] & 0x3f, immediate: (h[0] & 0x40) !== 0, b1: h[1], b2: h[2], b3: h[3], b8: h.subarray(8, 16), itt: h.readUInt32BE(16), w20: h.readUInt32BE(20), w24: h.readUInt32BE(24), w28: h.readUInt32BE(28), b32: h.subarray(32, 48), data }),
      };
    }
    case 'logout': {
      const reason = r.weighted([[6, r.range(3, 127)], [1, 0], [1, 1], [1, 2]] as const);
      return {
        kind, framing: true,
        bytes: logoutPdu({ immediate: true, reason, itt: itt(st, r), cid: r.chance(0.5) ? st.cid : r.int(0x10000), cmdSN: st.cmdSN, expStatSN: exp, b1: r.chance(0.05) ? reason & 0x7f : undefined }),
      };
    }
    case 'login-in-ffp':
      return {
        kind, framing: true,
        bytes: loginPdu({ transit: true, csg: 1, nsg: 3, isid: r.bytes(6), itt: itt(st, r), cmdSN: st.cmdSN, data: textKeys([['InitiatorName', 'iqn.2026-11.example:again']]) }),
      };
    case 'ahs': {
      // RFC 7143 11.2.2: an Extended CDB AHS (sometimes valid) or garbage with a matching length.
      let ahs: Buffer;
      if (r.chance(0.5)) {
        const extra = randomCdb(r, 64).subarray(0, r.range(1, 48));
        const len = extra.length + 1; // AHSLength counts the reserved byte too
        ahs = Buffer.alloc(4 + ((extra.length + 3) & ~3));
        ahs.writeUInt16BE(len, 0);
        ahs[2] = 1;
        extra.copy(ahs, 4);
        if (r.chance(0.3)) ahs.writeUInt16BE(r.u32() & 0xffff, 0); // AHSLength that lies
      } else {
        ahs = r.bytes(4 * r.range(1, 12));
      }
      const t = itt(st, r);
      const immediate = !windowOpen(st) || r.chance(0.5);
      const bytes = scsiCommand({ immediate, lun: r.int(3), itt: t, edtl: r.int(512), cmdSN: immediate ? st.cmdSN : nextCmdSN(st), expStatSN: exp, cdb: randomCdb(r), read: true, ahs });
      if (hostile(0.4)) bytes[0] = (bytes[0] & 0x40) | r.pick([0x00, 0x02, 0x04]); // AHS on a PDU that takes none
      return { kind, framing: true, bytes };
    }
    case 'too-long': {
      // RFC 7143 13.12: DataSegmentLength above our MaxRecvDataSegmentLength; the bytes follow.
      const n = r.chance(0.7) ? st.maxRecv + r.range(1, 4096) : r.range(st.maxRecv + 1, 1 << 20);
      const t = itt(st, r);
      return { kind, framing: true, bytes: scsiCommand({ immediate: true, write: true, lun: 0, itt: t, edtl: n, cmdSN: st.cmdSN, expStatSN: exp, cdb: [0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0], data: r.bytes(n) }) };
    }
    case 'dsl-lie': {
      // A DataSegmentLength bigger than the bytes that follow: the target waits for the rest.
      const data = r.bytes(r.int(64));
      return { kind, framing: false, bytes: pdu({ op: Op.NOP_OUT, immediate: true, itt: itt(st, r), w20: NO_TAG, w24: st.cmdSN, w28: exp, data, dsl: data.length + r.range(1, 4000) }) };
    }
  }
}

// ---------------------------------------------------------------- login phase

export const FUZZ_TARGET = 'iqn.2026-11.io.nexus:fuzz';

function baseLoginKeys(r: Prng, initiator: string): Array<readonly [string, string]> {
  const keys: Array<readonly [string, string]> = [['InitiatorName', initiator], ['TargetName', FUZZ_TARGET], ['SessionType', 'Normal']];
  for (const kv of OPERATIONAL_KEYS) if (r.chance(0.7)) keys.push(kv);
  return keys;
}

/** Login-phase key text that is wrong in one of many ways. */
function badLoginText(r: Prng, initiator: string): Buffer {
  const keys = baseLoginKeys(r, initiator);
  const how = r.int(16);
  switch (how) {
    case 0: return r.bytes(r.int(512)); // garbage
    case 1: return Buffer.concat([textKeys(keys), Buffer.from(`${'Y'.repeat(r.range(64, 2000))}=1\0`)]); // huge key
    case 2: return Buffer.concat([textKeys(keys), Buffer.from(`X-big=${'z'.repeat(r.range(256, 8000))}\0`)]); // huge value
    case 3: return Buffer.from(textKeys(keys).toString('latin1').replace(/\0/g, ';'), 'latin1'); // no NUL at all
    case 4: return Buffer.concat([textKeys(keys), textKeys([keys[0]])]); // duplicate key
    case 5: return textKeys(keys.filter(([k]) => k !== 'InitiatorName')); // required key missing
    case 6: return textKeys(keys.map(([k, v]) => (k === 'TargetName' ? [k, r.pick(['', 'iqn.nope', 'x'.repeat(300), '\u00ff\u00fe'])] : [k, v])));
    case 7: return textKeys(keys.map(([k, v]) => (k === 'SessionType' ? [k, r.pick(['Discovery', 'Bogus', '', 'normal'])] : [k, v])));
    case 8: return textKeys([...keys, ['AuthMethod', r.pick(['CHAP', 'None', 'KRB5,SRP', 'Reject', ''])], ['CHAP_A', r.pick(['5', '7', '999', 'x'])]]);
    case 9: return textKeys([...keys, ['CHAP_N', 'alice'], ['CHAP_R', `0x${r.bytes(16).toString('hex')}`]]); // CHAP out of order
    case 10: return textKeys([...keys, [r.pick(['MaxRecvDataSegmentLength', 'MaxBurstLength', 'FirstBurstLength', 'MaxOutstandingR2T', 'DefaultTime2Wait', 'ErrorRecoveryLevel', 'MaxConnections']), r.pick(['0', '-5', '1e9', '99999999999999999999', 'Yes', '', '16777216'])]]);
    case 11: return textKeys([...keys, [r.pick(['HeaderDigest', 'DataDigest', 'InitialR2T', 'ImmediateData', 'DataPDUInOrder']), r.pick(['Maybe', 'CRC32C,None,CRC32C', '', 'No,Yes', 'x'.repeat(255)])]]);
    case 12: return textKeys([...keys, ['X-fuzz', 'v'], ['X#vendor', 'w'], ['UnknownKey', 'u'], ['TaskReporting', 'FastAbort'], ['iSCSIProtocolLevel', '9']]);
    case 13: return Buffer.concat([textKeys(keys), Buffer.from([0xc3, 0x28, 0x3d, 0xff, 0x00])]); // invalid UTF-8 and a bare '='
    case 14: return Buffer.concat([Buffer.alloc(r.int(40)), textKeys(keys), Buffer.alloc(r.int(40))]); // runs of NULs
    default: return textKeys(keys);
  }
}

/**
 * A login attempt: one to four Login Requests with bad versions, stages, T/C bits, keys and
 * lengths, or a non-login PDU first, or random bytes.
 */
export function loginAttempt(r: Prng, initiator: string): Gen[] {
  const isid = r.chance(0.9) ? Buffer.from([0x80, 0, 0, 0, r.int(256), r.int(256)]) : r.bytes(6);
  const mode = r.weighted([[10, 'login'], [3, 'continued'], [3, 'before-login'], [1, 'junk'], [1, 'too-long'], [1, 'dsl-lie']] as const);
  const one = (data: Buffer, o: { cont?: boolean; transit?: boolean; csg?: number; nsg?: number; isid?: Buffer } = {}): Buffer => {
    const bad = r.chance(0.6);
    return loginPdu({
      transit: o.transit ?? (bad && r.chance(0.3) ? r.chance(0.5) : true), cont: o.cont ?? (bad && r.chance(0.15)),
      csg: o.csg ?? (bad && r.chance(0.25) ? r.int(4) : 1), nsg: o.nsg ?? (bad && r.chance(0.25) ? r.int(4) : 3),
      versionMax: bad && r.chance(0.2) ? r.int(256) : 0, versionMin: bad && r.chance(0.2) ? r.int(256) : 0,
      isid: o.isid ?? isid, tsih: bad && r.chance(0.1) ? r.int(0x10000) : 0, itt: r.u32(), cid: r.chance(0.9) ? 0 : r.int(0x10000),
      cmdSN: r.u32(), expStatSN: r.u32(), data,
    });
  };
  switch (mode) {
    case 'login':
      return Array.from({ length: r.range(1, 3) }, () => ({ kind: 'login', framing: true, bytes: one(r.chance(0.8) ? badLoginText(r, initiator) : textKeys(baseLoginKeys(r, initiator))) }));
    case 'continued': {
      // RFC 7143 11.12.2: keys split over C=1 requests, then something that breaks the rules.
      const text = badLoginText(r, initiator);
      const cut = r.int(text.length + 1);
      return [
        { kind: 'login-continued', framing: true, bytes: one(text.subarray(0, cut), { cont: true, transit: false, csg: 1 }) },
        { kind: 'login-continued', framing: true, bytes: one(text.subarray(cut), { cont: r.chance(0.2), transit: r.chance(0.5), csg: r.chance(0.8) ? 1 : r.int(4), isid: r.chance(0.8) ? isid : r.bytes(6) }) },
      ];
    }
    case 'before-login': {
      // RFC 7143 6.3: nothing but Login Requests before the full feature phase.
      const st: FfState = { cmdSN: r.u32(), expStatSN: 0, maxCmdSN: 0xffffffff, nextItt: 1, cid: 0, maxRecv: 8192, writes: [], recentItts: [], r2ts: [], hostility: 1 };
      let g: Gen;
      do g = ffPdu(st, r); while (!g.framing || g.kind === 'login-in-ffp');
      return [{ kind: `before-login:${g.kind}`, framing: true, bytes: g.bytes }];
    }
    case 'junk':
      return [{ kind: 'junk', framing: false, bytes: r.bytes(r.range(1, 300)) }];
    case 'too-long': {
      // RFC 7143 13.12: during login the limit is 8192 bytes.
      const n = r.range(8193, 70000);
      return [{ kind: 'login-too-long', framing: true, bytes: one(Buffer.concat([textKeys(baseLoginKeys(r, initiator)), Buffer.alloc(n)]).subarray(0, n)) }];
    }
    case 'dsl-lie': {
      const data = textKeys(baseLoginKeys(r, initiator));
      const b = one(data);
      const lie = data.length + r.range(1, 4000);
      b[5] = (lie >>> 16) & 0xff;
      b[6] = (lie >>> 8) & 0xff;
      b[7] = lie & 0xff;
      return [{ kind: 'login-dsl-lie', framing: false, bytes: b }];
    }
  }
}

// ---------------------------------------------------------------- mutations

/** Bit flips, truncation, duplication and reordering of a valid stream of PDUs. */
export function mutateStream(r: Prng, pdus: Buffer[]): Buffer {
  const list = pdus.map((p) => Buffer.from(p));
  const n = r.range(1, 4);
  for (let i = 0; i < n && list.length > 0; i++) {
    const k = r.int(list.length);
    switch (r.int(5)) {
      case 0: { // flip bits
        const b = list[k];
        for (let j = r.range(1, 8); j > 0; j--) b[r.int(Math.min(b.length, r.chance(0.7) ? 48 : b.length))] ^= 1 << r.int(8);
        break;
      }
      case 1: // truncate
        list[k] = list[k].subarray(0, r.int(list[k].length));
        break;
      case 2: // duplicate
        list.splice(k, 0, Buffer.from(list[k]));
        break;
      case 3: { // swap two
        const j = r.int(list.length);
        [list[k], list[j]] = [list[j], list[k]];
        break;
      }
      default: // set a whole header byte
        list[k][r.int(48)] = r.int(256);
    }
  }
  return Buffer.concat(list);
}

export { lunBytes };
