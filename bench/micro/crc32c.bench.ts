/**
 * CRC32C: the native addon (SSE4.2 crc32 instruction, or its table fallback)
 * against the JS slice-by-8 fallback, for a 48-byte iSCSI Basic Header Segment
 * (header digest), a 4 KiB block and a 256 KiB burst (data digest).
 * DESIGN.md 10 expects native ~0.5 µs / JS ~3.2 µs at 4 KiB, and JS to win at 48 B.
 *
 *   npx tsx bench/micro/crc32c.bench.ts
 */
import { Bench } from 'tinybench';
import { available, crc32c, crc32cImpl, crc32cJs, loadError } from '../../src/native';

const SIZES: Array<[string, number]> = [
  ['48 B', 48],
  ['4 KiB', 4096],
  ['256 KiB', 256 * 1024],
];

function fill(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + 7) & 0xff;
  return b;
}

async function main(): Promise<void> {
  if (!available) {
    console.log(`native addon not built (${loadError?.message}); run npm ci or node-gyp rebuild first`);
    process.exitCode = 1;
    return;
  }
  const bench = new Bench({ time: 500, warmupTime: 100 });
  let sink = 0;
  for (const [label, n] of SIZES) {
    const buf = fill(n);
    if (crc32c(buf) !== crc32cJs(buf)) throw new Error(`native and JS disagree at ${label}`);
    bench.add(`native (${crc32cImpl}) ${label}`, () => {
      sink ^= crc32c(buf);
    });
    bench.add(`js slice-by-8 ${label}`, () => {
      sink ^= crc32cJs(buf);
    });
  }
  await bench.warmup();
  await bench.run();
  const rows = bench.tasks.map(t => {
    const r = t.result;
    if (!r || r.error) return { task: t.name, error: String(r?.error) };
    const bytes = SIZES.find(([label]) => t.name.endsWith(label))?.[1] ?? 0;
    return {
      task: t.name,
      'ops/s': Math.round(r.hz).toLocaleString('en-US'),
      'mean µs': (r.mean * 1000).toFixed(3),
      'p99 µs': (r.p99 * 1000).toFixed(3),
      'MB/s': ((r.hz * bytes) / 1e6).toFixed(0),
      samples: r.samples.length,
    };
  });
  console.table(rows);
  if (sink === 0.5) console.log(sink); // keep the results observable
}

void main();
