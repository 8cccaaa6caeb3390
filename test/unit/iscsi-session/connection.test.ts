// IscsiConnection driven with hand-built initiator PDUs over an in-memory socket against an
// embedded engine with a 1 MiB RAM disk (RFC 7143 clauses cited per step).
import { expect } from 'chai';
import { Engine } from '../../../src/engine/engine';
import { Initiator, Pdu, SETTINGS, makeEngine } from './harness';

const OP = { NOP_IN: 0x20, SCSI_RESP: 0x21, TMF_RESP: 0x22, LOGIN_RESP: 0x23, TEXT_RESP: 0x24, DATA_IN: 0x25, LOGOUT_RESP: 0x26, R2T: 0x31, REJECT: 0x3f };
const INQUIRY = [0x12, 0, 0, 0, 96, 0];
const TUR = [0, 0, 0, 0, 0, 0];
const write10 = (lba: number, blocks: number): number[] => [0x2a, 0, 0, 0, (lba >> 8) & 0xff, lba & 0xff, 0, (blocks >> 8) & 0xff, blocks & 0xff, 0];
const read10 = (lba: number, blocks: number): number[] => [0x28, 0, 0, 0, (lba >> 8) & 0xff, lba & 0xff, 0, (blocks >> 8) & 0xff, blocks & 0xff, 0];

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}

/** Clear the POWER ON RESET unit attention (SPC-4 5.14) so later commands see no UA. */
async function clearUa(ini: Initiator): Promise<void> {
  const c = ini.command(TUR, { edtl: 0 });
  ini.sock.send(c.bytes);
  const [r] = await ini.take(1);
  expect(r.op).to.equal(OP.SCSI_RESP);
}

describe('iSCSI connection: full feature phase', () => {
  let engine: Engine;
  beforeEach(async () => {
    engine = await makeEngine();
  });
  afterEach(async () => {
    await engine.close();
  });

  it('login → INQUIRY → write with immediate data, unsolicited Data-Out and R2Ts → multi-PDU read → logout', async () => {
    const ini = new Initiator(engine);
    // RFC 7143 11.13: Login Response, T=1, CSG=1, NSG=3, status 0, a TSIH.
    const lr = await ini.login();
    expect(lr.op).to.equal(OP.LOGIN_RESP);
    expect(lr.b1).to.equal(0x80 | (1 << 2) | 3);
    expect(lr.bhs[36]).to.equal(0);
    expect(lr.bhs[37]).to.equal(0);
    expect(lr.bhs.readUInt16BE(14)).to.not.equal(0);
    const text = lr.data.toString('latin1');
    expect(text).to.contain('TargetPortalGroupTag=1\0');
    expect(text).to.contain('MaxRecvDataSegmentLength=8192\0');
    const statSN0 = lr.u32(24);

    // INQUIRY: 96 bytes in one Data-In with S, F, status GOOD (phase collapse, RFC 7143 11.7.4).
    const inq = ini.command(INQUIRY, { read: true, edtl: 96 });
    ini.sock.send(inq.bytes);
    const [di] = await ini.take(1);
    expect(di.op).to.equal(OP.DATA_IN);
    expect(di.b1 & 0x81).to.equal(0x81);
    expect(di.bhs[3]).to.equal(0); // status GOOD
    expect(di.u32(16)).to.equal(inq.itt);
    expect(di.u32(24)).to.equal(statSN0 + 1);
    expect(di.u32(28)).to.equal(2); // ExpCmdSN
    expect(di.u32(32)).to.equal(2 + 4 - 1); // MaxCmdSN = ExpCmdSN + queueDepth - 1 once finished
    expect(di.data.length).to.equal(96);
    expect(di.data[0] & 0x1f).to.equal(0); // direct-access block device

    // TEST UNIT READY: CHECK CONDITION, UNIT ATTENTION in a SCSI Response with SenseLength.
    const tur = ini.command(TUR, { edtl: 0 });
    ini.sock.send(tur.bytes);
    const [sr] = await ini.take(1);
    expect(sr.op).to.equal(OP.SCSI_RESP);
    expect(sr.bhs[3]).to.equal(0x02);
    const senseLen = sr.data.readUInt16BE(0);
    expect(senseLen).to.be.greaterThan(0);
    const sense = sr.data.subarray(2, 2 + senseLen);
    const key = (sense[0] & 0x7f) >= 0x72 ? sense[1] & 0x0f : sense[2] & 0x0f;
    expect(key).to.equal(6);

    // WRITE(10) 80 blocks = 40960 bytes: 4096 immediate, 4096 unsolicited (FirstBurstLength 8192),
    // then two R2Ts of 16384 (MaxBurstLength) at once (MaxOutstandingR2T 2).
    const payload = pattern(40960, 3);
    const w = ini.command(write10(8, 80), { write: true, edtl: 40960, final: false, data: payload.subarray(0, 4096) });
    ini.sock.send(w.bytes);
    const r2ts = await ini.take(2);
    for (const [i, r] of r2ts.entries()) {
      expect(r.op).to.equal(OP.R2T);
      expect(r.u32(16)).to.equal(w.itt);
      expect(r.u32(20)).to.not.equal(0xffffffff);
      expect(r.u32(36)).to.equal(i); // R2TSN
      expect(r.u32(40)).to.equal(8192 + i * 16384); // Buffer Offset
      expect(r.u32(44)).to.equal(16384); // Desired Data Transfer Length
    }
    ini.sock.send(ini.dataOut(w.itt, 0xffffffff, 0, 4096, payload.subarray(4096, 8192), true));
    for (const r of r2ts) {
      const off = r.u32(40);
      for (let k = 0; k < 4; k++) {
        ini.sock.send(ini.dataOut(w.itt, r.u32(20), k, off + k * 4096, payload.subarray(off + k * 4096, off + (k + 1) * 4096), k === 3));
      }
    }
    const [wr] = await ini.take(1);
    expect(wr.op).to.equal(OP.SCSI_RESP);
    expect(wr.u32(16)).to.equal(w.itt);
    expect(wr.bhs[2]).to.equal(0);
    expect(wr.bhs[3]).to.equal(0);
    expect(wr.b1 & 0x06).to.equal(0); // no residual

    // READ(10) of the same 80 blocks: ten 4096-byte Data-In (our MaxRecvDataSegmentLength),
    // F at every 16384-byte burst and at the end, S only on the last.
    const rd = ini.command(read10(8, 80), { read: true, edtl: 40960 });
    ini.sock.send(rd.bytes);
    const ins = await ini.take(10);
    const got = Buffer.concat(ins.map((p) => p.data));
    expect(got.equals(payload)).to.equal(true);
    ins.forEach((p: Pdu, i) => {
      expect(p.op).to.equal(OP.DATA_IN);
      expect(p.data.length).to.equal(4096);
      expect(p.u32(36)).to.equal(i); // DataSN
      expect(p.u32(40)).to.equal(i * 4096); // Buffer Offset
      expect((p.b1 & 0x80) !== 0).to.equal(i === 3 || i === 7 || i === 9);
      expect((p.b1 & 0x01) !== 0).to.equal(i === 9);
    });

    // NOP-Out ping with data: NOP-In echoes it (RFC 7143 11.19).
    const ping = ini.pdu(0x40, 0x80, Buffer.from('hello'), (h) => {
      h.writeUInt32BE(0x77, 16);
      h.writeUInt32BE(0xffffffff, 20);
      h.writeUInt32BE(ini.cmdSN, 24);
    });
    ini.sock.send(ping);
    const [nop] = await ini.take(1);
    expect(nop.op).to.equal(OP.NOP_IN);
    expect(nop.u32(16)).to.equal(0x77);
    expect(nop.u32(20)).to.equal(0xffffffff);
    expect(nop.data.toString()).to.equal('hello');

    // Logout, close the session (RFC 7143 11.14): response 0, then the connection closes.
    const lo = ini.pdu(0x46, 0x80, Buffer.alloc(0), (h) => {
      h.writeUInt32BE(0x99, 16);
      h.writeUInt16BE(1, 20);
      h.writeUInt32BE(ini.cmdSN, 24);
    });
    ini.sock.send(lo);
    const [lor] = await ini.take(1);
    expect(lor.op).to.equal(OP.LOGOUT_RESP);
    expect(lor.bhs[2]).to.equal(0);
    expect(lor.u32(16)).to.equal(0x99);
    await ini.conn.closed;
  });

  it('ABORT TASK on a write still waiting for Data-Out completes in the transport; an unknown task does not exist', async () => {
    const ini = new Initiator(engine);
    await ini.login();
    await clearUa(ini);
    const w = ini.command(write10(0, 16), { write: true, edtl: 8192, final: true });
    ini.sock.send(w.bytes);
    const [r2t] = await ini.take(1);
    expect(r2t.op).to.equal(OP.R2T);
    const tmf = (ref: number, refCmdSN: number, itt: number): Buffer =>
      ini.pdu(0x42, 0x80 | 1, Buffer.alloc(0), (h) => {
        h.writeUInt32BE(itt, 16);
        h.writeUInt32BE(ref, 20);
        h.writeUInt32BE(ini.cmdSN, 24);
        h.writeUInt32BE(refCmdSN, 32);
      });
    ini.sock.send(tmf(w.itt, w.cmdSN, 0x500));
    const [t1] = await ini.take(1);
    expect(t1.op).to.equal(OP.TMF_RESP);
    expect(t1.bhs[2]).to.equal(0); // Function complete
    expect(t1.u32(16)).to.equal(0x500);
    // Data-Out for the aborted task is discarded without a response.
    ini.sock.send(ini.dataOut(w.itt, r2t.u32(20), 0, 0, Buffer.alloc(8192), true));
    // RFC 7143 11.5.1: a tag the target never saw, with RefCmdSN already consumed: task does not exist.
    ini.sock.send(tmf(0x4242, w.cmdSN, 0x501));
    const rest = await ini.take(1);
    expect(rest[0].op).to.equal(OP.TMF_RESP);
    expect(rest[0].bhs[2]).to.equal(1);
    // The window slid for the aborted write: the next command runs.
    const inq = ini.command(INQUIRY, { read: true, edtl: 96 });
    ini.sock.send(inq.bytes);
    const [di] = await ini.take(1);
    expect(di.op).to.equal(OP.DATA_IN);
    expect(di.u32(16)).to.equal(inq.itt);
  });

  it('holds a command that arrives ahead of a CmdSN gap and drops one outside the window', async () => {
    const ini = new Initiator(engine);
    await ini.login();
    await clearUa(ini); // CmdSN 1
    const a = ini.command(INQUIRY, { read: true, edtl: 96 }); // CmdSN 2
    const b = ini.command(INQUIRY, { read: true, edtl: 96 }); // CmdSN 3
    ini.sock.send(b.bytes);
    expect(await ini.drain()).to.have.length(0);
    ini.sock.send(a.bytes);
    const [ra, rb] = await ini.take(2);
    expect(ra.u32(16)).to.equal(a.itt);
    expect(rb.u32(16)).to.equal(b.itt);
    expect(rb.u32(28)).to.equal(4); // ExpCmdSN
    // MaxCmdSN is 4 + 3 = 7; CmdSN 9 is outside and silently dropped (RFC 7143 3.2.2.1).
    const far = ini.command(INQUIRY, { read: true, edtl: 96, cmdSN: 9 });
    ini.sock.send(far.bytes);
    expect(await ini.drain()).to.have.length(0);
    const c = ini.command(INQUIRY, { read: true, edtl: 96 }); // CmdSN 4
    ini.sock.send(c.bytes);
    const [rc] = await ini.take(1);
    expect(rc.u32(16)).to.equal(c.itt);
  });

  it('CmdSN numbering wraps at 2^32 (serial arithmetic, RFC 1982)', async () => {
    const ini = new Initiator(engine);
    await ini.login({}, 0xfffffffe);
    const seen: number[] = [];
    for (let i = 0; i < 4; i++) {
      const c = ini.command(i === 0 ? TUR : INQUIRY, { read: i !== 0, edtl: i === 0 ? 0 : 96 });
      ini.cmdSN >>>= 0;
      ini.sock.send(c.bytes);
      const [r] = await ini.take(1);
      expect(r.u32(16)).to.equal(c.itt);
      seen.push(r.u32(28));
    }
    expect(seen).to.deep.equal([0xffffffff, 0, 1, 2]);
  });

  it('answers SendTargets=All in a normal session with every portal, IPv6 in brackets', async () => {
    const ini = new Initiator(engine);
    await ini.login();
    const req = ini.pdu(0x44, 0x80, Buffer.from('SendTargets=All\0'), (h) => {
      h.writeUInt32BE(0x31, 16);
      h.writeUInt32BE(0xffffffff, 20);
      h.writeUInt32BE(ini.cmdSN++, 24);
    });
    ini.sock.send(req);
    const [t] = await ini.take(1);
    expect(t.op).to.equal(OP.TEXT_RESP);
    expect(t.b1 & 0x80).to.equal(0x80);
    expect(t.data.toString('latin1')).to.equal(
      'TargetName=iqn.2026-11.io.nexus:unit\0TargetAddress=127.0.0.1:3260,1\0TargetAddress=[::1]:3260,1\0',
    );
  });

  it('rejects a malformed PDU and a protocol error closes only that connection', async () => {
    const ini = new Initiator(engine);
    await ini.login();
    // Opcode 0x1f is not an initiator opcode: Reject, reason 0x05 (command not supported).
    ini.sock.send(ini.pdu(0x1f, 0x80, Buffer.alloc(0), () => undefined));
    const [rj] = await ini.take(1);
    expect(rj.op).to.equal(OP.REJECT);
    expect(rj.bhs[2]).to.equal(0x05);
    expect(rj.data[0]).to.equal(0x1f);
    // Data-Out with a Buffer Offset outside the R2T: protocol error, Reject 0x04, connection closed.
    const other = new Initiator(engine, ini.sessions);
    await other.login({ InitiatorName: 'iqn.2026-11.example:other' });
    await clearUa(ini);
    const w = ini.command(write10(0, 16), { write: true, edtl: 8192, final: true });
    ini.sock.send(w.bytes);
    const [r2t] = await ini.take(1);
    ini.sock.send(ini.dataOut(w.itt, r2t.u32(20), 0, 4096, Buffer.alloc(512), false));
    const [bad] = await ini.take(1);
    expect(bad.op).to.equal(OP.REJECT);
    expect(bad.bhs[2]).to.equal(0x04);
    await ini.conn.closed;
    // The other session still works.
    const inq = other.command(INQUIRY, { read: true, edtl: 96 });
    other.sock.send(inq.bytes);
    const [ok] = await other.take(1);
    expect(ok.op).to.equal(OP.DATA_IN);
  });

  it('a second login with the same InitiatorName and ISID reinstates the session', async () => {
    const first = new Initiator(engine);
    const lr1 = await first.login();
    const second = new Initiator(engine, first.sessions);
    const lr2 = await second.login();
    expect(lr2.bhs[36]).to.equal(0);
    expect(lr2.bhs.readUInt16BE(14)).to.not.equal(lr1.bhs.readUInt16BE(14));
    await first.conn.closed;
    expect(first.sessions.size).to.equal(1);
  });

  it('the same initiator port through another target portal group is another session; its TSIH is not joined from there', async () => {
    const first = new Initiator(engine);
    const lr1 = await first.login();
    // RFC 7143 4.4.1: another portal group is another target port, so another I_T nexus: no
    // reinstatement, and the login declares that group's tag (RFC 7143 13.9).
    const second = new Initiator(engine, first.sessions, SETTINGS, false, 2);
    const lr2 = await second.login();
    expect(lr2.bhs[36]).to.equal(0);
    expect(lr2.data.toString()).to.contain('TargetPortalGroupTag=2\0');
    expect(lr1.data.toString()).to.contain('TargetPortalGroupTag=1\0');
    expect(first.sessions.size).to.equal(2);
    // RFC 7143 4.4.1: a session's connections all belong to one portal group: a login naming
    // the first session's TSIH through group 2 finds no session there (11.13.5: 02h/0Ah).
    const third = new Initiator(engine, first.sessions, SETTINGS, false, 2);
    third.sock.send(third.loginBytes({ InitiatorName: 'iqn.2026-11.example:unit-host', TargetName: 'iqn.2026-11.io.nexus:unit', SessionType: 'Normal' }, 0x80123456789an, lr1.bhs.readUInt16BE(14)));
    const [lr3] = await third.take(1);
    expect([lr3.bhs[36], lr3.bhs[37]]).to.deep.equal([0x02, 0x0a]);
    expect(first.sessions.size).to.equal(2);
  });
});
