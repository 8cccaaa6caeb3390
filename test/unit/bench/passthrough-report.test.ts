import { expect } from 'chai';
import { parseSamples, passthroughRows } from '../../../bench/e2e/passthrough';

/** The pass-through benchmark's reading of the guest console (bench/e2e/passthrough.ts). */
describe('bench/passthrough: samples from the guest console, medians and ratios', () => {
  const console = [
    'KVMTEST: guest up 6.1.0 at 16s',
    'KVMBENCH: sample nexus rr4k-qd32 1 3000',
    'KVMBENCH: sample tgt rr4k-qd32 1 1000',
    'KVMBENCH: sample tgt rr4k-qd32 2 2000',
    'KVMBENCH: sample nexus rr4k-qd32 2 5000',
    'KVMBENCH: sample nexus rr4k-qd32 3 4000',
    'KVMBENCH: sample tgt rr4k-qd32 3 0',
    'KVMBENCH: sample nexus sr1m-qd8 1 90',
    'noise KVMBENCH: sample nobody sr1m-qd8 1 5',
  ].join('\n');

  it('reads one sample per KVMBENCH line of a known target', () => {
    const s = parseSamples(console);
    expect(s).to.have.length(7);
    expect(s[0]).to.deep.equal({ target: 'nexus', cell: 'rr4k-qd32', round: 1, iops: 3000 });
  });

  it('medians over the rounds that measured something; a failed measurement (0) is left out; no tgtd figure, no ratio', () => {
    const rows = passthroughRows(parseSamples(console));
    const rr = rows.find(r => r.cell === 'rr4k-qd32')!;
    expect([rr.nexus, rr.tgt, rr.ratio, rr.goal]).to.deep.equal([4000, 1500, 4000 / 1500, 1.5]);
    const sr = rows.find(r => r.cell === 'sr1m-qd8')!;
    expect(sr.nexus).to.equal(90);
    expect(Number.isNaN(sr.tgt) && Number.isNaN(sr.ratio)).to.equal(true);
    expect(rows.map(r => r.cell)).to.deep.equal(['rr4k-qd32', 'rw4k-qd32', 'sr1m-qd8', 'sw1m-qd8']);
  });
});
