// One table layout for micro-benchmarks that print ops/s, mean and p99 per task.
import type { Bench } from 'tinybench';

export function printTasks(bench: Bench): void {
  console.log('task                                  ops/s      mean ns   p99 ns');
  for (const t of bench.tasks) {
    const r = t.result;
    if (r === undefined) continue;
    console.log(`${t.name.padEnd(34)} ${r.hz.toFixed(0).padStart(10)} ${(r.mean * 1e6).toFixed(0).padStart(10)} ${(r.p99 * 1e6).toFixed(0).padStart(8)}`);
  }
}
