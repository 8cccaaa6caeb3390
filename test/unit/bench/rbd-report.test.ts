import { expect } from 'chai';
import { formatRbdRatios, parseRbdBench } from '../../../bench/e2e/rbd';
import type { Row, Side } from '../../../bench/e2e/report';
import { RBD_CELLS } from '../../../bench/e2e/workloads';

/** The rbd benchmark's reading of `rbd bench` and its ratios against the goals (bench/e2e/rbd.ts). */
describe('bench/rbd: rbd bench output and the ratios against the goals', () => {
  it('reads ops/sec from rbd bench\'s closing summary, not from its per-second lines', () => {
    const out = [
      'bench  type read io_size 4096 io_threads 32 bytes 41943040 pattern random',
      '  SEC       OPS   OPS/SEC   BYTES/SEC',
      '    1      4512   4528.61   18 MiB/s',
      '    2      9321   4668.40   18 MiB/s',
      'elapsed: 2   ops: 10240   ops/sec: 4711.25   bytes/sec: 18 MiB/s',
    ].join('\n');
    expect(parseRbdBench(out)).to.equal(4711.25);
    expect(parseRbdBench('rbd: error opening image bench: (2) No such file or directory')).to.equal(undefined);
  });

  it('prints Nexus against tgtd and the ceiling with each goal met or not', () => {
    const side = (iops: number): Side => ({ runs: 1, iops, mibps: 0, targetCpuSeconds: 1, iopsPerCpuSecond: iops, rssMiB: 100, otherPct: 0 });
    const [rr, , sr] = RBD_CELLS;
    const rows: Row[] = [
      { cell: rr, nexus: side(3000), tgt: side(1500) },
      { cell: sr, nexus: side(90), tgt: side(100) },
    ];
    const text = formatRbdRatios(rows, [
      { cell: rr.id, round: 1, iops: 4000 }, { cell: rr.id, round: 2, iops: 0, error: 'failed' }, { cell: sr.id, round: 1, iops: 120 },
    ]);
    const line = (id: string): string => text.split('\n').find(l => l.startsWith(id)) ?? '';
    // 3000 / 1500 = 2.00 >= 1.5; 3000 / 4000 = 0.75 < 0.8 (the failed ceiling round is left out).
    expect(line(rr.id)).to.match(/\|\s+3000 \|\s+1500 \|\s+4000 \|\s+2\.00 \| >= 1\.5 met\s+\|\s+0\.75 \| >= 0\.8 NOT met$/);
    // 1 MiB: only >= tgtd is a goal.
    expect(line(sr.id)).to.match(/\|\s+0\.90 \| >= 1 NOT met\s+\|\s+0\.75 \| -$/);
  });
});
