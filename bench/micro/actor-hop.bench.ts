// Commands per second through the runtime (src/workers/supervisor.ts) with the sessions on this
// thread: 0 engine threads (the null LU on this thread's scheduler, direct calls) against 1 (the
// LU on an engine thread, every command a ring hop), at queue depth 1 and 32 (a batch of 32 READ(10) of 4 KiB in flight, so one
// doorbell carries many descriptors). Run: npx tsx bench/micro/actor-hop.bench.ts
// One task = one batch of `qd` commands submitted and all completed; commands per second is
// qd / task time. Data-In buffers are released as a transport would after its socket write.

import { Bench } from 'tinybench';
import type { NexusApi } from '../../src/engine/engine-api';
import { TaskAttr } from '../../src/engine/spec/status';
import type { Topology } from '../../src/engine/topology';
import { Supervisor } from '../../src/workers/supervisor';

const TARGET = 'iqn.2026-11.io.nexus:bench';
const topology: Pick<Topology, 'devices' | 'targets'> = {
  devices: [{ name: 'null0', handler: 'nullio', sizeBytes: 1n << 30n, blockSize: 512, writeCache: 'writeback', thin: false, readOnly: false }],
  targets: [{ driver: 'local', name: TARGET, portals: [], groups: [], luns: [{ lun: 0, device: 'null0', readOnly: false }] }],
};
// READ(10) LBA 0, 8 blocks (4 KiB), written out by hand.
const READ10 = Uint8Array.from([0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0]);

function batch(n: NexusApi, qd: number): Promise<void> {
  return new Promise(resolve => {
    let left = qd;
    for (let i = 0; i < qd; i++) {
      n.execute({ lun: 0, cdb: READ10, tag: i, attr: TaskAttr.SIMPLE, expectedLength: 4096 }, c => {
        c.release?.();
        if (--left === 0) resolve();
      });
    }
  });
}

async function warm(n: NexusApi): Promise<void> {
  for (let i = 0; i < 4; i++) await batch(n, 1); // consume the POWER ON unit attention
}

async function main(): Promise<void> {
  const engines: [string, Supervisor][] = [
    ['0 engine threads', await Supervisor.create(topology, { threads: 0 })],
    ['1 engine thread', await Supervisor.create(topology, { threads: 1, callingThread: true })],
  ];
  const bench = new Bench({ time: 1000, warmupTime: 200 });
  for (const [name, e] of engines) {
    const n = e.engine.openNexus({ targetName: TARGET, initiatorName: 'iqn.2026-11.example:bench' })!;
    await warm(n);
    for (const qd of [1, 32]) bench.add(`${name}, QD ${qd}`, () => batch(n, qd));
  }
  await bench.run();
  console.table(bench.tasks.map(t => {
    const qd = Number(t.name.split('QD ')[1]);
    const mean = t.result?.mean ?? NaN; // ms per batch
    return { task: t.name, 'µs/batch': (mean * 1000).toFixed(1), 'commands/s': Math.round(qd / (mean / 1000)) };
  }));
  for (const [, e] of engines) await e.close();
}

void main();
