import { expect } from 'chai';
import { LoginRate } from '../../../src/transports/iscsi/login-rate';

describe('logins per second per address (login-rate.ts)', () => {
  it('admits a second\'s allowance at once, then one per 1/rate second; addresses are apart', () => {
    let now = 0;
    const r = new LoginRate(3, () => now);
    expect([r.admit('a'), r.admit('a'), r.admit('a'), r.admit('a')]).to.deep.equal([true, true, true, false]);
    expect(r.admit('b')).to.equal(true);
    now = 200; // 0.6 of a login refilled
    expect(r.admit('a')).to.equal(false);
    now = 340; // 1.02 refilled since 0 (0.6 + 0.42)
    expect(r.admit('a')).to.equal(true);
    expect(r.admit('a')).to.equal(false);
    now = 10_000; // never more than one second's allowance banked
    expect([r.admit('a'), r.admit('a'), r.admit('a'), r.admit('a')]).to.deep.equal([true, true, true, false]);
  });

  it('forgets idle addresses once many are remembered, and still limits the busy one', () => {
    let now = 0;
    const r = new LoginRate(1, () => now);
    for (let i = 0; i < 5000; i++) r.admit(`10.0.${i >> 8}.${i & 0xff}`);
    expect(r.size).to.equal(5000);
    now = 2000; // every bucket full again: nothing to remember
    expect(r.admit('busy')).to.equal(true);
    for (let i = 0; i < 4000; i++) r.admit(`10.1.${i >> 8}.${i & 0xff}`);
    expect(r.size).to.be.lessThan(5000);
    now = 2500;
    expect(r.admit('busy')).to.equal(false);
  });
});
