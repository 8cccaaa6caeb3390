// Write transfers, digests, liveness and access over the wire: IscsiConnection driven with
// hand-built initiator PDUs (RFC 7143 clauses cited per step) against an embedded engine.
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { Engine } from '../../../src/engine/engine';
import type { Topology } from '../../../src/engine/topology';
import { INITIATOR, Initiator, Pdu, SETTINGS, TARGET, crc32cBitwise, makeEngine, topology } from './harness';

const OP = { NOP_IN: 0x20, SCSI_RESP: 0x21, LOGIN_RESP: 0x23, DATA_IN: 0x25, R2T: 0x31, REJECT: 0x3f };
const TUR = [0, 0, 0, 0, 0, 0];
const INQUIRY = [0x12, 0, 0, 0, 96, 0];
const REPORT_LUNS = [0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0];
const write10 = (lba: number, blocks: number): number[] => [0x2a, 0, 0, 0, (lba >> 8) & 0xff, lba & 0xff, 0, (blocks >> 8) & 0xff, blocks & 0xff, 0];
const read10 = (lba: number, blocks: number): number[] => [0x28, 0, 0, 0, (lba >> 8) & 0xff, lba & 0xff, 0, (blocks >> 8) & 0xff, blocks & 0xff, 0];

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 13 + seed) & 0xff;
  return b;
}

/** Poll (bounded in count and time) until `cond` holds. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

async function clearUa(ini: Initiator): Promise<void> {
  const c = ini.command(TUR, { edtl: 0 });
  ini.sock.send(c.bytes);
  const [r] = await ini.take(1);
  expect(r.op).to.equal(OP.SCSI_RESP);
}

/** Read `blocks` at `lba` and return the Data-In bytes (one PDU: 8 blocks fit 4096). */
async function readBack(ini: Initiator, lba: number, blocks: number): Promise<Buffer> {
  const r = ini.command(read10(lba, blocks), { read: true, edtl: blocks * 512 });
  ini.sock.send(r.bytes);
  const pdus = await ini.take(1);
  expect(pdus[0].op).to.equal(OP.DATA_IN);
  expect(pdus[0].b1 & 0x01).to.equal(1); // S: status collapsed into the last Data-In
  return pdus[0].data;
}

/** Fixed-format sense inside a SCSI Response data segment (RFC 7143 11.4.7.2: 2-byte SenseLength first). */
function senseOf(r: Pdu): { key: number; asc: number; ascq: number } {
  const sense = r.data.subarray(2, 2 + r.data.readUInt16BE(0));
  return { key: sense[2] & 0x0f, asc: sense[12], ascq: sense[13] };
}

function keysOf(b: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of b.toString('utf8').split('\0')) if (p) out[p.slice(0, p.indexOf('='))] = p.slice(p.indexOf('=') + 1);
  return out;
}

describe('iSCSI connection: write transfers', () => {
  let engine: Engine;
  beforeEach(async () => {
    engine = await makeEngine();
  });
  afterEach(async () => {
    await engine.close();
  });

  it('hands a write to the engine before its Data-Out: a later command completes while the write waits for data', async () => {
    const ini = new Initiator(engine);
    await ini.login();
    await clearUa(ini);
    const w = ini.command(write10(8, 16), { write: true, edtl: 8192 });
    const inq = ini.command(INQUIRY, { read: true, edtl: 96 });
    ini.sock.send(Buffer.concat([w.bytes, inq.bytes]));
    const [r2t, di] = await ini.take(2);
    expect(r2t.op).to.equal(OP.R2T);
    // RFC 7143 3.2.2.1: the INQUIRY (next CmdSN) is answered without waiting for the write's data.
    expect(di.op).to.equal(OP.DATA_IN);
    expect(di.u32(16)).to.equal(inq.itt);
    const data = pattern(8192, 3);
    ini.sock.send(ini.dataOut(w.itt, r2t.u32(20), 0, 0, data, true));
    const [resp] = await ini.take(1);
    expect(resp.op).to.equal(OP.SCSI_RESP);
    expect(resp.u32(16)).to.equal(w.itt);
    expect(resp.bhs[3]).to.equal(0); // GOOD
    expect(Buffer.concat([await readBack(ini, 8, 8), await readBack(ini, 16, 8)]).equals(data)).to.equal(true);
  });

  it('immediate data that arrives over several socket reads is assembled in place and written whole', async () => {
    const ini = new Initiator(engine);
    await ini.login();
    await clearUa(ini);
    // All of the data immediate (RFC 7143 3.2.4.2), the PDU cut into reads of 1000 bytes.
    const a = pattern(8192, 7);
    const wa = ini.command(write10(32, 16), { write: true, edtl: 8192, data: a });
    for (let o = 0; o < wa.bytes.length; o += 1000) ini.sock.send(wa.bytes.subarray(o, o + 1000));
    const [ra] = await ini.take(1);
    expect(ra.op).to.equal(OP.SCSI_RESP);
    expect(ra.bhs[3]).to.equal(0);
    // Immediate data then an R2T for the rest (EDTL 16384 > FirstBurstLength 8192), the command
    // PDU cut at odd places.
    const b = pattern(16384, 11);
    const wb = ini.command(write10(64, 32), { write: true, edtl: 16384, data: b.subarray(0, 8192) });
    ini.sock.send(wb.bytes.subarray(0, 48 + 100));
    ini.sock.send(wb.bytes.subarray(48 + 100, 48 + 5000));
    ini.sock.send(wb.bytes.subarray(48 + 5000));
    const [r2t] = await ini.take(1);
    expect(r2t.op).to.equal(OP.R2T);
    expect(r2t.u32(40)).to.equal(8192); // Buffer Offset: the R2T asks for what was not immediate
    ini.sock.send(ini.dataOut(wb.itt, r2t.u32(20), 0, 8192, b.subarray(8192), true));
    const [rb] = await ini.take(1);
    expect(rb.op).to.equal(OP.SCSI_RESP);
    expect(rb.bhs[3]).to.equal(0);
    const back = [];
    for (let lba = 32; lba < 48; lba += 8) back.push(await readBack(ini, lba, 8));
    expect(Buffer.concat(back).equals(a)).to.equal(true);
    const backB = [];
    for (let lba = 64; lba < 96; lba += 8) backB.push(await readBack(ini, lba, 8));
    expect(Buffer.concat(backB).equals(b)).to.equal(true);
  });

  it('writes longer than MaxBurstLength, one after another: immediate data over several reads lands in the buffer the last write gave back', async () => {
    const ini = new Initiator(engine);
    await ini.login();
    await clearUa(ini);
    // EDTL 32 KiB > MaxBurstLength 16 KiB: 8 KiB immediate, then two R2Ts of one burst each.
    for (const [lba, seed] of [[128, 5], [256, 9], [384, 13]]) {
      const d = pattern(32768, seed);
      const w = ini.command(write10(lba, 64), { write: true, edtl: 32768, data: d.subarray(0, 8192) });
      for (let o = 0; o < w.bytes.length; o += 3000) ini.sock.send(w.bytes.subarray(o, o + 3000));
      const r2ts = await ini.take(2);
      for (const r2t of r2ts) {
        expect(r2t.op).to.equal(OP.R2T);
        const offset = r2t.u32(40);
        const length = r2t.u32(44);
        for (let o = 0, sn = 0; o < length; o += 8192, sn++) {
          ini.sock.send(ini.dataOut(w.itt, r2t.u32(20), sn, offset + o, d.subarray(offset + o, offset + o + 8192), o + 8192 >= length));
        }
      }
      const [resp] = await ini.take(1);
      expect(resp.op).to.equal(OP.SCSI_RESP);
      expect(resp.bhs[3]).to.equal(0);
      const back = [];
      for (let b = lba; b < lba + 64; b += 8) back.push(await readBack(ini, b, 8));
      expect(Buffer.concat(back).equals(d)).to.equal(true);
    }
  });

  it('solicits two writes at once and keeps Data-Out for a write that waits behind a CmdSN gap', async () => {
    const ini = new Initiator(engine);
    await ini.login();
    await clearUa(ini);
    const gap = ini.cmdSN++; // filled last
    const a = ini.command(write10(40, 4), { write: true, edtl: 2048 });
    const b = ini.command(write10(44, 4), { write: true, edtl: 2048 });
    ini.sock.send(Buffer.concat([a.bytes, b.bytes]));
    const r2ts = await ini.take(2);
    expect(r2ts.map((p) => p.op)).to.deep.equal([OP.R2T, OP.R2T]);
    expect(r2ts.map((p) => p.u32(16))).to.deep.equal([a.itt, b.itt]);
    const da = pattern(2048, 11);
    const db = pattern(2048, 12);
    ini.sock.send(Buffer.concat([ini.dataOut(b.itt, r2ts[1].u32(20), 0, 0, db, true), ini.dataOut(a.itt, r2ts[0].u32(20), 0, 0, da, true)]));
    // Nothing completes while CmdSN `gap` is missing.
    expect(await ini.drain()).to.have.length(0);
    const t = ini.command(TUR, { edtl: 0, cmdSN: gap });
    ini.sock.send(t.bytes);
    const done = await ini.take(3);
    expect(done.map((p) => p.op)).to.deep.equal([OP.SCSI_RESP, OP.SCSI_RESP, OP.SCSI_RESP]);
    expect(done.map((p) => p.bhs[3])).to.deep.equal([0, 0, 0]);
    expect((await readBack(ini, 40, 8)).equals(Buffer.concat([da, db]))).to.equal(true);
  });

  it('RFC 7143 7.1.4.1: a Data-Out DataSN out of sequence fails the command (ABORTED COMMAND, DATA PHASE ERROR), not the connection', async () => {
    const ini = new Initiator(engine);
    await ini.login();
    await clearUa(ini);
    const w = ini.command(write10(60, 2), { write: true, edtl: 1024 });
    ini.sock.send(w.bytes);
    const [r2t] = await ini.take(1);
    const ttt = r2t.u32(20);
    ini.sock.send(Buffer.concat([ini.dataOut(w.itt, ttt, 0, 0, Buffer.alloc(512, 1), false), ini.dataOut(w.itt, ttt, 0, 512, Buffer.alloc(512, 2), true)]));
    const [resp] = await ini.take(1);
    expect(resp.op).to.equal(OP.SCSI_RESP);
    expect(resp.u32(16)).to.equal(w.itt);
    expect(resp.bhs[3]).to.equal(0x02); // CHECK CONDITION
    expect(senseOf(resp)).to.deep.equal({ key: 0x0b, asc: 0x4b, ascq: 0x00 });
    // The connection still serves commands.
    const inq = ini.command(INQUIRY, { read: true, edtl: 96 });
    ini.sock.send(inq.bytes);
    const [di] = await ini.take(1);
    expect(di.op).to.equal(OP.DATA_IN);
  });

  it('LOGICAL UNIT RESET while a write waits for its Data-Out: function complete, the write gets no response', async () => {
    const ini = new Initiator(engine);
    await ini.login();
    await clearUa(ini);
    const w = ini.command(write10(70, 16), { write: true, edtl: 8192 });
    ini.sock.send(w.bytes);
    const [r2t] = await ini.take(1);
    expect(r2t.op).to.equal(OP.R2T);
    // RFC 7143 11.5: Task Management Function Request, function 5 (LOGICAL UNIT RESET), immediate.
    ini.sock.send(ini.pdu(0x42, 0x80 | 5, Buffer.alloc(0), (h) => {
      h.writeUInt32BE(0x600, 16);
      h.writeUInt32BE(0xffffffff, 20);
      h.writeUInt32BE(ini.cmdSN, 24);
    }));
    const [tmf] = await ini.take(1);
    expect(tmf.op).to.equal(0x22);
    expect(tmf.u32(16)).to.equal(0x600);
    expect(tmf.bhs[2]).to.equal(0); // Function complete
    // Data for the aborted write is discarded; nothing answers it.
    ini.sock.send(ini.dataOut(w.itt, r2t.u32(20), 0, 0, Buffer.alloc(8192), true));
    expect(await ini.drain()).to.have.length(0);
    // SAM-5 6.3: the reset leaves a unit attention; the next command reports it, then all is normal.
    const t1 = ini.command(TUR, { edtl: 0 });
    ini.sock.send(t1.bytes);
    const [ua] = await ini.take(1);
    expect(ua.op).to.equal(OP.SCSI_RESP);
    expect(ua.u32(16)).to.equal(t1.itt);
    await clearUa(ini);
  });

  it('a one-block WRITE announcing 4 GiB of Data-Out is not solicited and fails; the connection carries on', async () => {
    const ini = new Initiator(engine);
    await ini.login();
    await clearUa(ini);
    const w = ini.command(write10(90, 1), { write: true, edtl: 0xffffffff });
    ini.sock.send(w.bytes);
    const [r] = await ini.take(1);
    // No R2T: the answer is the SCSI Response, CHECK CONDITION / ABORTED COMMAND, DATA PHASE ERROR.
    expect(r.op).to.equal(OP.SCSI_RESP);
    expect(r.u32(16)).to.equal(w.itt);
    expect(r.bhs[3]).to.equal(0x02);
    expect(senseOf(r)).to.deep.equal({ key: 0x0b, asc: 0x4b, ascq: 0x00 });
    const inq = ini.command(INQUIRY, { read: true, edtl: 96 });
    ini.sock.send(inq.bytes);
    const [di] = await ini.take(1);
    expect(di.op).to.equal(OP.DATA_IN);
  });

  it('an initiator that disconnects in the middle of Data-Out: the task is freed and other sessions write the same blocks', async () => {
    const ini = new Initiator(engine);
    await ini.login();
    await clearUa(ini);
    const w = ini.command(write10(80, 16), { write: true, edtl: 8192 });
    ini.sock.send(w.bytes);
    const [r2t] = await ini.take(1);
    ini.sock.send(ini.dataOut(w.itt, r2t.u32(20), 0, 0, Buffer.alloc(2048, 0xee), false));
    await ini.drain();
    ini.sock.destroy();
    // closed resolves only once the nexus has closed, i.e. the engine task waiting for data quiesced.
    await ini.conn.closed;
    const other = new Initiator(engine, ini.sessions);
    await other.login({ InitiatorName: 'iqn.2026-11.example:other' });
    await clearUa(other);
    const data = pattern(4096, 5);
    const w2 = other.command(write10(80, 8), { write: true, edtl: 4096, data });
    other.sock.send(w2.bytes);
    const [r] = await other.take(1);
    expect(r.op).to.equal(OP.SCSI_RESP);
    expect(r.bhs[3]).to.equal(0);
    expect((await readBack(other, 80, 8)).equals(data)).to.equal(true);
  });
});

describe('iSCSI connection: output batches', () => {
  let engine: Engine;
  beforeEach(async () => {
    engine = await makeEngine();
  });
  afterEach(async () => {
    await engine.close();
  });

  it('headers of a batch still being written are not reused by the next batch (peer not draining)', async () => {
    const ini = new Initiator(engine, undefined, SETTINGS, true);
    await ini.login();
    await clearUa(ini);
    // Ten batches, each a separate socket chunk answered before the previous write completed.
    const itts: number[] = [];
    for (let i = 0; i < 10; i++) {
      const c = ini.command(INQUIRY, { read: true, edtl: 96 });
      itts.push(c.itt);
      ini.sock.send(c.bytes);
      await new Promise((r) => setImmediate(r));
    }
    const seen = await ini.take(10);
    expect(seen.map((p) => p.u32(16))).to.deep.equal(itts);
    // What the socket holds by reference must still read as the same PDUs, byte for byte.
    const all = Buffer.concat(ini.sock.written);
    const pdus: number[] = [];
    for (let o = 0; o + 48 <= all.length;) {
      const dsl = all.readUIntBE(o + 5, 3);
      if ((all[o] & 0x3f) === OP.DATA_IN) pdus.push(all.readUInt32BE(o + 16));
      o += 48 + ((dsl + 3) & ~3);
    }
    expect(pdus.slice(-10)).to.deep.equal(itts);
  });
});

describe('iSCSI connection: data digest (RFC 7143 11.1 / 13.1)', () => {
  let engine: Engine;
  beforeEach(async () => {
    engine = await makeEngine();
  });
  afterEach(async () => {
    await engine.close();
  });

  it('the bitwise CRC32C matches RFC 3720 B.4 (32 bytes of zeros)', () => {
    expect(crc32cBitwise(Buffer.alloc(32))).to.equal(0x8a9136aa);
  });

  /** A Data-Out PDU followed by the CRC32C of its padded data segment, least significant byte first. */
  function withDigest(pdu: Buffer, corrupt: boolean): Buffer {
    const crc = crc32cBitwise(pdu.subarray(48)) ^ (corrupt ? 1 : 0);
    const d = Buffer.from([crc & 0xff, (crc >>> 8) & 0xff, (crc >>> 16) & 0xff, (crc >>> 24) & 0xff]);
    return Buffer.concat([pdu, d]);
  }

  async function digestLogin(): Promise<Initiator> {
    const ini = new Initiator(engine, undefined, { ...SETTINGS, dataDigest: ['CRC32C', 'None'] });
    const r = await ini.login({ DataDigest: 'CRC32C' });
    expect(r.bhs[36]).to.equal(0);
    expect(keysOf(r.data).DataDigest).to.equal('CRC32C');
    ini.dataDigest = true;
    await clearUa(ini);
    return ini;
  }

  it('accepts Data-Out whose data digest is right', async () => {
    const ini = await digestLogin();
    const data = pattern(512, 9);
    const w = ini.command(write10(100, 1), { write: true, edtl: 512 });
    ini.sock.send(w.bytes);
    const [r2t] = await ini.take(1);
    ini.sock.send(withDigest(ini.dataOut(w.itt, r2t.u32(20), 0, 0, data, true), false));
    const [resp] = await ini.take(1);
    expect(resp.op).to.equal(OP.SCSI_RESP);
    expect(resp.bhs[3]).to.equal(0);
    const back = await readBack(ini, 100, 1);
    expect(back.equals(data)).to.equal(true);
  });

  it('at ERL 0 a Data-Out with a wrong data digest is rejected (reason 02h) and the connection dropped', async () => {
    const ini = await digestLogin();
    const w = ini.command(write10(100, 1), { write: true, edtl: 512 });
    ini.sock.send(w.bytes);
    const [r2t] = await ini.take(1);
    ini.sock.send(withDigest(ini.dataOut(w.itt, r2t.u32(20), 0, 0, pattern(512, 1), true), true));
    const [rj] = await ini.take(1);
    expect(rj.op).to.equal(OP.REJECT);
    expect(rj.bhs[2]).to.equal(0x02);
    await ini.conn.closed;
    expect(ini.sock.destroyed).to.equal(true);
  });
});

describe('iSCSI connection: NOP-In ping (RFC 7143 11.19, 7.1.3)', () => {
  let engine: Engine;
  beforeEach(async () => {
    engine = await makeEngine();
  });
  afterEach(async () => {
    await engine.close();
  });

  it('an answered ping keeps the connection; an unanswered one closes it', async () => {
    const ini = new Initiator(engine, undefined, { ...SETTINGS, nopInIntervalSec: 0.03, nopInTimeoutSec: 0.05 });
    await ini.login();
    await until(() => ini.sock.chunks.length > 0, 'the first NOP-In');
    const [p1] = await ini.take(1);
    expect(p1.op).to.equal(OP.NOP_IN);
    expect(p1.u32(16)).to.equal(0xffffffff);
    // RFC 7143 11.18: the answer has ITT 0xffffffff, the ping's TTT, the I bit.
    ini.sock.send(ini.pdu(0x40, 0x80, Buffer.alloc(0), (h) => {
      h.writeUInt32BE(0xffffffff, 16);
      h.writeUInt32BE(p1.u32(20), 20);
      h.writeUInt32BE(ini.cmdSN, 24);
    }));
    await until(() => ini.sock.chunks.length > 0, 'the second NOP-In');
    const [p2] = await ini.take(1);
    expect(p2.op).to.equal(OP.NOP_IN);
    expect(p2.u32(20)).to.not.equal(p1.u32(20));
    expect(ini.sock.destroyed).to.equal(false);
    // No answer this time: the target gives up on the connection.
    await ini.conn.closed;
    expect(ini.sock.destroyed).to.equal(true);
  });
});

describe('iSCSI connection: access', () => {
  let engine: Engine | undefined;
  afterEach(async () => {
    await engine?.close();
    engine = undefined;
  });

  it('a WRITE to a read-only mapping ends in CHECK CONDITION, DATA PROTECT / WRITE PROTECTED', async () => {
    const t = topology();
    t.targets[0].luns[0].readOnly = true;
    engine = await makeEngine(t);
    const ini = new Initiator(engine);
    await ini.login();
    await clearUa(ini);
    const w = ini.command(write10(0, 1), { write: true, edtl: 512, data: Buffer.alloc(512, 0x55) });
    ini.sock.send(w.bytes);
    const [r] = await ini.take(1);
    expect(r.op).to.equal(OP.SCSI_RESP);
    expect(r.bhs[3]).to.equal(0x02);
    expect(senseOf(r)).to.deep.equal({ key: 0x07, asc: 0x27, ascq: 0x00 });
  });

  it('an initiator that sees no LUN logs in to a named target: empty REPORT LUNS, peripheral qualifier 011b on LUN 0', async () => {
    const t: Pick<Topology, 'devices' | 'targets'> = topology();
    t.targets[0].luns = [];
    t.targets[0].groups = [{ name: 'only', initiators: ['iqn.2026-11.example:someone-else'], luns: [{ lun: 0, device: 'ram0', readOnly: false }] }];
    engine = await makeEngine(t);
    const ini = new Initiator(engine);
    const login = await ini.login();
    expect(login.op).to.equal(OP.LOGIN_RESP);
    expect([login.bhs[36], login.bhs[37]]).to.deep.equal([0, 0]);
    const rl = ini.command(REPORT_LUNS, { read: true, edtl: 256 });
    ini.sock.send(rl.bytes);
    const [d1] = await ini.take(1);
    expect(d1.op).to.equal(OP.DATA_IN);
    expect(d1.data.readUInt32BE(0)).to.equal(0); // LUN LIST LENGTH
    const inq = ini.command(INQUIRY, { read: true, edtl: 96 });
    ini.sock.send(inq.bytes);
    const [d2] = await ini.take(1);
    expect(d2.op).to.equal(OP.DATA_IN);
    expect(d2.data[0]).to.equal(0x7f); // SPC-4 6.6.2: PQ 011b, type 1Fh
  });

  it('mutual CHAP over the wire: the target proves itself with CHAP_N/CHAP_R for the initiator challenge', async () => {
    const t = topology();
    t.targets[0].auth = { chap: { user: 'alice', secret: 'alice-secret-12' }, mutualChap: { user: 'nexus-target', secret: 'target-secret-34' } };
    engine = await makeEngine(t);
    const ini = new Initiator(engine);
    // RFC 7143 11.12: Login Request, CSG/NSG in byte 1, ISID, ITT, CID, CmdSN.
    const login = (transit: boolean, csg: number, nsg: number, keys: Array<[string, string]>): Buffer =>
      ini.pdu(0x43, (transit ? 0x80 : 0) | (csg << 2) | (transit ? nsg : 0), Buffer.from(keys.map(([k, v]) => `${k}=${v}\0`).join('')), (h) => {
        h.writeUIntBE(0x80aabbccdd01, 8, 6);
        h.writeUInt32BE(0x77, 16);
        h.writeUInt16BE(1, 20);
        h.writeUInt32BE(1, 24);
      });
    ini.sock.send(login(false, 0, 1, [['InitiatorName', INITIATOR], ['TargetName', TARGET], ['SessionType', 'Normal'], ['AuthMethod', 'CHAP']]));
    const [r1] = await ini.take(1);
    expect(r1.bhs[36]).to.equal(0);
    expect(keysOf(r1.data).AuthMethod).to.equal('CHAP');
    ini.sock.send(login(false, 0, 1, [['CHAP_A', '5']]));
    const [r2] = await ini.take(1);
    const k2 = keysOf(r2.data);
    expect(k2.CHAP_A).to.equal('5');
    const challenge = Buffer.from(k2.CHAP_C.replace(/^0x/i, ''), 'hex');
    // RFC 1994 4.1: MD5(identifier || secret || challenge).
    const answer = createHash('md5').update(Buffer.concat([Buffer.from([Number(k2.CHAP_I)]), Buffer.from('alice-secret-12'), challenge])).digest('hex');
    const ours = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    ini.sock.send(login(true, 0, 1, [['CHAP_N', 'alice'], ['CHAP_R', '0x' + answer], ['CHAP_I', '201'], ['CHAP_C', '0x' + ours.toString('hex')]]));
    const [r3] = await ini.take(1);
    expect(r3.bhs[36]).to.equal(0);
    expect(r3.b1 & 0x80).to.equal(0x80);
    const k3 = keysOf(r3.data);
    expect(k3.CHAP_N).to.equal('nexus-target');
    const expected = createHash('md5').update(Buffer.concat([Buffer.from([201]), Buffer.from('target-secret-34'), ours])).digest('hex');
    expect(k3.CHAP_R.toLowerCase()).to.equal('0x' + expected);
    ini.sock.send(login(true, 1, 3, [
      ['HeaderDigest', 'None'], ['DataDigest', 'None'], ['ErrorRecoveryLevel', '0'], ['MaxRecvDataSegmentLength', '4096'],
      ['InitialR2T', 'No'], ['ImmediateData', 'Yes'], ['MaxBurstLength', '16384'], ['FirstBurstLength', '8192'], ['MaxOutstandingR2T', '2'],
    ]));
    const [r4] = await ini.take(1);
    expect([r4.bhs[36], r4.bhs[37]]).to.deep.equal([0, 0]);
    expect(r4.b1 & 0x83).to.equal(0x83); // T=1, NSG full feature phase
    expect(ini.conn.isFullFeature).to.equal(true);
  });
});
