import { expect } from 'chai';
import { Engine } from '../../../../src/engine/engine';
import { SgBackstore } from '../../../../src/engine/backstores/sg';
import { DeviceConfig, TargetConfig } from '../../../../src/engine/topology';
import { Completion } from '../../../../src/engine/command';
import { Status, TaskAttr, TmfFunction, TmfResponse } from '../../../../src/engine/spec/status';
import { ItNexus } from '../../../../src/engine/nexus';
import { deferredSense, FakeSgDevice, fakeHost, fixedSense } from './fake-sg';

/**
 * The pass-through handler shared one-to-many (SAM-5, SPC-4 5.14, SPC-2 5.5.1): two initiators on
 * one scripted device (fake-sg.ts). CDBs are written out by hand.
 */

const TARGET = 'iqn.2026-11.io.nexus:pt';
const INIT_A = 'iqn.2026-11.example:host-a';
const INIT_B = 'iqn.2026-11.example:host-b';

const be16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
const be32 = (v: number): number[] => [v >>> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
const CDB = {
  tur: () => [0x00, 0, 0, 0, 0, 0],
  inquiry: (evpd = false, page = 0, alloc = 96) => [0x12, evpd ? 1 : 0, page, ...be16(alloc), 0],
  read10: (lba: number, n: number) => [0x28, 0, ...be32(lba), 0, ...be16(n), 0],
  write10: (lba: number, n: number) => [0x2a, 0, ...be32(lba), 0, ...be16(n), 0],
  read16: (lba: number, n: number) => [0x88, 0, ...be32(0), ...be32(lba), ...be32(n), 0, 0],
  write16: (lba: number, n: number) => [0x8a, 0, ...be32(0), ...be32(lba), ...be32(n), 0, 0],
  reportLuns: () => [0xa0, 0, 0, 0, 0, 0, ...be32(256), 0, 0],
  reserve6: () => [0x16, 0, 0, 0, 0, 0],
  release6: () => [0x17, 0, 0, 0, 0, 0],
  modeSelect6: (len: number) => [0x15, 0x10, 0, 0, len, 0],
  // SPC-4 6.16: PERSISTENT RESERVE OUT, parameter list 24 bytes
  prOut: (sa: number, type = 0) => [0x5f, sa, type, 0, 0, 0, 0, 0, 24, 0],
  prIn: (sa: number, alloc: number) => [0x5e, sa, 0, 0, 0, 0, 0, ...be16(alloc), 0],
  space: () => [0x11, 0x01, 0, 0, 1, 0],
};

function prParams(key: bigint, sark = 0n): Uint8Array {
  const b = Buffer.alloc(24);
  b.writeBigUInt64BE(key, 0); b.writeBigUInt64BE(sark, 8);
  return b;
}

function device(name = 'pt0', extra: Partial<DeviceConfig> = {}): DeviceConfig {
  return { name, deviceType: 'passthrough', handler: 'passthrough', path: '/dev/sg0', sizeBytes: 0n, blockSize: 512, writeCache: 'writethrough', thin: false, readOnly: false, ...extra };
}

function target(luns: TargetConfig['luns'] = [{ lun: 0, device: 'pt0', readOnly: false }], extra: Partial<TargetConfig> = {}): TargetConfig {
  return { driver: 'local', name: TARGET, portals: [], groups: [], luns, ...extra };
}

interface Rig { e: Engine; dev: FakeSgDevice; a: ItNexus; b: ItNexus; opened: number }

/** `devs`: the device found when the path is opened again (undefined: nothing there, ENODEV). */
async function rig(o: { fake?: ConstructorParameters<typeof FakeSgDevice>[0]; maxKb?: number; noBlockDriver?: boolean; t?: TargetConfig; devs?: () => FakeSgDevice | undefined; dev?: Partial<DeviceConfig> } = {}): Promise<Rig> {
  const host = fakeHost({ maxKb: o.maxKb, noBlockDriver: o.noBlockDriver });
  const r = { opened: 0 } as Rig;
  r.dev = new FakeSgDevice(o.fake);
  r.e = await Engine.create({ devices: [device('pt0', o.dev)], targets: [o.t ?? target()] }, {
    openBackstore: cfg => SgBackstore.open(cfg, {
      host, retryMs: 0,
      open: () => {
        r.opened++;
        if (r.opened === 1) return r.dev;
        return o.devs?.() ?? { errno: 'ENODEV', message: 'no such device' };
      },
    }),
  });
  r.a = r.e.openNexus({ targetName: TARGET, initiatorName: INIT_A })!;
  r.b = r.e.openNexus({ targetName: TARGET, initiatorName: INIT_B })!;
  // Each nexus starts with POWER ON, RESET (SPC-4 5.14): taken here.
  await run(r.a, CDB.tur());
  await run(r.b, CDB.tur());
  r.dev.received.length = 0;
  return r;
}

/** The fabric's direction: Data-Out given (iSCSI W flag) or not. */
function run(n: ItNexus, cdb: number[], expectedLength = 0, dataOut?: Uint8Array, lun = 0, attr = TaskAttr.UNTAGGED, tag = Math.floor(Math.random() * 1e9)): Promise<Completion> {
  return new Promise(resolve => n.execute({ lun, cdb: Uint8Array.from(cdb), tag, attr, expectedLength, dataOut }, resolve));
}

/** Waits (at most 5 s) for `cond`: the reopen of a gone device probes it on the event loop. */
async function until(cond: () => boolean): Promise<void> {
  for (const t0 = Date.now(); !cond() && Date.now() - t0 < 5000;) await new Promise(res => setTimeout(res, 2));
}

/** Lets the commands submitted so far reach the (held) device. */
const settle = (): Promise<void> => new Promise(res => setTimeout(res, 5));

const kcq = (c: Completion): number[] => (c.sense ? [c.sense[2] & 0x0f, c.sense[12], c.sense[13]] : []);

describe('engine/passthrough: a real SCSI device shared one-to-many', () => {
  it('at open: INQUIRY, READ CAPACITY(16), Block Limits; the unit takes the device\'s block size and capacity', async () => {
    const r = await rig({ fake: { blockSize: 4096, blocks: 100, maxTransferBlocks: 32 } });
    try {
      const lu = r.e.units.get('pt0')!;
      expect([lu.blockSize, Number(lu.blocks), lu.type]).to.deep.equal([4096, 100, 0]);
      const store = lu.backstore as SgBackstore;
      // 32 blocks of 4096 from B0h, under the host's max_hw_sectors_kb of 1024
      expect(store.maxTransferBytes).to.equal(32 * 4096);
      expect(r.dev.depth).to.equal(16);
    } finally { await r.e.close(); }
  });

  it('at open: without a Block Limits maximum, the host adapter\'s max_hw_sectors_kb is the limit (not sd\'s max_sectors_kb), above 512 KiB too', async () => {
    const r = await rig({ maxKb: 1280 });
    try {
      expect((r.e.units.get('pt0')!.backstore as SgBackstore).maxTransferBytes).to.equal(1280 * 1024);
      // a 1 MiB READ(10) passes to the device
      expect((await run(r.a, CDB.read10(0, 2048), 1024 * 1024)).status).to.equal(Status.GOOD);
      expect(r.dev.opcodes()).to.deep.equal([0x28]);
    } finally { await r.e.close(); }
  });

  it('at open: a disk with no block driver bound (no sysfs queue) takes the limit the sg driver gives (BLKSECTGET); 1 MiB reads and writes pass', async () => {
    // scsi_debug without sd (Debian 6.1): the node's queue takes 2560 sectors (1.25 MiB); the
    // 512 KiB default would refuse the 1 MiB READ(16) of iscsi-perf -b 2048 with INVALID FIELD IN CDB.
    const r = await rig({ noBlockDriver: true, fake: { blocks: 8192, queueMaxBytes: 1280 * 1024 } });
    try {
      const store = r.e.units.get('pt0')!.backstore as SgBackstore;
      expect(store.maxTransferBytes).to.equal(1280 * 1024);
      // SBC-4 6.6.4: the Block Limits page says so (2560 blocks of 512)
      const b0 = await run(r.a, CDB.inquiry(true, 0xb0, 64), 64);
      expect(Buffer.from(b0.data!).readUInt32BE(8)).to.equal(2560);
      const data = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < data.length; i += 4) data.writeUInt32BE(i, i);
      const wr = await run(r.a, CDB.write16(100, 2048), data.length, data);
      expect(wr.status).to.equal(Status.GOOD);
      const rd = await run(r.b, CDB.read16(100, 2048), data.length);
      expect(rd.status).to.equal(Status.GOOD);
      expect(Buffer.from(rd.data!).equals(data)).to.equal(true);
      expect(r.dev.opcodes()).to.deep.equal([0x12, 0x8a, 0x88]);
      // one block more than the queue takes is refused before the device (TRANSFER LENGTH, byte 10)
      const over = await run(r.a, CDB.read16(0, 2561), 2561 * 512);
      expect(kcq(over)).to.deep.equal([0x05, 0x24, 0x00]);
      expect([over.sense![15], over.sense![16], over.sense![17]]).to.deep.equal([0xc0, 0, 10]);
      expect(r.dev.received.length).to.equal(3);
    } finally { await r.e.close(); }
  });

  it('at open: a node that gives no limit and has no sysfs queue gets 512 KiB', async () => {
    const r = await rig({ noBlockDriver: true });
    try {
      expect((r.e.units.get('pt0')!.backstore as SgBackstore).maxTransferBytes).to.equal(512 * 1024);
    } finally { await r.e.close(); }
  });

  it('data passes through both ways; the Data-In residual is what the device did not move', async () => {
    const r = await rig();
    try {
      const data = Buffer.alloc(1024, 0x5a);
      expect((await run(r.a, CDB.write10(10, 2), 1024, data)).status).to.equal(Status.GOOD);
      expect(r.dev.data.subarray(10 * 512, 12 * 512).equals(data)).to.equal(true);
      const rd = await run(r.b, CDB.read10(10, 2), 1024);
      expect(rd.status).to.equal(Status.GOOD);
      expect(Buffer.from(rd.data!).equals(data)).to.equal(true);
      expect(r.dev.opcodes()).to.deep.equal([0x2a, 0x28]);
      // the device's own CHECK CONDITION, sense bytes unchanged
      const beyond = await run(r.a, CDB.read10(4000, 1), 512);
      expect(Buffer.from(beyond.sense!).equals(fixedSense(0x05, 0x21, 0x00))).to.equal(true);
    } finally { await r.e.close(); }
  });

  it('REPORT LUNS comes from the target\'s map and never reaches the device', async () => {
    const r = await rig({ t: target([{ lun: 0, device: 'pt0', readOnly: false }, { lun: 5, device: 'pt0', readOnly: true }]) });
    try {
      const rl = await run(r.a, CDB.reportLuns(), 256);
      expect(rl.status).to.equal(Status.GOOD);
      expect(Buffer.from(rl.data!).readUInt32BE(0)).to.equal(16); // two LUNs
      expect([rl.data![9], rl.data![17]]).to.deep.equal([0, 5]);
      expect(r.dev.opcodes()).to.not.include(0xa0);
    } finally { await r.e.close(); }
  });

  it('RESERVE(6) by A: B gets RESERVATION CONFLICT before the device; neither reaches the device', async () => {
    const r = await rig();
    try {
      expect((await run(r.a, CDB.reserve6())).status).to.equal(Status.GOOD);
      expect((await run(r.b, CDB.read10(0, 1), 512)).status).to.equal(Status.RESERVATION_CONFLICT);
      expect((await run(r.a, CDB.read10(0, 1), 512)).status).to.equal(Status.GOOD);
      expect((await run(r.a, CDB.release6())).status).to.equal(Status.GOOD);
      expect((await run(r.b, CDB.read10(0, 1), 512)).status).to.equal(Status.GOOD);
      expect(r.dev.opcodes()).to.deep.equal([0x28, 0x28]);
    } finally { await r.e.close(); }
  });

  it('PR REGISTER and RESERVE (Write Exclusive) by A: B\'s write conflicts, its read passes; PR never reaches the device', async () => {
    const r = await rig();
    try {
      expect((await run(r.a, CDB.prOut(0x00), 24, prParams(0n, 0xaan))).status).to.equal(Status.GOOD); // REGISTER
      expect((await run(r.a, CDB.prOut(0x01, 0x01), 24, prParams(0xaan))).status).to.equal(Status.GOOD); // RESERVE, WE
      expect((await run(r.b, CDB.write10(0, 1), 512, Buffer.alloc(512))).status).to.equal(Status.RESERVATION_CONFLICT);
      expect((await run(r.b, CDB.read10(0, 1), 512)).status).to.equal(Status.GOOD);
      expect((await run(r.a, CDB.write10(0, 1), 512, Buffer.alloc(512))).status).to.equal(Status.GOOD);
      expect(r.dev.opcodes()).to.deep.equal([0x28, 0x2a]);
    } finally { await r.e.close(); }
  });

  it('PERSISTENT RESERVE IN READ RESERVATION shows A\'s reservation to both initiators, with a large allocation length (libiscsi ProutReserve)', async () => {
    const r = await rig();
    try {
      expect((await run(r.a, CDB.prOut(0x06), 24, prParams(0n, 0xbbn))).status).to.equal(Status.GOOD); // REGISTER AND IGNORE EXISTING KEY
      expect((await run(r.a, CDB.prOut(0x01, 0x01), 24, prParams(0xbbn))).status).to.equal(Status.GOOD); // RESERVE, WE
      for (const n of [r.a, r.b]) {
        const rr = await run(n, CDB.prIn(0x01, 16384), 16384);
        expect(rr.status).to.equal(Status.GOOD);
        const d = Buffer.from(rr.data!);
        // SPC-4 6.15.3.3: ADDITIONAL LENGTH 16, the holder's key, TYPE 1
        expect([d.readUInt32BE(4), d.readBigUInt64BE(8), d[21] & 0x0f]).to.deep.equal([16, 0xbbn, 0x01]);
      }
      expect(r.dev.opcodes()).to.deep.equal([]);
    } finally { await r.e.close(); }
  });

  it('a unit attention of the device reaches every I_T nexus: the one that caught it with the device\'s sense, the others from the engine', async () => {
    const r = await rig();
    try {
      r.dev.pendingUa = [0x2a, 0x09]; // CAPACITY DATA HAS CHANGED
      const a = await run(r.a, CDB.read10(0, 1), 512);
      expect(a.status).to.equal(Status.CHECK_CONDITION);
      expect(Buffer.from(a.sense!).equals(fixedSense(0x06, 0x2a, 0x09))).to.equal(true);
      const before = r.dev.received.length;
      const b = await run(r.b, CDB.read10(0, 1), 512);
      expect(kcq(b)).to.deep.equal([0x06, 0x2a, 0x09]);
      expect(r.dev.received.length).to.equal(before); // B's was answered by the engine
      expect((await run(r.a, CDB.read10(0, 1), 512)).status).to.equal(Status.GOOD);
      expect((await run(r.b, CDB.read10(0, 1), 512)).status).to.equal(Status.GOOD);
    } finally { await r.e.close(); }
  });

  it('MODE SELECT by A passes down and gives B MODE PARAMETERS CHANGED (2Ah/01h)', async () => {
    const r = await rig();
    try {
      expect((await run(r.a, CDB.modeSelect6(4), 4, Buffer.alloc(4))).status).to.equal(Status.GOOD);
      expect(r.dev.opcodes()).to.deep.equal([0x15]);
      expect(kcq(await run(r.b, CDB.tur()))).to.deep.equal([0x06, 0x2a, 0x01]);
      expect((await run(r.a, CDB.tur())).status).to.equal(Status.GOOD);
    } finally { await r.e.close(); }
  });

  it('LUN RESET by A: answered after the command in flight finished, the device reset, B told; the device\'s own reset UA is not passed on twice', async () => {
    const r = await rig();
    try {
      r.dev.hold = true;
      const inFlight = run(r.b, CDB.read10(0, 1), 512);
      await new Promise(res => setImmediate(res));
      let answered = false;
      const tmf = r.a.taskManagement({ fn: TmfFunction.LOGICAL_UNIT_RESET, lun: 0 }).then(x => { answered = true; return x; });
      await new Promise(res => setTimeout(res, 20));
      expect(answered).to.equal(false); // sg cannot abort it at the device: the reset waits for it
      r.dev.release();
      expect(await tmf).to.equal(TmfResponse.FUNCTION_COMPLETE);
      expect(r.dev.resets).to.deep.equal(['device']);
      const c = await inFlight;
      expect(c.status).to.equal(Status.TASK_ABORTED);
      expect(kcq(await run(r.b, CDB.tur()))).to.deep.equal([0x06, 0x29, 0x03]);
      expect(kcq(await run(r.a, CDB.tur()))).to.deep.equal([0x06, 0x29, 0x03]);
      // the device's reset UA was taken by the engine after the reset: both now see GOOD
      expect((await run(r.a, CDB.tur())).status).to.equal(Status.GOOD);
      expect((await run(r.b, CDB.tur())).status).to.equal(Status.GOOD);
    } finally { await r.e.close(); }
  });

  it('a CD/DVD drive: READ CAPACITY(10) at open, 2048-byte blocks; MMC rows pass, a disk\'s WRITE(10) is refused', async () => {
    const r = await rig({ fake: { type: 5, blockSize: 2048, blocks: 1000 } });
    try {
      const lu = r.e.units.get('pt0')!;
      expect([lu.type, lu.blockSize, Number(lu.blocks)]).to.deep.equal([5, 2048, 1000]);
      // MMC-6 READ TOC/PMA/ATIP, format 0, allocation length 12
      const toc = await run(r.a, [0x43, 0, 0, 0, 0, 0, 0, 0, 12, 0], 12);
      expect([toc.status, ...Buffer.from(toc.data!)]).to.deep.equal([Status.GOOD, 0, 2, 1, 1]);
      expect(kcq(await run(r.b, CDB.write10(0, 1), 2048, Buffer.alloc(2048)))).to.deep.equal([0x05, 0x20, 0x00]);
      expect(r.dev.opcodes()).to.deep.equal([0x43]);
    } finally { await r.e.close(); }
  });

  it('a medium changer: SMC rows pass (MOVE MEDIUM), conflict with another initiator\'s RESERVE; a disk\'s READ(10) is refused', async () => {
    const r = await rig({ fake: { type: 8 } });
    try {
      expect(r.e.units.get('pt0')!.type).to.equal(8);
      // SMC-3 6.6 MOVE MEDIUM: transport 0, source 1000 (3E8h), destination 500 (1F4h)
      const move = [0xa5, 0, 0, 0, 0x03, 0xe8, 0x01, 0xf4, 0, 0, 0, 0];
      expect((await run(r.a, move)).status).to.equal(Status.GOOD);
      expect((await run(r.b, CDB.reserve6())).status).to.equal(Status.GOOD);
      expect((await run(r.a, move)).status).to.equal(Status.RESERVATION_CONFLICT);
      expect((await run(r.b, CDB.release6())).status).to.equal(Status.GOOD);
      expect(kcq(await run(r.a, CDB.read10(0, 1), 512))).to.deep.equal([0x05, 0x20, 0x00]);
      expect(r.dev.opcodes()).to.deep.equal([0xa5]);
    } finally { await r.e.close(); }
  });

  describe('task management with two initiators (SAM-5 7): the sg driver cannot abort at the device, so each function waits for what it affects', () => {
    it('ABORT TASK by A: answered only after its command left the device; B\'s command completes; no device reset, no unit attention', async () => {
      const r = await rig();
      try {
        r.dev.hold = true;
        const aCmd = run(r.a, CDB.read10(0, 1), 512, undefined, 0, TaskAttr.SIMPLE, 41);
        const bCmd = run(r.b, CDB.read10(1, 1), 512, undefined, 0, TaskAttr.SIMPLE, 42);
        await settle();
        let answered = false;
        const tmf = r.a.taskManagement({ fn: TmfFunction.ABORT_TASK, lun: 0, refTag: 41 }).then(x => { answered = true; return x; });
        await settle();
        expect(answered).to.equal(false);
        r.dev.release();
        expect(await tmf).to.equal(TmfResponse.FUNCTION_COMPLETE);
        expect((await aCmd).status).to.equal(Status.TASK_ABORTED);
        expect((await bCmd).status).to.equal(Status.GOOD);
        expect(r.dev.resets).to.deep.equal([]);
        expect((await run(r.b, CDB.tur())).status).to.equal(Status.GOOD);
        expect((await run(r.a, CDB.tur())).status).to.equal(Status.GOOD);
        // a tag A has no task for
        expect(await r.a.taskManagement({ fn: TmfFunction.ABORT_TASK, lun: 0, refTag: 42 })).to.equal(TmfResponse.TASK_DOES_NOT_EXIST);
      } finally { await r.e.close(); }
    });

    it('ABORT TASK SET by A: A\'s commands aborted after the device finished them, B\'s complete untouched', async () => {
      const r = await rig();
      try {
        r.dev.hold = true;
        const a1 = run(r.a, CDB.read10(0, 1), 512, undefined, 0, TaskAttr.SIMPLE);
        const a2 = run(r.a, CDB.write10(2, 1), 512, Buffer.alloc(512, 0xa2), 0, TaskAttr.SIMPLE);
        const b1 = run(r.b, CDB.read10(1, 1), 512, undefined, 0, TaskAttr.SIMPLE);
        await settle();
        const tmf = r.a.taskManagement({ fn: TmfFunction.ABORT_TASK_SET, lun: 0 });
        await settle();
        r.dev.release();
        expect(await tmf).to.equal(TmfResponse.FUNCTION_COMPLETE);
        expect([(await a1).status, (await a2).status, (await b1).status]).to.deep.equal([Status.TASK_ABORTED, Status.TASK_ABORTED, Status.GOOD]);
        expect(r.dev.resets).to.deep.equal([]);
        expect((await run(r.b, CDB.tur())).status).to.equal(Status.GOOD);
      } finally { await r.e.close(); }
    });

    it('CLEAR TASK SET by A: every task of the unit aborted; B told COMMANDS CLEARED BY ANOTHER INITIATOR (2Fh/00h); no device reset', async () => {
      const r = await rig();
      try {
        r.dev.hold = true;
        const a1 = run(r.a, CDB.read10(0, 1), 512, undefined, 0, TaskAttr.SIMPLE);
        const b1 = run(r.b, CDB.read10(1, 1), 512, undefined, 0, TaskAttr.SIMPLE);
        await settle();
        const tmf = r.a.taskManagement({ fn: TmfFunction.CLEAR_TASK_SET, lun: 0 });
        await settle();
        r.dev.release();
        expect(await tmf).to.equal(TmfResponse.FUNCTION_COMPLETE);
        expect([(await a1).status, (await b1).status]).to.deep.equal([Status.TASK_ABORTED, Status.TASK_ABORTED]);
        expect(kcq(await run(r.b, CDB.tur()))).to.deep.equal([0x06, 0x2f, 0x00]);
        expect((await run(r.a, CDB.tur())).status).to.equal(Status.GOOD);
        expect(r.dev.resets).to.deep.equal([]);
      } finally { await r.e.close(); }
    });

    it('I_T NEXUS RESET by A: A\'s commands aborted and its RESERVE released; A told I_T NEXUS LOSS OCCURRED (29h/07h), B nothing', async () => {
      const r = await rig();
      try {
        expect((await run(r.a, CDB.reserve6())).status).to.equal(Status.GOOD);
        expect((await run(r.b, CDB.read10(0, 1), 512)).status).to.equal(Status.RESERVATION_CONFLICT);
        r.dev.hold = true;
        const a1 = run(r.a, CDB.read10(0, 1), 512, undefined, 0, TaskAttr.SIMPLE);
        await settle();
        const tmf = r.a.taskManagement({ fn: TmfFunction.I_T_NEXUS_RESET, lun: 0 });
        await settle();
        r.dev.release();
        expect(await tmf).to.equal(TmfResponse.FUNCTION_COMPLETE);
        expect((await a1).status).to.equal(Status.TASK_ABORTED);
        expect((await run(r.b, CDB.read10(0, 1), 512)).status).to.equal(Status.GOOD);
        expect(kcq(await run(r.a, CDB.tur()))).to.deep.equal([0x06, 0x29, 0x07]);
        expect(r.dev.resets).to.deep.equal([]);
        expect(r.dev.opcodes().filter(op => op === 0x16 || op === 0x17)).to.deep.equal([]);
      } finally { await r.e.close(); }
    });

    it('TARGET RESET by A: the device reset once; both told BUS DEVICE RESET FUNCTION OCCURRED (29h/03h), not the device\'s UA again', async () => {
      const r = await rig();
      try {
        r.dev.hold = true;
        const b1 = run(r.b, CDB.read10(1, 1), 512, undefined, 0, TaskAttr.SIMPLE);
        await settle();
        const tmf = r.a.taskManagement({ fn: TmfFunction.TARGET_WARM_RESET, lun: 0 });
        await settle();
        r.dev.release();
        expect(await tmf).to.equal(TmfResponse.FUNCTION_COMPLETE);
        expect((await b1).status).to.equal(Status.TASK_ABORTED);
        expect(r.dev.resets).to.deep.equal(['device']);
        expect(kcq(await run(r.a, CDB.tur()))).to.deep.equal([0x06, 0x29, 0x03]);
        expect(kcq(await run(r.b, CDB.tur()))).to.deep.equal([0x06, 0x29, 0x03]);
        expect((await run(r.b, CDB.tur())).status).to.equal(Status.GOOD);
      } finally { await r.e.close(); }
    });
  });

  it('task attributes (SAM-5 8.6): B\'s ORDERED command waits for A\'s SIMPLE one at the device; HEAD OF QUEUE does not wait', async () => {
    const r = await rig();
    try {
      r.dev.hold = true;
      const a1 = run(r.a, CDB.read10(0, 1), 512, undefined, 0, TaskAttr.SIMPLE);
      await settle();
      const bOrdered = run(r.b, CDB.write10(3, 1), 512, Buffer.alloc(512, 0xb3), 0, TaskAttr.ORDERED);
      await settle();
      expect(r.dev.opcodes()).to.deep.equal([0x28]); // the ORDERED write is not at the device yet
      const bHead = run(r.b, CDB.tur(), 0, undefined, 0, TaskAttr.HEAD_OF_QUEUE);
      await settle();
      expect(r.dev.opcodes()).to.deep.equal([0x28, 0x00]); // HEAD OF QUEUE passes at once
      r.dev.release();
      expect((await a1).status).to.equal(Status.GOOD);
      expect((await bHead).status).to.equal(Status.GOOD);
      await settle();
      r.dev.release();
      expect((await bOrdered).status).to.equal(Status.GOOD);
      expect(r.dev.opcodes()).to.deep.equal([0x28, 0x00, 0x2a]);
    } finally { await r.e.close(); }
  });

  it('LUN masking: a group maps the device only for A; B gets LOGICAL UNIT NOT SUPPORTED and REPORT LUNS without it, before the device', async () => {
    const t = target([], { groups: [{ name: 'a-only', initiators: [INIT_A], luns: [{ lun: 0, device: 'pt0', readOnly: false }] }] });
    const host = fakeHost();
    const dev = new FakeSgDevice();
    const e = await Engine.create({ devices: [device('pt0')], targets: [t] }, { openBackstore: cfg => SgBackstore.open(cfg, { host, open: () => dev }) });
    try {
      const a = e.openNexus({ targetName: TARGET, initiatorName: INIT_A })!;
      const b = e.openNexus({ targetName: TARGET, initiatorName: INIT_B })!;
      await run(a, CDB.tur());
      dev.received.length = 0;
      expect((await run(a, CDB.read10(0, 1), 512)).status).to.equal(Status.GOOD);
      expect(kcq(await run(b, CDB.read10(0, 1), 512))).to.deep.equal([0x05, 0x25, 0x00]);
      expect(kcq(await run(b, CDB.write10(0, 1), 512, Buffer.alloc(512)))).to.deep.equal([0x05, 0x25, 0x00]);
      const luns = (c: Completion): number => Buffer.from(c.data!).readUInt32BE(0) / 8;
      expect(luns(await run(a, CDB.reportLuns(), 256))).to.equal(1);
      expect(luns(await run(b, CDB.reportLuns(), 256))).to.equal(0);
      expect(dev.opcodes()).to.deep.equal([0x28]);
    } finally { await e.close(); }
  });

  it('a deferred error (SPC-4 4.5.5) goes to the nexus that wrote, not to B who caught it; B\'s command runs again', async () => {
    const r = await rig();
    try {
      expect((await run(r.a, CDB.write10(5, 1), 512, Buffer.alloc(512, 0x5a))).status).to.equal(Status.GOOD);
      // the write failed later, at the medium: the device tells the next command, B's read
      r.dev.pendingDeferred = deferredSense(0x03, 0x0c, 0x00);
      const b = await run(r.b, CDB.read10(5, 1), 512);
      expect(b.status).to.equal(Status.GOOD);
      expect(Buffer.from(b.data!).every(x => x === 0x5a)).to.equal(true);
      expect(r.dev.opcodes()).to.deep.equal([0x2a, 0x28, 0x28]);
      // A's next command passed to the device gets it, response code 71h as the device said; only once
      const a = await run(r.a, CDB.read10(0, 1), 512);
      expect([a.status, a.sense![0] & 0x7f, ...kcq(a)]).to.deep.equal([Status.CHECK_CONDITION, 0x71, 0x03, 0x0c, 0x00]);
      expect(r.dev.opcodes()).to.deep.equal([0x2a, 0x28, 0x28]);
      expect((await run(r.a, CDB.read10(0, 1), 512)).status).to.equal(Status.GOOD);
      // caught by the writer itself: reported to it at once
      expect((await run(r.b, CDB.write10(6, 1), 512, Buffer.alloc(512))).status).to.equal(Status.GOOD);
      r.dev.pendingDeferred = deferredSense(0x03, 0x0c, 0x00);
      expect(kcq(await run(r.b, CDB.tur()))).to.deep.equal([0x03, 0x0c, 0x00]);
      expect((await run(r.a, CDB.tur())).status).to.equal(Status.GOOD);
    } finally { await r.e.close(); }
  });

  it('a deferred error kept for A is dropped by a LUN reset', async () => {
    const r = await rig();
    try {
      expect((await run(r.a, CDB.write10(5, 1), 512, Buffer.alloc(512))).status).to.equal(Status.GOOD);
      r.dev.pendingDeferred = deferredSense(0x03, 0x0c, 0x00);
      expect((await run(r.b, CDB.tur())).status).to.equal(Status.GOOD);
      expect(await r.b.taskManagement({ fn: TmfFunction.LOGICAL_UNIT_RESET, lun: 0 })).to.equal(TmfResponse.FUNCTION_COMPLETE);
      expect(kcq(await run(r.a, CDB.tur()))).to.deep.equal([0x06, 0x29, 0x03]);
      expect((await run(r.a, CDB.read10(0, 1), 512)).status).to.equal(Status.GOOD);
    } finally { await r.e.close(); }
  });

  it('a read-only mapping refuses writes from the table\'s writes flag, before the device', async () => {
    const r = await rig({ t: target([{ lun: 0, device: 'pt0', readOnly: true }]) });
    try {
      const w = await run(r.a, CDB.write10(0, 1), 512, Buffer.alloc(512));
      expect(kcq(w)).to.deep.equal([0x07, 0x27, 0x00]);
      expect((await run(r.a, CDB.read10(0, 1), 512)).status).to.equal(Status.GOOD);
      expect(r.dev.opcodes()).to.deep.equal([0x28]);
    } finally { await r.e.close(); }
  });

  it('a CDB malformed for the type, or of another type\'s command set, is refused before the device', async () => {
    const r = await rig();
    try {
      // READ(10) with a reserved bit of byte 6 set: INVALID FIELD IN CDB
      expect(kcq(await run(r.a, [0x28, 0, 0, 0, 0, 0, 0x80, 0, 1, 0], 512))).to.deep.equal([0x05, 0x24, 0x00]);
      // SPACE (SSC) to a disk: INVALID COMMAND OPERATION CODE
      expect(kcq(await run(r.a, CDB.space()))).to.deep.equal([0x05, 0x20, 0x00]);
      // a vendor-specific opcode
      expect(kcq(await run(r.a, [0xc5, 0, 0, 0, 0, 0]))).to.deep.equal([0x05, 0x20, 0x00]);
      expect(r.dev.received).to.deep.equal([]);
    } finally { await r.e.close(); }
  });

  it('vendor-specific opcodes pass only with allowVendorCommands; direction and length from the command, reservations and read-only mappings as for a write', async () => {
    const off = await rig();
    try {
      expect(kcq(await run(off.a, [0xc1, 0, 0, 0, 0, 0], 8))).to.deep.equal([0x05, 0x20, 0x00]);
      expect(off.dev.received).to.deep.equal([]);
    } finally { await off.e.close(); }
    const r = await rig({ dev: { allowVendorCommands: true }, t: target([{ lun: 0, device: 'pt0', readOnly: false }, { lun: 1, device: 'pt0', readOnly: true }]) });
    try {
      // Data-In of the expected length, the CDB as it came
      const rd = await run(r.a, [0xc1, 0, 0, 0, 0, 0], 8);
      expect([rd.status, Buffer.from(rd.data!).toString('latin1')]).to.deep.equal([Status.GOOD, 'VNDRLOG1']);
      // Data-Out: the command came with its data
      expect((await run(r.b, [0xc2, 0, 0, 0, 8, 0, 0, 0, 0, 0], 8, Buffer.from('VNDRLOG2', 'latin1'))).status).to.equal(Status.GOOD);
      expect(r.dev.vendorLog.toString('latin1')).to.equal('VNDRLOG2');
      // no data at all
      expect((await run(r.a, [0xc3, 0, 0, 0, 0, 0])).status).to.equal(Status.GOOD);
      expect(r.dev.received).to.deep.equal([[0xc1, 0, 0, 0, 0, 0], [0xc2, 0, 0, 0, 8, 0, 0, 0, 0, 0], [0xc3, 0, 0, 0, 0, 0]]);
      r.dev.received.length = 0;
      // what the command does is unknown: a read-only mapping refuses it, another's RESERVE conflicts
      expect(kcq(await run(r.a, [0xc1, 0, 0, 0, 0, 0], 8, undefined, 1))).to.deep.equal([0x07, 0x27, 0x00]);
      expect((await run(r.a, CDB.reserve6())).status).to.equal(Status.GOOD);
      expect((await run(r.b, [0xc1, 0, 0, 0, 0, 0], 8)).status).to.equal(Status.RESERVATION_CONFLICT);
      expect((await run(r.a, CDB.release6())).status).to.equal(Status.GOOD);
      // an unknown opcode outside C0h..FFh is still refused; so is a vendor transfer above the device's limit
      expect(kcq(await run(r.a, [0x02, 0, 0, 0, 0, 0]))).to.deep.equal([0x05, 0x20, 0x00]);
      expect(kcq(await run(r.a, [0xc1, 0, 0, 0, 0, 0], 4 * 1024 * 1024))).to.deep.equal([0x05, 0x24, 0x00]);
      expect(r.dev.received).to.deep.equal([]);
    } finally { await r.e.close(); }
  });

  it('a transfer above the device\'s limit is refused; Block Limits reports the limit', async () => {
    const r = await rig({ maxKb: 64 });
    try {
      const rd = await run(r.a, CDB.read10(0, 129), 129 * 512);
      expect(kcq(rd)).to.deep.equal([0x05, 0x24, 0x00]);
      // SPC-4 4.5.2.4.2: SKSV, C/D (in the CDB), FIELD POINTER byte 7: READ(10)'s TRANSFER LENGTH
      expect([rd.sense![15] & 0xc0, rd.sense!.readUInt16BE(16)]).to.deep.equal([0xc0, 7]);
      // a write as large, its Data-Out all there (as a session with a large MaxBurstLength sends it)
      const wr = await run(r.b, CDB.write10(0, 129), 129 * 512, Buffer.alloc(129 * 512, 0xee));
      expect([...kcq(wr), wr.sense!.readUInt16BE(16)]).to.deep.equal([0x05, 0x24, 0x00, 7]);
      // at the limit it passes
      expect((await run(r.a, CDB.read10(0, 128), 128 * 512)).status).to.equal(Status.GOOD);
      expect(r.dev.opcodes()).to.deep.equal([0x28]);
      expect(r.dev.data.subarray(0, 512).every(x => x === 0)).to.equal(true);
      r.dev.received.length = 0;
      const b0 = await run(r.a, CDB.inquiry(true, 0xb0, 64), 64);
      expect(b0.status).to.equal(Status.GOOD);
      expect(Buffer.from(b0.data!).readUInt32BE(8)).to.equal(128); // 64 KiB in 512-byte blocks
    } finally { await r.e.close(); }
  });

  it('INQUIRY passes through; page 83h keeps the device\'s logical unit designator and gets the target port\'s', async () => {
    const r = await rig();
    try {
      const std = await run(r.a, CDB.inquiry(), 96);
      const s = Buffer.from(std.data!);
      expect(s.subarray(8, 16).toString()).to.equal('FAKE    ');
      // the target's claims where the device (VERSION 07h, TPGS 01b, MULTIP, SPC-5/SBC-4) would
      // describe its own port and standards: SPC-4, HISUP, no TPGS, CMDQUE, SAM-5 iSCSI SPC-4 SBC-3
      expect([s[2], s[3], s[5], s[6], s[7]]).to.deep.equal([0x06, 0x12, 0x00, 0x00, 0x02]);
      expect([0, 1, 2, 3, 4].map(i => s.readUInt16BE(58 + 2 * i))).to.deep.equal([0x00a0, 0x0960, 0x0460, 0x04c0, 0]);
      // a short allocation length: only the bytes asked for, VERSION still the target's
      const short = Buffer.from((await run(r.b, CDB.inquiry(false, 0, 5), 5)).data!);
      expect([short.length, short[2]]).to.deep.equal([5, 0x06]);
      // SPC-4 6.6.1: a PAGE CODE without EVPD is refused before the device
      const n = r.dev.received.length;
      expect(kcq(await run(r.a, CDB.inquiry(false, 0x83), 96))).to.deep.equal([0x05, 0x24, 0x00]);
      expect(r.dev.received.length).to.equal(n);
      const p = Buffer.from((await run(r.a, CDB.inquiry(true, 0x83, 255), 255)).data!);
      expect(p[1]).to.equal(0x83);
      const descs: number[][] = [];
      for (let i = 4; i < 4 + p.readUInt16BE(2); i += 4 + p[i + 3]) descs.push([(p[i + 1] >> 4) & 3, p[i + 1] & 0x0f]);
      // NAA of the device (LU), then relative target port, target port group, SCSI name of ours
      expect(descs).to.deep.equal([[0, 3], [1, 4], [1, 5], [1, 8]]);
      expect(p.subarray(8, 24).equals(Buffer.from([0x60, 0x0f, 0xac, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]))).to.equal(true);
    } finally { await r.e.close(); }
  });

  it('host and driver errors become ABORTED COMMAND, never GOOD', async () => {
    const r = await rig();
    try {
      r.dev.hostErrors.push(0x03, 0x07, 0x06);
      expect(kcq(await run(r.a, CDB.read10(0, 1), 512))).to.deep.equal([0x0b, 0x08, 0x01]); // DID_TIME_OUT
      expect(kcq(await run(r.a, CDB.read10(0, 1), 512))).to.deep.equal([0x0b, 0x08, 0x00]); // DID_ERROR
      expect(kcq(await run(r.a, CDB.read10(0, 1), 512))).to.deep.equal([0x0b, 0x08, 0x00]); // DID_PARITY
      r.dev.driverErrors.push(0x06, 0x04);
      expect(kcq(await run(r.a, CDB.tur()))).to.deep.equal([0x0b, 0x08, 0x01]); // DRIVER_TIMEOUT
      expect(kcq(await run(r.a, CDB.tur()))).to.deep.equal([0x0b, 0x08, 0x00]); // DRIVER_ERROR
      expect((await run(r.a, CDB.tur())).status).to.equal(Status.GOOD);
    } finally { await r.e.close(); }
  });

  it('a device that goes away fails its commands with LOGICAL UNIT NOT SUPPORTED, and after it returns every nexus is told', async () => {
    const again = new FakeSgDevice();
    let reopen = false;
    const r = await rig({ devs: () => (reopen ? again : undefined) });
    try {
      r.dev.gone = true;
      expect(kcq(await run(r.a, CDB.read10(0, 1), 512))).to.deep.equal([0x05, 0x25, 0x00]);
      const n = r.dev.received.length;
      expect(kcq(await run(r.b, CDB.read10(0, 1), 512))).to.deep.equal([0x05, 0x25, 0x00]);
      expect(r.dev.received.length).to.equal(n); // answered without the device
      expect(r.dev.closed).to.equal(true);
      reopen = true;
      await run(r.a, CDB.tur()); // starts the reopen
      const store = r.e.units.get('pt0')!.backstore as SgBackstore;
      await until(() => !store.gone);
      expect(kcq(await run(r.a, CDB.tur()))).to.deep.equal([0x06, 0x29, 0x00]);
      expect(kcq(await run(r.b, CDB.tur()))).to.deep.equal([0x06, 0x29, 0x00]);
      expect((await run(r.b, CDB.read10(0, 1), 512)).status).to.equal(Status.GOOD);
      expect(again.opcodes()).to.include(0x28);
    } finally { await r.e.close(); }
  });

  it('a device that comes back as another device (another serial number) stays gone', async () => {
    const other = new FakeSgDevice({ serial: 'OTHER001' });
    const r = await rig({ devs: () => other });
    try {
      r.dev.gone = true;
      expect(kcq(await run(r.a, CDB.tur()))).to.deep.equal([0x05, 0x25, 0x00]);
      await run(r.a, CDB.tur()); // starts the reopen, which probes the device and closes it
      await until(() => other.closed);
      expect(kcq(await run(r.a, CDB.tur()))).to.deep.equal([0x05, 0x25, 0x00]);
      expect(other.closed).to.equal(true);
    } finally { await r.e.close(); }
  });

  it('a tape drive: READ BLOCK LIMITS at open; SPC-4 commands pass, a disk\'s READ(10) is refused', async () => {
    const r = await rig({ fake: { type: 1 } });
    try {
      const lu = r.e.units.get('pt0')!;
      expect(lu.type).to.equal(1);
      expect((lu.backstore as SgBackstore).probe.maxBlockLength).to.equal(0xffff);
      const inq = await run(r.a, CDB.inquiry(), 96);
      expect([inq.data![0] & 0x1f, inq.data![1] & 0x80]).to.deep.equal([1, 0x80]);
      expect((await run(r.a, CDB.tur())).status).to.equal(Status.GOOD);
      expect(kcq(await run(r.a, CDB.read10(0, 1), 512))).to.deep.equal([0x05, 0x20, 0x00]);
      expect(r.dev.opcodes()).to.deep.equal([0x12, 0x00]);
    } finally { await r.e.close(); }
  });
});
