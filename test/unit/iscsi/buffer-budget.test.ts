import { expect } from 'chai';
import { BufferBudget } from '../../../src/transports/iscsi/buffer-budget';
import { Status } from '../../../src/engine/spec/status';
import { NexusError } from '../../../src/engine/result';

describe('iSCSI buffer budget of a session', () => {
  it('reserves up to its limit; past it TASK SET FULL while something is held or in progress, else BUSY (SAM-5 5.3.1)', () => {
    const b = new BufferBudget(1000);
    expect(b.reserve(2000, false)).to.equal(Status.BUSY);
    expect(b.reserve(2000, true)).to.equal(Status.TASK_SET_FULL);
    expect(b.held).to.equal(0);
    expect(b.reserve(600, false)).to.equal(undefined);
    expect(b.reserve(400, false)).to.equal(undefined);
    expect(b.held).to.equal(1000);
    expect(b.reserve(1, false)).to.equal(Status.TASK_SET_FULL);
    b.release(400);
    expect(b.reserve(400, false)).to.equal(undefined);
    b.release(1000);
    expect(b.held).to.equal(0);
  });

  it('releasing more than is held is a bug, reported as ERR_BUDGET_RELEASE', () => {
    const b = new BufferBudget(1000);
    b.reserve(10, false);
    expect(() => b.release(11)).to.throw(NexusError).with.property('code', 'ERR_BUDGET_RELEASE');
    expect(b.held).to.equal(10);
  });
});
