// Commands per second through the runtime (src/workers/supervisor.ts) with the sessions on this
// thread: 0 engine threads (the LU on this thread's scheduler, direct calls) against 1 (the LU on
// an engine thread, every command a ring hop with its Data-In in a pool buffer), at queue depth 1
// and 32 (a batch of 32 READ(10) in flight, so one doorbell carries many descriptors). Two units:
// null (4 KiB reads of lent zeros) and ram (64 KiB reads the store copies into the read buffer).
// Run: npx tsx bench/micro/actor-hop.bench.ts
// One task = one batch of `qd` commands submitted and all completed; commands per second is
// qd / task time. Data-In buffers are released as a transport would after its socket write.

import { Bench } from 'tinybench';
import type { NexusApi } from '../../src/engine/engine-api';
import { TaskAttr } from '../../src/engine/spec/status';
import type { Topology } from '../../src/engine/topology';
import { Supervisor } from '../../src/workers/supervisor';

const TARGET = 'iqn.2026-11.io.nexus:bench';
const topology: Pick<Topology, 'devices' | 'targets'> = {
  devices: [
    { name: 'null0', handler: 'nullio', sizeBytes: 1n << 30n, blockSize: 512, writeCache: 'writeback', thin: false, readOnly: false },
    { name: 'ram0', handler: 'ram', sizeBytes: 16n << 20n, blockSize: 512, writeCache: 'writeback', thin: false, readOnly: false },
  ],
  targets: [{
    driver: 'local', name: TARGET, portals: [], groups: [],
    luns: [{ lun: 0, device: 'null0', readOnly: false }, { lun: 1, device: 'ram0', readOnly: false }],
  }],
};
// READ(10) LBA 0, 8 blocks (4 KiB) and 128 blocks (64 KiB), written out by hand.
const READ10_4K = Uint8Array.from([0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0]);
const READ10_64K = Uint8Array.from([0x28, 0, 0, 0, 0, 0, 0, 0, 128, 0]);
const UNITS = [
  { lun: 0, label: 'null 4 KiB', cdb: READ10_4K, bytes: 4096 },
  { lun: 1, label: 'ram 64 KiB', cdb: READ10_64K, bytes: 65536 },
];

function batch(n: NexusApi, lun: number, cdb: Uint8Array, bytes: number, qd: number): Promise<void> {
  return new Promise(resolve => {
    let left = qd;
    for (let i = 0; i < qd; i++) {
      n.execute({ lun, cdb, tag: i, attr: TaskAttr.SIMPLE, expectedLength: bytes }, c => {
        c.release?.();
        if (--left === 0) resolve();
      });
    }
  });
}

async function main(): Promise<void> {
  const engines: [string, Supervisor][] = [
    ['0 engine threads', await Supervisor.create(topology, { threads: 0 })],
    ['1 engine thread', await Supervisor.create(topology, { threads: 1, callingThread: true })],
  ];
  const bench = new Bench({ time: 1000, warmupTime: 200 });
  for (const [name, e] of engines) {
    const n = e.engine.openNexus({ targetName: TARGET, initiatorName: 'iqn.2026-11.example:bench' })!;
    for (const u of UNITS) {
      for (let i = 0; i < 4; i++) await batch(n, u.lun, u.cdb, u.bytes, 1); // consume the POWER ON unit attention
      for (const qd of [1, 32]) bench.add(`${name}, ${u.label}, QD ${qd}`, () => batch(n, u.lun, u.cdb, u.bytes, qd));
    }
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
