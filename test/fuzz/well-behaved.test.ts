// The hostile-load test reads its figures from the clients' own output; these are lines as
// qemu-io (qemu-utils) and iscsi-perf (libiscsi-bin) print them, so a format the parsers miss
// fails here rather than passing the load test with no figures.
import { expect } from 'chai';
import { commandSeconds, parsePerf, roundPattern } from './well-behaved';

describe('fuzz: well-behaved client output', () => {
  it('reads qemu-io command times below and above a second', () => {
    const out = [
      'read 65536/65536 bytes at offset 1048576',
      '64 KiB, 1 ops; 0:00:05.60 (11.429 KiB/sec and 0.1786 ops/sec)',
      'wrote 65536/65536 bytes at offset 1048576',
      '64 KiB, 1 ops; 00.43 sec (149.668 KiB/sec and 2.3386 ops/sec)',
      'Pattern verification failed at offset 1048576, 65536 bytes',
      'read 65536/65536 bytes at offset 1048576',
      '64 KiB, 1 ops; 00.00 sec (661.208 MiB/sec and 10579.3238 ops/sec)',
    ].join('\n');
    const t = commandSeconds(out);
    expect(t).to.have.length(3);
    expect(t[0]).to.be.closeTo(5.6, 0.01);
    expect(t[1]).to.be.closeTo(0.4276, 0.001);
    expect(t[2]).to.be.closeTo(0.0000945, 0.000001);
  });

  it('reads iscsi-perf per-second samples, its average and runs of empty seconds', () => {
    const line = (cur: number, avg: number): string => `\r00:00:09 - lba 307832, iops current ${cur} (150 MB/s), iops average ${avg} (150 MB/s), in_flight 8, busy 0        `;
    const out = `connected to iscsi://127.0.0.1:3260/iqn.x/1\n${line(38470, 38470)}${line(0, 20000)}${line(0, 14000)}${line(5, 11000)}${line(0, 9000)}\n\nfinished.\n`;
    const p = parsePerf(out, true);
    expect(p.samples).to.deep.equal([38470, 0, 0, 5, 0]);
    expect(p.average).to.equal(9000);
    expect(p.longestZeroRunSec).to.equal(2);
    expect(p.ok).to.equal(true);
    expect(parsePerf(out.replace('finished.', ''), true).ok).to.equal(false);
  });

  it('never repeats a session\'s pattern from one round to the next', () => {
    for (let s = 0; s < 4; s++) {
      for (let r = 1; r < 600; r++) {
        const p = roundPattern(0x6e657875, s, r);
        expect(p).to.be.within(1, 255);
        expect(p).not.to.equal(roundPattern(0x6e657875, s, r - 1));
      }
    }
  });
});
