// Ring hand-off cost: batches of 1, 8 and 32 descriptors, same thread and across two threads
// (an echo worker that drains ring A and answers on ring B). Run: npx tsx bench/micro/ring.bench.ts
// One task = one batch sent and (across threads) its echoes received; per-descriptor cost is
// the task time divided by the batch size.

import { Bench } from 'tinybench';
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { DescKind } from '../../src/workers/ring/descriptor';
import { RingHandle, SpscRing } from '../../src/workers/ring/spsc-ring';

const STOP = 0xffffffff;

interface EchoData { a: RingHandle; b: RingHandle }

function echo(data: EchoData): void {
  const a = SpscRing.attach(data.a);
  const b = SpscRing.attach(data.b);
  for (;;) {
    let n = a.peek();
    if (n === 0) {
      a.waitReadableSync(1000);
      continue;
    }
    while (b.reserve(n) < n) b.waitWritableSync(1000); // bounded: the main thread keeps draining b
    for (let i = 0; i < n; i++) {
      const src = a.reader(i);
      if (src.tag === STOP) return;
      b.writer(i).copyFrom(src);
    }
    a.consume(n);
    b.publish(n);
    n = 0;
  }
}

async function main(): Promise<void> {
  const bench = new Bench({ time: 400, warmupTime: 100 });
  const same = SpscRing.create(1024);
  for (const k of [1, 8, 32]) {
    bench.add(`same thread, batch ${k}`, () => {
      same.reserve(k);
      for (let j = 0; j < k; j++) {
        const d = same.writer(j);
        d.tag = j;
        d.kind = DescKind.COMMAND;
      }
      same.publish(k);
      const n = same.peek();
      let sum = 0;
      for (let i = 0; i < n; i++) sum += same.reader(i).tag;
      same.consume(n);
      if (sum < 0) throw new Error('unreachable');
    });
  }

  const a = SpscRing.create(1024);
  const b = SpscRing.create(1024);
  const worker = new Worker(__filename, {
    execArgv: __filename.endsWith('.ts') ? ['--require', 'tsx/cjs'] : [],
    workerData: { a: a.handle(), b: b.handle() },
  });
  let seq = 0;
  for (const k of [1, 8, 32]) {
    bench.add(`two threads round trip, batch ${k}`, () => {
      a.reserve(k);
      for (let j = 0; j < k; j++) a.writer(j).tag = seq++ & 0x7fffffff;
      a.publish(k);
      let got = 0;
      for (let guard = 0; got < k && guard < 1_000_000; guard++) {
        const n = b.peek();
        if (n === 0) {
          b.waitReadableSync(1000);
          continue;
        }
        b.consume(n);
        got += n;
      }
      if (got !== k) throw new Error(`lost echoes: ${got}/${k}`);
    });
  }

  await bench.run();
  a.reserve(1);
  a.writer(0).tag = STOP;
  a.publish(1);
  await worker.terminate();

  const batchOf = (name: string): number => Number(/batch (\d+)/.exec(name)?.[1] ?? 1);
  console.log('task                                 ops/s (batches)   ns/descriptor   p99 µs/batch');
  for (const t of bench.tasks) {
    const r = t.result;
    if (r === undefined) continue;
    const k = batchOf(t.name);
    console.log(`${t.name.padEnd(36)} ${r.hz.toFixed(0).padStart(15)} ${((r.mean * 1e6) / k).toFixed(1).padStart(15)} ${(r.p99 * 1000).toFixed(2).padStart(14)}`);
  }
}

if (isMainThread) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
} else {
  echo(workerData as EchoData);
}
