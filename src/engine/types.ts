import { CdbDef, Decoded, FieldMap } from './cdb/dsl';
import { CdbTable } from './cdb/registry';
import { Outcome } from './result';
import { PeripheralType } from './spec/status';
import { DeviceConfig } from './topology';
import type { UaTable } from './ua';
import type { Spc2Reservation } from './reserve';
import type { TaskSet } from './task-set';
import type { ModePages } from './mode-page-store';
import type { LuStatistics } from './lu-statistics';
import type { AsymmetricAccess } from './alua';
import type { PersistentReservations, ReservationChannel } from './pr';

/**
 * The contracts between the engine's layers: backstores (where bytes go), the logical unit view
 * that device handlers see, the I_T nexus view, and the execute step of a command.
 */

// ---------------------------------------------------------------------------------------------
// Backstores (src/engine/backstores): capacity, block size, thin provisioning, cache, flush.
// Errors are rejections carrying a Node errno `code` ('EIO', 'ENOSPC', 'EROFS', ...); the one
// errno→sense map (backstores/errno-sense.ts) turns them into check conditions.
// ---------------------------------------------------------------------------------------------
export interface Backstore {
  readonly kind: 'file' | 'block' | 'null' | 'memory' | 'sg' | 'rbd';
  /**
   * The logical block size the store imposes (a pass-through device's own, from READ CAPACITY):
   * the unit uses it instead of the configured one. Absent for stores that take the configured one.
   */
  readonly blockSize?: number;
  /** Capacity in bytes (a multiple of the logical block size). */
  readonly sizeBytes: bigint;
  /** Whether the store itself refuses writes (read-only file, EROFS). */
  readonly readOnly: boolean;
  /** Whether holes can be punched and reported (UNMAP, GET LBA STATUS). */
  readonly thin: boolean;
  /** Write cache mode; MODE SELECT of the caching page's WCE changes it at run time. */
  writeBack: boolean;
  /**
   * Stores whose block length is set at run time (a tape drive's MODE SELECT block descriptor,
   * SSC-4 8.3): the length of a fixed-mode block, 0 in variable-block mode. The unit's block
   * size follows it when it is not 0.
   */
  readonly transferBlockLength?: number;
  read(offset: number, into: Uint8Array): Promise<void>;
  /** `fua`: the data is on stable storage when the promise resolves (SBC-4 FUA). */
  write(offset: number, data: Uint8Array, fua: boolean): Promise<void>;
  flush(): Promise<void>;
  /**
   * Optional: write `pattern` repeated over [offset, offset + length) as one long operation off
   * the engine's thread (SANITIZE OVERWRITE). Stores without it get a loop of write() calls.
   */
  fill?(offset: number, length: number, pattern: Uint8Array): Promise<void>;
  /**
   * Optional: WRITE SAME in the store (SBC-4 WRITE SAME): `block` repeated over [offset, offset +
   * length), as one request where the store has one (librbd writesame / write-zeroes). Stores
   * without it get a loop of write() calls.
   */
  writeSame?(offset: number, length: number, block: Uint8Array): Promise<void>;
  /**
   * Optional: COMPARE AND WRITE in the store, called under the unit's exclusive range lock: -1
   * when `verify` matched and `data` was written, else the offset of the first differing byte
   * (nothing written). Stores shared with other writers (rbd behind several gateways) make it
   * atomic against them too; without it the engine reads, compares and writes under its lock.
   */
  compareAndWrite?(offset: number, verify: Uint8Array, data: Uint8Array, fua: boolean): Promise<number>;
  /** MAXIMUM COMPARE AND WRITE LENGTH, in blocks, for stores whose compareAndWrite takes more than one. */
  readonly maxCompareAndWriteBlocks?: number;
  /**
   * Optional: what the unit's identifiers (VPD 80h serial, 83h NAA and T10 designators) derive
   * from instead of the device's name: a store that several gateways export as one logical unit
   * (an rbd image) names itself, so that every gateway reports the same identifiers.
   */
  readonly identitySeed?: string;
  /**
   * Optional: a store several gateways export keeps the unit's reservations where every gateway
   * sees them (an rbd image: a RADOS object beside it, backstores/rbd-reservations.ts). The unit
   * then takes its persistent and SPC-2 reservations from there (shared-reservations.ts).
   */
  openReservations?(): Promise<ReservationChannel>;
  /** Deallocation granularity (VPD B0h OPTIMAL UNMAP GRANULARITY) when not the default page. */
  readonly unmapGranularityBytes?: number;
  /**
   * Optional: stores whose size can change from outside (an rbd image resized through another
   * gateway or the rbd tool) call `changed` after the new size is in sizeBytes, so the unit can
   * tell its initiators (CAPACITY DATA HAS CHANGED).
   */
  onCapacityChange?(changed: () => void): void;
  /** Deallocate (punch a hole); afterwards reads return zeros. */
  unmap(offset: number, length: number): Promise<void>;
  /**
   * Provisioning status at `offset`: whether it is mapped, and how many bytes from `offset` share
   * that status (bounded by the end of the store).
   */
  mapStatus(offset: number): Promise<{ mapped: boolean; length: number }>;
  /** Grow or shrink (run-time resize). */
  resize(sizeBytes: bigint): Promise<void>;
  close(): Promise<void>;
}

/** Identity of a logical unit (INQUIRY standard data, VPD 80h, 83h). */
export interface LuIdentity {
  vendor: string;      // 8 chars
  product: string;     // 16 chars
  revision: string;    // 4 chars
  serial: string;      // unit serial number
  /** NAA IEEE Registered Extended designator (16 bytes, NAA 6). */
  naa: Buffer;
  /** T10 vendor ID based designator's vendor-specific part. */
  t10Id: string;
}

/** A VPD page a device type offers (SPC-4 7.8): its page code and how it is built. */
export interface VpdPageDef {
  readonly code: number;
  build(lu: LuView, nexus: NexusView): Buffer;
}

/** One log parameter (SPC-4 7.3.2.2): PARAMETER CODE, the control byte and its value. */
export interface LogParameter { code: number; control: number; value: Buffer }

/**
 * A log page a device type adds to the SPC-4 ones (SSC-4 8.2: the sequential-access device and
 * TapeAlert pages of a tape drive): its code and its parameters' current values.
 */
export interface LogPageDef {
  readonly code: number;
  parameters(lu: LuView): LogParameter[];
}

/** Resolve an NAA designator (the 16 bytes after the designation descriptor header) to a unit. */
export type CopyTargetLookup = (naa: Uint8Array) => LuView | undefined;

/**
 * What a device handler sees of its logical unit: its medium and configuration, and the unit
 * state SAM-5 gives every logical unit (unit attentions, reservations, task set), so that the
 * core's own handlers (REQUEST SENSE, RESERVE, PERSISTENT RESERVE OUT) need nothing more.
 */
export interface LuView {
  readonly name: string;
  readonly type: PeripheralType;
  readonly config: DeviceConfig;
  readonly backstore: Backstore;
  readonly identity: LuIdentity;
  readonly blockSize: number;
  /** Capacity in logical blocks. */
  readonly blocks: bigint;
  /**
   * The same as a number: exact for every device below 2^53 blocks, which the command path
   * compares number LBAs with (sbc-io.ts checkLbaRange) rather than making BigInts.
   */
  readonly capacityBlocks: number;
  /** log2(physical / logical block size): 3 for 4096-physical over 512-logical. */
  readonly physicalExponent: number;
  /** The unit's mode pages (current values; MODE SENSE / MODE SELECT). */
  readonly modes: ModePages;
  /** Counters behind log page 19h, where the engine keeps them; without them the page is not offered. */
  readonly statistics?: LuStatistics;
  /** The device type's command table (REPORT SUPPORTED OPERATION CODES reads it). */
  readonly table: CdbTable;
  /** The VPD pages the device type offers besides 00h (INQUIRY with EVPD). */
  readonly vpdPages: readonly VpdPageDef[];
  /** The log pages the device type adds to the SPC-4 ones (LOG SENSE). */
  readonly logPages?: readonly LogPageDef[];
  /** Removable medium (INQUIRY RMB). */
  readonly removable: boolean;
  /** Medium removal prevented (PREVENT ALLOW MEDIUM REMOVAL) by any nexus. */
  preventRemoval: Set<number>;
  /** START STOP UNIT: the unit is stopped (NOT READY until started). */
  stopped: boolean;
  /** Whether a removable unit's medium is loaded (START STOP UNIT LOEJ ejects and loads it). */
  mediumPresent: boolean;
  /**
   * The tray of a unit that reports one (MMC-6 drives): open after an eject, closed after a load;
   * undefined for units without a tray, whose absent medium is plain MEDIUM NOT PRESENT.
   */
  trayOpen?: boolean;
  /** A SANITIZE is running: NOT READY, SANITIZE IN PROGRESS for most commands (SBC-4 4.11.2). */
  sanitizing: boolean;
  /** How much of the running SANITIZE is done, times 65536 (SPC-4 4.5.2.4.4 progress indication). */
  sanitizeProgress: number;
  /** Raise a unit attention for every I_T_L nexus of this unit except `exceptNexus`. */
  raiseUa(cond: import('./spec/asc').SenseCondition, exceptNexus?: number): void;
  /** Unit attentions per I_T nexus (SPC-4 5.14). */
  readonly ua: UaTable;
  /** SPC-2 RESERVE/RELEASE reservation. */
  readonly reservation: Spc2Reservation;
  /** SPC-4 persistent reservations. */
  readonly pr: PersistentReservations;
  readonly tasks: TaskSet;
  /** Its asymmetric access state per target port group (SPC-4 5.16). */
  readonly access: AsymmetricAccess;
  /** The units the copy manager reaches by NAA designator (EXTENDED COPY, SPC-4 5.17). */
  copyTargets?: CopyTargetLookup;
}

/** What a command sees of the I_T nexus that sent it. */
export interface NexusView {
  readonly id: number;
  /** Key of this I_T nexus in unit attention and reservation state. */
  readonly itKey: string;
  readonly initiatorName: string;
  /** Initiator port name: name plus ",i,0x<ISID>" for iSCSI (SPC-4 7.6.4.6). */
  readonly initiatorPort: string;
  readonly targetName: string;
  /** Target port name: target name plus ",t,0x<TPGT>" for iSCSI. */
  readonly targetPort: string;
  /** SPC-4 5.16.2.1: the target port's relative identifier and its target port group. */
  readonly relativeTargetPortId: number;
  readonly targetPortGroupId: number;
  /** The target port groups of the nexus's target with their ports (REPORT TARGET PORT GROUPS). */
  readonly portGroups: readonly TargetPortGroupView[];
  /** Every target port of the nexus's target, by relative target port identifier (VPD 88h). */
  readonly targetPorts: readonly TargetPortView[];
  /**
   * The identity (like `itKey`) of the I_T nexus between `initiatorPort` and the target port
   * `relativeTargetPortId` of this nexus's target, whether it is open or not; undefined when the
   * target has no such port (PERSISTENT RESERVE OUT: SPEC_I_PT, ALL_TG_PT, REGISTER AND MOVE).
   */
  nexusKeyAt(initiatorPort: string, relativeTargetPortId: number): string | undefined;
  /** LUNs this nexus sees, ascending. */
  luns(): number[];
}

/** A target port of a SCSI target device (SPC-4 3.1.121): its relative identifier and its name. */
export interface TargetPortView {
  readonly relativeTargetPortId: number;
  /** Target port name: target name plus ",t,0x<TPGT>" for iSCSI (SPC-4 7.6.4.6). */
  readonly name: string;
}

/** A target port group as REPORT TARGET PORT GROUPS describes it (SPC-4 6.37). */
export interface TargetPortGroupView {
  readonly id: number;
  readonly relativeTargetPortIds: readonly number[];
}

/** Everything the execute step of a command gets. */
export interface ExecContext<F = Decoded<FieldMap>> {
  readonly cdb: Uint8Array;
  readonly def: CdbDef;
  readonly f: F;
  readonly lu: LuView;
  readonly nexus: NexusView;
  /** LUN number as this nexus addresses it. */
  readonly lun: number;
  /** The mapping or the device is read-only (writes get WRITE PROTECTED). */
  readonly readOnly: boolean;
  /**
   * Data-Out, exactly `xferBytes` long for OUT commands — except rows with `truncatableDataOut`,
   * where it may be shorter: the bytes the initiator sent (FCP-4 9.4.2 a).
   */
  readonly dataOut?: Uint8Array;
  /** Transfer length in bytes computed from the CDB. */
  readonly xferBytes: number;
}

export type Exec<F = Decoded<FieldMap>> = (ctx: ExecContext<F>) => Outcome | Promise<Outcome>;

/** A row of a device type's dispatch table: a CDB definition and what executes it. */
export interface Binding { def: CdbDef; exec: Exec }

/** Ties a handler's context type to its row's decoded fields. */
export function bind<F extends FieldMap>(def: CdbDef<F>, exec: Exec<Decoded<F>>): Binding {
  return { def: def as unknown as CdbDef, exec: exec as unknown as Exec };
}

/**
 * A device type (SCST's dev handler personality): its peripheral type, its command table and the
 * execute step of each row. Built once per type and shared by every unit of that type.
 */
export interface DeviceType {
  readonly type: PeripheralType;
  readonly removable: boolean;
  /** The medium sits in a tray that opens and closes (MMC-6 loading mechanism): see LuView.trayOpen. */
  readonly tray?: boolean;
  /**
   * A drive whose medium comes and goes (a tape drive; a CD/DVD drive has its tray): with an empty
   * store it holds no medium and is NOT READY, MEDIUM NOT PRESENT. A unit without one (a disk,
   * removable or not, a medium changer) always has its medium.
   */
  readonly drive?: boolean;
  readonly table: CdbTable;
  readonly exec: ReadonlyMap<CdbDef, Exec>;
  readonly vpdPages: readonly VpdPageDef[];
  /** Log pages beside the SPC-4 ones (LOG SENSE). */
  readonly logPages?: readonly LogPageDef[];
  /**
   * What a LOGICAL UNIT RESET or TARGET RESET does to the device itself once the engine has
   * quiesced the unit's tasks (a pass-through device gets a device reset). Absent: nothing more.
   */
  readonly resetDevice?: (lu: LuView) => Promise<void>;
  /**
   * A vendor-specific opcode (SPC-4 4.2.5.1: groups 6 and 7, C0h..FFh) the table has no row for:
   * the row and execute step the device type makes for this one command from what the transport
   * says of it (its Data-Out, its expected length), or undefined for INVALID COMMAND OPERATION
   * CODE. Absent: every such opcode is refused.
   */
  readonly vendorCommand?: (lu: LuView, req: VendorRequest) => Binding | undefined;
}

/** What the transport tells of a command beyond its CDB: its direction and length (iSCSI's W flag and Expected Data Transfer Length). */
export interface VendorRequest {
  readonly cdb: Uint8Array;
  readonly expectedLength: number;
  /** Data-Out comes with the command (iSCSI W flag): present, or still in transfer. */
  readonly dataOut: boolean;
}

export function deviceType(type: PeripheralType, removable: boolean, bindings: Binding[], vpdPages: readonly VpdPageDef[]): DeviceType {
  const table = new CdbTable(bindings.map(b => b.def));
  return { type, removable, table, exec: new Map(bindings.map(b => [b.def, b.exec])), vpdPages };
}
