/**
 * CDB decode through the disk device type's table (src/engine/devices/disk.ts): opcode (and
 * service action) lookup, usage-mask check of every byte, field extraction. One task = one CDB.
 *
 *   npx tsx bench/micro/cdb-decode.bench.ts
 */
import { Bench } from 'tinybench';
import { DISK } from '../../src/engine/devices/disk';

// Hand-built CDBs (SBC-4 5.16, 5.33; SPC-4 6.6).
const CDBS: Array<[string, Uint8Array]> = [
  // READ(10): LBA 0x00012345, 8 blocks
  ['READ(10)', Uint8Array.from([0x28, 0x00, 0x00, 0x01, 0x23, 0x45, 0x00, 0x00, 0x08, 0x00])],
  // WRITE(16): LBA 0x0000000123456789, 256 blocks
  ['WRITE(16)', Uint8Array.from([0x8a, 0x00, 0x00, 0x00, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00])],
  // INQUIRY: standard data, allocation length 96
  ['INQUIRY', Uint8Array.from([0x12, 0x00, 0x00, 0x00, 0x60, 0x00])],
  // INQUIRY with a reserved bit set in byte 1: the refusal path (INVALID FIELD IN CDB)
  ['INQUIRY (reserved bit: refused)', Uint8Array.from([0x12, 0x80, 0x00, 0x00, 0x60, 0x00])],
];

/** ops/s, mean and p99 per task. */
function printBench(bench: Bench, perTask: Record<string, string> = {}): void {
  console.table(bench.tasks.map((t) => {
    const r = t.result;
    if (!r || r.error) return { task: t.name, error: String(r?.error) };
    return {
      task: t.name,
      'ops/s': Math.round(r.hz).toLocaleString('en-US'),
      'mean ns': (r.mean * 1e6).toFixed(0),
      'p99 ns': (r.p99 * 1e6).toFixed(0),
      samples: r.samples.length,
      ...(perTask[t.name] !== undefined ? { note: perTask[t.name] } : {}),
    };
  }));
}

async function main(): Promise<void> {
  const table = DISK.table;
  const notes: Record<string, string> = {};
  for (const [name, cdb] of CDBS) {
    const r = table.decode(cdb);
    const expectOk = !name.includes('refused');
    if (r.ok !== expectOk) throw new Error(`${name}: decode ${r.ok ? 'accepted' : 'refused'} it, expected the opposite`);
    notes[name] = r.ok ? r.def.name : 'check condition';
  }
  const bench = new Bench({ time: 500, warmupTime: 100 });
  let sink = 0;
  for (const [name, cdb] of CDBS) {
    bench.add(name, () => {
      const r = table.decode(cdb);
      sink += r.ok ? 1 : 2;
    });
  }
  await bench.warmup();
  await bench.run();
  printBench(bench, notes);
  if (sink === -1) console.log(sink);
}

void main();
