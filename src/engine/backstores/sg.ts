import * as nodePath from 'node:path';
import { isNativeError, NativeError, openSgQueue, SgRequest, SgResetKind, SgResult } from '../../native';
import { NexusError } from '../result';
import { DeviceConfig } from '../topology';
import { Backstore } from '../types';
import { parseSense } from '../sense';
import { SenseKey } from '../spec/status';
import { errnoError } from './errno-sense';
import { HOST, HostView, resolveSgNode, SgNode, sysfsNumber } from './sg-node';

/**
 * A real SCSI device behind its sg node (the passthrough handler's store). It does not move
 * bytes for the engine's own command handlers: the passthrough personality (devices/
 * passthrough.ts) sends each command it passes down through `execute`. What it knows of the
 * device comes from probing it at open: INQUIRY (the peripheral device type picks the command
 * table), by type READ CAPACITY(16) or (10) and the Block Limits VPD page (disks, CD/DVD), READ
 * BLOCK LIMITS (tapes), and from sysfs the device's queue depth and the largest transfer its
 * host adapter takes, so that the engine never offers or accepts more than the device can do.
 *
 * A device that goes away (the node answers ENODEV/ENXIO, or the host adapter says the target is
 * gone) turns the store `gone`; every later command is answered at once without the device, and
 * at most once a second a command tries to open the path again. The device comes back only if it
 * is the same one (its INQUIRY identification and unit serial number), and the first command
 * afterwards learns it through `takeReturn`.
 */

/** What the store needs of an sg node: the native SgQueue, or a scripted device in tests. */
export interface SgDevice {
  submit(request: SgRequest, cb: (result: SgResult | NativeError) => void): void;
  reset(kind: SgResetKind, cb: (result: NativeError | undefined) => void): void;
  readonly depth: number;
  /** The largest transfer the node's request queue takes, as the sg driver says (0: it does not). */
  readonly maxTransferBytes: number;
  close(): void;
}

export type SgOpener = (path: string, depth: number) => SgDevice | NativeError;

export interface SgOpenOptions {
  host?: HostView;
  open?: SgOpener;
  /** Per-command timeout given to the device, default 30 s (the Linux SCSI default). */
  timeoutMs?: number;
  /** How long a gone device is left alone between attempts to reopen it. */
  retryMs?: number;
}

/** Linux host bytes (include/scsi/scsi_status.h) and driver byte (DRIVER_TIMEOUT). */
export const enum HostByte {
  DID_OK = 0x00, DID_NO_CONNECT = 0x01, DID_BUS_BUSY = 0x02, DID_TIME_OUT = 0x03, DID_BAD_TARGET = 0x04,
  DID_ABORT = 0x05, DID_PARITY = 0x06, DID_ERROR = 0x07, DID_RESET = 0x08,
}
export const DRIVER_TIMEOUT = 0x06;

/** errno values that mean the node no longer reaches a device. */
const GONE_ERRNOS = new Set(['ENODEV', 'ENXIO', 'EBADF', 'ENOENT']);

export function isGone(r: SgResult | NativeError): boolean {
  if (isNativeError(r)) return GONE_ERRNOS.has(r.errno);
  return r.hostStatus === HostByte.DID_NO_CONNECT || r.hostStatus === HostByte.DID_BAD_TARGET;
}

/** Block Limits VPD page (SBC-4 6.6.4) and capacity data offsets used by the probe. */
const INQUIRY_LENGTH = 96;
const VPD_LENGTH = 252;
/** The largest transfer assumed when neither sysfs nor the sg driver gives the queue's. */
const DEFAULT_MAX_TRANSFER = 512 * 1024;
/** SPC-4 6.6.1 / SBC-4: CDBs of the probe, written out. */
const PROBE = {
  inquiry: (evpd: boolean, page: number, alloc: number): Uint8Array => Uint8Array.of(0x12, evpd ? 1 : 0, page, alloc >> 8, alloc & 0xff, 0),
  readCapacity16: (): Uint8Array => Uint8Array.of(0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0),
  readCapacity10: (): Uint8Array => Uint8Array.of(0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0),
  readBlockLimits: (): Uint8Array => Uint8Array.of(0x05, 0, 0, 0, 0, 0),
  testUnitReady: (): Uint8Array => new Uint8Array(6),
};

/** The probe's view of the device. */
export interface SgProbe {
  /** SPC-4 6.6.2 PERIPHERAL DEVICE TYPE. */
  peripheralType: number;
  removable: boolean;
  /** Standard INQUIRY bytes 8..35 (vendor, product, revision) and the unit serial number: who the device is. */
  identity: string;
  blockSize: number;
  sizeBytes: bigint;
  /** The largest transfer in bytes the device and its host adapter take. */
  maxTransferBytes: number;
  queueDepth: number;
  /** Tapes: READ BLOCK LIMITS MAXIMUM BLOCK LENGTH LIMIT (SSC-4 7.6). */
  maxBlockLength?: number;
}

function run(dev: SgDevice, req: SgRequest): Promise<SgResult | NativeError> {
  return new Promise(resolve => dev.submit(req, resolve));
}

/** A command of the probe, repeated past the unit attentions a freshly opened device reports. */
async function probeCommand(dev: SgDevice, cdb: Uint8Array, length: number, timeoutMs: number): Promise<Uint8Array | undefined> {
  for (let attempt = 0; attempt < 4; attempt++) {
    const data = length > 0 ? new Uint8Array(length) : undefined;
    const r = await run(dev, { cdb, dir: data ? 'in' : 'none', data, timeoutMs });
    if (isNativeError(r)) throw errnoError(r.errno, r.message);
    if (r.hostStatus !== HostByte.DID_OK) return undefined;
    if (r.status === 0) return data ? data.subarray(0, Math.max(0, length - r.residual)) : new Uint8Array(0);
    if (r.status !== 0x02 || parseSense(r.sense)?.key !== SenseKey.UNIT_ATTENTION) return undefined;
  }
  return undefined;
}

const be32 = (b: Uint8Array, at: number): number => ((b[at] << 24) >>> 0) + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]);

/** Who the device is, and what it takes (see SgProbe). */
export async function probeDevice(dev: SgDevice, node: SgNode, sys: string, timeoutMs: number): Promise<SgProbe> {
  const inq = await probeCommand(dev, PROBE.inquiry(false, 0, INQUIRY_LENGTH), INQUIRY_LENGTH, timeoutMs);
  if (!inq || inq.length < 36) throw errnoError('EIO', `${node.sgPath}: the device does not answer INQUIRY`);
  // SPC-4 6.6.2: PERIPHERAL QUALIFIER 000b means a logical unit is there.
  if ((inq[0] >> 5) !== 0) throw errnoError('ENXIO', `${node.sgPath}: no logical unit behind the node (peripheral qualifier ${inq[0] >> 5})`);
  const peripheralType = inq[0] & 0x1f;
  const serialPage = await probeCommand(dev, PROBE.inquiry(true, 0x80, VPD_LENGTH), VPD_LENGTH, timeoutMs);
  const serial = serialPage && serialPage.length > 4 ? Buffer.from(serialPage.subarray(4, 4 + serialPage[3])).toString('latin1').trim() : '';
  const identity = `${Buffer.from(inq.subarray(8, 36)).toString('latin1')}|${serial}`;
  let blockSize = 512;
  let sizeBytes = 0n;
  // The host adapter's limit; then the device's own, where it reports one, if lower. A
  // pass-through request is bounded by the queue's max_hw_sectors_kb (blk_rq_map_user), not by
  // max_sectors_kb, which sd lowers for its own I/O to the device's OPTIMAL TRANSFER LENGTH
  // (scsi_debug: 512 KiB, where 1 MiB passes). A device with no block driver bound (a tape, a
  // changer, a disk without sd) has no queue directory in sysfs: the sg driver then says what
  // the queue takes (its max_sectors, no more than max_hw_sectors), and only a node that says
  // nothing gets the default.
  const maxKb = node.blockName ? sysfsNumber(nodePath.join(sys, 'block', node.blockName, 'queue', 'max_hw_sectors_kb')) : undefined;
  let maxTransferBytes = maxKb !== undefined && maxKb > 0 ? maxKb * 1024
    : dev.maxTransferBytes > 0 ? dev.maxTransferBytes : DEFAULT_MAX_TRANSFER;
  let maxBlockLength: number | undefined;
  // SPC-4 6.6.2 table 145: direct access (00h), optical (07h), CD/DVD (05h), RBC (0Eh) have capacity.
  if (peripheralType === 0x00 || peripheralType === 0x05 || peripheralType === 0x07 || peripheralType === 0x0e) {
    const c16 = peripheralType === 0x05 ? undefined : await probeCommand(dev, PROBE.readCapacity16(), 32, timeoutMs);
    if (c16 && c16.length >= 12) {
      const last = (BigInt(be32(c16, 0)) << 32n) | BigInt(be32(c16, 4));
      blockSize = be32(c16, 8);
      sizeBytes = (last + 1n) * BigInt(blockSize);
    } else {
      const c10 = await probeCommand(dev, PROBE.readCapacity10(), 8, timeoutMs);
      // A drive without a medium answers NOT READY: capacity 0 until one is loaded.
      if (c10 && c10.length >= 8) {
        blockSize = be32(c10, 4) || (peripheralType === 0x05 ? 2048 : 512);
        sizeBytes = (BigInt(be32(c10, 0)) + 1n) * BigInt(blockSize);
      } else if (peripheralType === 0x05) {
        blockSize = 2048;
      }
    }
    if (peripheralType === 0x00) {
      // SBC-4 6.6.4: MAXIMUM TRANSFER LENGTH in blocks, 0 = no limit reported.
      const b0 = await probeCommand(dev, PROBE.inquiry(true, 0xb0, 64), 64, timeoutMs);
      const maxBlocks = b0 && b0.length >= 12 ? be32(b0, 8) : 0;
      if (maxBlocks > 0) maxTransferBytes = Math.min(maxTransferBytes, maxBlocks * blockSize);
    }
  } else if (peripheralType === 0x01) {
    // SSC-4 7.6 READ BLOCK LIMITS: bytes 1..3 MAXIMUM BLOCK LENGTH LIMIT.
    const rbl = await probeCommand(dev, PROBE.readBlockLimits(), 6, timeoutMs);
    if (rbl && rbl.length >= 6) maxBlockLength = (rbl[1] << 16) | (rbl[2] << 8) | rbl[3];
  }
  // The device's queue depth.
  const queueDepth = Math.max(1, Math.min(16, sysfsNumber(nodePath.join(node.deviceDir, 'queue_depth')) ?? dev.depth));
  return { peripheralType, removable: (inq[1] & 0x80) !== 0, identity, blockSize, sizeBytes, maxTransferBytes, queueDepth, maxBlockLength };
}

export class SgBackstore implements Backstore {
  readonly kind = 'sg' as const;
  readonly readOnly = false;
  readonly thin = false;
  /** The device's own cache is its business: SYNCHRONIZE CACHE passes through. */
  writeBack = false;
  private lastTry = 0;
  private returned = false;

  private constructor(
    readonly cfg: DeviceConfig,
    private dev: SgDevice | undefined,
    readonly probe: SgProbe,
    private readonly opts: Required<SgOpenOptions>,
  ) {}

  /** Open and probe the device a passthrough device's path names. */
  static async open(cfg: DeviceConfig, options: SgOpenOptions = {}): Promise<SgBackstore> {
    const opts: Required<SgOpenOptions> = {
      host: options.host ?? HOST,
      open: options.open ?? ((path, depth) => openSgQueue(path, { depth })),
      timeoutMs: options.timeoutMs ?? 30000,
      retryMs: options.retryMs ?? 1000,
    };
    if (!cfg.path) throw errnoError('EINVAL', `${cfg.name}: passthrough needs the path of a SCSI device`);
    const { dev, probe } = await SgBackstore.attach(cfg, opts);
    return new SgBackstore(cfg, dev, probe, opts);
  }

  private static async attach(cfg: DeviceConfig, opts: Required<SgOpenOptions>): Promise<{ dev: SgDevice; probe: SgProbe }> {
    const where = resolveSgNode(cfg.path!, opts.host);
    if (!where.ok) throw errnoError('EINVAL', `${cfg.name}: ${where.reason}`);
    const dev = opts.open(where.node.sgPath, 16);
    if (isNativeError(dev)) throw errnoError(dev.errno, `${cfg.name}: ${dev.message}`);
    try {
      return { dev, probe: await probeDevice(dev, where.node, opts.host.sys, opts.timeoutMs) };
    } catch (e) {
      dev.close();
      throw e;
    }
  }

  get sizeBytes(): bigint { return this.probe.sizeBytes; }
  get blockSize(): number { return this.probe.blockSize; }
  get peripheralType(): number { return this.probe.peripheralType; }
  get maxTransferBytes(): number { return this.probe.maxTransferBytes; }
  get timeoutMs(): number { return this.opts.timeoutMs; }
  /** The device went away and has not come back. */
  get gone(): boolean { return this.dev === undefined; }

  /** One command to the device; a gone device answers ENODEV without being asked. */
  execute(req: SgRequest): Promise<SgResult | NativeError> {
    const dev = this.dev;
    if (!dev) {
      this.retry();
      return Promise.resolve({ errno: 'ENODEV', message: `${this.cfg.name}: the device is gone` });
    }
    return run(dev, req).then(r => {
      if (isGone(r) && this.dev === dev) this.lose();
      return r;
    });
  }

  /** SG_SCSI_RESET of the device (LOGICAL UNIT RESET, TARGET RESET). */
  reset(kind: SgResetKind = 'device'): Promise<NativeError | undefined> {
    const dev = this.dev;
    if (!dev) return Promise.resolve({ errno: 'ENODEV', message: `${this.cfg.name}: the device is gone` });
    return new Promise(resolve => dev.reset(kind, resolve));
  }

  /** Whether the device came back since the last call (then every I_T nexus is told). */
  takeReturn(): boolean {
    const r = this.returned;
    this.returned = false;
    return r;
  }

  private lose(): void {
    this.dev?.close();
    this.dev = undefined;
    this.lastTry = Date.now();
  }

  private retry(): void {
    const now = Date.now();
    if (now - this.lastTry < this.opts.retryMs) return;
    this.lastTry = now;
    SgBackstore.attach(this.cfg, this.opts).then(({ dev, probe }) => {
      if (this.dev !== undefined || probe.identity !== this.probe.identity) { dev.close(); return; }
      this.dev = dev;
      this.returned = true;
    }, () => { /* still gone */ });
  }

  read(): Promise<void> { return misuse('read'); }
  write(): Promise<void> { return misuse('write'); }
  unmap(): Promise<void> { return misuse('unmap'); }
  mapStatus(): Promise<{ mapped: boolean; length: number }> { return misuse('mapStatus'); }
  resize(): Promise<void> { return Promise.reject(new NexusError('ERR_PASSTHROUGH', `${this.cfg.name}: a pass-through device has the size of its medium`)); }
  /** Nothing is cached here: the device's own cache is flushed by the initiator's SYNCHRONIZE CACHE. */
  flush(): Promise<void> { return Promise.resolve(); }

  close(): Promise<void> {
    this.dev?.close();
    this.dev = undefined;
    this.lastTry = Number.POSITIVE_INFINITY;
    return Promise.resolve();
  }
}

function misuse<T>(what: string): Promise<T> {
  return Promise.reject(new NexusError('ERR_PASSTHROUGH', `${what}: a pass-through device is reached only through its commands`));
}
