import { expect } from 'chai';
import { Engine } from '../../../../src/engine/engine';
import type { ItNexus } from '../../../../src/engine/nexus';
import type { Completion } from '../../../../src/engine/command';
import { Status, TaskAttr, TmfFunction } from '../../../../src/engine/spec/status';
import type { DeviceConfig } from '../../../../src/engine/topology';

/** A removable-medium disk through the whole pipeline: eject, NOT READY, load, prevention. */

const T = 'iqn.2026-11.io.nexus:removable';

function dev(name: string, removable: boolean): DeviceConfig {
  return { name, handler: 'ram', sizeBytes: 1024n * 512n, blockSize: 512, writeCache: 'writeback', thin: true, readOnly: false, removable };
}

async function engine(): Promise<Engine> {
  return Engine.create({
    devices: [dev('fixed', false), dev('rm', true)],
    targets: [{ driver: 'iscsi', name: T, portals: [], luns: [{ lun: 0, device: 'fixed', readOnly: false }, { lun: 1, device: 'rm', readOnly: false }], groups: [] }],
  });
}

let tag = 1;
function exec(n: ItNexus, lun: number, cdb: number[], expectedLength = 0): Promise<Completion> {
  return new Promise(resolve => n.execute({ lun, cdb: Uint8Array.from(cdb), tag: tag++, attr: TaskAttr.SIMPLE, expectedLength }, resolve));
}

/** Sense key, ASC and ASCQ of fixed-format sense (SPC-4 4.5.3). */
function kcq(c: Completion): [number, number, number] | 'GOOD' {
  if (c.status === Status.GOOD) return 'GOOD';
  expect(c.status).to.equal(Status.CHECK_CONDITION);
  return [c.sense![2] & 0x0f, c.sense![12], c.sense![13]];
}

const TUR = [0x00, 0, 0, 0, 0, 0];
const EJECT = [0x1b, 0, 0, 0, 0x02, 0];
const LOAD = [0x1b, 0, 0, 0, 0x03, 0];
const PREVENT = [0x1e, 0, 0, 0, 0x01, 0];
const ALLOW = [0x1e, 0, 0, 0, 0x00, 0];

async function open(e: Engine, name: string): Promise<ItNexus> {
  const n = e.openNexus({ targetName: T, initiatorName: name, isid: '000000000001' })!;
  for (const lun of [0, 1]) await exec(n, lun, TUR); // consume POWER ON, RESET
  return n;
}

describe('removable medium (RMB = 1) through the pipeline', () => {
  it('INQUIRY RMB is set only on the removable unit', async () => {
    const e = await engine();
    const n = await open(e, 'iqn.test:a');
    const fixed = await exec(n, 0, [0x12, 0, 0, 0, 36, 0], 36);
    const rm = await exec(n, 1, [0x12, 0, 0, 0, 36, 0], 36);
    expect(fixed.data![1]).to.equal(0x00);
    expect(rm.data![1]).to.equal(0x80);
    await e.close();
  });

  it('ejected: media access is NOT READY, MEDIUM NOT PRESENT (02/3A/00); INQUIRY, REQUEST SENSE, MODE SENSE still work', async () => {
    const e = await engine();
    const n = await open(e, 'iqn.test:a');
    expect(kcq(await exec(n, 1, EJECT))).to.equal('GOOD');
    const nm: [number, number, number] = [0x02, 0x3a, 0x00];
    expect(kcq(await exec(n, 1, TUR))).to.deep.equal(nm);
    expect(kcq(await exec(n, 1, [0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0], 512))).to.deep.equal(nm); // READ(10)
    expect(kcq(await exec(n, 1, [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0], 8))).to.deep.equal(nm); // READ CAPACITY(10)
    expect(kcq(await exec(n, 1, [0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).to.deep.equal(nm); // SYNCHRONIZE CACHE(10)
    expect(kcq(await exec(n, 1, [0x12, 0, 0, 0, 36, 0], 36))).to.equal('GOOD');
    expect(kcq(await exec(n, 1, [0x1a, 0x08, 0x3f, 0, 255, 0], 255))).to.equal('GOOD');
    const rs = await exec(n, 1, [0x03, 0, 0, 0, 18, 0], 18);
    expect([rs.data![2] & 0x0f, rs.data![12], rs.data![13]]).to.deep.equal(nm);
    // The fixed unit beside it is untouched.
    expect(kcq(await exec(n, 0, TUR))).to.equal('GOOD');
    await e.close();
  });

  it('load makes it ready again and gives the other I_T nexuses NOT READY TO READY CHANGE (06/28/00)', async () => {
    const e = await engine();
    const a = await open(e, 'iqn.test:a');
    const b = await open(e, 'iqn.test:b');
    await exec(a, 1, EJECT);
    expect(kcq(await exec(a, 1, LOAD))).to.equal('GOOD');
    expect(kcq(await exec(a, 1, TUR))).to.equal('GOOD');
    expect(kcq(await exec(b, 1, TUR))).to.deep.equal([0x06, 0x28, 0x00]);
    expect(kcq(await exec(b, 1, TUR))).to.equal('GOOD');
    await e.close();
  });

  it('PREVENT blocks eject and load (05/53/02); any holder suffices; ALLOW releases', async () => {
    const e = await engine();
    const a = await open(e, 'iqn.test:a');
    const b = await open(e, 'iqn.test:b');
    expect(kcq(await exec(b, 1, PREVENT))).to.equal('GOOD');
    expect(kcq(await exec(a, 1, EJECT))).to.deep.equal([0x05, 0x53, 0x02]);
    expect(kcq(await exec(a, 1, TUR))).to.equal('GOOD');
    expect(kcq(await exec(b, 1, ALLOW))).to.equal('GOOD');
    expect(kcq(await exec(a, 1, EJECT))).to.equal('GOOD');
    expect(kcq(await exec(a, 1, PREVENT))).to.equal('GOOD');
    expect(kcq(await exec(a, 1, LOAD))).to.deep.equal([0x05, 0x53, 0x02]);
    await e.close();
  });

  for (const [what, clear] of [
    ['I_T nexus loss', (n: ItNexus) => n.close('loss')],
    ['logout', (n: ItNexus) => n.close('logout')],
    ['I_T NEXUS RESET', (n: ItNexus) => n.taskManagement({ fn: TmfFunction.I_T_NEXUS_RESET, lun: 1 })],
    ['LOGICAL UNIT RESET', (n: ItNexus) => n.taskManagement({ fn: TmfFunction.LOGICAL_UNIT_RESET, lun: 1 })],
    ['TARGET WARM RESET', (n: ItNexus) => n.taskManagement({ fn: TmfFunction.TARGET_WARM_RESET, lun: 0 })],
    ['TARGET COLD RESET', (n: ItNexus) => n.taskManagement({ fn: TmfFunction.TARGET_COLD_RESET, lun: 0 })],
  ] as const) {
    it(`${what} ends the prevention that I_T nexus held`, async () => {
      const e = await engine();
      const a = await open(e, 'iqn.test:a');
      const b = await open(e, 'iqn.test:b');
      await exec(a, 1, PREVENT);
      expect(kcq(await exec(b, 1, EJECT))).to.deep.equal([0x05, 0x53, 0x02]);
      await clear(a);
      await exec(b, 1, TUR); // a reset's unit attention, if any
      expect(kcq(await exec(b, 1, EJECT))).to.equal('GOOD');
      await e.close();
    });
  }
});
