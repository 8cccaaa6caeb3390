/** Types shared by the native addon's wrapper (index.ts) and its JS fallbacks. */

/** A system call's failure as a value: errno name as in Node's err.code. */
export interface NativeError {
  errno: string;
  message: string;
}

export type IoOp = 'read' | 'write' | 'fsync' | 'fdatasync';

export interface IoRequest {
  op: IoOp;
  fd: number;
  /** Required for read/write; may be a view on a SharedArrayBuffer. */
  buf?: NodeJS.ArrayBufferView;
  /** Byte offset in the file (default 0). */
  offset?: number | bigint;
  /** Bytes to transfer (default buf.byteLength); more than buf holds → EINVAL. */
  length?: number;
}

/** res: bytes transferred (0 for fsync) or -errno, with errno's name. */
export interface IoResult {
  res: number;
  errno?: string;
}

export interface IoQueueOptions {
  /** Requests in flight at once (io_uring SQ size); default 64, 1..4096. */
  depth?: number;
  /** 'auto' (default): io_uring if the kernel allows it, else threads. */
  backend?: 'auto' | 'io_uring' | 'threads';
  /** Threads of the fallback pool; default 2. */
  threads?: number;
}

export interface IoQueue {
  /** 'js' when the addon is not built (fs.read / fs.write on libuv's pool). */
  readonly backend: 'io_uring' | 'threads' | 'js';
  readonly depth: number;
  readonly inFlight: number;
  /**
   * One call is one batched submission. cb runs once, asynchronously, with
   * results[i] for requests[i]. Wrong JS types throw TypeError; wrong values
   * complete as { res: -22, errno: 'EINVAL' } (or EBADF for a bad fd number).
   */
  submit(requests: readonly IoRequest[], cb: (results: IoResult[]) => void): void;
  /** No more submissions; resources go once in-flight work has called back. */
  close(): void;
}

export interface OpenBlockOptions {
  /** O_DIRECT: buffers, offsets and lengths must be aligned to the logical block size. */
  direct?: boolean;
  readOnly?: boolean;
}

export interface BlockInfo {
  size: number;
  logicalBlockSize: number;
  physicalBlockSize: number;
  isBlockDevice: boolean;
}

export type SgDirection = 'none' | 'in' | 'out';

/** One SCSI command for an sg node (sg(4) sg_io_hdr). */
export interface SgRequest {
  cdb: Uint8Array;
  dir: SgDirection;
  /** Data-In buffer ('in') or Data-Out bytes ('out'); absent for 'none'. */
  data?: Uint8Array;
  /** Default 30000. */
  timeoutMs?: number;
  /** Sense bytes to accept, 0..255, default 32. */
  senseMax?: number;
}

/** What the device (and the host adapter and driver below it) made of a request. */
export interface SgResult {
  /** SCSI status byte (SAM-5 5.3.1). */
  status: number;
  /** Linux host byte (DID_OK 0, DID_NO_CONNECT 1, DID_TIME_OUT 3, ...). */
  hostStatus: number;
  /** Linux driver byte (DRIVER_SENSE 08h, DRIVER_TIMEOUT 06h, ...). */
  driverStatus: number;
  sense: Buffer;
  /** Bytes of `data` not transferred. */
  residual: number;
  durationMs: number;
  /** The data moved by direct I/O (SG_INFO_DIRECT_IO), not through the driver's buffer. */
  direct: boolean;
}

export interface SgQueueOptions {
  /** Requests in the kernel at once, 1..16 (SG_MAX_QUEUE); default 16. */
  depth?: number;
  readOnly?: boolean;
}

export type SgResetKind = 'device' | 'target' | 'bus' | 'host';

/**
 * An open sg node with the driver's asynchronous interface: requests are written to it, their
 * completions read back when the node turns readable on the calling thread's event loop.
 */
export interface SgQueue {
  submit(request: SgRequest, cb: (result: SgResult | NativeError) => void): void;
  /** SG_SCSI_RESET of the kind asked, off the event loop; cb(undefined) when done. */
  reset(kind: SgResetKind, cb: (result: NativeError | undefined) => void): void;
  readonly depth: number;
  /** Requests in the kernel now. */
  readonly inFlight: number;
  /** Requests waiting for a free slot. */
  readonly queued: number;
  /**
   * The largest data transfer the node's request queue takes, in bytes, as the sg driver says
   * (BLKSECTGET: the queue's max_sectors); 0 when it does not say.
   */
  readonly maxTransferBytes: number;
  /** Closes the node once every request it holds is back (their callbacks are still called). */
  close(): void;
}

/**
 * An open TCMU uio device (target_core_user) mapped whole: the mailbox, the command ring and the
 * data area are views over `map` (src/transports/tcmu/ring.ts lays them out).
 */
export interface UioRing {
  /** The whole mapping, exactly maps/map0/size bytes; detached (length 0) after close(). */
  readonly map: ArrayBuffer;
  /** One 4-byte write to the device: the kernel reaps every completion up to cmd_tail. */
  kick(): NativeError | undefined;
  /** Stops watching the device, detaches and unmaps `map`, closes the device. */
  close(): void;
}

/** Called on the opening thread's loop each time the device signals: uio's event count, or why it stopped. */
export type UioEventCallback = (event: number | NativeError) => void;

/** A netlink(7) datagram socket, bound, its port id chosen by the kernel. */
export interface NetlinkSocket {
  /** nl_pid: the address the kernel answers requests to. */
  readonly portId: number;
  /** One datagram to the kernel (port 0). */
  send(bytes: Uint8Array): NativeError | undefined;
  /** Joins multicast group `group` (NETLINK_ADD_MEMBERSHIP). */
  addMembership(group: number): NativeError | undefined;
  close(): void;
}

/**
 * Called on the opening thread's loop once per datagram received (it may hold several netlink
 * messages), or with why receiving failed: ENOBUFS means the kernel dropped messages and the
 * socket still works; any other errno ends it.
 */
export type NetlinkMessageCallback = (datagram: Uint8Array | NativeError) => void;
/** Where an rbd image is and who opens it (the rbd handler's topology fields). */
export interface RbdOpenOptions {
  pool: string;
  image: string;
  /** ceph.conf path; absent: librados's default search (CEPH_CONF, /etc/ceph/ceph.conf). */
  cephConf?: string;
  /** Ceph entity, e.g. client.nexus (default client.admin). */
  cephUser?: string;
  keyring?: string;
  readOnly?: boolean;
  /** Bound on reaching the monitors (client_mount_timeout, rados_mon_op_timeout); default 20000. */
  connectTimeoutMs?: number;
  /** rados_osd_op_timeout: an OSD request older than this fails with ETIMEDOUT; 0 (default) waits. */
  opTimeoutMs?: number;
}

export type RbdOp = 'read' | 'write' | 'discard' | 'writeZeroes' | 'writeSame' | 'flush' | 'compareAndWrite';

/** One asynchronous librbd request; data is read into or written from as is (no copy). */
export interface RbdRequest {
  op: RbdOp;
  offset?: number | bigint;
  /** discard, writeZeroes, writeSame: bytes covered (writeSame: a multiple of data's length). */
  length?: number | bigint;
  /** read: where the bytes go; write: the bytes; writeSame: the pattern; compareAndWrite: what to write. */
  data?: Uint8Array;
  /** compareAndWrite (librbd's, one 512-byte sector at most): what the image must hold first (same length as data). */
  compare?: Uint8Array;
  /** LIBRADOS_OP_FLAG_FADVISE_FUA. */
  fua?: boolean;
}

/** res: bytes (or 0); a failure is a NativeError, a miscompare EILSEQ with the first differing byte. */
export type RbdResult = { res: number } | (NativeError & { mismatch?: number });

export interface RbdImageStat {
  size: bigint;
  objectSize: number;
  features: bigint;
  /** Data objects are `${blockNamePrefix}.${object number, 16 hex digits}`. */
  blockNamePrefix: string;
  /** The image id (its header object is rbd_header.<id>). */
  id: string;
  stripeUnit: number;
  stripeCount: number;
  /** Bytes from the start that a clone still reads from its parent; 0 without a parent. */
  parentOverlap: number;
  /** This session's client addresses as blocklisting takes them (absent if librados would not say). */
  clientAddrs?: string;
}

/** Where a RADOS object is and who opens it (a connection of its own to the cluster). */
export interface RadosObjectOptions {
  pool: string;
  object: string;
  cephConf?: string;
  cephUser?: string;
  keyring?: string;
  connectTimeoutMs?: number;
  opTimeoutMs?: number;
}

/** What a notify gathered: who acknowledged (with its reply) and who did not in time. */
export interface RadosNotifyReply {
  acks: Array<{ gid: string; cookie: string; payload: string }>;
  timeouts: Array<{ gid: string; cookie: string }>;
}

/** One RADOS object with guarded writes and watch/notify (src/native/rados-object.cc). */
export interface RadosObject {
  read(cb: (r: { text: string } | NativeError) => void): void;
  /** Atomic: the version xattr must be `expect` ('' = the object must not exist), then text and `next`. */
  write(expect: string, next: string, text: string, cb: (r: NativeError | undefined) => void): void;
  /** onEvent('notify', notifyId, cookie, notifierGid, payload) to acknowledge, or ('error', errno): the watch is lost. */
  watch(onEvent: (kind: string, a: string, b?: string, c?: string, d?: string) => void, cb: (r: NativeError | undefined) => void): void;
  ack(notifyId: string, cookie: string, payload: string, cb: (r: NativeError | undefined) => void): void;
  notify(payload: string, timeoutMs: number, cb: (r: RadosNotifyReply | NativeError) => void): void;
  blocklist(addr: string, expireSeconds: number, cb: (r: NativeError | undefined) => void): void;
  client(): { gid: string; addrs: string };
  close(cb: () => void): void;
}

/**
 * One RADOS write operation { cmpext, write } on one data object of the image, carrying the
 * image's snapshot context (src/native/rbd-image.cc).
 */
export interface RbdObjectCompareAndWrite {
  /** The data object's name. */
  object: string;
  /** Byte offset inside the object. */
  offset: number;
  compare: Uint8Array;
  data: Uint8Array;
  fua?: boolean;
  /** Fail with ENOENT when the object does not exist (instead of comparing with zeros). */
  mustExist?: boolean;
}

/** res 0: written; EILSEQ with `mismatch`, the first differing byte's offset from the compared range's start. */
export type RbdObjectCompareAndWriteResult = { res: number } | (NativeError & { mismatch?: number });

/** An open image (src/native/rbd-image.cc). */
export interface RbdImage {
  readonly inFlight: number;
  submit(req: RbdRequest, cb: (r: RbdResult) => void): void;
  /** Allocated extents in [offset, offset + length), flattened [offset, length, ...]. */
  diff(offset: number | bigint, length: number | bigint, cb: (r: number[] | NativeError) => void): void;
  resize(sizeBytes: number | bigint, cb: (r: NativeError | undefined) => void): void;
  compareAndWriteObject(req: RbdObjectCompareAndWrite, cb: (r: RbdObjectCompareAndWriteResult) => void): void;
  /** rbd_update_features: turn the features in `mask` on or off. */
  updateFeatures(mask: bigint, enabled: boolean, cb: (r: NativeError | undefined) => void): void;
  /** Called on the event loop when the image's header changes (resize, lock, snapshots). */
  onUpdate(fn: () => void): void;
  stat(): RbdImageStat | NativeError;
  /** Only with nothing in flight (ERR_RBD_BUSY otherwise). */
  close(cb: () => void): void;
}
