import { expect } from 'chai';
import { parseCpu, parseSamples, passthroughRows } from '../../../bench/e2e/passthrough';

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
    'KVMBENCH: cpu nexus rr4k-qd32 1 500 10',
    'KVMBENCH: cpu tgt rr4k-qd32 1 100 10.0',
    'KVMBENCH: cpu tgt rr4k-qd32 2 300 10',
    'KVMBENCH: cpu nexus rr4k-qd32 2 600 10',
    'KVMBENCH: cpu nexus rr4k-qd32 3 800 10',
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

  it('CPU ms per I/O: the target\'s ticks (100 per second) over IOPS times seconds, median over the measured rounds', () => {
    const cpu = parseCpu(console);
    expect(cpu).to.have.length(5);
    expect(cpu[1]).to.deep.equal({ target: 'tgt', cell: 'rr4k-qd32', round: 1, ticks: 100, seconds: 10 });
    const rr = passthroughRows(parseSamples(console), cpu).find(r => r.cell === 'rr4k-qd32')!;
    // Nexus: 5000 ms / 30000 IOs, 6000 / 50000, 8000 / 40000 -> median 1/6 ms; tgtd (round 3 failed): 1000 / 10000, 3000 / 20000
    expect(rr.nexusCpuMs).to.be.closeTo(5000 / 30000, 1e-9);
    expect(rr.tgtCpuMs).to.be.closeTo(0.125, 1e-9);
    const sr = passthroughRows(parseSamples(console), cpu).find(r => r.cell === 'sr1m-qd8')!;
    expect(Number.isNaN(sr.nexusCpuMs)).to.equal(true);
  });
});
