import { createHash } from 'node:crypto';
import { SenseCondition } from './spec/asc';
import { PeripheralType } from './spec/status';
import { Backstore, CopyTargetLookup, DeviceType, LuIdentity, LuView, VpdPageDef } from './types';
import { DeviceConfig } from './topology';
import { CdbTable } from './cdb/registry';
import { ANNOUNCED_CONDITIONS, MAX_DETACHED_NEXUSES, UaTable } from './ua';
import { Spc2Reservation } from './reserve';
import { PersistentReservations, PrOptions } from './pr';
import { TaskSet } from './task-set';
import { LuStatistics } from './lu-statistics';
import { ModePages } from './mode-page-store';
import { AsymmetricAccess } from './alua';
import type { AccessStateName } from './topology';

/**
 * A logical unit: one exported device with its task set, unit attentions, reservation and mode
 * state (SAM-5 4.6). A device exported by several targets is still one logical unit.
 */
export class LogicalUnit implements LuView {
  readonly ua = new UaTable(MAX_DETACHED_NEXUSES, (itKey, c) => this.uaEstablished(itKey, c));
  /**
   * Told, per attached I_T nexus (by nexus id), of each condition of ANNOUNCED_CONDITIONS newly
   * established for it: the engine reports it to the nexus's transport as an asynchronous event.
   */
  announce: ((nexusId: number, c: SenseCondition) => void) | undefined;
  readonly reservation = new Spc2Reservation();
  /** SPC-4 persistent reservations: kept across I_T nexus loss and LOGICAL UNIT RESET. */
  readonly pr: PersistentReservations;
  readonly tasks = new TaskSet();
  /** Counters behind the General Statistics and Performance log page (19h). */
  readonly statistics = new LuStatistics();
  /** Standard INQUIRY and VPD identity (SPC-4 6.6.2, 7.8); changes live with setIdentity. */
  identity: LuIdentity;
  readonly table: CdbTable;
  readonly vpdPages: readonly VpdPageDef[];
  readonly logPages: DeviceType['logPages'];
  readonly removable: boolean;
  readonly type: PeripheralType;
  preventRemoval = new Set<number>();
  stopped = false;
  /** A removable unit's medium is loaded (START STOP UNIT LOEJ); always true for fixed media. */
  mediumPresent = true;
  /** The tray of a device type that has one (closed at start); undefined otherwise. */
  trayOpen: boolean | undefined;
  /** A SANITIZE is in progress (SBC-4 4.11). */
  sanitizing = false;
  /** Its progress, a fraction of 65536 (SPC-4 4.5.2.4.4). */
  sanitizeProgress = 0;
  /** I_T nexus identities currently connected to this unit, by nexus id (UA fan-out). */
  readonly nexusKeys = new Map<number, string>();
  /** The units this unit's copy manager can reach by NAA designator (EXTENDED COPY); set by Engine. */
  copyTargets?: CopyTargetLookup;
  /** Its asymmetric access state per target port group (SPC-4 5.16). */
  readonly access: AsymmetricAccess;

  constructor(
    readonly config: DeviceConfig,
    readonly backstore: Backstore,
    readonly device: DeviceType,
    readonly modes: ModePages,
    prOptions: PrOptions = {},
    aluaOptions: { saved?: Record<number, AccessStateName>; persist?: (states: Record<number, AccessStateName>) => void } = {},
  ) {
    this.pr = new PersistentReservations(prOptions);
    this.table = device.table;
    this.vpdPages = device.vpdPages;
    this.logPages = device.logPages;
    this.removable = device.removable;
    this.type = device.type;
    this.trayOpen = device.tray ? false : undefined;
    // A drive (with a tray or not) starts with whatever medium its store holds (an empty drive:
    // none); a disk's store, removable or not, always holds one, and a changer has no medium.
    this.mediumPresent = (!device.tray && !device.drive) || backstore.sizeBytes > 0n;
    this.identity = makeIdentity(config, backstore.identitySeed);
    this.access = new AsymmetricAccess(config.alua, {
      raise: (cond, except) => this.raiseUa(cond, except),
      ...(aluaOptions.persist ? { persist: aluaOptions.persist } : {}),
    }, aluaOptions.saved);
  }

  get name(): string { return this.config.name; }
  get blockSize(): number { return this.backstore.transferBlockLength || this.config.blockSize; }
  get blocks(): bigint { this.capacityNow(); return this.blocksBig; }
  get capacityBlocks(): number { this.capacityNow(); return this.blocksNumber; }

  /** The capacity last computed, redone only when the store's size changed (run-time resize). */
  private sizeSeen = -1n;
  private blocksBig = 0n;
  private blocksNumber = 0;

  private capacityNow(): void {
    const size = this.backstore.sizeBytes;
    if (size === this.sizeSeen) return;
    this.sizeSeen = size;
    this.blocksBig = size / BigInt(this.config.blockSize);
    this.blocksNumber = Number(this.blocksBig);
  }
  get physicalExponent(): number {
    // Default: 4096-byte physical blocks under 512-byte logical ones (512e), like the drives and
    // page-cache pages behind them, so initiators align their I/O to 4 KiB.
    const phys = this.config.physicalBlockSize ?? 4096;
    return Math.max(0, Math.log2(Math.max(phys, this.config.blockSize) / this.config.blockSize));
  }

  private uaEstablished(itKey: string, c: SenseCondition): void {
    const tell = this.announce;
    if (tell === undefined || !ANNOUNCED_CONDITIONS.has(c)) return;
    for (const [id, key] of this.nexusKeys) if (key === itKey) tell(id, c);
  }

  /**
   * New INQUIRY fields for the running unit: its standard INQUIRY data and the VPD pages built
   * from them (serial number, device identification) answer with them from the next command.
   */
  setIdentity(fields: InquiryFields): void {
    for (const k of INQUIRY_FIELDS) {
      const v = fields[k];
      if (v === undefined) delete this.config[k];
      else this.config[k] = v;
    }
    this.identity = makeIdentity(this.config, this.backstore.identitySeed);
  }

  raiseUa(cond: SenseCondition, exceptNexus?: number): void {
    const except = exceptNexus === undefined ? undefined : this.nexusKeys.get(exceptNexus);
    this.ua.raiseAll(cond, except);
  }
}

/** The configurable INQUIRY fields of a device (the topology's vendor, product, revision, serial). */
export const INQUIRY_FIELDS = ['vendor', 'product', 'revision', 'serial'] as const;
export type InquiryFields = Pick<DeviceConfig, (typeof INQUIRY_FIELDS)[number]>;

/**
 * Identity derived deterministically from the device name (and its configured serial), so that a
 * restart presents the same designators: initiators (multipath, udev) key on them. A store that
 * several gateways export as one unit gives the seed instead of the name (Backstore.identitySeed:
 * an rbd image's cluster-wide id), so that the designators are equal through every gateway.
 */
function makeIdentity(cfg: DeviceConfig, seed?: string): LuIdentity {
  const name = seed ?? cfg.name;
  const digest = createHash('sha256').update(`nexus:${name}:${cfg.serial ?? ''}`).digest();
  const serial = cfg.serial ?? digest.subarray(0, 8).toString('hex');
  // NAA 6 (IEEE Registered Extended, SPC-4 7.8.6.6.5): NAA in the top nibble, a 24-bit company
  // ID (fixed for Nexus), then 100 vendor-specific bits taken from the name digest.
  const naa = Buffer.alloc(16);
  naa[0] = 0x60 | 0x0; naa[1] = 0x01; naa[2] = 0x40; naa[3] = 0x50 | (digest[8] & 0x0f);
  digest.copy(naa, 4, 9, 21);
  return {
    vendor: (cfg.vendor ?? 'NEXUS').padEnd(8).slice(0, 8),
    product: (cfg.product ?? cfg.name).padEnd(16).slice(0, 16),
    revision: (cfg.revision ?? '0001').padEnd(4).slice(0, 4),
    serial,
    naa,
    t10Id: `${name}:${serial}`,
  };
}
