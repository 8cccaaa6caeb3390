import { expect } from 'chai';
import { PeripheralType } from '../../../../src/engine/spec/status';
import { INQUIRY } from '../../../../src/engine/cdb/defs/spc';
import { NAA, dataOf, makeLu, makeNexus, run, senseOf } from './fixtures';

const ascii = (s: string): number[] => [...Buffer.from(s, 'latin1')];

describe('engine/spc INQUIRY standard data (SPC-4 6.6.2)', () => {
  it('returns the 96-byte layout of table 143 for a disk', async () => {
    const d = dataOf(await run([0x12, 0, 0, 0, 0xff, 0]));
    const expected = Buffer.alloc(96);
    Buffer.from([
      0x00, // qualifier 000b, type 00h (direct access)
      0x00, // RMB 0
      0x06, // VERSION: SPC-4
      0x12, // HISUP 1, RESPONSE DATA FORMAT 2
      0x5b, // ADDITIONAL LENGTH 91
      0x30, // TPGS 11b: implicit and explicit asymmetric access (SPC-4 5.16.2.2)
      0x00,
      0x02, // CMDQUE
      ...ascii('NEXUS   '), ...ascii('TestDisk        '), ...ascii('0.1 '),
    ]).copy(expected, 0);
    // version descriptors: SAM-5, iSCSI, SPC-4, SBC-3
    Buffer.from([0x00, 0xa0, 0x09, 0x60, 0x04, 0x60, 0x04, 0xc0]).copy(expected, 58);
    expect(d.toString('hex')).to.equal(expected.toString('hex'));
  });

  it('reports RMB and the peripheral type of a removable CD-ROM, with the MMC-6 descriptor and not the SBC one', async () => {
    const d = dataOf(await run([0x12, 0, 0, 0, 0x60, 0], { lu: makeLu({ type: PeripheralType.CDROM, removable: true }) }));
    expect(d[0]).to.equal(0x05);
    expect(d[1]).to.equal(0x80);
    // SAM-5, iSCSI, SPC-4, MMC-6 (04E0h, no version claimed)
    expect([...d.subarray(58, 68)]).to.deep.equal([0x00, 0xa0, 0x09, 0x60, 0x04, 0x60, 0x04, 0xe0, 0, 0]);
  });

  it('declares a 16-bit allocation length at bytes 3..4 for the pipeline to trim', () => {
    const f = INQUIRY.decode(Uint8Array.from([0x12, 0, 0, 0x01, 0x02, 0]));
    expect(INQUIRY.xferBytes(f, 512)).to.equal(0x0102);
    expect(INQUIRY.skipsUa).to.equal(true);
    expect(INQUIRY.implicitHeadOfQueue).to.equal(true);
  });

  it('refuses PAGE CODE without EVPD: INVALID FIELD IN CDB at byte 2', async () => {
    const s = senseOf(await run([0x12, 0, 0x80, 0, 0xff, 0]));
    expect([s.key, s.asc, s.ascq]).to.deep.equal([0x5, 0x24, 0x00]);
    expect(s.sks).to.deep.equal([0xc0, 0x00, 0x02]);
  });

  it('refuses the obsolete CMDDT bit: INVALID FIELD IN CDB at byte 1 bit 1', async () => {
    const s = senseOf(await run([0x12, 0x02, 0, 0, 0xff, 0]));
    expect([s.key, s.asc]).to.deep.equal([0x5, 0x24]);
    expect(s.sks).to.deep.equal([0xc9, 0x00, 0x01]);
  });

  it('refuses a set NACA bit in the control byte (byte 5 bit 2)', async () => {
    const s = senseOf(await run([0x12, 0, 0, 0, 0xff, 0x04]));
    expect(s.sks).to.deep.equal([0xca, 0x00, 0x05]);
  });
});

describe('engine/spc INQUIRY VPD pages (SPC-4 7.8, SBC-4 6.6)', () => {
  const vpd = async (page: number, lu = makeLu()): Promise<Buffer> => dataOf(await run([0x12, 1, page, 0x10, 0, 0], { lu }));

  it('00h lists the pages of a disk in ascending order', async () => {
    expect((await vpd(0x00)).toString('hex')).to.equal('00000008' + '0080838688b0b1b2');
  });

  it('00h of a CD-ROM leaves out the block device pages, and B0h is refused', async () => {
    const lu = makeLu({ type: PeripheralType.CDROM });
    expect((await vpd(0x00, lu)).toString('hex')).to.equal('05000005' + '0080838688');
    const s = senseOf(await run([0x12, 1, 0xb0, 0x10, 0, 0], { lu }));
    expect([s.key, s.asc]).to.deep.equal([0x5, 0x24]);
    expect(s.sks).to.deep.equal([0xc0, 0x00, 0x02]);
  });

  it('an unknown page is INVALID FIELD IN CDB at byte 2', async () => {
    const s = senseOf(await run([0x12, 1, 0x8a, 0x10, 0, 0]));
    expect(s.sks).to.deep.equal([0xc0, 0x00, 0x02]);
  });

  it('80h carries the unit serial number', async () => {
    expect((await vpd(0x80)).toString('hex')).to.equal('00800007' + Buffer.from('SN12345').toString('hex'));
  });

  it('83h carries NAA, T10 vendor ID, relative port, port group and target port name designators', async () => {
    const d = await vpd(0x83);
    const name = Buffer.from('iqn.2026-11.io.nexus:t1,t,0x0001'); // 32 bytes: +1 null → padded to 36
    const expected = Buffer.concat([
      Buffer.from([0x00, 0x83, 0x00, 0x00]),
      // NAA: protocol 0, code set binary; PIV 0, association LU, type 3; length 16
      Buffer.from([0x01, 0x03, 0x00, 0x10]), NAA,
      // T10 vendor ID: code set ASCII; type 1; length 8 + 13
      Buffer.from([0x02, 0x01, 0x00, 21]), Buffer.from('NEXUS   disk0:SN12345'),
      // relative target port: iSCSI (5h), binary; PIV 1, association target port, type 4
      Buffer.from([0x51, 0x94, 0x00, 0x04, 0x00, 0x00, 0x00, 0x03]),
      // target port group: type 5, group 2
      Buffer.from([0x51, 0x95, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02]),
      // SCSI name string: iSCSI, UTF-8; PIV 1, target port, type 8; length 36
      Buffer.from([0x53, 0x98, 0x00, 36]), name, Buffer.alloc(4),
    ]);
    expected.writeUInt16BE(expected.length - 4, 2);
    expect(d.toString('hex')).to.equal(expected.toString('hex'));
  });

  it('83h null-terminates the SCSI name string and pads it to a multiple of 4', async () => {
    const tailOf = async (targetPort: string, n: number): Promise<string> => {
      const d = dataOf(await run([0x12, 1, 0x83, 0x10, 0, 0], { nexus: { ...makeNexus(), targetPort } }));
      return d.subarray(d.length - n).toString('hex');
    };
    expect(await tailOf('abc', 8)).to.equal('53980004' + '61626300');
    expect(await tailOf('abcd', 12)).to.equal('53980008' + '6162636400000000');
  });

  it('88h lists every target port of the target in relative port order, each with its target port name', async () => {
    const nexus = {
      ...makeNexus(),
      targetPorts: [
        { relativeTargetPortId: 2, name: 'iqn.2026-11.io.nexus:t1,t,0x0002' },
        { relativeTargetPortId: 1, name: 'iqn.2026-11.io.nexus:t1,t,0x0001' },
      ],
    };
    const d = dataOf(await run([0x12, 1, 0x88, 0x10, 0, 0], { nexus }));
    const port = (id: number): Buffer => Buffer.concat([
      // SPC-4 7.8.10 table 486: reserved, RELATIVE PORT IDENTIFIER, reserved, INITIATOR PORT
      // TRANSPORTID LENGTH 0, reserved, TARGET PORT DESCRIPTORS LENGTH 40
      Buffer.from([0x00, 0x00, 0x00, id, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 40]),
      // table 487: iSCSI (5h), UTF-8; PIV 1, association target port, SCSI name string; length 36
      Buffer.from([0x53, 0x98, 0x00, 36]), Buffer.from(`iqn.2026-11.io.nexus:t1,t,0x000${id}`), Buffer.alloc(4),
    ]);
    // Page header: peripheral type 0 (disk), page 88h, PAGE LENGTH 2 x 52.
    expect(d.toString('hex')).to.equal('00880068' + port(1).toString('hex') + port(2).toString('hex'));
  });

  it('86h sets HEADSUP, ORDSUP, SIMPSUP and V_SUP with a write-back cache', async () => {
    const d = await vpd(0x86);
    expect(d.length).to.equal(64);
    expect([...d.subarray(0, 8)]).to.deep.equal([0x00, 0x86, 0x00, 0x3c, 0x00, 0x07, 0x01, 0x00]);
    const wt = await vpd(0x86, makeLu({ writeBack: false }));
    expect(wt[6]).to.equal(0x00);
  });

  it('B0h block limits of a thick 512-byte disk with 4096-byte physical blocks', async () => {
    const d = await vpd(0xb0, makeLu({ physicalExponent: 3 }));
    const e = Buffer.alloc(64);
    Buffer.from([0x00, 0xb0, 0x00, 0x3c, 0x00 /* WSNZ 0 */, 0x01 /* CAW 1 */, 0x00, 0x08 /* OTLG 8 */,
      0x00, 0x01, 0x00, 0x00 /* MTL 65536 blocks = 32 MiB */]).copy(e, 0);
    // bytes 20..35 zero without thin provisioning; 36..43 MAXIMUM WRITE SAME LENGTH = 1 GiB / 512
    Buffer.from([0, 0, 0, 0, 0x00, 0x20, 0x00, 0x00]).copy(e, 36);
    expect(d.toString('hex')).to.equal(e.toString('hex'));
  });

  it('B0h MAXIMUM COMPARE AND WRITE LENGTH is the store\'s own bound where it has one (an rbd image: 255)', async () => {
    const lu = makeLu();
    Object.assign(lu.backstore, { maxCompareAndWriteBlocks: 255 });
    expect((await vpd(0xb0, lu))[5]).to.equal(255);
    expect((await vpd(0xb0))[5]).to.equal(1);
  });

  it('B0h of a thin 4096-byte disk reports the unmap limits', async () => {
    const d = await vpd(0xb0, makeLu({ thin: true, blockSize: 4096 }));
    expect(d.readUInt32BE(8)).to.equal(8192); // 32 MiB / 4096
    expect([...d.subarray(20, 36)]).to.deep.equal([
      0x00, 0x02, 0x00, 0x00, // MAXIMUM UNMAP LBA COUNT 131072 (512 MiB)
      0x00, 0x00, 0x0f, 0xff, // MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT 4095
      0x00, 0x00, 0x00, 0x01, // OPTIMAL UNMAP GRANULARITY 1
      0x80, 0x00, 0x00, 0x00, // UGAVALID, alignment 0
    ]);
  });

  it('B1h reports a non-rotating medium', async () => {
    const d = await vpd(0xb1);
    expect(d.length).to.equal(64);
    expect([...d.subarray(0, 8)]).to.deep.equal([0x00, 0xb1, 0x00, 0x3c, 0x00, 0x01, 0x00, 0x00]);
  });

  it('B0h of a thin 512-byte disk: MAXIMUM UNMAP LBA COUNT is at most 1M blocks', async () => {
    const d = await vpd(0xb0, makeLu({ thin: true }));
    expect([...d.subarray(20, 24)]).to.deep.equal([0x00, 0x10, 0x00, 0x00]); // 1048576 blocks = 512 MiB
  });

  it('B2h: thin provisioning with LBPU, LBPWS, LBPWS10, LBPRZ; full provisioning otherwise', async () => {
    expect((await vpd(0xb2, makeLu({ thin: true }))).toString('hex')).to.equal('00b20004' + '00e40200');
    expect((await vpd(0xb2)).toString('hex')).to.equal('00b20004' + '00000000');
  });
});
