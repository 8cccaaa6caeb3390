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

  it('remembers lost nexuses within a bound, forgetting the oldest first', () => {
    const t = new UaTable(3);
    for (const k of ['a', 'b', 'c', 'd']) t.queue(k).add(SENSE.I_T_NEXUS_LOSS_OCCURRED);
    t.queue('live');
    for (const k of ['a', 'b', 'c', 'd']) t.detach(k);
    expect(t.has('a')).to.equal(false); // the oldest lost identity went
    expect(['b', 'c', 'd', 'live'].every((k) => t.has(k))).to.equal(true);
    expect(t.size).to.equal(4);
    // A returning identity is attached again and no longer counts against the bound.
    t.attached('b');
    t.queue('e');
    t.detach('e');
    t.queue('f');
    t.detach('f');
    expect(t.has('b')).to.equal(true);
    expect(t.has('c')).to.equal(false);
    expect(t.queue('b').take()).to.equal(SENSE.I_T_NEXUS_LOSS_OCCURRED);
  });
});
