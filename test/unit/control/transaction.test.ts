import { expect } from 'chai';
import { createLogger } from '../../../src/daemon/log';
import { NexusError } from '../../../src/engine/result';
import { describeStep, inverseOf, type Step } from '../../../src/daemon/control/topology-diff';
import { runTransaction } from '../../../src/daemon/control/transaction';

const log = createLogger({ level: 'silent' });
const T = 'iqn.2026-11.io.nexus:t';

const steps: Step[] = [
  { op: 'lun.unmap', target: T, mapping: { lun: 1, device: 'a', readOnly: false } },
  { op: 'device.resize', device: 'b', from: 1n << 20n, to: 2n << 20n },
  { op: 'iscsi.set', key: 'queueDepth', from: 128, to: 64 },
  { op: 'portal.add', target: T, portal: '127.0.0.1:3261' },
  { op: 'lun.map', target: T, mapping: { lun: 2, device: 'b', readOnly: true } },
];

/** A runner recording what it ran; fails the n-th call (1-based) and the calls `failUndo` names. */
function recorder(failAt: number, failUndo: (s: Step) => boolean = () => false) {
  const ran: string[] = [];
  let calls = 0;
  const run = async (s: Step): Promise<void> => {
    calls++;
    if (calls === failAt) throw new NexusError('ERR_INJECTED', `injected failure of ${describeStep(s)}`);
    if (calls > failAt && failUndo(s)) throw new Error('undo broke');
    ran.push(describeStep(s));
  };
  return { run, ran };
}

describe('config.apply: transaction executor', () => {
  it('applies every step in order', async () => {
    const r = recorder(Infinity);
    const res = await runTransaction(steps, r.run, log);
    expect(res).to.deep.equal({ ok: true, applied: steps.length });
    expect(r.ran).to.deep.equal(steps.map(describeStep));
  });

  for (let k = 0; k < steps.length; k++) {
    it(`a failure at step ${k + 1} undoes the ${k} steps before it, in reverse`, async () => {
      const r = recorder(k + 1);
      const res = await runTransaction(steps, r.run, log);
      expect(res.ok).to.equal(false);
      if (res.ok) return;
      expect(res.failed).to.deep.include({ index: k, step: describeStep(steps[k]), code: 'ERR_INJECTED' });
      expect(res.undone).to.equal(k);
      expect(res.undoFailures).to.deep.equal([]);
      const undos = steps.slice(0, k).reverse().map(s => describeStep(inverseOf(s)));
      expect(r.ran).to.deep.equal([...steps.slice(0, k).map(describeStep), ...undos]);
    });
  }

  it('a failing undo is reported, and the other undos still run', async () => {
    // Step 5 fails; undoing step 2 (the resize) fails too.
    const r = recorder(5, s => s.op === 'device.resize');
    const res = await runTransaction(steps, r.run, log);
    expect(res.ok).to.equal(false);
    if (res.ok) return;
    expect(res.failed.index).to.equal(4);
    expect(res.undone).to.equal(3);
    expect(res.undoFailures).to.have.length(1);
    expect(res.undoFailures[0]).to.deep.include({ index: 1, error: 'undo broke', step: describeStep(inverseOf(steps[1])) });
    expect(r.ran.slice(4)).to.deep.equal([describeStep(inverseOf(steps[3])), describeStep(inverseOf(steps[2])), describeStep(inverseOf(steps[0]))]);
  });

  it('an empty transaction commits without running anything', async () => {
    const r = recorder(1);
    expect(await runTransaction([], r.run, log)).to.deep.equal({ ok: true, applied: 0 });
  });
});
