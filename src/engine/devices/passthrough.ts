import { coreBindings } from '../core-commands';
import { prBindings } from '../pr-commands';
import { spcBindings } from '../spc';
import { cdb as cdbRow, CdbDef, Dir, invalidField, invalidFieldOf, ReadyClass, ResvClass } from '../cdb/dsl';
import { CdbTable } from '../cdb/registry';
import { INQUIRY, MODE_SELECT_10, MODE_SELECT_6, REPORT_SUPPORTED_OPERATION_CODES, REPORT_SUPPORTED_TASK_MANAGEMENT_FUNCTIONS } from '../cdb/defs/spc';
import { TEST_UNIT_READY } from '../cdb/defs/core';
import { Op } from '../spec/opcodes';
import { conditionOf, SENSE } from '../spec/asc';
import { PeripheralType, SenseKey, Status } from '../spec/status';
import { check, deviceCheck, good, goodLeased, NexusError, Outcome } from '../result';
import { Lease, readBuffers } from '../read-buffers';
import { parseSense } from '../sense';
import { Backstore, Binding, DeviceType, Exec, ExecContext, LuView, VendorRequest } from '../types';
import { deviceTypes } from '../device-registry';
import { ModePages, SPC_MODE_PAGES } from '../mode-page-store';
import { targetPortDesignators } from '../vpd';
import { SPC4_VERSION, versionDescriptors } from '../inquiry';
import { isNativeError, NativeError, SgResult } from '../../native';
import { DRIVER_TIMEOUT, HostByte, isGone, SgBackstore } from '../backstores/sg';

/**
 * The pass-through device (SCST's pass-through dev handlers, DESIGN.md §4): a real SCSI device
 * shared one-to-many. Commands pass to the device unchanged, but only after the engine checked
 * them against the command table of the device's type and ran them through the pipeline like any
 * other: LUN masking, unit attentions, reservations and read-only mappings are the engine's, so
 * several initiators share one device as they would share a Nexus disk.
 *
 * What the engine keeps to itself (never passed down, where another initiator could not see it):
 * REPORT LUNS (the target's LUN map), REQUEST SENSE (the engine's unit attentions), RESERVE /
 * RELEASE and PERSISTENT RESERVE IN / OUT (the engine's reservations, enforced before a command
 * reaches the device), REPORT SUPPORTED OPERATION CODES and TASK MANAGEMENT FUNCTIONS (what the
 * engine lets through). What it adds to the device's answers: INQUIRY page 83h gets the target
 * port designators, page B0h a MAXIMUM TRANSFER LENGTH no larger than the host adapter takes.
 * What it takes from them: a unit attention the device reports is established for every other
 * I_T nexus of the unit too; a MODE SELECT by one initiator gives the others MODE PARAMETERS
 * CHANGED; a deferred error goes to the nexus that wrote last, not to whoever caught it.
 *
 * The command table of a unit follows the type its device reports: every row any registered
 * personality has for that peripheral type (the SBC-4 rows for a disk, MMC for a CD/DVD drive,
 * and the SSC and SMC rows for tapes and changers as soon as personalities register them), with
 * the SPC-4 rows every type has. A command without a row for the type is INVALID COMMAND
 * OPERATION CODE and one whose CDB breaks its row's usage mask is INVALID FIELD IN CDB, both
 * before anything reaches the device.
 */

/** SAM-5 5.3.1 status codes the device may return that end a command without sense. */
const CONDITION_MET = 0x04;

/** Rows the engine executes itself for a pass-through unit. */
const EMULATED: readonly Binding[] = [
  ...coreBindings.filter(b => b.def !== TEST_UNIT_READY),
  ...prBindings,
  ...spcBindings.filter(b => b.def === REPORT_SUPPORTED_OPERATION_CODES || b.def === REPORT_SUPPORTED_TASK_MANAGEMENT_FUNCTIONS),
];

function storeOf(lu: LuView): SgBackstore {
  if (!(lu.backstore instanceof SgBackstore)) throw new NexusError('ERR_TOPOLOGY', `device "${lu.name}" has no pass-through device (handler passthrough)`);
  return lu.backstore;
}

/** Host adapter, driver and device outcome → the engine's outcome (never GOOD for a failure). */
export function outcomeOf(r: SgResult | NativeError, ctx: ExecContext, data: Uint8Array | undefined): Outcome {
  if (isNativeError(r)) {
    // The node is gone: the unit is as good as unmapped until the device comes back.
    return check(isGone(r) ? SENSE.LUN_NOT_SUPPORTED : SENSE.LUN_COMMUNICATION_FAILURE);
  }
  if (r.hostStatus !== HostByte.DID_OK) {
    if (isGone(r)) return check(SENSE.LUN_NOT_SUPPORTED);
    // The command never finished at the device, or its host adapter lost it: ABORTED COMMAND, so
    // the initiator retries it, instead of a GOOD that moved no data.
    return check(r.hostStatus === HostByte.DID_TIME_OUT ? SENSE.LUN_COMMUNICATION_TIME_OUT : SENSE.LUN_COMMUNICATION_FAILURE);
  }
  if ((r.driverStatus & 0x0f) === DRIVER_TIMEOUT) return check(SENSE.LUN_COMMUNICATION_TIME_OUT);
  if (r.status === Status.GOOD || r.status === CONDITION_MET) {
    // Linux sg reports driver errors with a GOOD status byte only when the command never ran.
    if ((r.driverStatus & 0x0f) !== 0) return check(SENSE.LUN_COMMUNICATION_FAILURE);
    const moved = data ? data.subarray(0, Math.max(0, data.length - Math.max(0, r.residual))) : undefined;
    return r.status === Status.GOOD ? good(moved) : { status: r.status, data: moved };
  }
  if (r.status === Status.CHECK_CONDITION) {
    const s = parseSense(r.sense);
    if (!s) return check(SENSE.LUN_COMMUNICATION_FAILURE);
    const cond = conditionOf(s.key, s.asc, s.ascq);
    // SAM-5 5.14 / SPC-4 5.14: the device has one unit attention for all of its initiators, and
    // reports it once, to whoever asks first. The engine establishes it for every other I_T
    // nexus of the unit; the nexus that caught it gets it now, with the device's own sense.
    if (s.key === SenseKey.UNIT_ATTENTION) ctx.lu.raiseUa(cond, ctx.nexus.id);
    return deviceCheck(cond, r.sense);
  }
  // BUSY, RESERVATION CONFLICT (another host of the device), TASK SET FULL, ...: as the device said.
  return { status: r.status as Status };
}

/**
 * Deferred errors (SPC-4 4.5.5): a device that completed a write before the medium took it (a
 * tape's or a cached disk's write-behind) reports a later failure of it, with sense response
 * code 71h or 73h, to whichever command comes next, and "the command for the terminated task
 * shall not have been processed". The device sees one initiator, the host; the engine sees
 * many. The error belongs to the I_T nexus whose command wrote the medium last: when another
 * nexus's command catches it, the engine keeps it for the writer (reported to its next command
 * passed to the device, as SPC-4 4.5.5 b) asks) and runs the command that caught it once more,
 * since the device did not process it. A logical unit reset drops what is kept.
 */
interface DeferredErrors {
  /** The nexus that sent the last command with the table's writes-medium flag. */
  lastWriter?: number;
  /** Deferred sense owed to a nexus, as the device reported it. */
  readonly owed: Map<number, Uint8Array>;
}
const deferredOf = new WeakMap<LuView, DeferredErrors>();
function deferred(lu: LuView): DeferredErrors {
  let d = deferredOf.get(lu);
  if (!d) deferredOf.set(lu, d = { owed: new Map() });
  return d;
}

/** SPC-4 4.5.1 RESPONSE CODE 71h (fixed) or 73h (descriptor): the sense describes a deferred error. */
function isDeferredSense(sense: Uint8Array): boolean {
  const code = sense.length > 0 ? sense[0] & 0x7f : 0;
  return code === 0x71 || code === 0x73;
}

/** A command passed to the device, after any deferred error owed to its nexus (SPC-4 4.5.5). */
function passCommand(ctx: ExecContext): Promise<Outcome> {
  const d = deferredOf.get(ctx.lu);
  const owed = d?.owed.get(ctx.nexus.id);
  if (d && owed) {
    d.owed.delete(ctx.nexus.id);
    const s = parseSense(owed)!;
    return Promise.resolve(deviceCheck(conditionOf(s.key, s.asc, s.ascq), owed));
  }
  return passThrough(ctx);
}

/** The fields that set a command's transfer length, by the names the CDB rows give them. */
const TRANSFER_LENGTH_FIELDS = ['blocks', 'transferLength', 'parameterListLength', 'allocationLength'];

/** A command passed to the device as it came, its data to and from the command's buffers. */
async function passThrough(ctx: ExecContext, cdb: Uint8Array = ctx.cdb, inLength = ctx.xferBytes): Promise<Outcome> {
  const store = storeOf(ctx.lu);
  if (store.takeReturn()) {
    // The device went away and came back: like a power on for every I_T nexus (SPC-4 5.14).
    ctx.lu.raiseUa(SENSE.POWER_ON_RESET, ctx.nexus.id);
    return check(SENSE.POWER_ON_RESET);
  }
  const dir = ctx.def.dir;
  const xfer = ctx.xferBytes;
  // SBC-4 6.6.4: a transfer above the MAXIMUM TRANSFER LENGTH the unit reports (Block Limits, the
  // host adapter's max_hw_sectors_kb) is refused, pointing at the CDB's length field; passed down it
  // would fail at the host adapter instead. Whatever MaxBurstLength the iSCSI session negotiated,
  // a Data-Out this large is dropped here, never written to the device.
  if (xfer > store.maxTransferBytes) {
    const at = TRANSFER_LENGTH_FIELDS.find(n => ctx.def.fields[n] !== undefined);
    return at ? invalidFieldOf(ctx.def, at) : check(SENSE.INVALID_FIELD_IN_CDB);
  }
  let data: Uint8Array | undefined;
  let lease: Lease | undefined;
  let sgDir: 'none' | 'in' | 'out' = 'none';
  if (dir === Dir.IN && inLength > 0) {
    // Data-In in a reused buffer (read-buffers.ts; a pool buffer on an engine thread), given back
    // once the transport sent it: not a fresh zeroed allocation per command (for 1 MiB reads a new
    // mapping each time). Its stale bytes never leave: only what the device moved is sent.
    lease = readBuffers.lease(inLength);
    data = lease.data;
    sgDir = 'in';
  } else if (dir === Dir.OUT && xfer > 0) {
    // A truncated Data-Out (FCP-4 9.4.2 a) cannot be completed with the device's own bytes.
    if (!ctx.dataOut || ctx.dataOut.length < xfer) return check(SENSE.INVALID_FIELD_IN_COMMAND_INFORMATION_UNIT);
    data = ctx.dataOut;
    sgDir = 'out';
  } else if (dir === Dir.BIDI) {
    return check(SENSE.INVALID_COMMAND_OPERATION_CODE);
  }
  const d = deferred(ctx.lu);
  const writer = d.lastWriter;
  if (ctx.def.writes) d.lastWriter = ctx.nexus.id;
  const req = { cdb, dir: sgDir, data, timeoutMs: store.timeoutMs };
  let r = await store.execute(req);
  if (!isNativeError(r) && r.status === Status.CHECK_CONDITION && isDeferredSense(r.sense) &&
      writer !== undefined && writer !== ctx.nexus.id) {
    d.owed.set(writer, Uint8Array.from(r.sense));
    r = await store.execute(req);
  }
  const out = outcomeOf(r, ctx, sgDir === 'in' ? data : undefined);
  // A failed read drops its lease: the buffer is simply collected.
  return lease && out.data && out.status === Status.GOOD ? goodLeased(out.data, lease.release) : out;
}

/** VPD pages the engine adjusts; their full length is asked of the device, the pipeline trims. */
const VPD_DEVICE_IDENTIFICATION = 0x83;
const VPD_BLOCK_LIMITS = 0xb0;
const VPD_ASK_LENGTH = 1024;

/**
 * Standard INQUIRY data (SPC-4 6.6.2) of a pass-through unit: the device's, except where the
 * device describes what Nexus does in front of it. The device server the initiator talks to is
 * half the engine's (REPORT LUNS, reservations, unit attentions, task management, the command
 * table that admits each CDB), half the device's (everything passed down), so:
 * - VERSION: the lower of the device's claim and SPC-4 (06h), what the engine's part conforms to.
 *   A device claiming SPC-5 (scsi_debug's 07h) is reported as SPC-4, since the commands the
 *   engine answers or refuses are SPC-4's.
 * - NORMACA 0 (the engine's task set has no ACA), HISUP 1 (LUNs are the target's map),
 *   RESPONSE DATA FORMAT 2.
 * - TPGS 00b and MULTIP 0: the device's describe its ports on this host's adapter; the target's
 *   ports are the engine's, with no asymmetric access (REPORT TARGET PORT GROUPS is not supported).
 * - CMDQUE 1: the engine's task set queues and orders commands whatever the device does.
 * - VERSION DESCRIPTORs: the engine's for the unit's type (SAM-5, iSCSI, SPC-4 and the command set
 *   of the table that admits the CDBs, SBC-3 for a disk), as a Nexus unit of the type reports.
 * Vendor, product, revision, RMB, the peripheral type and the rest stay the device's.
 */
export function targetStandardInquiry(data: Uint8Array, lu: LuView): void {
  if (data.length > 2) data[2] = Math.min(data[2], SPC4_VERSION); // VERSION
  if (data.length > 3) data[3] = 0x10 | 0x02; // NORMACA 0, HISUP 1, RESPONSE DATA FORMAT 2
  if (data.length > 5) data[5] &= ~0x30; // TPGS 00b
  if (data.length > 6) data[6] &= ~0x10; // MULTIP 0
  if (data.length > 7) data[7] |= 0x02; // CMDQUE 1
  if (data.length >= 74) {
    const d = versionDescriptors(lu);
    for (let i = 0; i < 8; i++) {
      const v = d[i] ?? 0;
      data[58 + 2 * i] = v >> 8; data[59 + 2 * i] = v & 0xff;
    }
  }
}

/**
 * INQUIRY: the device's answer, its standard data made the target's (targetStandardInquiry),
 * page 83h's target port designators made the engine's (SPC-4 7.8.6: the device's own describe
 * its port on this host's adapter, not the one the initiator came in on) and page B0h's MAXIMUM
 * TRANSFER LENGTH cut to what the host takes.
 */
async function passInquiry(ctx: ExecContext<{ evpd: boolean; pageCode: number; allocationLength: number }>): Promise<Outcome> {
  const { evpd, pageCode } = ctx.f;
  // SPC-4 6.6.1: EVPD zero with a non-zero PAGE CODE is INVALID FIELD IN CDB, whatever the device
  // would make of it.
  if (!evpd && pageCode !== 0) return invalidField(INQUIRY.fields.pageCode);
  if (!evpd) {
    const out = await passThrough(ctx);
    if (out.status === Status.GOOD && out.data) targetStandardInquiry(out.data, ctx.lu);
    return out;
  }
  if (pageCode !== VPD_DEVICE_IDENTIFICATION && pageCode !== VPD_BLOCK_LIMITS) return passThrough(ctx);
  const cdb = Uint8Array.from(ctx.cdb);
  cdb[3] = VPD_ASK_LENGTH >> 8; cdb[4] = VPD_ASK_LENGTH & 0xff; // ALLOCATION LENGTH
  const out = await passThrough(ctx, cdb, VPD_ASK_LENGTH);
  if (out.status !== Status.GOOD || !out.data || out.data.length < 4) return out;
  const page = Buffer.from(out.data);
  const length = Math.min(page.readUInt16BE(2), page.length - 4);
  if (pageCode === VPD_BLOCK_LIMITS) {
    if (page.length >= 16) {
      const limit = Math.floor(storeOf(ctx.lu).maxTransferBytes / ctx.lu.blockSize);
      // SBC-4 6.6.4: bytes 8..11 MAXIMUM TRANSFER LENGTH, 12..15 OPTIMAL TRANSFER LENGTH (0 = none).
      for (const at of [8, 12]) {
        const v = page.readUInt32BE(at);
        if (v === 0 ? at === 8 : v > limit) page.writeUInt32BE(limit, at);
      }
    }
    return good(page);
  }
  const kept: Buffer[] = [];
  for (let i = 4; i + 4 <= 4 + length;) {
    const len = page[i + 3];
    const d = page.subarray(i, i + 4 + len);
    // byte 1 bits 5..4 ASSOCIATION: 01b is the target port.
    if (((page[i + 1] >> 4) & 0x03) !== 0x01) kept.push(d);
    i += 4 + len;
  }
  const body = Buffer.concat([...kept, targetPortDesignators(ctx.nexus)]);
  const h = Buffer.from(page.subarray(0, 4));
  h.writeUInt16BE(body.length, 2); // PAGE LENGTH
  return good(Buffer.concat([h, body]));
}

/** MODE SELECT: the device's parameters changed for every other initiator (SPC-4 5.14, 2Ah/01h). */
async function passModeSelect(ctx: ExecContext): Promise<Outcome> {
  const out = await passCommand(ctx);
  if (out.status === Status.GOOD) ctx.lu.raiseUa(SENSE.MODE_PARAMETERS_CHANGED, ctx.nexus.id);
  return out;
}

/**
 * LOGICAL UNIT RESET and TARGET RESET: the engine has quiesced the unit's tasks (the sg driver
 * cannot abort a command at the device, so every affected one ran to its end or its timeout);
 * then the device itself is reset. The unit attention the reset leaves at the device is taken
 * here, since the engine establishes its own for every I_T nexus.
 */
async function resetDevice(lu: LuView): Promise<void> {
  const store = storeOf(lu);
  deferredOf.delete(lu);
  await store.reset('device');
  for (let i = 0; i < 4; i++) {
    const r = await store.execute({ cdb: new Uint8Array(6), dir: 'none', timeoutMs: store.timeoutMs });
    if (isNativeError(r) || r.status !== Status.CHECK_CONDITION || parseSense(r.sense)?.key !== SenseKey.UNIT_ATTENTION) return;
  }
}

/**
 * A vendor-specific opcode (C0h..FFh, SPC-4 4.2.5.1) with no row for the type, on a device whose
 * configuration allows them (`allowVendorCommands`): its row is made for this one command. The
 * standard cannot say what such a CDB means, so the transport says it: the direction from the
 * command's Data-Out (iSCSI's W flag; R, or neither with a length, is Data-In) and the length from
 * its Expected Data Transfer Length (RFC 7143 11.3.4); the CDB goes down as it came, every byte
 * (the group gives no length). What the engine cannot know it assumes at its strictest: the
 * command conflicts with every reservation of another nexus and may write the medium, so a
 * read-only mapping refuses it; the device alone decides its readiness.
 */
function vendorCommand(lu: LuView, req: VendorRequest): Binding | undefined {
  if (lu.config.allowVendorCommands !== true || !(lu.backstore instanceof SgBackstore)) return undefined;
  const op = req.cdb[0];
  const length = req.expectedLength;
  const dir = length === 0 ? Dir.NONE : req.dataOut ? Dir.OUT : Dir.IN;
  const def = cdbRow({
    op: op as Op, name: `VENDOR SPECIFIC ${op.toString(16).toUpperCase().padStart(2, '0')}h`, size: req.cdb.length, dir,
    types: 1 << lu.type, usage: [op, ...new Array<number>(req.cdb.length - 1).fill(0xff)], fields: {},
    xfer: () => length, resv: ResvClass.CONFLICTS, ready: ReadyClass.NO_MEDIUM, writes: true,
  });
  return { def, exec: passCommand };
}

const SPECIAL = new Map<CdbDef, Exec>([
  [INQUIRY as unknown as CdbDef, passInquiry as unknown as Exec],
  [MODE_SELECT_6 as unknown as CdbDef, passModeSelect],
  [MODE_SELECT_10 as unknown as CdbDef, passModeSelect],
]);

/** The rows every registered personality has for a peripheral device type, one per opcode and service action. */
function rowsOfType(type: number): CdbDef[] {
  const bit = 1 << type;
  const seen = new Set<string>();
  const rows: CdbDef[] = [];
  for (const name of deviceTypes.names()) {
    if (name === PASSTHROUGH) continue;
    for (const def of deviceTypes.get(name).table.all()) {
      const key = `${def.op}/${def.sa ?? ''}`;
      if ((def.types & bit) === 0 || seen.has(key)) continue;
      seen.add(key);
      rows.push(def);
    }
  }
  return rows;
}

const byType = new Map<number, DeviceType>();
/** How many personalities the cached tables were made from: one registered later remakes them. */
let madeFrom = 0;

/** The device type of a pass-through unit whose device reported peripheral type `type`. */
export function passthroughDeviceType(type: number, removable: boolean): DeviceType {
  if (deviceTypes.names().length !== madeFrom) {
    byType.clear();
    madeFrom = deviceTypes.names().length;
  }
  const key = type | (removable ? 0x100 : 0);
  let dt = byType.get(key);
  if (dt) return dt;
  const emulated = new Map(EMULATED.map(b => [b.def, b.exec]));
  const rows = [...EMULATED.map(b => b.def), ...rowsOfType(type).filter(d => !emulated.has(d) && !EMULATED.some(b => b.def.op === d.op && b.def.sa === d.sa))];
  const exec = new Map<CdbDef, Exec>(rows.map(d => [d, emulated.get(d) ?? SPECIAL.get(d) ?? passCommand]));
  dt = { type: type as PeripheralType, removable, table: new CdbTable(rows), exec, vpdPages: [], resetDevice, vendorCommand };
  byType.set(key, dt);
  return dt;
}

const PASSTHROUGH = 'passthrough';

deviceTypes.register({
  name: PASSTHROUGH,
  // The personality's own type before a device says otherwise; each unit takes its device's.
  peripheralType: PeripheralType.DISK,
  // Sizing a CDB to an unmapped LUN: the disk's rows are as good as any.
  get table(): CdbTable { return passthroughDeviceType(PeripheralType.DISK, false).table; },
  // A unit homed on another engine thread is a placeholder here (a null store, never executed):
  // it answers with the disk's rows; the device's own type is known only where it is open.
  forUnit: (_cfg, store: Backstore) => store instanceof SgBackstore
    ? passthroughDeviceType(store.peripheralType, store.probe.removable)
    : passthroughDeviceType(PeripheralType.DISK, false),
  modePages: (store: Backstore) => new ModePages({ pages: SPC_MODE_PAGES, writeBack: store.writeBack }),
});
