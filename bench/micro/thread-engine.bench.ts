// Command rate of a session on an engine thread: a LUN homed on the same thread (direct call into
// the thread's Engine, no ring) against a LUN homed on a peer (descriptor over the mesh ring, one
// doorbell per batch). Both "threads" of the mesh run in this process here, so the remote figure
// is the protocol cost without the cross-core hop; QD 32 on a RAM unit, READ(10) of 4 KiB and
// 64 KiB. The remote rows run twice: with the peer's reads leasing pool buffers, so the Data-In
// descriptor carries the buffer the store read into (lun-actor.ts leaseSource), and with heap
// read buffers copied into a pool buffer on the peer (what every remote read did before).
// Data-In is released as a transport does after its socket write; nothing copies it here.
import { Bench } from 'tinybench';
import type { Completion } from '../../src/engine/command';
import type { NexusApi } from '../../src/engine/engine-api';
import { TaskAttr } from '../../src/engine/spec/status';
import { run, startMesh, TARGET } from '../../test/unit/runtime/mesh-helpers';

// READ(10) LBA 8, 8 blocks (4 KiB) and 128 blocks (64 KiB), written out by hand.
const READ_4K = Uint8Array.from([0x28, 0, 0, 0, 0, 8, 0, 0, 8, 0]);
const READ_64K = Uint8Array.from([0x28, 0, 0, 0, 0, 8, 0, 0, 128, 0]);

let tag = 1;
function read(n: NexusApi, lun: number, cdb: Uint8Array, bytes: number): Promise<void> {
  return new Promise(resolve => n.execute({ lun, cdb, tag: tag++, attr: TaskAttr.SIMPLE, expectedLength: bytes }, (c: Completion) => {
    c.release?.();
    resolve();
  }));
}

type Row = { name: string; 'commands/s': number; 'µs/command': string };

/** One mesh at a time: the read-buffer source is per thread, and both members run on this one. */
async function measure(lend: boolean, withLocal: boolean): Promise<Row[]> {
  const m = await startMesh(1024, lend);
  const label = lend ? 'lent' : 'copied';
  const n = m.parts[0].engine.openNexus({ targetName: TARGET, initiatorName: 'iqn.2024-01.bench:i', isid: '400001370000', tpgt: 1 })!;
  await run(n, 0, [0, 0, 0, 0, 0, 0]);
  await run(n, 1, [0, 0, 0, 0, 0, 0]);
  const qd = (lun: number, cdb: Uint8Array, bytes: number) => () =>
    Promise.all(Array.from({ length: 32 }, () => read(n, lun, cdb, bytes))).then(() => undefined);
  const bench = new Bench({ time: 1000 });
  if (withLocal) {
    bench.add('local LUN, 32 READ(10) 4 KiB', qd(0, READ_4K, 4096)).add('local LUN, 32 READ(10) 64 KiB', qd(0, READ_64K, 65536));
  }
  bench.add(`remote LUN via ring, Data-In ${label}, 32 READ(10) 4 KiB`, qd(1, READ_4K, 4096))
    .add(`remote LUN via ring, Data-In ${label}, 32 READ(10) 64 KiB`, qd(1, READ_64K, 65536));
  await bench.run();
  console.log(`peer LUN actor (${label}):`, m.parts[1].lun.counters);
  await n.close('logout');
  await m.close();
  return bench.tasks.map(t => ({
    name: t.name, 'commands/s': Math.round((t.result?.hz ?? 0) * 32), 'µs/command': ((t.result?.mean ?? 0) * 1000 / 32).toFixed(2),
  }));
}

async function main(): Promise<void> {
  const rows = [...await measure(false, true), ...await measure(true, false)];
  console.table(rows);
}

void main();
