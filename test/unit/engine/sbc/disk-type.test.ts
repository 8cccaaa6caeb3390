import { expect } from 'chai';
import { DISK, DISK_REMOVABLE, DISK_THICK, DISK_THICK_REMOVABLE, diskDeviceType } from '../../../../src/engine/devices/disk';
import { PeripheralType } from '../../../../src/engine/spec/status';

describe('disk device type', () => {
  it('is a non-removable direct-access device whose tables differ only in UNMAP (42h) and SANITIZE BLOCK ERASE', () => {
    expect(DISK.type).to.equal(PeripheralType.DISK);
    expect(DISK.removable).to.equal(false);
    expect(DISK.table.hasOpcode(0x42)).to.equal(true);
    expect(DISK_THICK.table.hasOpcode(0x42)).to.equal(false);
    expect(DISK.table.lookup(0x48, 0x02)?.name).to.equal('SANITIZE (BLOCK ERASE)');
    expect(DISK_THICK.table.lookup(0x48, 0x02)).to.equal(undefined);
    expect(DISK.table.all().length - DISK_THICK.table.all().length).to.equal(2);
    expect(diskDeviceType(true)).to.equal(DISK);
    expect(diskDeviceType(false)).to.equal(DISK_THICK);
  });

  it('removable variants: the same tables with RMB', () => {
    expect(diskDeviceType(true, true)).to.equal(DISK_REMOVABLE);
    expect(diskDeviceType(false, true)).to.equal(DISK_THICK_REMOVABLE);
    expect(DISK_REMOVABLE.removable).to.equal(true);
    expect(DISK_THICK_REMOVABLE.removable).to.equal(true);
    expect(DISK_REMOVABLE.table).to.equal(DISK.table);
    expect(DISK_THICK_REMOVABLE.table).to.equal(DISK_THICK.table);
  });

  it('has the SBC rows next to the SPC and core ones (READ(16), GET LBA STATUS, INQUIRY, TEST UNIT READY)', () => {
    expect(DISK.table.lookup(0x88)?.name).to.equal('READ(16)');
    expect(DISK.table.lookup(0x9e, 0x12)?.name).to.equal('GET LBA STATUS');
    expect(DISK.table.lookup(0x12)?.name).to.equal('INQUIRY');
    expect(DISK.table.lookup(0x00)?.name).to.equal('TEST UNIT READY');
    for (const def of DISK.table.all()) expect(DISK.exec.has(def), def.name).to.equal(true);
  });
});
