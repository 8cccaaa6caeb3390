/**
 * Allocations per command on the engine's local read path: READ(10) of 4 KiB through an I_T
 * nexus of an in-process Engine, completed synchronously (null and ram units), one command at a
 * time. Two measures per unit:
 *  - objects and bytes per command from V8's sampling heap profiler with a 1-byte interval (every
 *    allocation is a sample, including the ones a scavenge collects), over `SAMPLED` commands;
 *  - heap bytes per command from process.memoryUsage() over `COUNTED` commands with no
 *    garbage collection in between (checked: a run that saw a GC says so).
 * It needs global gc() and a young generation large enough for the counted run, and starts itself
 * again with them when run plainly:
 *
 *   npx tsx bench/micro/engine-alloc.bench.ts
 */
import { spawnSync } from 'node:child_process';
import { Session } from 'node:inspector';
import { PerformanceObserver } from 'node:perf_hooks';
import { Engine } from '../../src/engine/engine';
import { DeviceConfig } from '../../src/engine/topology';
import { CommandRequest, Completion } from '../../src/engine/command';
import { ItNexus } from '../../src/engine/nexus';
import { TaskAttr } from '../../src/engine/spec/status';

const BS = 512;
const BLOCKS = 8; // 4 KiB
const SPAN = 32768;
const WARMUP = 20000;
const SAMPLED = 2000;
const COUNTED = 20000;

function dev(name: string, handler: DeviceConfig['handler']): DeviceConfig {
  return { name, handler, sizeBytes: BigInt(SPAN * BS), blockSize: BS, writeCache: 'writeback', thin: false, readOnly: false };
}

/** READ(10) written out by hand (SBC-4 5.16). */
function read10(lba: number): Uint8Array {
  return Uint8Array.from([0x28, 0, lba >>> 24, (lba >> 16) & 0xff, (lba >> 8) & 0xff, lba & 0xff, 0, 0, BLOCKS, 0]);
}

/** Requests made up front, so the loop allocates nothing of its own per command. */
function requests(lun: number): CommandRequest[] {
  const ring: CommandRequest[] = [];
  for (let i = 0; i < 1024; i++) {
    ring.push({ lun, cdb: read10((i * 97) % (SPAN - BLOCKS)), tag: i, attr: TaskAttr.SIMPLE, expectedLength: BLOCKS * BS });
  }
  return ring;
}

/** Run `n` commands one after another; each must complete inside execute (synchronous path). */
function run(nexus: ItNexus, ring: CommandRequest[], n: number): void {
  let completed = 0;
  const done = (c: Completion): void => {
    if (c.status !== 0) throw new Error(`status ${c.status}`);
    c.release?.();
    completed++;
  };
  for (let i = 0; i < n; i++) {
    nexus.execute(ring[i & 1023], done);
    if (completed !== i + 1) throw new Error('the read did not complete synchronously');
  }
}

function post<T>(s: Session, method: string, params?: object): T {
  let out: T | undefined;
  let err: Error | null = null;
  s.post(method, params ?? {}, (e, r) => { err = e; out = r as T; });
  if (err) throw err;
  return out!;
}

interface SamplingProfile { samples: Array<{ size: number }> }

function sampled(nexus: ItNexus, ring: CommandRequest[]): { objects: number; bytes: number } {
  const s = new Session();
  s.connect();
  post(s, 'HeapProfiler.enable');
  post(s, 'HeapProfiler.startSampling', {
    samplingInterval: 1, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true,
  });
  run(nexus, ring, SAMPLED);
  const { profile } = post<{ profile: SamplingProfile }>(s, 'HeapProfiler.stopSampling');
  s.disconnect();
  const bytes = profile.samples.reduce((a, x) => a + x.size, 0);
  return { objects: profile.samples.length / SAMPLED, bytes: bytes / SAMPLED };
}

function counted(nexus: ItNexus, ring: CommandRequest[]): { bytes: number; gcs: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  let gcs = 0;
  const obs = new PerformanceObserver(list => { gcs += list.getEntries().length; });
  gc();
  obs.observe({ entryTypes: ['gc'] });
  const before = process.memoryUsage().heapUsed;
  run(nexus, ring, COUNTED);
  const after = process.memoryUsage().heapUsed;
  obs.disconnect();
  return { bytes: (after - before) / COUNTED, gcs };
}

const NODE_FLAGS = ['--expose-gc', '--max-semi-space-size=128', '--min-semi-space-size=128'];

async function main(): Promise<void> {
  if (!(globalThis as { gc?: () => void }).gc) {
    const r = spawnSync(process.execPath, [...process.execArgv, ...NODE_FLAGS, ...process.argv.slice(1)], { stdio: 'inherit' });
    process.exitCode = r.status ?? 1;
    return;
  }
  const engine = await Engine.create({
    devices: [dev('null0', 'nullio'), dev('ram0', 'ram')],
    targets: [{
      driver: 'local', name: 'iqn.2026-12.io.nexus:alloc', portals: [], groups: [],
      luns: [{ lun: 0, device: 'null0', readOnly: false }, { lun: 1, device: 'ram0', readOnly: false }],
    }],
  });
  const nexus = engine.openNexus({ targetName: 'iqn.2026-12.io.nexus:alloc', initiatorName: 'iqn.2026-12.example:bench' })!;
  // The POWER ON, RESET unit attention of each new I_T_L nexus.
  for (const lun of [0, 1]) nexus.execute({ lun, cdb: new Uint8Array(6), tag: 0, attr: TaskAttr.SIMPLE, expectedLength: 0 }, () => undefined);
  console.log('READ(10) 4 KiB, synchronous completion   objects/cmd  bytes/cmd (sampled)  heap bytes/cmd (counted)');
  for (const [name, lun] of [['null', 0], ['ram', 1]] as const) {
    const ring = requests(lun);
    run(nexus, ring, WARMUP);
    const s = sampled(nexus, ring);
    const c = counted(nexus, ring);
    console.log(`${name.padEnd(40)} ${s.objects.toFixed(1).padStart(11)} ${s.bytes.toFixed(0).padStart(20)} ${c.bytes.toFixed(0).padStart(25)}${c.gcs ? ` (${c.gcs} GCs: not exact)` : ''}`);
  }
  await engine.close();
}

main().catch(e => { console.error(e); process.exitCode = 1; });
