// Data-In buffers for reads: a fresh allocation per read versus a lease from the per-thread cache
// (src/engine/read-buffers.ts), with the pages touched as a read would. Run:
// npx tsx bench/micro/read-buffers.bench.ts

import { Bench } from 'tinybench';
import { printTasks } from './print';
import { ReadBuffers } from '../../src/engine/read-buffers';

const K = 1024;

/** Touch one byte per page, as the kernel's copy into the buffer would. */
function touch(b: Uint8Array): void {
  for (let i = 0; i < b.length; i += 4096) b[i] = 1;
}

async function main(): Promise<void> {
  const cache = new ReadBuffers();
  const bench = new Bench({ time: 400, warmupTime: 100 });
  for (const size of [4 * K, 128 * K, 1024 * K]) {
    const label = size >= 1024 * K ? `${size / (1024 * K)} MiB` : `${size / K} KiB`;
    bench
      .add(`allocUnsafe ${label}`, () => { touch(Buffer.allocUnsafe(size)); })
      .add(`lease+release ${label}`, () => {
        const l = cache.lease(size);
        touch(l.data);
        l.release();
      });
  }
  await bench.run();
  printTasks(bench);
  console.log('stats', JSON.stringify(cache.stats));
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
