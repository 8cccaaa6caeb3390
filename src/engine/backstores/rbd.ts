import * as native from '../../native';
import type { NativeError, RbdImage, RbdImageStat, RbdObjectCompareAndWriteResult, RbdOpenOptions, RbdRequest, RbdResult } from '../../native';
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
 * - COMPARE AND WRITE: one RADOS { cmpext, write } operation on the data object, atomic against
 *   every gateway (the DESIGN note at compareAndWrite); MAXIMUM COMPARE AND WRITE LENGTH 255.
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
/**
 * MAXIMUM COMPARE AND WRITE LENGTH (SBC-4 6.6.4): the most its one-byte field and the one-byte
 * NUMBER OF LOGICAL BLOCKS of the CDB can say; compareAndWrite takes any length.
 */
const MAX_COMPARE_AND_WRITE_BLOCKS = 255;
/** Image features the backstore needs off to write data objects itself (compareAndWrite). */
const RBD_FEATURE_OBJECT_MAP = 1n << 3n;
const RBD_FEATURE_FAST_DIFF = 1n << 4n;
const RBD_FEATURE_JOURNALING = 1n << 6n;

function isNativeError(v: unknown): v is NativeError {
  return native.isNativeError(v);
}

export class RbdBackstore implements Backstore {
  readonly kind = 'rbd' as const;
  readonly readOnly: boolean;
  readonly thin: boolean;
  writeBack: boolean;
  readonly unmapGranularityBytes: number;
  readonly maxCompareAndWriteBlocks = MAX_COMPARE_AND_WRITE_BLOCKS;
  private readonly objectSize: number;
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

  private constructor(private image: RbdImage, private layout: RbdImageStat, private readonly o: RbdBackstoreOptions) {
    this.imageId = layout.blockNamePrefix.replace(/^rbd_data\./, '');
    this.identitySeed = `rbd:${o.pool}/${this.imageId}`;
    this.size = layout.size;
    this.readOnly = o.readOnly ?? false;
    this.thin = o.thin ?? true;
    this.writeBack = o.writeBack ?? true;
    this.objectSize = layout.objectSize;
    this.unmapGranularityBytes = layout.objectSize;
    this.watch(image);
  }

  /** Connects and opens the image; rejects with the errno librados gave (ENOSYS: not built). */
  static async open(o: RbdBackstoreOptions): Promise<RbdBackstore> {
    const image = await RbdBackstore.connect(o);
    try {
      const layout = o.readOnly ? RbdBackstore.stat(image, o) : await RbdBackstore.prepareForWriting(image, o);
      return new RbdBackstore(image, layout, o);
    } catch (e) {
      await new Promise<void>(r => image.close(r));
      throw e;
    }
  }

  private static stat(image: RbdImage, o: RbdBackstoreOptions): RbdImageStat {
    const st = image.stat();
    if (isNativeError(st)) throw errnoError(st.errno, `${o.pool}/${o.image}: ${st.message}`);
    return st;
  }

  /**
   * What compareAndWrite's direct writes to data objects need (its DESIGN note): plain striping
   * and no journal, else the image is refused for writing; the object map and fast-diff off, which
   * the backstore does itself (librbd's rbd_update_features) rather than serve an image whose
   * object map would hide those writes from every reader.
   */
  private static async prepareForWriting(image: RbdImage, o: RbdBackstoreOptions): Promise<RbdImageStat> {
    const st = RbdBackstore.stat(image, o);
    const name = `rbd ${o.pool}/${o.image}`;
    if (st.stripeUnit !== st.objectSize || st.stripeCount !== 1) {
      throw errnoError('EOPNOTSUPP', `${name}: fancy striping (stripe unit ${st.stripeUnit}, count ${st.stripeCount}) is not supported for writing; use an image with the default striping`);
    }
    if ((st.features & RBD_FEATURE_JOURNALING) !== 0n) {
      throw errnoError('EOPNOTSUPP', `${name}: the journaling feature is not supported for writing (rbd feature disable ${o.pool}/${o.image} journaling)`);
    }
    if (st.id === '') throw errnoError('EOPNOTSUPP', `${name}: format 1 images are not supported for writing`);
    if ((st.features & (RBD_FEATURE_OBJECT_MAP | RBD_FEATURE_FAST_DIFF)) !== 0n) {
      const r = await new Promise<NativeError | undefined>(resolve => image.updateFeatures(RBD_FEATURE_OBJECT_MAP | RBD_FEATURE_FAST_DIFF, false, resolve));
      const after = RbdBackstore.stat(image, o);
      // Another gateway opening the image at the same time may have turned them off first.
      if (r && (after.features & (RBD_FEATURE_OBJECT_MAP | RBD_FEATURE_FAST_DIFF)) !== 0n) {
        throw errnoError(r.errno, `${name}: disabling object-map and fast-diff: ${r.message}`);
      }
      return after;
    }
    return st;
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
      if (isNativeError(st)) return;
      // A flatten or a snapshot changes the header too: the layout follows (parentOverlap).
      this.layout = st;
      if (st.size === this.size) return;
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
          if (!isNativeError(st)) {
            this.layout = st;
            if (st.size !== this.size) {
              this.size = st.size;
              for (const l of this.capacityListeners) l();
            }
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
   * COMPARE AND WRITE (SBC-4 5.3): the compare and the write are one uninterrupted operation
   * against every command through every gateway, for any block size and any NUMBER OF LOGICAL
   * BLOCKS up to MAXIMUM COMPARE AND WRITE LENGTH.
   *
   * DESIGN. Several gateways write one image, so the engine's range lock (one process) cannot make
   * the compare and the write one step for everyone. What is atomic cluster-wide is one RADOS
   * operation on one object: the OSD that holds the object applies a compound operation as one
   * transaction, ordered against every other operation on that object from any client (every
   * librbd write through every gateway is such an operation on the same object). So a range
   * inside one data object is compared and written by one operation on that object,
   * { cmpext(range, verify), write(range, data) } (rbd-image.cc): either the bytes equal `verify`
   * and `data` replaces them, or nothing is written and the OSD names the first differing byte.
   * librbd's own rbd_aio_compare_and_write is the same operation but, in 16.2, for one 512-byte
   * sector only (EINVAL beyond), which is why the backstore builds it itself. For that to be
   * equivalent to librbd's write path:
   * - the object is where librbd puts those bytes: `rbd_data.<id>.<object number, 16 hex>` with
   *   plain striping (stripe unit = object size, stripe count 1), and in the image's data pool
   *   and namespace. Fancy striping is refused when the image is opened for writing (open());
   * - the write carries the image's snapshot context, read from its header before each operation
   *   (as librbd does), so the OSD preserves a snapshot's copy of the object first;
   * - no librbd state caches what the object holds: the client cache is off (rbd_cache false,
   *   rbd-image.cc), and the object map, which would say "does not exist" for an object written
   *   only this way (reads would then return zeros) and "clean" for fast-diff, is turned off for
   *   images opened for writing (open(): object-map and fast-diff disabled on the image).
   *   Journaling (which the write would bypass) is refused;
   * - a clone's object that does not exist yet still reads from the parent: the operation then
   *   asserts that the object exists, and on ENOENT the backstore has librbd copy it up first
   *   (librbd's own one-sector compare-and-write of the bytes already there, which changes
   *   nothing but makes librbd copy the parent's object into the clone), then repeats.
   * A missing object of a non-clone compares as zeros, which is what librbd reads there.
   * The OSD reports a miscompare with the offset of the first differing byte from the start of
   * the compared range, which is what MISCOMPARE's INFORMATION field holds (SBC-4 5.3).
   *
   * A range that crosses an object boundary: see compareAndWriteAcross.
   */
  async compareAndWrite(offset: number, verify: Uint8Array, data: Uint8Array, fua: boolean): Promise<number> {
    if (this.readOnly) throw errnoError('EROFS', `rbd ${this.o.image} is read-only`);
    this.checkRange(offset, data.length);
    if (data.length === 0) return -1;
    const first = Math.floor(offset / this.objectSize);
    const last = Math.floor((offset + data.length - 1) / this.objectSize);
    if (first !== last) return this.compareAndWriteAcross(offset, verify, data, fua);
    const differs = await this.compareAndWriteObject(offset, verify, data, fua);
    if (differs < 0 && !this.writeBack) await this.flush();
    return differs;
  }

  /** The data object that holds image byte `offset` (plain striping, checked at open). */
  private objectName(offset: number): string {
    return `${this.layout.blockNamePrefix}.${Math.floor(offset / this.objectSize).toString(16).padStart(16, '0')}`;
  }

  /** One { cmpext, write } on the object that holds [offset, offset + data.length). */
  private async compareAndWriteObject(offset: number, verify: Uint8Array, data: Uint8Array, fua: boolean): Promise<number> {
    const object = this.objectName(offset);
    const inObject = offset % this.objectSize;
    // A clone's object inside the parent overlap must exist in the clone, else cmpext would
    // compare with zeros while reads return the parent's bytes.
    const mustExist = offset < this.layout.parentOverlap;
    for (let attempt = 0; ; attempt++) {
      const r = await this.track(image => new Promise<RbdObjectCompareAndWriteResult>(resolve =>
        image.compareAndWriteObject({ object, offset: inObject, compare: verify, data, fua, mustExist }, resolve)));
      if (!isNativeError(r)) return -1;
      if (r.errno === 'EILSEQ') return r.mismatch ?? 0;
      if (r.errno === 'ENOENT' && mustExist && attempt < 8) {
        await this.copyUp(offset);
        continue;
      }
      if (r.errno === 'ESHUTDOWN') this.reconnect();
      throw errnoError(r.errno, `rbd compare and write: ${r.message}`);
    }
  }

  /**
   * Makes librbd copy a clone's object up from the parent without changing a byte: its own
   * compare-and-write of the sector at `offset` with what that sector holds. A miscompare means
   * someone wrote there meanwhile, which copied the object up just as well.
   */
  private async copyUp(offset: number): Promise<void> {
    const at = offset - (offset % LIBRBD_CAW_SECTOR);
    const sector = new Uint8Array(LIBRBD_CAW_SECTOR);
    await this.read(at, sector);
    const r = await this.submit({ op: 'compareAndWrite', offset: at, compare: sector, data: sector, fua: false });
    if (isNativeError(r) && r.errno !== 'EILSEQ') throw errnoError(r.errno, `rbd copy-up: ${r.message}`);
  }

  /**
   * A range across object boundaries (a multi-block COMPARE AND WRITE over a multiple of the
   * object size): read, compared and written here under the unit's exclusive range lock (held by
   * the caller): atomic against every command through this gateway, not against other gateways.
   *
   * Why not more, yet. RADOS applies one operation to one object; nothing spans two. Per-object
   * { cmpext, write } operations in turn leave the first object written when the second one
   * miscompares, visible to every reader and to other gateways' COMPARE AND WRITE meanwhile, and
   * no undo is safe once someone has read or compared against it. What librbd writers respect is
   * the image's exclusive lock, but only in its cooperative mode, where the owner hands the lock
   * over as soon as its in-flight writes drain (so between our read and our write); holding it
   * through the C API (rbd_lock_acquire) switches the image to explicit mode, in which the other
   * gateways' writes fail with EROFS instead of waiting, and the image stays in that mode until it
   * is reopened. The correct mechanism is therefore one the gateways agree on: a fence per image,
   * serialised by a RADOS lock on a per-image object and announced by watch/notify, which every
   * gateway acknowledges only once it holds back, and has drained, its own writes to the range.
   */
  private async compareAndWriteAcross(offset: number, verify: Uint8Array, data: Uint8Array, fua: boolean): Promise<number> {
    const current = new Uint8Array(verify.length);
    await this.read(offset, current);
    const a = Buffer.from(verify.buffer, verify.byteOffset, verify.length);
    if (!a.equals(current)) {
      for (let i = 0; i < current.length; i++) if (current[i] !== verify[i]) return i;
    }
    await this.write(offset, data, fua);
    return -1;
  }

  /** Runs one native request on the open image, counted in flight (close() waits for it). */
  private async track<T>(run: (image: RbdImage) => Promise<T>): Promise<T> {
    if (this.closed) throw errnoError('EBADF', `rbd ${this.o.pool}/${this.o.image} is closed`);
    if (this.reconnecting) throw errnoError('ENOTCONN', `rbd ${this.o.pool}/${this.o.image}: reconnecting to the cluster`);
    this.inFlight++;
    try {
      return await run(this.image);
    } finally {
      if (--this.inFlight === 0) for (const d of this.drained.splice(0)) d();
    }
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
    const window = Math.min(DIFF_WINDOW_BYTES, end - offset);
    const r = await this.track(image => new Promise<number[] | NativeError>(resolve => image.diff(offset, window, resolve)));
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
