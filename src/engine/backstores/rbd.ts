import * as native from '../../native';
import type { NativeError, RbdImage, RbdOpenOptions, RbdRequest, RbdResult } from '../../native';
import { Backstore } from '../types';
import { errnoError } from './errno-sense';
import type { ReservationChannel } from '../pr';
import { RadosReservations } from './rbd-reservations';

/**
 * rbd: a Ceph RBD image (DESIGN.md 8b), reached through librbd's asynchronous API in the native
 * addon (src/native/rbd-image.cc). Requests go to librbd as they come, straight from and into the
 * command's buffers; completions arrive on the engine thread's event loop through the image's
 * eventfd. Many commands are in flight at once; librbd batches towards the OSDs itself.
 *
 * SBC-4 mapped to RBD:
 * - READ / WRITE: aio read / write; FUA (SBC-4 5.41) is librados's FUA flag, and the write is
 *   followed by a flush, as write-through (WCE = 0) writes are. librbd's client cache is off
 *   (rbd-image.cc says why), so a flush only waits for writes in flight.
 * - SYNCHRONIZE CACHE: aio flush.
 * - UNMAP, WRITE SAME with UNMAP: discard (partial objects zeroed: LBPRZ = 1 holds).
 * - WRITE SAME: write-zeroes for a zero block, else writesame: one request whatever the length.
 * - GET LBA STATUS: rbd_diff_iterate2's allocated extents.
 * - VPD B0h OPTIMAL UNMAP GRANULARITY: the image's object size.
 * - READ CAPACITY: the image's size; a resize from anywhere (another gateway, `rbd resize`)
 *   reaches librbd's header watch and the unit raises CAPACITY DATA HAS CHANGED.
 * - COMPARE AND WRITE: see compareAndWrite below.
 *
 * Failures: an OSD request older than OP_TIMEOUT_MS fails ETIMEDOUT (ABORTED COMMAND, LOGICAL
 * UNIT COMMUNICATION TIME-OUT, so the initiator retries); below that, an OSD that goes away and
 * comes back only stalls I/O. A blocklisted client (ESHUTDOWN) has lost its session for good:
 * the failed command gets LOGICAL UNIT COMMUNICATION FAILURE and the store reconnects with a new
 * session, answering NOT READY, IN PROCESS OF BECOMING READY (ENOTCONN) meanwhile. A failure
 * concerns this unit only: other units have their own sessions and nothing here blocks the loop.
 */
export interface RbdBackstoreOptions extends RbdOpenOptions {
  writeBack?: boolean;
  thin?: boolean;
}

/**
 * An OSD request older than this fails (librados's rados_osd_op_timeout): long enough for an OSD
 * restart or a placement group peering to pass unnoticed, shorter than the 60 s an initiator
 * usually waits before it aborts the command.
 */
export const OP_TIMEOUT_MS = 45_000;
/** Bound on reaching the monitors when opening (and reopening) the image. */
export const CONNECT_TIMEOUT_MS = 20_000;
/** Pause between reconnection attempts after the session was lost. */
const RECONNECT_PAUSE_MS = 2_000;
/** How far one GET LBA STATUS probe asks librbd for allocated extents. */
const DIFF_WINDOW_BYTES = 256 * 1024 * 1024;
/** librbd 16.2's compare-and-write takes one 512-byte sector and no more (EINVAL beyond). */
const LIBRBD_CAW_SECTOR = 512;

function isNativeError(v: unknown): v is NativeError {
  return native.isNativeError(v);
}

export class RbdBackstore implements Backstore {
  readonly kind = 'rbd' as const;
  readonly readOnly: boolean;
  readonly thin: boolean;
  writeBack: boolean;
  readonly unmapGranularityBytes: number;
  private size: bigint;
  private inFlight = 0;
  private drained: Array<() => void> = [];
  private reconnecting: Promise<void> | undefined;
  /** Whether `image` is open (false between dropping a lost session and opening the next). */
  private imageOpen = true;
  private closed = false;
  private readonly capacityListeners: Array<() => void> = [];

  /**
   * The unit's identifiers derive from the image, not from the device's name or the host, so that
   * every gateway exporting the image reports the same VPD 80h/83h (SAM-5 multipath): the pool and
   * the image's id (librbd's block name prefix "rbd_data.<id>"), which a rename keeps and a new
   * image of the same name does not.
   */
  readonly identitySeed: string;
  private readonly imageId: string;

  private constructor(private image: RbdImage, size: bigint, objectSize: number, private readonly o: RbdBackstoreOptions, blockNamePrefix: string) {
    this.imageId = blockNamePrefix.replace(/^rbd_data\./, '');
    this.identitySeed = `rbd:${o.pool}/${this.imageId}`;
    this.size = size;
    this.readOnly = o.readOnly ?? false;
    this.thin = o.thin ?? true;
    this.writeBack = o.writeBack ?? true;
    this.unmapGranularityBytes = objectSize;
    this.watch(image);
  }

  /** Connects and opens the image; rejects with the errno librados gave (ENOSYS: not built). */
  static async open(o: RbdBackstoreOptions): Promise<RbdBackstore> {
    const image = await RbdBackstore.connect(o);
    const st = image.stat();
    if (isNativeError(st)) throw errnoError(st.errno, `${o.pool}/${o.image}: ${st.message}`);
    return new RbdBackstore(image, st.size, st.objectSize, o, st.blockNamePrefix);
  }

  private static async connect(o: RbdBackstoreOptions): Promise<RbdImage> {
    const r = await native.openRbdImage({ connectTimeoutMs: CONNECT_TIMEOUT_MS, opTimeoutMs: OP_TIMEOUT_MS, ...o });
    if (isNativeError(r)) throw errnoError(r.errno, `rbd ${o.pool}/${o.image}: ${r.message}`);
    return r;
  }

  get sizeBytes(): bigint { return this.size; }

  /**
   * The unit's persistent and SPC-2 reservations live in the cluster beside the image, shared by
   * every gateway that exports it (rbd-reservations.ts, shared-reservations.ts).
   */
  openReservations(): Promise<ReservationChannel> {
    return RadosReservations.open(this.o, this.imageId, () => {
      if (!this.imageOpen) return undefined;
      const st = this.image.stat();
      return isNativeError(st) ? undefined : st.clientAddrs;
    });
  }

  onCapacityChange(changed: () => void): void { this.capacityListeners.push(changed); }

  /** librbd's header watch: a new size is taken and announced (SBC-4 4.6). */
  private watch(image: RbdImage): void {
    image.onUpdate(() => {
      if (image !== this.image || this.closed) return;
      const st = image.stat();
      if (isNativeError(st) || st.size === this.size) return;
      this.size = st.size;
      for (const l of this.capacityListeners) l();
    });
  }

  private checkRange(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || BigInt(offset + length) > this.size) {
      throw errnoError('EINVAL', `range ${offset}+${length} outside ${this.size}`);
    }
  }

  /** One librbd request; a lost session starts the reconnection (and this request fails). */
  private submit(req: RbdRequest): Promise<RbdResult> {
    if (this.closed) return Promise.reject(errnoError('EBADF', `rbd ${this.o.pool}/${this.o.image} is closed`));
    if (this.reconnecting) return Promise.reject(errnoError('ENOTCONN', `rbd ${this.o.pool}/${this.o.image}: reconnecting to the cluster`));
    const image = this.image;
    this.inFlight++;
    return new Promise<RbdResult>(resolve => {
      image.submit(req, r => {
        if (--this.inFlight === 0) for (const d of this.drained.splice(0)) d();
        if (isNativeError(r) && r.errno === 'ESHUTDOWN') this.reconnect();
        resolve(r);
      });
    });
  }

  private async request(req: RbdRequest, what: string): Promise<number> {
    const r = await this.submit(req);
    if (isNativeError(r)) throw errnoError(r.errno, `rbd ${what}: ${r.message}`);
    return r.res;
  }

  private idle(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise(r => this.drained.push(r));
  }

  /**
   * The session was blocklisted or shut down: wait for what is in flight on it, drop it, and
   * open the image again until that works or the store is closed.
   */
  private reconnect(): void {
    if (this.reconnecting || this.closed) return;
    this.reconnecting = (async () => {
      const old = this.image;
      await this.idle();
      await new Promise<void>(r => old.close(r));
      this.imageOpen = false;
      // Bounded per attempt (CONNECT_TIMEOUT_MS); attempts go on until closed.
      while (!this.closed) {
        try {
          const image = await RbdBackstore.connect(this.o);
          if (this.closed) { await new Promise<void>(r => image.close(r)); return; }
          this.image = image;
          this.imageOpen = true;
          this.watch(image);
          const st = image.stat();
          if (!isNativeError(st) && st.size !== this.size) {
            this.size = st.size;
            for (const l of this.capacityListeners) l();
          }
          return;
        } catch {
          await new Promise(r => setTimeout(r, RECONNECT_PAUSE_MS));
        }
      }
    })().finally(() => { this.reconnecting = undefined; });
  }

  async read(offset: number, into: Uint8Array): Promise<void> {
    this.checkRange(offset, into.length);
    if (into.length === 0) return;
    await this.request({ op: 'read', offset, data: into }, 'read');
  }

  async write(offset: number, data: Uint8Array, fua: boolean): Promise<void> {
    if (this.readOnly) throw errnoError('EROFS', `rbd ${this.o.image} is read-only`);
    this.checkRange(offset, data.length);
    if (data.length > 0) await this.request({ op: 'write', offset, data, fua }, 'write');
    // SBC-4 5.41 FUA: on stable storage before status; write-through always behaves so.
    if (fua || !this.writeBack) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.readOnly) return;
    await this.request({ op: 'flush' }, 'flush');
  }

  async writeSame(offset: number, length: number, block: Uint8Array): Promise<void> {
    if (this.readOnly) throw errnoError('EROFS', `rbd ${this.o.image} is read-only`);
    this.checkRange(offset, length);
    if (length === 0) return;
    // A zero block is write-zeroes, which deallocates whole objects instead of writing them.
    if (block.every(b => b === 0)) await this.request({ op: 'writeZeroes', offset, length }, 'write zeroes');
    else await this.request({ op: 'writeSame', offset, length, data: block }, 'writesame');
    if (!this.writeBack) await this.flush();
  }

  /** SANITIZE OVERWRITE's pattern: one writesame. */
  fill(offset: number, length: number, pattern: Uint8Array): Promise<void> {
    return this.writeSame(offset, length, pattern);
  }

  /**
   * COMPARE AND WRITE.
   *
   * DESIGN. Several gateways write one image, so the engine's range lock (one process) cannot make
   * the compare and the write one atomic step for everyone. What is atomic cluster-wide is a single
   * RADOS operation on one object: the OSD that holds the object applies a compound operation
   * (cmpext then write) as one transaction, ordered with every other operation on that object from
   * any client. librbd's rbd_aio_compare_and_write is that operation (plus the object-map update and
   * the exclusive-lock hand-over librbd does for any write), but in 16.2 it takes exactly one
   * 512-byte sector. So:
   * - a range that is one 512-byte sector (every COMPARE AND WRITE of one block on a 512-byte unit,
   *   which is what VMware's ATS and cluster file systems' heartbeats send) goes to librbd's
   *   compare-and-write: atomic against writes through every gateway;
   * - any other range is read, compared and written here under the unit's exclusive range lock
   *   (held by the caller): atomic against every command through this gateway only. Several
   *   gateways with 4096-byte units or multi-block COMPARE AND WRITE need a RADOS cmpext+write on
   *   the object (and the object map marked first); that is not built yet.
   * A miscompare writes nothing and reports the offset of the first differing byte.
   */
  async compareAndWrite(offset: number, verify: Uint8Array, data: Uint8Array, fua: boolean): Promise<number> {
    if (this.readOnly) throw errnoError('EROFS', `rbd ${this.o.image} is read-only`);
    this.checkRange(offset, data.length);
    if (data.length === LIBRBD_CAW_SECTOR && offset % LIBRBD_CAW_SECTOR === 0) {
      const r = await this.submit({ op: 'compareAndWrite', offset, compare: verify, data, fua });
      if (isNativeError(r)) {
        // librbd reports a miscompare as EILSEQ with the image offset of the first differing byte.
        if (r.errno === 'EILSEQ') return Math.max(0, (r.mismatch ?? offset) - offset);
        throw errnoError(r.errno, `rbd compare and write: ${r.message}`);
      }
      if (!this.writeBack) await this.flush();
      return -1;
    }
    const current = new Uint8Array(verify.length);
    await this.read(offset, current);
    const a = Buffer.from(verify.buffer, verify.byteOffset, verify.length);
    if (!a.equals(current)) {
      for (let i = 0; i < current.length; i++) if (current[i] !== verify[i]) return i;
    }
    await this.write(offset, data, fua);
    return -1;
  }

  async unmap(offset: number, length: number): Promise<void> {
    if (this.readOnly) throw errnoError('EROFS', `rbd ${this.o.image} is read-only`);
    this.checkRange(offset, length);
    if (length === 0) return;
    await this.request({ op: 'discard', offset, length }, 'discard');
  }

  /**
   * The provisioning status at `offset`: librbd's allocated extents from there (a window at a
   * time): mapped up to the end of the extent that holds it, else unmapped up to the next one.
   */
  async mapStatus(offset: number): Promise<{ mapped: boolean; length: number }> {
    this.checkRange(offset, 0);
    const end = Number(this.size);
    if (offset >= end) return { mapped: false, length: 0 };
    if (!this.thin) return { mapped: true, length: end - offset };
    if (this.reconnecting) throw errnoError('ENOTCONN', `rbd ${this.o.pool}/${this.o.image}: reconnecting to the cluster`);
    const window = Math.min(DIFF_WINDOW_BYTES, end - offset);
    const image = this.image;
    this.inFlight++;
    const r = await new Promise<number[] | NativeError>(resolve => image.diff(offset, window, resolve));
    if (--this.inFlight === 0) for (const d of this.drained.splice(0)) d();
    if (isNativeError(r)) throw errnoError(r.errno, `rbd diff: ${r.message}`);
    for (let i = 0; i < r.length; i += 2) {
      const at = r[i], len = r[i + 1];
      if (at + len <= offset) continue;
      if (at > offset) return { mapped: false, length: at - offset };
      return { mapped: true, length: at + len - offset };
    }
    return { mapped: false, length: window };
  }

  /** Grows (or shrinks) the image itself; every gateway sees the new size through its watch. */
  async resize(sizeBytes: bigint): Promise<void> {
    if (sizeBytes <= 0n || sizeBytes > BigInt(Number.MAX_SAFE_INTEGER)) throw errnoError('EINVAL', 'size out of range');
    if (this.reconnecting) throw errnoError('ENOTCONN', 'rbd: reconnecting to the cluster');
    const image = this.image;
    const r = await new Promise<NativeError | undefined>(resolve => image.resize(sizeBytes, resolve));
    if (r) throw errnoError(r.errno, `rbd resize: ${r.message}`);
    this.size = sizeBytes;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.reconnecting;
    await this.idle();
    if (!this.imageOpen) return;
    this.imageOpen = false;
    const image = this.image;
    await new Promise<void>(r => image.close(r));
  }
}
