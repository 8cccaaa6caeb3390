import { expect } from 'chai';
import { EmbeddedTarget } from '../../../../src/embedded';
import { Status, TaskAttr, TmfFunction, TmfResponse } from '../../../../src/engine/spec/status';
import { ResidualKind } from '../../../../src/engine/command';
import { cdb, clearUa, file, INIT_A, INIT_B, ram, startTarget, target } from './fixture';

describe('embedded engine: LUN masking, UAs, reservations, task management', () => {
  let t: EmbeddedTarget;
  afterEach(async () => { await t?.stop(); });

  describe('LUN masking (SCST security groups)', () => {
    beforeEach(async () => {
      t = await startTarget([ram('disk0'), ram('disk1'), ram('disk2')], target({
        luns: [{ lun: 0, device: 'disk0', readOnly: false }, { lun: 1, device: 'disk1', readOnly: false }],
        groups: [{ name: 'readers', initiators: ['iqn.2026-11.example:reader*'], luns: [{ lun: 5, device: 'disk2', readOnly: true }] }],
      }));
    });

    it('an initiator outside every group sees the target LUNs', async () => {
      const r = await t.session(INIT_A).execute(0, cdb.reportLuns());
      expect(r.status).to.equal(Status.GOOD);
      expect([...r.data]).to.deep.equal([0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    });

    it('a group initiator sees only its group LUNs, and LUN 0 answers INQUIRY with PQ 011b', async () => {
      const s = t.session('iqn.2026-11.example:reader-7');
      const rl = await s.execute(0, cdb.reportLuns());
      expect([...rl.data.subarray(0, 4)]).to.deep.equal([0, 0, 0, 8]);
      expect([...rl.data.subarray(8, 16)]).to.deep.equal([0, 5, 0, 0, 0, 0, 0, 0]);
      const inq = await s.execute(0, cdb.inquiry(36));
      expect(inq.status).to.equal(Status.GOOD);
      expect(inq.data[0]).to.equal(0x7f);
      const tur = await s.execute(0, cdb.tur());
      expect([tur.status, tur.senseKey, tur.asc, tur.ascq]).to.deep.equal([Status.CHECK_CONDITION, 0x05, 0x25, 0x00]);
    });

    it('INQUIRY on an unmapped LUN is decoded by the INQUIRY row: VPD 00h with PQ 011b, reserved bits refused', async () => {
      const s = t.session(INIT_A);
      const vpd = await s.execute(7, [0x12, 0x01, 0x00, 0x00, 0xff, 0x00]);
      expect([...vpd.data]).to.deep.equal([0x7f, 0x00, 0x00, 0x01, 0x00]);
      const std = await s.execute(7, [0x12, 0x00, 0x00, 0x00, 0x24, 0x00]);
      expect(std.data.length).to.equal(36);
      expect([std.data[0], std.data[2], std.data[3], std.data[7]]).to.deep.equal([0x7f, 0x06, 0x12, 0x02]);
      // CMDDT (byte 1 bit 1) is outside the INQUIRY usage mask
      const bad = await s.execute(7, [0x12, 0x02, 0x00, 0x00, 0xff, 0x00]);
      expect([bad.senseKey, bad.asc, bad.sense![15], bad.sense![17]]).to.deep.equal([0x05, 0x24, 0xc9, 0x01]);
      expect((await s.execute(7, [0x12, 0x01, 0x80, 0x00, 0xff, 0x00])).asc).to.equal(0x24);
    });

    it('REQUEST SENSE on an unmapped LUN returns LOGICAL UNIT NOT SUPPORTED as data', async () => {
      const r = await t.session(INIT_A).execute(9, cdb.requestSense());
      expect(r.status).to.equal(Status.GOOD);
      expect([r.data[2] & 0x0f, r.data[12], r.data[13]]).to.deep.equal([0x05, 0x25, 0x00]);
    });

    it('a read-only mapping refuses writes with WRITE PROTECTED and serves reads', async () => {
      const s = t.session('iqn.2026-11.example:reader-1');
      await clearUa(s, 5);
      const w = await s.execute(5, cdb.write10(0, 1), { dataOut: Buffer.alloc(512, 1) });
      expect([w.status, w.senseKey, w.asc, w.ascq]).to.deep.equal([Status.CHECK_CONDITION, 0x07, 0x27, 0x00]);
      const r = await s.execute(5, cdb.read10(0, 1));
      expect(r.status).to.equal(Status.GOOD);
      expect(r.data.length).to.equal(512);
    });
  });

  describe('unit attentions', () => {
    beforeEach(async () => { t = await startTarget(); });

    it('a new I_T_L nexus gets POWER ON, RESET once; INQUIRY and REPORT LUNS do not consume it', async () => {
      const s = t.session(INIT_A);
      expect((await s.execute(0, cdb.inquiry())).status).to.equal(Status.GOOD);
      expect((await s.execute(0, cdb.reportLuns())).status).to.equal(Status.GOOD);
      const r = await s.execute(0, cdb.tur());
      expect([r.status, r.senseKey, r.asc, r.ascq]).to.deep.equal([Status.CHECK_CONDITION, 0x06, 0x29, 0x00]);
      expect((await s.execute(0, cdb.tur())).status).to.equal(Status.GOOD);
    });

    it('REQUEST SENSE returns the pending UA as data and clears it (SPC-4 6.39)', async () => {
      const s = t.session(INIT_A);
      const r = await s.execute(0, cdb.requestSense());
      expect(r.status).to.equal(Status.GOOD);
      expect([r.data[0] & 0x7f, r.data[2] & 0x0f, r.data[12], r.data[13]]).to.deep.equal([0x70, 0x06, 0x29, 0x00]);
      expect((await s.execute(0, cdb.tur())).status).to.equal(Status.GOOD);
    });

    it('I_T nexus loss leaves I_T NEXUS LOSS OCCURRED for the returning initiator port', async () => {
      const s = t.session(INIT_A, { isid: '400001370000' });
      await clearUa(s);
      await s.close('loss');
      const again = t.session(INIT_A, { isid: '400001370000' });
      const r = await again.execute(0, cdb.tur());
      expect([r.senseKey, r.asc, r.ascq]).to.deep.equal([0x06, 0x29, 0x07]);
    });

    it('resize raises CAPACITY DATA HAS CHANGED for every nexus', async () => {
      const a = t.session(INIT_A), b = t.session(INIT_B);
      await clearUa(a); await clearUa(b);
      await t.resize('disk0', 4096n * 512n);
      for (const s of [a, b]) {
        const r = await s.execute(0, cdb.tur());
        expect([r.senseKey, r.asc, r.ascq]).to.deep.equal([0x06, 0x2a, 0x09]);
      }
      const cap = await a.execute(0, cdb.readCapacity10());
      expect(cap.data.readUInt32BE(0)).to.equal(4095);
    });

    it('adding and removing a LUN raises REPORTED LUNS DATA HAS CHANGED', async () => {
      t = await (async () => { await t.stop(); return startTarget([ram('disk0'), ram('disk1')]); })();
      const a = t.session(INIT_A);
      await clearUa(a);
      t.addLun({ lun: 3, device: 'disk1', readOnly: false });
      const r = await a.execute(0, cdb.tur());
      expect([r.senseKey, r.asc, r.ascq]).to.deep.equal([0x06, 0x3f, 0x0e]);
      const rl = await a.execute(0, cdb.reportLuns());
      expect(rl.data.readUInt32BE(0)).to.equal(16);
      t.removeLun(3);
      const r2 = await a.execute(0, cdb.tur());
      expect([r2.senseKey, r2.asc, r2.ascq]).to.deep.equal([0x06, 0x3f, 0x0e]);
      expect((await a.execute(3, cdb.tur())).asc).to.equal(0x25);
    });
  });

  describe('RESERVE / RELEASE (SPC-2)', () => {
    beforeEach(async () => { t = await startTarget(); });

    it('the holder works, the other initiator gets RESERVATION CONFLICT; INQUIRY is allowed', async () => {
      const a = t.session(INIT_A), b = t.session(INIT_B);
      await clearUa(a); await clearUa(b);
      expect((await a.execute(0, cdb.reserve6())).status).to.equal(Status.GOOD);
      expect((await a.execute(0, cdb.read10(0, 1))).status).to.equal(Status.GOOD);
      expect((await b.execute(0, cdb.read10(0, 1))).status).to.equal(Status.RESERVATION_CONFLICT);
      expect((await b.execute(0, cdb.reserve6())).status).to.equal(Status.RESERVATION_CONFLICT);
      expect((await b.execute(0, cdb.inquiry())).status).to.equal(Status.GOOD);
      // RELEASE from a non-holder is GOOD and releases nothing
      expect((await b.execute(0, cdb.release6())).status).to.equal(Status.GOOD);
      expect((await b.execute(0, cdb.tur())).status).to.equal(Status.RESERVATION_CONFLICT);
      expect((await a.execute(0, cdb.release6())).status).to.equal(Status.GOOD);
      expect((await b.execute(0, cdb.tur())).status).to.equal(Status.GOOD);
    });

    it('is released on I_T nexus loss of the holder', async () => {
      const a = t.session(INIT_A), b = t.session(INIT_B);
      await clearUa(a); await clearUa(b);
      await a.execute(0, cdb.reserve6());
      await a.close('loss');
      expect((await b.execute(0, cdb.tur())).status).to.equal(Status.GOOD);
    });

    it('is released by LOGICAL UNIT RESET, which leaves BUS DEVICE RESET for every nexus, the resetting one too', async () => {
      const a = t.session(INIT_A), b = t.session(INIT_B);
      await clearUa(a); await clearUa(b);
      await a.execute(0, cdb.reserve6());
      expect(await b.taskManagement(TmfFunction.LOGICAL_UNIT_RESET, 0)).to.equal(TmfResponse.FUNCTION_COMPLETE);
      const r = await a.execute(0, cdb.tur());
      expect([r.senseKey, r.asc, r.ascq]).to.deep.equal([0x06, 0x29, 0x03]);
      const rb = await b.execute(0, cdb.tur());
      expect([rb.senseKey, rb.asc, rb.ascq]).to.deep.equal([0x06, 0x29, 0x03]);
      expect((await b.execute(0, cdb.tur())).status).to.equal(Status.GOOD);
      expect((await b.execute(0, cdb.reserve6())).status).to.equal(Status.GOOD);
    });
  });

  describe('task attributes and task management', () => {
    // fileio: a WRITE's I/O is in flight long enough to hold the task set (ram completes at once).
    beforeEach(async () => { t = await startTarget([file('disk0')]); });

    it('ABORT TASK on a task held behind an ORDERED task aborts it without status', async () => {
      const a = t.session(INIT_A);
      await clearUa(a);
      // Hold the task set: an ORDERED write whose backstore I/O is in flight keeps the next task waiting.
      const ordered = a.submit(0, cdb.write10(0, 1), { dataOut: Buffer.alloc(512, 7), attr: TaskAttr.ORDERED });
      const waiting = a.submit(0, cdb.read10(0, 1), { attr: TaskAttr.SIMPLE });
      const resp = await a.taskManagement(TmfFunction.ABORT_TASK, 0, waiting.tag);
      expect(resp).to.equal(TmfResponse.FUNCTION_COMPLETE);
      expect((await waiting.result).aborted).to.equal(true);
      expect((await ordered.result).status).to.equal(Status.GOOD);
    });

    it('ABORT TASK for an unknown tag → TASK DOES NOT EXIST; unmapped LUN → LUN DOES NOT EXIST', async () => {
      const a = t.session(INIT_A);
      expect(await a.taskManagement(TmfFunction.ABORT_TASK, 0, 999)).to.equal(TmfResponse.TASK_DOES_NOT_EXIST);
      expect(await a.taskManagement(TmfFunction.ABORT_TASK_SET, 4)).to.equal(TmfResponse.LUN_DOES_NOT_EXIST);
    });

    it('QUERY TASK and QUERY TASK SET report tasks in the task set', async () => {
      const a = t.session(INIT_A);
      await clearUa(a);
      const o = a.submit(0, cdb.write10(0, 1), { dataOut: Buffer.alloc(512), attr: TaskAttr.ORDERED });
      const w = a.submit(0, cdb.read10(0, 1));
      expect(await a.taskManagement(TmfFunction.QUERY_TASK, 0, w.tag)).to.equal(TmfResponse.FUNCTION_SUCCEEDED);
      expect(await a.taskManagement(TmfFunction.QUERY_TASK_SET, 0)).to.equal(TmfResponse.FUNCTION_SUCCEEDED);
      await o.result; await w.result;
      expect(await a.taskManagement(TmfFunction.QUERY_TASK, 0, w.tag)).to.equal(TmfResponse.FUNCTION_COMPLETE);
      expect(await a.taskManagement(TmfFunction.QUERY_TASK_SET, 0)).to.equal(TmfResponse.FUNCTION_COMPLETE);
    });

    it('CLEAR TASK SET leaves COMMANDS CLEARED BY ANOTHER INITIATOR for the initiator that lost tasks', async () => {
      const a = t.session(INIT_A), b = t.session(INIT_B);
      await clearUa(a); await clearUa(b);
      const o = b.submit(0, cdb.write10(0, 1), { dataOut: Buffer.alloc(512), attr: TaskAttr.ORDERED });
      const held = b.submit(0, cdb.read10(0, 1));
      expect(await a.taskManagement(TmfFunction.CLEAR_TASK_SET, 0)).to.equal(TmfResponse.FUNCTION_COMPLETE);
      expect((await held.result).aborted).to.equal(true);
      expect((await o.result).aborted).to.equal(true);
      const r = await b.execute(0, cdb.tur());
      expect([r.senseKey, r.asc, r.ascq]).to.deep.equal([0x06, 0x2f, 0x00]);
      expect((await a.execute(0, cdb.tur())).status).to.equal(Status.GOOD);
    });

    it('I_T NEXUS RESET leaves I_T NEXUS LOSS OCCURRED and drops the reservation', async () => {
      const a = t.session(INIT_A), b = t.session(INIT_B);
      await clearUa(a); await clearUa(b);
      await a.execute(0, cdb.reserve6());
      expect(await a.taskManagement(TmfFunction.I_T_NEXUS_RESET, 0)).to.equal(TmfResponse.FUNCTION_COMPLETE);
      expect((await a.execute(0, cdb.tur())).asc).to.equal(0x29);
      expect((await b.execute(0, cdb.tur())).status).to.equal(Status.GOOD);
    });
  });

  describe('residuals (SAM-5 5.3)', () => {
    beforeEach(async () => { t = await startTarget(); });

    it('INQUIRY with a large allocation length: underflow of what was not sent', async () => {
      const a = t.session(INIT_A);
      const r = await a.execute(0, cdb.inquiry(255), { expectedLength: 255 });
      expect(r.residualKind).to.equal(ResidualKind.UNDERFLOW);
      expect(r.residual).to.equal(255 - r.data.length);
    });

    it('READ(10) with a smaller expected length: overflow, data cut to the expected length', async () => {
      const a = t.session(INIT_A);
      await clearUa(a);
      const r = await a.execute(0, cdb.read10(0, 2), { expectedLength: 512 });
      expect(r.status).to.equal(Status.GOOD);
      expect(r.data.length).to.equal(512);
      expect([r.residualKind, r.residual]).to.deep.equal([ResidualKind.OVERFLOW, 512]);
    });

    it('WRITE(10) with less Data-Out than the CDB needs writes only what arrived (FCP-4 9.4.2 a)', async () => {
      const a = t.session(INIT_A);
      await clearUa(a);
      await a.execute(0, cdb.write10(0, 2), { dataOut: Buffer.alloc(1024, 0x61) });
      const r = await a.execute(0, cdb.write10(0, 2), { dataOut: Buffer.alloc(200, 0x62), expectedLength: 200 });
      expect([r.status, r.residualKind, r.residual]).to.deep.equal([Status.GOOD, ResidualKind.OVERFLOW, 1024 - 200]);
      const back = await a.execute(0, cdb.read10(0, 2));
      expect(back.data.subarray(0, 200).every(b => b === 0x62), 'the bytes sent').to.equal(true);
      expect(back.data.subarray(200).every(b => b === 0x61), 'the rest untouched').to.equal(true);
    });

    it('other OUT commands with short Data-Out end with ILLEGAL REQUEST 0Eh/03h and write nothing', async () => {
      const a = t.session(INIT_A);
      await clearUa(a);
      // WRITE SAME(10) of 2 blocks needs exactly one block of Data-Out
      const ws = [0x41, 0, 0, 0, 0, 0, 0, 0, 2, 0];
      const r = await a.execute(0, ws, { dataOut: Buffer.alloc(100, 9), expectedLength: 100 });
      expect([r.status, r.senseKey, r.asc, r.ascq]).to.deep.equal([Status.CHECK_CONDITION, 0x05, 0x0e, 0x03]);
      const back = await a.execute(0, cdb.read10(0, 2));
      expect(back.data.every(b => b === 0), 'nothing written').to.equal(true);
    });

    it('WRITE(10) with more Data-Out than the CDB needs writes the CDB length: underflow residual', async () => {
      const a = t.session(INIT_A);
      await clearUa(a);
      const r = await a.execute(0, cdb.write10(0, 1), { dataOut: Buffer.alloc(1024, 7), expectedLength: 1024 });
      expect([r.status, r.residualKind, r.residual]).to.deep.equal([Status.GOOD, ResidualKind.UNDERFLOW, 512]);
      const back = await a.execute(0, cdb.read10(0, 2));
      expect(back.data.subarray(0, 512).every(b => b === 7)).to.equal(true);
      expect(back.data.subarray(512).every(b => b === 0)).to.equal(true);
    });
  });
});

describe('embedded engine: INQUIRY on the full disk table', () => {
  it('sets 3PC (SPC-4 6.6.2 byte 5 bit 3) because EXTENDED COPY is supported', async () => {
    const t = await startTarget();
    try {
      const r = await t.session(INIT_A).execute(0, cdb.inquiry(36));
      // TPGS 11b (bits 5..4) beside it: the default asymmetric access is implicit and explicit.
      expect(r.data[5]).to.equal(0x30 | 0x08);
    } finally { await t.stop(); }
  });
});

describe('embedded engine: readiness comes from the CDB rows (ReadyClass)', () => {
  it('a stopped disk serves inventory, mode, reservations and READ CAPACITY, refuses media access', async () => {
    const t = await startTarget();
    try {
      const a = t.session(INIT_A);
      await clearUa(a);
      expect((await a.execute(0, [0x1b, 0, 0, 0, 0x00, 0])).status).to.equal(Status.GOOD); // STOP UNIT
      const tur = await a.execute(0, cdb.tur());
      expect([tur.senseKey, tur.asc, tur.ascq]).to.deep.equal([0x02, 0x04, 0x02]);
      expect((await a.execute(0, cdb.read10(0, 1))).senseKey).to.equal(0x02);
      // GET LBA STATUS shares READ CAPACITY(16)'s opcode but reads the medium's provisioning
      expect((await a.execute(0, [0x9e, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 24, 0, 0])).senseKey).to.equal(0x02);
      expect((await a.execute(0, cdb.readCapacity10())).status).to.equal(Status.GOOD);
      expect((await a.execute(0, [0x1a, 0, 0x3f, 0, 0xff, 0])).status).to.equal(Status.GOOD); // MODE SENSE(6)
      expect((await a.execute(0, [0x5e, 0x00, 0, 0, 0, 0, 0, 0, 0xff, 0])).status).to.equal(Status.GOOD); // PR IN
      expect((await a.execute(0, [0x1b, 0, 0, 0, 0x01, 0])).status).to.equal(Status.GOOD); // START UNIT
      expect((await a.execute(0, cdb.tur())).status).to.equal(Status.GOOD);
    } finally { await t.stop(); }
  });
});
