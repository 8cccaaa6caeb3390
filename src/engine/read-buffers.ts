/**
 * Reusable Data-In buffers for reads (SCST's SGV cache, per thread).
 *
 * A read used to allocate a fresh buffer per command. For large transfers that is a new
 * mapping every time: page faults, zeroing and memory-cgroup charging on the way in, unmapping
 * on the way out, and old-generation GC work for the buffer objects (perf, 1 MiB sequential
 * reads: about a tenth of the target's CPU). Here a read leases a buffer of a power-of-two
 * size class and the transport gives it back through the Completion's `release()` once the
 * bytes are on the wire, so the same warm pages serve the next read.
 *
 * A lease that is never given back costs nothing but the reuse: the buffer is collected like
 * any other (tests that drive the engine directly never release). The free lists are bounded,
 * per class and in total, so a burst of large reads does not pin memory afterwards.
 *
 * On a thread of the actor runtime the leases come from its shared buffer pool first
 * (useSource): the backstore then reads straight into a pool buffer that the session's thread
 * writes to the socket, with no copy between threads (DESIGN.md §3).
 */

const MIN_CLASS_BITS = 12; // 4 KiB
const MAX_CLASS_BITS = 24; // 16 MiB: larger reads allocate as before
/** Bytes kept on the free lists at most, all classes together. */
const KEEP_BYTES = 64 * 1024 * 1024;
/** Buffers kept per class at most (small classes: enough for a deep queue). */
const KEEP_PER_CLASS = 256;

export interface Lease {
  /** `length` bytes, a view of the leased buffer. */
  data: Buffer;
  /** Gives the buffer back; later calls do nothing. `data` must not be used afterwards. */
  release: () => void;
}

/** Where leases come from before the heap; undefined when it has no buffer of that size free. */
export type LeaseSource = (length: number) => Lease | undefined;

export class ReadBuffers {
  private readonly free: Buffer[][] = [];
  private source: LeaseSource | undefined;
  private keptBytes = 0;
  private reused = 0;
  private allocated = 0;

  constructor(private readonly keepBytes = KEEP_BYTES) {
    for (let b = MIN_CLASS_BITS; b <= MAX_CLASS_BITS; b++) this.free.push([]);
  }

  /** Leases come from `source` first, from the heap when it has none; undefined = heap only. */
  useSource(source: LeaseSource | undefined): void {
    this.source = source;
  }

  get leaseSource(): LeaseSource | undefined {
    return this.source;
  }

  /** A buffer of at least `length` bytes; its contents are stale (the read overwrites them). */
  lease(length: number): Lease {
    if (this.source !== undefined) {
      const lent = this.source(length);
      if (lent !== undefined) return lent;
    }
    const bits = classBits(length);
    if (bits > MAX_CLASS_BITS) {
      this.allocated++;
      return { data: Buffer.allocUnsafeSlow(length), release: noop };
    }
    const list = this.free[bits - MIN_CLASS_BITS];
    let whole = list.pop();
    if (whole !== undefined) {
      this.keptBytes -= whole.length;
      this.reused++;
    } else {
      whole = Buffer.allocUnsafeSlow(1 << bits);
      this.allocated++;
    }
    const buf = whole;
    let given = false;
    return {
      data: buf.length === length ? buf : buf.subarray(0, length),
      release: () => {
        if (given) return;
        given = true;
        this.giveBack(buf, bits);
      },
    };
  }

  private giveBack(buf: Buffer, bits: number): void {
    const list = this.free[bits - MIN_CLASS_BITS];
    if (list.length >= KEEP_PER_CLASS || this.keptBytes + buf.length > this.keepBytes) return;
    list.push(buf);
    this.keptBytes += buf.length;
  }

  /** Leases served from the free lists, leases that allocated, bytes kept now. */
  get stats(): { reused: number; allocated: number; keptBytes: number } {
    return { reused: this.reused, allocated: this.allocated, keptBytes: this.keptBytes };
  }
}

function classBits(length: number): number {
  if (length <= 1 << MIN_CLASS_BITS) return MIN_CLASS_BITS;
  return 32 - Math.clz32(length - 1);
}

function noop(): void {}

/** The thread's cache: every engine on a thread shares it (module state is per thread). */
export const readBuffers = new ReadBuffers();
