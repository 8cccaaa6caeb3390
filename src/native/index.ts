/**
 * The Nexus native addon, typed. This is the only module that loads
 * build/Release/nexus_native.node (built by `npm ci` through binding.gyp).
 *
 * When the addon is not built (or NEXUS_NATIVE=0), `available` is false and
 * every function still exists: pure-JS fallbacks where there is one (CRC32C,
 * the I/O queue, pread/pwrite, shared memory), and { errno: 'ENOSYS' } values
 * where there is none (punchHole, seekData, seekHole, openSgQueue, openUioRing).
 *
 * Conventions: system-call failures are values ({ errno: 'EBADF', message });
 * wrong JS types throw TypeError (code ERR_INVALID_ARG_TYPE). Offsets accept
 * number or bigint and must be non-negative integers, else EINVAL.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32cJs } from './crc32c-js';
import { createJsIoQueue } from './js-io-queue';
import { NexusError } from '../engine/result';
import type {
  BlockInfo,
  IoQueue,
  IoQueueOptions,
  NativeError,
  OpenBlockOptions,
  RadosObject,
  RadosObjectOptions,
  RbdImage,
  RbdOpenOptions,
  SgQueue,
  SgQueueOptions,
  UioEventCallback,
  UioRing,
  NetlinkMessageCallback,
  NetlinkSocket,
} from './types';

export type {
  BlockInfo,
  IoOp,
  IoQueue,
  IoQueueOptions,
  IoRequest,
  IoResult,
  NativeError,
  OpenBlockOptions,
  RadosNotifyReply,
  RadosObject,
  RadosObjectOptions,
  RbdImage,
  RbdImageStat,
  RbdObjectCompareAndWrite,
  RbdObjectCompareAndWriteResult,
  RbdOp,
  RbdOpenOptions,
  RbdRequest,
  RbdResult,
  SgDirection,
  SgQueue,
  SgQueueOptions,
  SgRequest,
  SgResetKind,
  SgResult,
  UioEventCallback,
  UioRing,
  NetlinkMessageCallback,
  NetlinkSocket,
} from './types';
export { crc32cJs } from './crc32c-js';

type Bytes = ArrayBufferView | ArrayBuffer | SharedArrayBuffer;
interface RwOptions {
  /** preadv2 RWF_NOWAIT: EAGAIN instead of blocking when data is not cached. */
  nowait?: boolean;
}

/** The process at the other end of a Unix domain socket, as the kernel recorded it at connect(2). */
export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

/** The addon's exports exactly as the C++ side defines them. */
interface NativeBinding {
  errnoNumbers: Record<string, number>;
  crc32c(buf: Bytes, seed?: number): number;
  crc32cImpl: 'sse4.2' | 'table';
  allocAlignedShared(bytes: number): SharedArrayBuffer | NativeError;
  addressOf(view: Bytes): bigint;
  pageSize: number;
  openBlock(path: string, options?: OpenBlockOptions): { fd: number } | NativeError;
  closeBlock(fd: number): NativeError | undefined;
  preadSync(fd: number, buf: NodeJS.ArrayBufferView, offset: number | bigint, length?: number, options?: RwOptions): number | NativeError;
  pwriteSync(fd: number, buf: NodeJS.ArrayBufferView, offset: number | bigint, length?: number): number | NativeError;
  punchHole(fd: number, offset: number | bigint, length: number | bigint): NativeError | undefined;
  seekData(fd: number, offset: number | bigint): number | null | NativeError;
  seekHole(fd: number, offset: number | bigint): number | null | NativeError;
  blockInfo(fd: number): BlockInfo | NativeError;
  createIoQueue(options?: IoQueueOptions): IoQueue;
  haveLiburing: boolean;
  openSgQueue(path: string, options?: SgQueueOptions): SgQueue | NativeError;
  dupFd(fd: number): number | NativeError;
  closeFd(fd: number): NativeError | undefined;
  recvSync(fd: number, buf: NodeJS.ArrayBufferView, offset: number, length: number): number | NativeError;
  peerCredentials(fd: number): PeerCredentials | NativeError;
  openUioRing(path: string, mapSize: number, onEvent: UioEventCallback): UioRing | NativeError;
  openNetlink(protocol: number, onMessage: NetlinkMessageCallback): NetlinkSocket | NativeError;
  haveLibrbd: boolean;
  /** Present only when the addon was built with librbd (haveLibrbd). */
  openRbdImage?(options: RbdOpenOptions, cb: (r: RbdImage | NativeError) => void): void;
  /** Present only when the addon was built with librbd (haveLibrbd). */
  openRadosObject?(options: RadosObjectOptions, cb: (r: RadosObject | NativeError) => void): void;
}

function load(): { binding: NativeBinding | null; error: Error | undefined } {
  if (process.env.NEXUS_NATIVE === '0') return { binding: null, error: new NexusError('ERR_NATIVE_UNAVAILABLE', 'disabled by NEXUS_NATIVE=0') };
  // src/native (tsx) or dist/src/native (compiled): the build dir is at the repo root.
  const candidates = [
    path.resolve(__dirname, '../../build/Release/nexus_native.node'),
    path.resolve(__dirname, '../../../build/Release/nexus_native.node'),
  ];
  let error: Error | undefined;
  for (const file of candidates) {
    if (!fs.existsSync(file)) continue;
    try {
      return { binding: require(file) as NativeBinding, error: undefined };
    } catch (e) {
      error = e as Error;
    }
  }
  return { binding: null, error: error ?? new NexusError('ERR_NATIVE_UNAVAILABLE', 'build/Release/nexus_native.node not found') };
}

const loaded = load();
const native = loaded.binding;

/** True when the C++ addon is loaded; false means the JS fallbacks below are in use. */
export const available: boolean = native !== null;
/** Why the addon is not available (undefined when it is). */
export const loadError: Error | undefined = loaded.error;
/** 'sse4.2' | 'table' (native) or 'js' (slice-by-8 fallback). */
export const crc32cImpl: 'sse4.2' | 'table' | 'js' = native ? native.crc32cImpl : 'js';
/** True when io_uring support was compiled in (liburing-dev present at build time). */
export const haveLiburing: boolean = native ? native.haveLiburing : false;
/** True when the rbd backstore was compiled in (librbd-dev present at build time). */
export const haveLibrbd: boolean = native ? native.haveLibrbd && typeof native.openRbdImage === 'function' : false;
/** Why an rbd image cannot be opened in this build, or undefined when it can. */
export const librbdMissing: string | undefined = !native
  ? `the native addon is not loaded (${loaded.error?.message ?? 'unknown reason'})`
  : !haveLibrbd
    ? 'the native addon was built without librbd (install librbd-dev, then npx node-gyp rebuild --nodedir=/usr)'
    : undefined;
export const pageSize: number = native ? native.pageSize : 4096;

interface WasmGlobal {
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => { buffer: SharedArrayBuffer };
}

function enosys(what: string): NativeError {
  return { errno: 'ENOSYS', message: `${what}: the native addon is not built` };
}

function fromFsError(e: unknown): NativeError {
  const err = e as NodeJS.ErrnoException;
  if (typeof err?.code === 'string' && err.code.startsWith('E')) return { errno: err.code, message: err.message };
  throw e;
}

export function isNativeError(v: unknown): v is NativeError {
  return typeof v === 'object' && v !== null && typeof (v as NativeError).errno === 'string';
}

/** Linux errno number for a name ('EIO' → 5); undefined when unknown or without the addon. */
export function errnoNumber(name: string): number | undefined {
  return native?.errnoNumbers[name];
}

/**
 * CRC32C (iSCSI digest, RFC 7143 13.1): init 0xffffffff, final xor 0xffffffff.
 * `seed` is a previous finished result, to continue over several buffers:
 * crc32c(b, crc32c(a)) === crc32c(concat(a, b)). Omitted (0) starts afresh.
 */
export function crc32c(buf: Bytes, seed?: number): number {
  return native ? native.crc32c(buf, seed) : crc32cJs(buf, seed);
}

/**
 * Page-aligned SharedArrayBuffer (mmap'ed, munmap'ed when the last holder in
 * any thread lets go): O_DIRECT-ready. Throws like `new SharedArrayBuffer`
 * when memory is exhausted. Without the addon: WebAssembly shared memory,
 * also page-aligned, byteLength rounded up to 64 KiB.
 */
export function allocAlignedShared(bytes: number): SharedArrayBuffer {
  if (native) {
    const r = native.allocAlignedShared(bytes);
    if (r instanceof SharedArrayBuffer) return r;
    const e = new RangeError(`allocAlignedShared(${bytes}): ${r.message}`) as RangeError & { code: string; errno: string };
    e.code = 'ERR_ALLOC_ALIGNED';
    e.errno = r.errno;
    throw e;
  }
  if (typeof bytes !== 'number') throw Object.assign(new TypeError('allocAlignedShared: bytes must be a number'), { code: 'ERR_INVALID_ARG_TYPE' });
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw Object.assign(new RangeError('allocAlignedShared: bytes must be a positive integer'), { code: 'ERR_OUT_OF_RANGE' });
  }
  const pages = Math.ceil(bytes / 65536);
  // lib ES2022 has no WebAssembly typings; Node 20 always has the global.
  const wasm = (globalThis as unknown as { WebAssembly: WasmGlobal }).WebAssembly;
  return new wasm.Memory({ initial: pages, maximum: pages, shared: true }).buffer;
}

/** Address of the first byte (for alignment checks). Needs the addon. */
export function addressOf(view: Bytes): bigint {
  if (native) return native.addressOf(view);
  throw new NexusError('ERR_NATIVE_UNAVAILABLE', 'addressOf: the native addon is not built');
}

/** open(2) with O_DIRECT when asked: { fd } or { errno }. */
export function openBlock(file: string, options: OpenBlockOptions = {}): { fd: number } | NativeError {
  if (native) return native.openBlock(file, options);
  if (typeof file !== 'string') throw Object.assign(new TypeError('openBlock: path must be a string'), { code: 'ERR_INVALID_ARG_TYPE' });
  const c = fs.constants;
  const flags = (options.readOnly ? c.O_RDONLY : c.O_RDWR) | (options.direct ? c.O_DIRECT : 0);
  try {
    return { fd: fs.openSync(file, flags) };
  } catch (e) {
    return fromFsError(e);
  }
}

export function closeBlock(fd: number): NativeError | undefined {
  if (native) return native.closeBlock(fd);
  try {
    fs.closeSync(fd);
    return undefined;
  } catch (e) {
    return fromFsError(e);
  }
}

/**
 * Synchronous pread; with { nowait: true } uses preadv2(RWF_NOWAIT) and answers
 * { errno: 'EAGAIN' } rather than block when the data is not in the page cache
 * (DESIGN.md 10). The JS fallback ignores nowait (it may block).
 */
export function preadSync(fd: number, buf: NodeJS.ArrayBufferView, offset: number | bigint, length?: number, options?: RwOptions): number | NativeError {
  if (native) return native.preadSync(fd, buf, offset, length, options);
  try {
    return fs.readSync(fd, buf, 0, length ?? buf.byteLength, offset);
  } catch (e) {
    return fromFsError(e);
  }
}

export function pwriteSync(fd: number, buf: NodeJS.ArrayBufferView, offset: number | bigint, length?: number): number | NativeError {
  if (native) return native.pwriteSync(fd, buf, offset, length);
  try {
    return fs.writeSync(fd, buf, 0, length ?? buf.byteLength, Number(offset));
  } catch (e) {
    return fromFsError(e);
  }
}

/** fallocate(PUNCH_HOLE | KEEP_SIZE): deallocate, keep the size. */
export function punchHole(fd: number, offset: number | bigint, length: number | bigint): NativeError | undefined {
  return native ? native.punchHole(fd, offset, length) : enosys('punchHole');
}

/** lseek(SEEK_DATA): next data at or after offset; null when none (ENXIO). */
export function seekData(fd: number, offset: number | bigint): number | null | NativeError {
  return native ? native.seekData(fd, offset) : enosys('seekData');
}

/** lseek(SEEK_HOLE): next hole at or after offset (end of file counts); null past EOF. */
export function seekHole(fd: number, offset: number | bigint): number | null | NativeError {
  return native ? native.seekHole(fd, offset) : enosys('seekHole');
}

/** Size and block sizes of a block device (ioctls) or regular file (fstat). */
export function blockInfo(fd: number): BlockInfo | NativeError {
  if (native) return native.blockInfo(fd);
  try {
    const st = fs.fstatSync(fd);
    return { size: st.size, logicalBlockSize: 512, physicalBlockSize: st.blksize, isBlockDevice: st.isBlockDevice() };
  } catch (e) {
    return fromFsError(e);
  }
}

/** Batched asynchronous I/O queue; see IoQueue. Throws if backend 'io_uring' is demanded and refused. */
export function createIoQueue(options?: IoQueueOptions): IoQueue {
  return native ? native.createIoQueue(options) : createJsIoQueue(options);
}

/**
 * Opens a SCSI generic node (/dev/sgN) for asynchronous pass-through (sg(4): requests written to
 * the node, completions read back when it turns readable on this thread's event loop). A path
 * that is not an sg node answers { errno: 'ENOTTY' }.
 */
export function openSgQueue(path: string, options?: SgQueueOptions): SgQueue | NativeError {
  if (native) return native.openSgQueue(path, options);
  if (typeof path !== 'string') throw Object.assign(new TypeError('openSgQueue: path must be a string'), { code: 'ERR_INVALID_ARG_TYPE' });
  return enosys('openSgQueue');
}

/**
 * dup(2) (close-on-exec) of a descriptor, for handing a socket to another thread: the copy keeps
 * the connection open when the original is closed, so the peer sees no FIN (DESIGN.md §10).
 * Needs the addon: { errno: 'ENOSYS' } without it.
 */
export function dupFd(fd: number): number | NativeError {
  return native ? native.dupFd(fd) : enosys('dupFd');
}

/** close(2) of a descriptor that no JS object owns (a handed-off copy nobody opened). */
export function closeFd(fd: number): NativeError | undefined {
  if (native) return native.closeFd(fd);
  try {
    fs.closeSync(fd);
    return undefined;
  } catch (e) {
    return fromFsError(e);
  }
}

/**
 * Non-blocking recv(2) into `buf[offset, offset + length)`: bytes received, 0 at end of stream,
 * or { errno } (EAGAIN when nothing is there). Without the addon: ENOSYS, and callers keep to
 * the event loop's reads.
 */
export function recvSync(fd: number, buf: NodeJS.ArrayBufferView, offset: number, length: number): number | NativeError {
  return native ? native.recvSync(fd, buf, offset, length) : enosys('recvSync');
}

/**
 * unix(7) SO_PEERCRED of a connected Unix domain socket: the client's pid, uid and gid (the control
 * socket logs who made each change). Needs the addon: { errno: 'ENOSYS' } without it.
 */
export function peerCredentials(fd: number): PeerCredentials | NativeError {
  return native ? native.peerCredentials(fd) : enosys('peerCredentials');
}

/**
 * Opens a TCMU uio device (/dev/uioN of target_core_user, DESIGN.md §8) and maps exactly
 * `mapSize` bytes of it (its maps/map0/size: the kernel refuses any other length); `onEvent` runs
 * on this thread's event loop each time the kernel signals new ring entries. A path that is not a
 * character device answers { errno: 'ENOTTY' }; one that cannot be mapped or polled, the errno.
 */
export function openUioRing(path: string, mapSize: number, onEvent: UioEventCallback): UioRing | NativeError {
  if (native) return native.openUioRing(path, mapSize, onEvent);
  if (typeof path !== 'string') throw Object.assign(new TypeError('openUioRing: path must be a string'), { code: 'ERR_INVALID_ARG_TYPE' });
  return enosys('openUioRing');
}

/**
 * Connects to the Ceph cluster and opens one RADOS object for guarded updates and watch/notify
 * (src/native/rados-object.cc). Without librbd in the build: { errno: 'ENOSYS' } saying so.
 */
export function openRadosObject(options: RadosObjectOptions): Promise<RadosObject | NativeError> {
  if (!native || !native.openRadosObject || librbdMissing !== undefined) {
    return Promise.resolve({ errno: 'ENOSYS', message: `rados: ${librbdMissing ?? 'not built'}` });
  }
  const open = native.openRadosObject;
  return new Promise(resolve => open(options, resolve));
}

/**
 * Opens a bound netlink(7) datagram socket of `protocol` (NETLINK_GENERIC: 16): the TCMU
 * generic-netlink family's events arrive through it (src/transports/tcmu/netlink.ts builds and
 * parses the messages). `onMessage` runs on this thread's event loop once per datagram received.
 */
export function openNetlink(protocol: number, onMessage: NetlinkMessageCallback): NetlinkSocket | NativeError {
  return native ? native.openNetlink(protocol, onMessage) : enosys('openNetlink');
}

/**
 * Connects to the Ceph cluster and opens an rbd image (src/native/rbd-image.cc): an RbdImage, or
 * { errno, message } (ENOENT for a missing pool or image, ETIMEDOUT for an unreachable cluster,
 * EACCES for refused credentials). Without librbd in the build: { errno: 'ENOSYS' } saying so.
 */
export function openRbdImage(options: RbdOpenOptions): Promise<RbdImage | NativeError> {
  if (!native || !native.openRbdImage || librbdMissing !== undefined) {
    return Promise.resolve({ errno: 'ENOSYS', message: `rbd: ${librbdMissing ?? 'not built'}` });
  }
  const open = native.openRbdImage;
  return new Promise(resolve => open(options, resolve));
}
