import { expect } from 'chai';
import { UaQueue, UaTable } from '../../../../src/engine/ua';
import { SENSE } from '../../../../src/engine/spec/asc';

describe('unit attention queues (SPC-4 5.14)', () => {
  it('reports the highest priority first and each condition once', () => {
    const q = new UaQueue();
    q.add(SENSE.REPORTED_LUNS_DATA_HAS_CHANGED);
    q.add(SENSE.MODE_PARAMETERS_CHANGED);
    q.add(SENSE.COMMANDS_CLEARED_BY_ANOTHER_INITIATOR);
    q.add(SENSE.MODE_PARAMETERS_CHANGED);
    expect(q.take()).to.equal(SENSE.COMMANDS_CLEARED_BY_ANOTHER_INITIATOR);
    expect(q.take()).to.equal(SENSE.MODE_PARAMETERS_CHANGED);
    expect(q.take()).to.equal(SENSE.REPORTED_LUNS_DATA_HAS_CHANGED);
    expect(q.take()).to.equal(undefined);
  });

  it('a reset condition supersedes lower ones already queued', () => {
    const q = new UaQueue();
    q.add(SENSE.CAPACITY_DATA_HAS_CHANGED);
    q.add(SENSE.POWER_ON_RESET);
    q.add(SENSE.I_T_NEXUS_LOSS_OCCURRED);
    expect(q.list()).to.deep.equal([SENSE.POWER_ON_RESET, SENSE.I_T_NEXUS_LOSS_OCCURRED]);
    q.add(SENSE.MODE_PARAMETERS_CHANGED); // established after the reset: kept
    expect(q.list()).to.have.length(3);
  });

  it('raiseAll reaches every nexus but the excepted one', () => {
    const t = new UaTable();
    t.queue('a'); t.queue('b');
    t.raiseAll(SENSE.MODE_PARAMETERS_CHANGED, 'a');
    expect(t.queue('a').size).to.equal(0);
    expect(t.queue('b').peek()).to.equal(SENSE.MODE_PARAMETERS_CHANGED);
  });
});
