import { expect } from 'chai';
import { Engine } from '../../../../src/engine/engine';
import { DeviceRegistry, deviceTypes } from '../../../../src/engine/device-registry';
import { DISK, DISK_THICK } from '../../../../src/engine/devices/disk';
import { coreBindings } from '../../../../src/engine/core-commands';
import { spcBindings } from '../../../../src/engine/spc';
import { ModePages, SPC_MODE_PAGES } from '../../../../src/engine/mode-page-store';
import { deviceType } from '../../../../src/engine/types';
import { SPC_VPD_PAGES } from '../../../../src/engine/vpd';
import { PeripheralType, Status } from '../../../../src/engine/spec/status';
import { Completion } from '../../../../src/engine/command';
import { NexusError } from '../../../../src/engine/result';
import { NullBackstore } from '../../../../src/engine/backstores';
import { ram, target, TARGET, INIT_A } from '../embedded/fixture';

/** A personality as tape, changer or CD-ROM will bring one: here a changer with the SPC-4 rows only. */
const CHANGER = deviceType(PeripheralType.CHANGER, false, [...coreBindings, ...spcBindings], SPC_VPD_PAGES);
deviceTypes.register({
  name: 'registry-test-changer', peripheralType: PeripheralType.CHANGER, table: CHANGER.table,
  forUnit: () => CHANGER, modePages: store => new ModePages({ pages: SPC_MODE_PAGES, writeBack: store.writeBack }),
});

function run(n: { execute(r: object, done: (c: Completion) => void): void }, cdb: number[], expectedLength = 96): Promise<Completion> {
  return new Promise(resolve => n.execute({ lun: 0, cdb: Uint8Array.from(cdb), tag: 1, attr: 0, expectedLength }, resolve));
}

describe('device registry: personalities register themselves; the engine reads only the registry', () => {
  it('disk registers as "disk": SBC-4 direct access, thin units get UNMAP, thick ones do not', () => {
    const disk = deviceTypes.get('disk');
    expect(deviceTypes.get()).to.equal(disk);
    expect(disk.peripheralType).to.equal(PeripheralType.DISK);
    const store = new NullBackstore({ sizeBytes: 1n << 20n });
    expect(disk.forUnit(ram('d'), store)).to.equal(DISK);
    expect(disk.forUnit({ ...ram('d'), thin: false }, store)).to.equal(DISK_THICK);
  });

  it('a name registered twice, or asked for without a registration, is ERR_DEVICE_TYPE', () => {
    const r = new DeviceRegistry();
    const p = deviceTypes.get('disk');
    r.register(p);
    expect(() => r.register(p)).to.throw(NexusError).with.property('code', 'ERR_DEVICE_TYPE');
    expect(() => r.get('tape')).to.throw(NexusError).with.property('code', 'ERR_DEVICE_TYPE');
    expect(r.names()).to.deep.equal(['disk']);
  });

  it('a device of another registered type gets that type\'s table, VPD and mode pages and INQUIRY peripheral device type', async () => {
    const e = await Engine.create({ devices: [{ ...ram('c0'), deviceType: 'registry-test-changer' }], targets: [target({ luns: [{ lun: 0, device: 'c0', readOnly: false }] })] });
    try {
      const n = e.openNexus({ targetName: TARGET, initiatorName: INIT_A })!;
      await run(n, [0x00, 0, 0, 0, 0, 0]); // POWER ON, RESET
      const inq = await run(n, [0x12, 0, 0, 0, 96, 0]);
      expect(inq.status).to.equal(Status.GOOD);
      expect(inq.data![0] & 0x1f).to.equal(PeripheralType.CHANGER);
      // Its VPD pages are the ones it brought: the SPC-4 pages, no block device pages.
      const vpd = await run(n, [0x12, 1, 0, 0, 96, 0]);
      expect(Buffer.from(vpd.data!).toString('hex')).to.equal('08000005' + '0080838688');
      // Its mode pages too: control (0Ah) and informational exceptions (1Ch), no caching page.
      const modes = Buffer.from((await run(n, [0x1a, 0, 0x3f, 0, 0xff, 0], 255)).data!);
      expect([modes.length, modes[4], modes[16]]).to.deep.equal([28, 0x0a, 0x1c]);
      // No SBC-4 rows: READ(10) is an unknown opcode on this unit.
      const read = await run(n, [0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0], 512);
      expect(read.status).to.equal(Status.CHECK_CONDITION);
      expect([read.sense![2] & 0x0f, read.sense![12]]).to.deep.equal([0x05, 0x20]);
    } finally {
      await e.close();
    }
  });

  it('a device naming a type nobody registered is refused when the engine starts', async () => {
    let err: unknown;
    try {
      await Engine.create({ devices: [{ ...ram('x0'), deviceType: 'no-such-type' }], targets: [] });
    } catch (e) { err = e; }
    expect(err).to.be.instanceOf(NexusError).with.property('code', 'ERR_DEVICE_TYPE');
  });
});
