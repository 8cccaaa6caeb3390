// SAM-5 6.5 / SPC-4 5.14: unit attentions an initiator should hear of at once reach the nexus's
// transport as asynchronous events (ua.ts ANNOUNCED_CONDITIONS), once per change, on the thread
// of the session, whichever engine thread homes the unit; the condition stays queued as well.
import { expect } from 'chai';
import { Engine } from '../../../../src/engine/engine';
import { SENSE } from '../../../../src/engine/spec/asc';
import { Status } from '../../../../src/engine/spec/status';
import type { AsyncEventReport } from '../../../../src/engine/command';
import { dev, tgt } from '../../runtime/helpers';
import { TARGET, TOPOLOGY, run, startMesh } from '../../runtime/mesh-helpers';

const TUR = [0x00, 0, 0, 0, 0, 0];
const I1 = { targetName: TARGET, initiatorName: 'iqn.2024-01.test:i1', isid: '400001370000', tpgt: 1 };
const I2 = { ...I1, initiatorName: 'iqn.2024-01.test:i2' };

/** Sense key, ASC and ASCQ of fixed-format sense (SPC-4 4.5.3), read by hand. */
function condOf(e: AsyncEventReport): { lun: number; key: number; asc: number; ascq: number; code: number } {
  return { lun: e.lun, code: e.sense[0] & 0x7f, key: e.sense[2] & 0x0f, asc: e.sense[12], ascq: e.sense[13] };
}

const settle = (): Promise<void> => new Promise(r => setTimeout(r, 20));

describe('asynchronous event reports of unit attentions (SAM-5 6.5)', () => {
  it('a resize reaches every nexus of the unit once, at each LUN it is mapped at; the UA stays queued', async () => {
    const e = await Engine.create({ devices: [dev('d0'), dev('d1')], targets: [tgt(TARGET, ['d0', 'd1'])] });
    try {
      const a = e.openNexus(I1)!;
      const b = e.openNexus(I2)!;
      const seenA: AsyncEventReport[] = [];
      const seenB: AsyncEventReport[] = [];
      a.onAsyncEvent = r => seenA.push(r);
      b.onAsyncEvent = r => seenB.push(r);
      await settle();
      expect(seenA, 'POWER ON, RESET of a new nexus is not reported').to.deep.equal([]);
      await e.resizeDevice('d1', 4096n * 512n);
      await settle();
      expect(seenA.map(condOf)).to.deep.equal([{ lun: 1, code: 0x70, key: 0x6, asc: 0x2a, ascq: 0x09 }]);
      expect(seenB.map(condOf)).to.deep.equal([{ lun: 1, code: 0x70, key: 0x6, asc: 0x2a, ascq: 0x09 }]);
      // The condition is still owed on the next command (after POWER ON, RESET, which outranks it).
      const first = await run(a, 1, TUR);
      expect(first.sense![12]).to.equal(0x29);
      const second = await run(a, 1, TUR);
      expect(second.status).to.equal(Status.CHECK_CONDITION);
      expect([second.sense![12], second.sense![13]]).to.deep.equal([0x2a, 0x09]);
      await a.close('logout');
      await b.close('logout');
    } finally {
      await e.close();
    }
  });

  it('a LUN mapped makes one REPORTED LUNS DATA HAS CHANGED per nexus, at its lowest LUN', async () => {
    const e = await Engine.create({ devices: [dev('d0'), dev('d1'), dev('d2')], targets: [tgt(TARGET, ['d0', 'd1'])] });
    try {
      const a = e.openNexus(I1)!;
      const seen: AsyncEventReport[] = [];
      a.onAsyncEvent = r => seen.push(r);
      e.addLun(TARGET, { lun: 5, device: 'd2', readOnly: false });
      await settle();
      expect(seen.map(condOf)).to.deep.equal([{ lun: 0, code: 0x70, key: 0x6, asc: 0x3f, ascq: 0x0e }]);
      await a.close('logout');
    } finally {
      await e.close();
    }
  });

  it('a change made by one initiator is reported to the others only; a closed nexus hears nothing', async () => {
    const e = await Engine.create({ devices: [dev('d0')], targets: [tgt(TARGET, ['d0'])] });
    try {
      const a = e.openNexus(I1)!;
      const b = e.openNexus(I2)!;
      const seenA: AsyncEventReport[] = [];
      const seenB: AsyncEventReport[] = [];
      a.onAsyncEvent = r => seenA.push(r);
      b.onAsyncEvent = r => seenB.push(r);
      e.units.get('d0')!.raiseUa(SENSE.MODE_PARAMETERS_CHANGED, a.id);
      await settle();
      expect(seenA).to.deep.equal([]);
      expect(seenB.map(condOf)).to.deep.equal([{ lun: 0, code: 0x70, key: 0x6, asc: 0x2a, ascq: 0x01 }]);
      await b.close('logout');
      e.units.get('d0')!.raiseUa(SENSE.INQUIRY_DATA_HAS_CHANGED);
      await settle();
      expect(seenB).to.have.length(1);
      expect(seenA.map(condOf)).to.deep.equal([{ lun: 0, code: 0x70, key: 0x6, asc: 0x3f, ascq: 0x03 }]);
      // Not announced: the reset family and commands cleared are the initiator's to find on its next command.
      e.units.get('d0')!.raiseUa(SENSE.BUS_DEVICE_RESET_FUNCTION_OCCURRED);
      await settle();
      expect(seenA).to.have.length(1);
      await a.close('logout');
    } finally {
      await e.close();
    }
  });

  it('a unit homed on another engine thread reports to the session thread over the ring, once', async function () {
    this.timeout(20000);
    const m = await startMesh();
    try {
      // The session runs on thread 0; LUN 1 (d1) is homed on thread 1.
      const n = m.parts[0].engine.openNexus(I1)!;
      const seen: AsyncEventReport[] = [];
      n.onAsyncEvent = r => seen.push(r);
      expect((await run(n, 1, TUR)).sense![12]).to.equal(0x29); // the nexus is open on thread 1 too
      // A change made on d1's home thread only (as a MODE SELECT from a session there would).
      m.parts[1].lun.engine.units.get('d1')!.raiseUa(SENSE.MODE_PARAMETERS_CHANGED);
      await settle();
      expect(seen.map(condOf)).to.deep.equal([{ lun: 1, code: 0x70, key: 0x6, asc: 0x2a, ascq: 0x01 }]);
      // A resize applies on every thread (the home first, reconfigure.ts); only the home reports it.
      await m.parts[1].lun.engine.resizeDevice('d1', 4096n * 512n);
      await m.parts[0].lun.engine.resizeDevice('d1', 4096n * 512n);
      await settle();
      expect(seen.slice(1).map(condOf)).to.deep.equal([{ lun: 1, code: 0x70, key: 0x6, asc: 0x2a, ascq: 0x09 }]);
      // And a local unit's change is reported directly.
      await m.parts[0].lun.engine.resizeDevice('d0', 4096n * 512n);
      await m.parts[1].lun.engine.resizeDevice('d0', 4096n * 512n);
      await settle();
      expect(seen.slice(2).map(condOf)).to.deep.equal([{ lun: 0, code: 0x70, key: 0x6, asc: 0x2a, ascq: 0x09 }]);
      await n.close('logout');
    } finally {
      await m.close();
    }
  });
});
