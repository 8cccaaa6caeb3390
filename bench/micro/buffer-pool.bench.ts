// Buffer pool get/put cost. Run: npx tsx bench/micro/buffer-pool.bench.ts

import { Bench } from 'tinybench';
import { printTasks } from './print';
import { BufferPool } from '../../src/workers/buffer-pool';

async function main(): Promise<void> {
  const pool = BufferPool.create({
    classes: [{ size: 4096, count: 1024 }, { size: 65536, count: 64 }],
    spill: false,
  });
  const held = new Int32Array(32);
  const bench = new Bench({ time: 400, warmupTime: 100 });
  bench
    .add('get+put 4 KiB', () => {
      const h = pool.get(4096);
      pool.put(h);
    })
    .add('get+view+put 64 KiB', () => {
      const h = pool.get(65536);
      pool.view(h)[0] = 1;
      pool.put(h);
    })
    .add('32 x get, then 32 x put (4 KiB)', () => {
      for (let i = 0; i < 32; i++) held[i] = pool.get(4096);
      for (let i = 0; i < 32; i++) pool.put(held[i]);
    });
  await bench.run();
  printTasks(bench);
  console.log('stats', JSON.stringify(pool.stats()));
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
