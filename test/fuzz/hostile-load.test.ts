// Hostile load beside well-behaved sessions (issue 9, "Prove it"): the daemon as a user starts it
// (default engine threads) with a fileio LUN and a null LUN; four qemu-io sessions doing
// verified 64 KiB rounds and one iscsi-perf stream run for the whole test, while a seeded
// generator opens connections from other loopback addresses and sends random bytes, truncated
// and oversized PDUs, garbage login keys, mutated full-feature PDUs, logins in a loop, and holds
// idle half-open, slow-loris (one byte per second), never-reading and Data-Out-withholding
// (SIMPLE and ORDERED) connections. What one initiator does may cost only its own session:
//   - no well-behaved command waits longer than COMMAND_WAIT_BOUND_SEC,
//   - no data mismatch, no failed round,
//   - the daemon's RSS stays under a bound derived from its configuration, and levels off,
//   - the iscsi-perf stream keeps at least half of the throughput it had before the load,
//   - a fresh login works at the end, and the PDU and connection counts were reached.
// CI runs the short version (same mix, ~60 s of load); `npm run fuzz -- --long` sets
// NEXUS_FUZZ_LONG=1 for 10^6 PDUs over 10^4+ connections. NEXUS_FUZZ_SEED replays a seed.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RunningDaemon, startDaemon } from '../helpers/daemon';
import { NATIVE_ADDON, describeNeeds, tool } from '../helpers/prereq';
import { FAST_KINDS, HostileKind, Hostiles, SLOW_KINDS } from './hostile-gen';
import { MemoryTrace } from './memory-trace';
import { FUZZ_TARGET } from './pdu-gen';
import { Prng, fuzzSeed } from './prng';
import { Children, PerfRun, PerfStats, QemuStats, ROUND_BYTES, iscsiPerf, qemuRounds, rssBytes, runChild } from './well-behaved';

const LONG = process.env.NEXUS_FUZZ_LONG === '1';
const SHARED_TARGET = 'iqn.2026-11.io.nexus:shared';

/** The figures each mode must reach, and how long it may take. */
const MODE = LONG
  ? { pduGoal: 1_000_000, connectionGoal: 10_000, minLoadMs: 0, budgetMs: 60 * 60_000, holdMs: 20_000, fastLanes: 8, slowLanes: 48, unloadedSec: 15 }
  : { pduGoal: 60_000, connectionGoal: 3_000, minLoadMs: 60_000, budgetMs: 150_000, holdMs: 10_000, fastLanes: 6, slowLanes: 24, unloadedSec: 8 };

/** Issue 9: no well-behaved command waits longer than this. */
const COMMAND_WAIT_BOUND_SEC = 2;
/**
 * The daemon's resident set is bounded by its configuration, not by the traffic (README,
 * "Reliability"): RSS_BOUND = the idle daemon as measured before the load (code, the buffer pool's
 * mapping, one V8 isolate per thread with its young generation: 150-230 MiB here)
 *   + PER_ENGINE_THREAD_MIB per engine thread: its old generation at the point where V8 collects
 *     (engine threads have a 256 MiB old generation limit, so V8 collects at a small multiple of
 *     the live heap; this load holds 20-25 MiB live) and the Buffers that collection frees;
 *   + MAIN_THREAD_MIB for the supervisor (logins, discovery), the same on Node's default limits;
 *   + PER_LANE_MIB per hostile connection the generator holds at a time (one per lane): its
 *     64 KiB receive buffer, its PDUs and Data-Out buffers (this generator's transfers are at most
 *     128 KiB), glibc's arena pages around them;
 * capped at the issue's target, RSS_TARGET_MIB. A session's buffer budgets
 * (maxDataOutMiBPerSession, maxDataInMiBPerSession) are a protocol bound, far above what these
 * sessions' transfers reach, so they do not enter the figure. Before the engine threads' heap limits
 * the 60 s run peaked at 403-513 MiB and the 10^6-PDU run at 587 MiB, still rising at the end;
 * with them 251-328 MiB and 396 MiB (bounds 410-430 and 482 MiB with two engine threads).
 */
const PER_ENGINE_THREAD_MIB = 64;
const MAIN_THREAD_MIB = 64;
const PER_LANE_MIB = 2;
const RSS_TARGET_MIB = 512;
/**
 * A plateau, not a slope: RSS at the end of the load exceeds RSS at its middle by at most this.
 * Asserted on the long run only: over the 60 s run's second half the engine threads' old
 * generations have not yet reached the point where V8 collects, so the rise there follows the
 * collector's schedule, not the traffic (the same build rose 8 MiB on a quiet host and 55 MiB on a
 * loaded one); over 10^6 PDUs and 10^4 connections a per-connection leak shows as a slope. The
 * short run prints the rise and asserts the configuration-derived bound above.
 */
const RSS_SECOND_HALF_RISE_MIB = 40;
/** The iscsi-perf stream keeps at least this share of its unloaded throughput. */
const PERF_KEEP = 0.5;
const QEMU_SESSIONS = 4;
/** iscsi-perf requests in flight: a modest stream, so that it measures the target, not the CPU it leaves the generator. */
const PERF_DEPTH = 4;
/** Loopback addresses the hostile connections come from (the well-behaved ones use 127.0.0.1). */
const HOSTILE_SOURCES = Array.from({ length: 8 }, (_, i) => `127.0.1.${i + 1}`);

const sessionOffset = (i: number): number => (i + 1) * (1 << 20);

describeNeeds(NATIVE_ADDON, tool('qemu-io'), tool('iscsi-perf'), tool('iscsi-inq'))('fuzz: hostile load beside well-behaved sessions', function () {
  this.timeout(MODE.budgetMs + MODE.unloadedSec * 1000 + 180_000);
  const seed = fuzzSeed();
  const children = new Children();
  let d: RunningDaemon | undefined;
  let dir: string | undefined;
  let hostiles: Hostiles | undefined;
  let perf: PerfRun | undefined;
  let rssTimer: NodeJS.Timeout | undefined;
  let trace: MemoryTrace | undefined;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'nexus-hload-'));
    d = await startDaemon({
      devices: [
        { name: 'disk0', handler: 'fileio', path: path.join(dir, 'disk0.img'), size: '64MiB', blockSize: 512 },
        { name: 'null0', handler: 'nullio', size: '1GiB' },
        { name: 'fuzz0', handler: 'ram', size: '8MiB', blockSize: 512 },
        { name: 'fuzz1', handler: 'ram', size: '4MiB', blockSize: 4096 },
      ],
      targets: [
        { driver: 'iscsi', name: SHARED_TARGET, portals: ['127.0.0.1:0'], luns: [{ lun: 0, device: 'disk0' }, { lun: 1, device: 'null0' }] },
        // Random CDBs (reservations, START STOP UNIT, resets) go to devices of their own: SAM-5
        // lets those affect every initiator of a LUN, so on the shared LUNs they would prove nothing.
        { driver: 'iscsi', name: FUZZ_TARGET, portals: ['127.0.0.1:0'], luns: [{ lun: 0, device: 'fuzz0' }, { lun: 1, device: 'fuzz1' }] },
      ],
    }, { logLevel: 'error' });
  });

  after(async () => {
    clearInterval(rssTimer);
    trace?.stop();
    hostiles?.closeAll();
    perf?.stop();
    children.killAll();
    if (d) await d.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`keeps every well-behaved session within bounds under ${MODE.pduGoal} hostile PDUs over ${MODE.connectionGoal}+ connections (seed ${seed})`, async function () {
    const daemon = d as RunningDaemon;
    const url = (lun: number): string => `iscsi://${daemon.host}:${daemon.port}/${SHARED_TARGET}/${lun}`;
    console.log(`      hostile load: seed ${seed} (NEXUS_FUZZ_SEED=${seed} replays it), ${LONG ? 'long' : 'short'} mode`);

    // The daemon's resident set, twice a second for the whole test.
    let rssPeak = 0;
    const rssIdle = rssBytes(daemon.pid) ?? 0;
    rssTimer = setInterval(() => (rssPeak = Math.max(rssPeak, rssBytes(daemon.pid) ?? 0)), 500);
    // What the resident set is made of, per thread, over the whole test (memory-trace.ts).
    const traceStarted = Date.now();
    const tr = (trace = new MemoryTrace(MemoryTrace.socketOf(daemon.dir)));
    const idleMemory = await tr.sample();

    // The well-behaved sessions start first and run for the whole test.
    let wellBehaved = true;
    const perfMaxSec = Math.ceil((MODE.budgetMs + 120_000) / 1000) + MODE.unloadedSec;
    perf = iscsiPerf(children, url(1), 'iqn.2026-11.example:good-perf', PERF_DEPTH, perfMaxSec);
    const qemu: Array<Promise<QemuStats>> = Array.from({ length: QEMU_SESSIONS }, (_, i) => qemuRounds(children, {
      port: daemon.port, target: SHARED_TARGET, initiator: `iqn.2026-11.example:good-${i}`, offset: sessionOffset(i), seed,
    }, i, () => !wellBehaved));

    // Unloaded: the same sessions, no hostile traffic.
    await new Promise((r) => setTimeout(r, MODE.unloadedSec * 1000));
    const unloadedSamples = perf.samplesSoFar();

    hostiles = new Hostiles({
      host: daemon.host, port: daemon.port, sharedTarget: SHARED_TARGET, holdMs: MODE.holdMs, sources: HOSTILE_SOURCES,
      sharedRanges: Array.from({ length: QEMU_SESSIONS }, (_, i) => ({ offset: sessionOffset(i), length: ROUND_BYTES })),
    });
    const h = hostiles;
    const started = Date.now();
    const loadStartMs = started - traceStarted;
    const loadOver = (): boolean => {
      const t = Date.now() - started;
      return t >= MODE.budgetMs || (t >= MODE.minLoadMs && h.pdus >= MODE.pduGoal && h.connections >= MODE.connectionGoal);
    };
    let episode = 0;
    const lane = async (mix: ReadonlyArray<readonly [number, HostileKind]>): Promise<void> => {
      while (!loadOver()) {
        const id = episode++;
        // Each episode has its own stream, so a seed replays the same inputs whatever the timing.
        const r = new Prng((seed ^ Math.imul(id + 1, 0x9e3779b1)) >>> 0);
        await h.run(r.weighted(mix), r);
      }
    };
    await Promise.all([
      ...Array.from({ length: MODE.fastLanes }, () => lane(FAST_KINDS)),
      ...Array.from({ length: MODE.slowLanes }, () => lane(SLOW_KINDS)),
    ]);
    const loadMs = Date.now() - started;
    await tr.sample();
    const loadedSamples = perf.samplesSoFar();
    h.closeAll();

    wellBehaved = false;
    perf.stop();
    const perfStats: PerfStats = await perf.done;
    const sessions = await Promise.all(qemu);
    clearInterval(rssTimer);
    rssPeak = Math.max(rssPeak, rssBytes(daemon.pid) ?? 0);

    // A fresh login at the end, by a real initiator the target has never seen.
    const inq = await runChild(children, 'iscsi-inq', ['-i', 'iqn.2026-11.example:fresh-after-load', url(0)], 30_000);

    // ---- figures
    const mean = (xs: number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
    // The first second of the stream is its login and ramp-up; the load phase ends where the generator stopped.
    const unloaded = mean(perfStats.samples.slice(1, unloadedSamples));
    const loaded = mean(perfStats.samples.slice(unloadedSamples, Math.max(unloadedSamples, loadedSamples)));
    const maxCommand = Math.max(0, ...sessions.map((s) => s.maxCommandSec));
    const mismatches = sessions.reduce((a, s) => a + s.mismatches, 0);
    const failures = sessions.flatMap((s) => s.failures.map((f) => `${s.initiator} ${f}`));
    const mib = (b: number): string => (b / (1 << 20)).toFixed(1);
    console.log(`      hostile: ${h.pdus} PDUs (${mib(h.bytes)} MiB) over ${h.connections} connections in ${(loadMs / 1000).toFixed(1)} s`);
    console.log(`      episodes: ${[...h.kinds].map(([k, n]) => `${k} ${n}`).join(', ')}`);
    if (h.errors.size > 0) console.log(`      hostile socket errors: ${[...h.errors].map(([k, n]) => `${k} ${n}`).join(', ')}`);
    for (const s of sessions) {
      console.log(`      ${s.initiator}: ${s.rounds} rounds, longest command ${s.maxCommandSec.toFixed(3)} s, longest round ${s.maxRoundSec.toFixed(2)} s, ${s.mismatches} mismatches, ${s.failures.length} failed rounds`);
    }
    console.log(`      iscsi-perf (depth ${PERF_DEPTH}, 4 KiB READ, null LUN): unloaded ${unloaded.toFixed(0)} IOPS, loaded ${loaded.toFixed(0)} IOPS (${unloaded > 0 ? ((100 * loaded) / unloaded).toFixed(0) : '?'}%), longest second-run without a completion ${perfStats.longestZeroRunSec} s`);
    const engineThreads = Math.max(0, (idleMemory?.threads.length ?? 1) - 1);
    const rssBoundMib = Math.min(RSS_TARGET_MIB,
      Math.ceil(rssIdle / (1 << 20)) + engineThreads * PER_ENGINE_THREAD_MIB + MAIN_THREAD_MIB + (MODE.fastLanes + MODE.slowLanes) * PER_LANE_MIB);
    const midLoad = tr.at(loadStartMs + loadMs / 2);
    const endLoad = tr.at(loadStartMs + loadMs + 1000);
    const secondHalfRise = midLoad && endLoad ? endLoad.residentBytes - midLoad.residentBytes : 0;
    console.log(`      daemon RSS: idle ${mib(rssIdle)} MiB, peak ${mib(rssPeak)} MiB (bound ${rssBoundMib} MiB: idle + ${engineThreads} engine threads x ${PER_ENGINE_THREAD_MIB} + ${MAIN_THREAD_MIB} + ${MODE.fastLanes + MODE.slowLanes} lanes x ${PER_LANE_MIB}), second half of the load ${secondHalfRise >= 0 ? '+' : ''}${mib(secondHalfRise)} MiB`);
    if (idleMemory) console.log(`      memory idle: ${MemoryTrace.format(idleMemory)}`);
    for (const q of [25, 50, 75, 100]) {
      const m = tr.at(loadStartMs + (loadMs * q) / 100 + (q === 100 ? 1000 : 0));
      if (m) console.log(`      memory at ${q}% of the load: ${MemoryTrace.format(m)}`);
    }
    console.log(`      fresh login after the load: iscsi-inq exit ${inq.code ?? inq.signal}`);

    // ---- assertions, all reported at once
    const v: string[] = [];
    if (maxCommand > COMMAND_WAIT_BOUND_SEC) v.push(`a well-behaved command waited ${maxCommand.toFixed(3)} s (bound ${COMMAND_WAIT_BOUND_SEC} s)`);
    if (perfStats.longestZeroRunSec >= COMMAND_WAIT_BOUND_SEC) v.push(`iscsi-perf completed nothing for ${perfStats.longestZeroRunSec} s in a row (bound ${COMMAND_WAIT_BOUND_SEC} s)`);
    if (mismatches > 0) v.push(`${mismatches} data mismatches`);
    if (failures.length > 0) v.push(`failed rounds:\n        ${failures.slice(0, 8).join('\n        ')}`);
    if (sessions.some((s) => s.rounds < 2)) v.push(`a qemu-io session ran fewer than 2 rounds: ${sessions.map((s) => s.rounds).join(', ')}`);
    if (rssPeak > rssBoundMib * (1 << 20)) v.push(`daemon RSS peaked at ${mib(rssPeak)} MiB (bound ${rssBoundMib} MiB)`);
    if (!midLoad || !endLoad) v.push('no memory samples of the daemon at the middle and the end of the load');
    else if (LONG && secondHalfRise > RSS_SECOND_HALF_RISE_MIB * (1 << 20)) v.push(`daemon RSS rose ${mib(secondHalfRise)} MiB over the second half of the load (bound ${RSS_SECOND_HALF_RISE_MIB} MiB)`);
    if (!perfStats.ok) v.push(`iscsi-perf did not run to its end: ${perfStats.out.slice(-400)}`);
    if (unloaded <= 0) v.push('iscsi-perf had no unloaded throughput to compare with');
    else if (loaded < PERF_KEEP * unloaded) v.push(`iscsi-perf kept ${((100 * loaded) / unloaded).toFixed(0)}% of its unloaded throughput (bound ${100 * PERF_KEEP}%)`);
    if (inq.code !== 0 || !/DIRECT_ACCESS/.test(inq.out)) v.push(`no fresh login after the load: ${inq.out.trim().slice(-300)}`);
    if (h.pdus < MODE.pduGoal) v.push(`${h.pdus} hostile PDUs sent, goal ${MODE.pduGoal}`);
    if (h.connections < MODE.connectionGoal) v.push(`${h.connections} hostile connections, goal ${MODE.connectionGoal}`);
    expect(() => process.kill(daemon.pid, 0), 'daemon process died').not.to.throw();
    expect(v, `NEXUS_FUZZ_SEED=${seed}${LONG ? ' NEXUS_FUZZ_LONG=1' : ''} reproduces:\n      ${v.join('\n      ')}`).to.deep.equal([]);
  });
});
