/**
 * The engine's command hot path with no transport: READ(10) and WRITE(10) of 4 KiB through an
 * I_T nexus of an in-process Engine (LUN lookup, decode, task set, range lock, backstore,
 * statistics, completion) on null, ram and file units, at queue depth 1 and 32. Prints
 * commands/s and ns/command (wall time; the loop is single-threaded, so wall ≈ CPU).
 *
 *   npx tsx bench/micro/engine-path.bench.ts [seconds-per-cell]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine';
import { DeviceConfig } from '../../src/engine/topology';
import { CommandRequest, Completion } from '../../src/engine/command';
import { ItNexus } from '../../src/engine/nexus';
import { TaskAttr } from '../../src/engine/spec/status';

const BS = 512;
const BLOCKS = 8; // 4 KiB
const SPAN = 32768; // LBAs are drawn from the first 16 MiB (file: page cache after the prefill)

function dev(name: string, handler: DeviceConfig['handler'], path?: string): DeviceConfig {
  return { name, handler, path, sizeBytes: BigInt(SPAN * BS), blockSize: BS, writeCache: 'writeback', thin: false, readOnly: false };
}

/** READ(10) / WRITE(10) written out by hand (SBC-4 5.16, 5.41). */
function rw10(op: number, lba: number): Uint8Array {
  return Uint8Array.from([op, 0, lba >>> 24, (lba >> 16) & 0xff, (lba >> 8) & 0xff, lba & 0xff, 0, 0, BLOCKS, 0]);
}

/**
 * Keep `qd` commands in flight for `ms` milliseconds; returns commands completed and elapsed ns.
 * CDBs come from a fixed ring so the loop itself allocates nothing per command.
 */
function drive(nexus: ItNexus, lun: number, write: boolean, qd: number, ms: number): Promise<{ n: number; ns: number }> {
  const ring: CommandRequest[] = [];
  const payload = Buffer.alloc(BLOCKS * BS, 0x5a);
  let seed = 12345;
  for (let i = 0; i < 1024; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const lba = (seed >>> 8) % (SPAN - BLOCKS);
    ring.push({
      lun, cdb: rw10(write ? 0x2a : 0x28, lba), tag: i, attr: TaskAttr.SIMPLE, expectedLength: BLOCKS * BS,
      dataOut: write ? payload : undefined,
    });
  }
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const deadline = t0 + BigInt(ms) * 1_000_000n;
    let inflight = 0;
    let issued = 0;
    let completed = 0;
    let pumping = false;
    let stopping = false;
    const done = (c: Completion): void => {
      if (c.status !== 0) { reject(new Error(`status ${c.status}`)); return; }
      inflight--;
      completed++;
      if (!pumping) pump();
    };
    const pump = (): void => {
      pumping = true;
      // Bounded: stops at the deadline, checked every 256 issues.
      while (!stopping && inflight < qd) {
        if ((issued & 255) === 0 && process.hrtime.bigint() > deadline) stopping = true;
        else { inflight++; nexus.execute(ring[issued++ & 1023], done); }
      }
      pumping = false;
      if (stopping && inflight === 0) resolve({ n: completed, ns: Number(process.hrtime.bigint() - t0) });
    };
    pump();
  });
}

async function main(): Promise<void> {
  const secs = Number(process.argv[2] ?? 1);
  const dir = mkdtempSync(join(tmpdir(), 'nexus-engine-path-'));
  const engine = await Engine.create({
    devices: [dev('null0', 'nullio'), dev('ram0', 'ram'), dev('file0', 'fileio', join(dir, 'lu.img'))],
    targets: [{
      driver: 'local', name: 'iqn.2026-11.io.nexus:bench', portals: [], groups: [],
      luns: [{ lun: 0, device: 'null0', readOnly: false }, { lun: 1, device: 'ram0', readOnly: false }, { lun: 2, device: 'file0', readOnly: false }],
    }],
  });
  try {
    const nexus = engine.openNexus({ targetName: 'iqn.2026-11.io.nexus:bench', initiatorName: 'iqn.2026-11.example:bench' }) as ItNexus;
    // Clear POWER ON/RESET unit attentions, then fill ram and file so reads hit data.
    for (const lun of [0, 1, 2]) {
      for (let i = 0; i < 4; i++) {
        await new Promise<void>(res => nexus.execute({ lun, cdb: Uint8Array.from([0, 0, 0, 0, 0, 0]), tag: 1, attr: TaskAttr.SIMPLE, expectedLength: 0 }, () => res()));
      }
    }
    const fill = Buffer.alloc(64 * BS, 0xa5);
    for (const lun of [1, 2]) {
      for (let lba = 0; lba < SPAN; lba += 64) {
        const cdb = Uint8Array.from([0x2a, 0, lba >>> 24, (lba >> 16) & 0xff, (lba >> 8) & 0xff, lba & 0xff, 0, 0, 64, 0]);
        await new Promise<void>(res => nexus.execute({ lun, cdb, tag: 2, attr: TaskAttr.SIMPLE, expectedLength: fill.length, dataOut: fill }, () => res()));
      }
    }
    const rows: Array<Record<string, string>> = [];
    for (const [store, lun] of [['null', 0], ['ram', 1], ['file', 2]] as const) {
      for (const write of [false, true]) {
        for (const qd of [1, 32]) {
          await drive(nexus, lun, write, qd, 150); // warm-up
          const r = await drive(nexus, lun, write, qd, secs * 1000);
          rows.push({
            cell: `${store} ${write ? 'WRITE(10)' : 'READ(10)'} 4k qd${qd}`,
            'cmds/s': Math.round(r.n / (r.ns / 1e9)).toLocaleString('en-US'),
            'ns/cmd': (r.ns / r.n).toFixed(0),
          });
        }
      }
    }
    console.table(rows);
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch(e => { console.error(e); process.exit(1); });
