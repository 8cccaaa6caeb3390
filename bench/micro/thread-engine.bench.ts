// Command rate of a session on an engine thread: a LUN homed on the same thread (direct call into
// the thread's Engine, no ring) against a LUN homed on a peer (descriptor over the mesh ring, one
// doorbell per batch). Both "threads" of the mesh run in this process here, so the remote figure
// is the protocol cost without the cross-core hop; QD 32 on a RAM unit, 4 KiB READ(10).
import { Bench } from 'tinybench';
import { run, startMesh, TARGET } from '../../test/unit/runtime/mesh-helpers';

async function main(): Promise<void> {
  const m = await startMesh(1024);
  const te = m.parts[0].engine;
  const n = te.openNexus({ targetName: TARGET, initiatorName: 'iqn.2024-01.bench:i', isid: '400001370000', tpgt: 1 })!;
  const READ = [0x28, 0, 0, 0, 0, 8, 0, 0, 8, 0];
  await run(n, 0, [0, 0, 0, 0, 0, 0]);
  await run(n, 1, [0, 0, 0, 0, 0, 0]);
  const qd = (lun: number) => () => Promise.all(Array.from({ length: 32 }, () => run(n, lun, READ, 4096))).then(() => undefined);
  const bench = new Bench({ time: 1000 });
  bench.add('local LUN, 32 READ(10) 4 KiB', qd(0)).add('remote LUN via ring, 32 READ(10) 4 KiB', qd(1));
  await bench.run();
  console.table(bench.tasks.map(t => ({
    name: t.name, 'commands/s': Math.round((t.result?.hz ?? 0) * 32), 'µs/command': ((t.result?.mean ?? 0) * 1000 / 32).toFixed(2),
  })));
  console.log('counters', te.counters, 'descriptors sent', te.ringCounters.sent);
  await n.close('logout');
  await m.close();
}

void main();
