// What one thread's memory is made of, read on demand for stats.get and the Prometheus endpoint
// (DESIGN.md §8a: nothing is sent per command). Every engine thread is a V8 isolate of its own,
// with its own heap, its own young generation and its own ArrayBuffer accounting; the process's
// resident set is their sum plus native memory no isolate counts (glibc arenas, the buffer pool's
// shared mapping, socket buffers). Each thread reports its part; the supervisor adds the
// process-wide figures (memoryOfProcess).

import { readFileSync } from 'node:fs';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { readBuffers } from '../engine/read-buffers';

/** Counter names a thread reports, in bytes (keys of statsReply's counters). */
export const enum MemoryCounter {
  /** The most this isolate's heap may reserve (its young and old generation limits). */
  HEAP_LIMIT = 'memory.heapLimit',
  /** V8 heap reserved by this isolate (all spaces). */
  HEAP_TOTAL = 'memory.heapTotal',
  /** Live and not yet collected objects in this isolate's heap. */
  HEAP_USED = 'memory.heapUsed',
  /** The young generation's reserved size (both semi-spaces): grows with the allocation rate. */
  NEW_SPACE = 'memory.newSpace',
  /** Memory outside the heap that this isolate's objects keep alive (Buffers, ArrayBuffers). */
  EXTERNAL = 'memory.external',
  /** The ArrayBuffer part of EXTERNAL. */
  ARRAY_BUFFERS = 'memory.arrayBuffers',
  /** Given-back read buffers the thread keeps for reuse (read-buffers.ts). */
  READ_BUFFERS_KEPT = 'memory.readBuffersKept',
}

/** This thread's memory counters (its isolate's heap and external memory, its read-buffer cache). */
export function threadMemoryCounters(): { [name: string]: number } {
  const h = getHeapStatistics();
  const u = process.memoryUsage();
  const newSpace = getHeapSpaceStatistics().find(s => s.space_name === 'new_space');
  return {
    [MemoryCounter.HEAP_LIMIT]: h.heap_size_limit,
    [MemoryCounter.HEAP_TOTAL]: h.total_heap_size,
    [MemoryCounter.HEAP_USED]: h.used_heap_size,
    [MemoryCounter.NEW_SPACE]: newSpace?.space_size ?? 0,
    [MemoryCounter.EXTERNAL]: u.external,
    [MemoryCounter.ARRAY_BUFFERS]: u.arrayBuffers,
    [MemoryCounter.READ_BUFFERS_KEPT]: readBuffers.stats.keptBytes,
  };
}

/** The process as the kernel sees it (proc(5)), and the supervisor thread's own counters. */
export interface ProcessMemory {
  /** VmRSS: resident pages of every thread, shared mappings included. */
  readonly residentBytes: number;
  /** Anonymous resident pages (smaps_rollup "Anonymous"): heaps, arenas, Buffers; 0 when unreadable. */
  readonly anonymousBytes: number;
  /** The supervisor (main) thread's counters, as threadMemoryCounters. */
  readonly main: { readonly [name: string]: number };
}

/** Reads /proc/self (Linux); a field that cannot be read is 0. */
export function memoryOfProcess(): ProcessMemory {
  return { residentBytes: process.memoryUsage.rss(), anonymousBytes: anonymousBytes(), main: threadMemoryCounters() };
}

function anonymousBytes(): number {
  let text: string;
  try {
    text = readFileSync('/proc/self/smaps_rollup', 'latin1');
  } catch {
    return 0;
  }
  const m = /^Anonymous:\s+(\d+) kB$/m.exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}
