// The daemon's memory over a load test: stats.get over the control socket (each thread's isolate,
// the process's resident and anonymous sets) every few seconds, so that a rise of RSS can be told
// apart (V8 heap of which thread, young generation, Buffers, native) and a plateau shown by the
// samples at 25/50/75/100 % of the load.
import path from 'node:path';
import { callOnce } from '../../src/daemon/control/client';
import type { StatsView } from '../../src/daemon/control/daemon-methods';
import { MemoryCounter } from '../../src/workers/memory-usage';

export interface MemorySample {
  /** ms since the trace started. */
  readonly atMs: number;
  readonly residentBytes: number;
  readonly anonymousBytes: number;
  /** Per thread ("main" first): heap total, young generation, external, kept read buffers. */
  readonly threads: ReadonlyArray<{ readonly thread: string; readonly heapTotal: number; readonly heapUsed: number; readonly newSpace: number; readonly external: number; readonly readBuffersKept: number }>;
}

const mib = (b: number): string => (b / (1 << 20)).toFixed(0);

export class MemoryTrace {
  readonly samples: MemorySample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly started = Date.now();
  private busy = false;

  constructor(private readonly controlSocket: string, everyMs = 2000) {
    this.timer = setInterval(() => void this.sample(), everyMs);
  }

  /** The control socket of a daemon started by test/helpers/daemon.ts. */
  static socketOf(daemonDir: string): string {
    return path.join(daemonDir, 'state', 'control.sock');
  }

  async sample(): Promise<MemorySample | undefined> {
    if (this.busy) return undefined;
    this.busy = true;
    try {
      const s = (await callOnce(this.controlSocket, 'stats.get')) as StatsView;
      const row = (thread: string, c: { readonly [name: string]: number }): MemorySample['threads'][number] => ({
        thread,
        heapTotal: c[MemoryCounter.HEAP_TOTAL] ?? 0,
        heapUsed: c[MemoryCounter.HEAP_USED] ?? 0,
        newSpace: c[MemoryCounter.NEW_SPACE] ?? 0,
        external: c[MemoryCounter.EXTERNAL] ?? 0,
        readBuffersKept: c[MemoryCounter.READ_BUFFERS_KEPT] ?? 0,
      });
      const m: MemorySample = {
        atMs: Date.now() - this.started,
        residentBytes: s.memory.residentBytes,
        anonymousBytes: s.memory.anonymousBytes,
        threads: [row('main', s.memory.main), ...s.threads.map(t => row(String(t.index), t.counters))],
      };
      this.samples.push(m);
      return m;
    } catch {
      return undefined;
    } finally {
      this.busy = false;
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The last sample taken at or before `atMs` (ms since the trace started). */
  at(atMs: number): MemorySample | undefined {
    let best: MemorySample | undefined;
    for (const s of this.samples) if (s.atMs <= atMs) best = s;
    return best;
  }

  /** One line: RSS, anonymous, and per thread heap (used), young generation, external, kept read buffers, in MiB. */
  static format(s: MemorySample): string {
    const threads = s.threads.map(t => `${t.thread}: heap ${mib(t.heapTotal)} (${mib(t.heapUsed)} used, new ${mib(t.newSpace)}) ext ${mib(t.external)} rbuf ${mib(t.readBuffersKept)}`);
    return `RSS ${mib(s.residentBytes)} anon ${mib(s.anonymousBytes)} | ${threads.join(' | ')}`;
  }
}
