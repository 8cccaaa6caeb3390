// A running unit's read-only flag and INQUIRY fields changed live (issue 10, device.set and
// config.apply): later writes answer DATA PROTECT, WRITE PROTECTED (SBC-4 4.x, SPC-4 table 28)
// while a write already past the check finishes; MODE SENSE reports WP; INQUIRY and VPD 80h
// answer with the new fields; every I_T nexus gets the unit attention SPC-4 5.14 names.
import { expect } from 'chai';
import { Engine } from '../../../../src/engine/engine';
import { Status } from '../../../../src/engine/spec/status';
import { dev, tgt } from '../../runtime/helpers';
import { run } from '../../runtime/mesh-helpers';
import type { NexusApi } from '../../../../src/engine/engine-api';

const T = 'iqn.2024-01.test:live-unit';
const I1 = { targetName: T, initiatorName: 'iqn.2024-01.test:i1', isid: '400001370000', tpgt: 1 };
const TUR = [0x00, 0, 0, 0, 0, 0];
const WRITE_10 = (lba: number): number[] => [0x2a, 0, 0, 0, 0, lba, 0, 0, 1, 0];
const MODE_SENSE_6 = [0x1a, 0x08, 0x3f, 0, 0xff, 0];
const INQUIRY = [0x12, 0, 0, 0, 96, 0];
const VPD_80 = [0x12, 1, 0x80, 0, 96, 0];

/** Sense key / ASC / ASCQ of fixed sense, read by hand. */
const kcq = (s: Uint8Array | undefined): number[] => (s ? [s[2] & 0x0f, s[12], s[13]] : []);

async function drainUas(n: NexusApi): Promise<void> {
  for (let i = 0; i < 4; i++) if ((await run(n, 0, TUR)).status === Status.GOOD) return;
}

describe('live unit settings: read-only and INQUIRY fields', () => {
  it('read-only: a write in flight finishes, later writes get WRITE PROTECTED, WP is set; and back', async () => {
    const e = await Engine.create({ devices: [dev('d0')], targets: [tgt(T, ['d0'])] });
    try {
      const n = e.openNexus(I1)!;
      await drainUas(n);
      // The write enters the pipeline before the change and completes GOOD.
      const inFlight = run(n, 0, WRITE_10(1), 512, Buffer.alloc(512, 0xa5));
      const changed = e.setReadOnly('d0', true);
      expect((await inFlight).status).to.equal(Status.GOOD);
      await changed;
      // SPC-4 5.14 / SBC-4 6.5.1: WP is in the mode parameter header: MODE PARAMETERS CHANGED.
      const ua = await run(n, 0, TUR);
      expect(kcq(ua.sense)).to.deep.equal([0x6, 0x2a, 0x01]);
      const refused = await run(n, 0, WRITE_10(2), 512, Buffer.alloc(512, 1));
      expect(refused.status).to.equal(Status.CHECK_CONDITION);
      expect(kcq(refused.sense)).to.deep.equal([0x7, 0x27, 0x00]); // DATA PROTECT, WRITE PROTECTED
      const ms = await run(n, 0, MODE_SENSE_6, 255);
      expect(ms.data![2] & 0x80, 'WP in the device-specific parameter').to.equal(0x80);
      await e.setReadOnly('d0', false);
      expect(kcq((await run(n, 0, TUR)).sense)).to.deep.equal([0x6, 0x2a, 0x01]);
      expect((await run(n, 0, WRITE_10(2), 512, Buffer.alloc(512, 1))).status).to.equal(Status.GOOD);
      expect((await run(n, 0, MODE_SENSE_6, 255)).data![2] & 0x80).to.equal(0);
      await n.close('logout');
    } finally {
      await e.close();
    }
  });

  it('INQUIRY fields: standard INQUIRY and the serial number page follow, after INQUIRY DATA HAS CHANGED', async () => {
    const e = await Engine.create({ devices: [dev('d0')], targets: [tgt(T, ['d0'])] });
    try {
      const n = e.openNexus(I1)!;
      await drainUas(n);
      e.setInquiry('d0', { vendor: 'ACME', product: 'Roadrunner', revision: '0042', serial: 'SN-0042' });
      expect(kcq((await run(n, 0, TUR)).sense)).to.deep.equal([0x6, 0x3f, 0x03]);
      const inq = Buffer.from((await run(n, 0, INQUIRY, 96)).data!);
      // SPC-4 6.6.2: T10 VENDOR IDENTIFICATION bytes 8..15, PRODUCT 16..31, REVISION 32..35.
      expect(inq.subarray(8, 36).toString('latin1')).to.equal('ACME    Roadrunner      0042');
      const vpd = Buffer.from((await run(n, 0, VPD_80, 96)).data!);
      expect(vpd.subarray(4, 4 + vpd[3]).toString('latin1')).to.equal('SN-0042');
      // Absent fields take their defaults again.
      e.setInquiry('d0', {});
      expect(kcq((await run(n, 0, TUR)).sense)).to.deep.equal([0x6, 0x3f, 0x03]);
      expect(Buffer.from((await run(n, 0, INQUIRY, 96)).data!).subarray(8, 16).toString('latin1')).to.equal('NEXUS   ');
      await n.close('logout');
    } finally {
      await e.close();
    }
  });
});
