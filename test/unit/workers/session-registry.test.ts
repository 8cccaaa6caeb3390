import { expect } from 'chai';
import { SessionRegistry, sessionKeyOf } from '../../../src/workers/session-registry';

const entry = (initiatorName: string, isid: string, tsih: number, thread = 0) => ({
  key: sessionKeyOf(initiatorName, isid, 'iqn.2026-11.io.nexus:t', 1), initiatorName, targetName: 'iqn.2026-11.io.nexus:t', isid, tpgt: 1, tsih, thread,
});

describe('session registry: connections per initiator name (maxConnectionsPerInitiator)', () => {
  it('counts each hosted session of a name once, across threads; a reinstated session is not counted twice; removal and a dead thread give them back', () => {
    const r = new SessionRegistry(2);
    r.add(entry('iqn.a', '400000000001', 1, 0));
    r.add(entry('iqn.a', '400000000002', 2, 1));
    r.add(entry('iqn.b', '400000000001', 3, 1));
    expect([r.connectionsOf('iqn.a'), r.connectionsOf('iqn.b'), r.connectionsOf('iqn.c')]).to.deep.equal([2, 1, 0]);
    // RFC 7143 6.3.5: the same initiator port's new session replaces the old one.
    r.add(entry('iqn.a', '400000000001', 4, 1));
    expect(r.connectionsOf('iqn.a')).to.equal(2);
    r.remove(entry('iqn.a', '400000000002', 2).key);
    expect(r.connectionsOf('iqn.a')).to.equal(1);
    r.removeThread(1);
    expect([r.connectionsOf('iqn.a'), r.connectionsOf('iqn.b')]).to.deep.equal([0, 0]);
  });
});
