/**
 * Topology file → engine Topology. Every problem in the file is reported at once, each with the
 * JSON Pointer (RFC 6901) of the value at fault and a sentence a person can act on:
 *
 *   /targets/0/luns/1/device: device "disk9" is not defined
 *
 * Two passes over the same document: the JSON Schema for shape, then semantic checks for what a
 * schema cannot say (references, duplicates, sizes against block sizes, CHAP rules, portals). The
 * semantic pass is written against `unknown` and skips values of the wrong type, so a file with a
 * shape error still gets all of its other errors reported. A Topology is returned only when there
 * are no errors at all.
 */

import { readFileSync, statSync } from 'node:fs';
import * as nodePath from 'node:path';
import type {
  AccessStateName, AluaConfig, AuthConfig, DeviceConfig, FabricDriver, FabricTargetConfig, GroupConfig, HandlerName,
  LibraryConfig, LunMapping, PortGroupConfig, RbdConfig, TargetConfig, Topology, TpgsMode,
} from '../../engine/topology';
import { portGroupsOf } from '../../engine/topology';
import {
  CHAP_SECRET_MAX_BYTES, CHAP_SECRET_MIN_BYTES, DEFAULT_BLOCK_SIZE, DEFAULT_BUFFER_POOL_BYTES, DEFAULT_ISCSI,
  DEFAULT_PORTAL, DEFAULT_STATE_DIR, defaultEngineThreads,
} from './defaults';
import { deviceTypes } from '../../engine/devices';
import { readCartridgeLabel } from '../../engine/backstores/tape-cartridge';
import { resolveSgNode } from '../../engine/backstores/sg-node';
import * as native from '../../native';
import { checkIscsiName } from './iscsi-name';
import { FABRICS, isFabricDriver } from '../../../kernel-shim/fabrics';
import { ISCSI_SETTINGS, IscsiSettings, isSettingValue } from '../../transports/iscsi/settings';
import { findJsonSyntaxError } from './json-syntax';
import { parsePortal } from './portal';
import { schemaErrors } from './schema-errors';
import { tryParseSize } from './size';

export interface ConfigError {
  /** JSON Pointer to the offending value ("" is the whole document). */
  path: string;
  message: string;
}

export type TopologyResult = { ok: true; topology: Topology } | { ok: false; errors: ConfigError[] };

export interface NormalizeOptions {
  /** Directory that relative paths in the document resolve against (the file's directory). */
  baseDir?: string;
  /** Directory the default state directory resolves against; process.cwd() when absent. */
  cwd?: string;
  /**
   * Override of the document's stateDir (the CLI's --state-dir), resolved against `cwd`.
   * `null` means "no state directory": fileio devices must then name their path.
   */
  stateDir?: string | null;
}

/** RFC 6901: "~" is written "~0" and "/" is written "~1" inside a reference token. */
export function jsonPointer(...tokens: Array<string | number>): string {
  return tokens.map((t) => '/' + String(t).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);
const int = (v: unknown): number | undefined => (Number.isInteger(v) ? (v as number) : undefined);

const HANDLERS: readonly HandlerName[] = ['fileio', 'blockio', 'nullio', 'ram', 'vcdrom', 'vtape', 'changer', 'passthrough', 'rbd'];

/** The device type of a tape drive and its one handler (SSC-4 over a cartridge file). */
const TAPE_TYPE = 'tape';

/** The device type of the passthrough handler: whatever the device reports, shared one-to-many. */
const PASSTHROUGH_TYPE = 'passthrough';

/** The device type of a CD/DVD-ROM drive and its one handler (MMC-6 over an ISO image). */
const CDROM_TYPE = 'cdrom';
/** MMC-6: CD-ROM mode 1 and DVD sectors hold 2048 user bytes. */
const CDROM_BLOCK_SIZE = 2048;

/** The device type of a medium changer and its one handler (SMC-3 over a library state file). */
const CHANGER_TYPE = 'changer';
/** The keys of a changer's library: meaningless on any other device. */
const LIBRARY_KEYS = ['drives', 'slots', 'mailSlots', 'cartridges', 'state'] as const;
/** The settings of an rbd device (handler `rbd`): its image and how its cluster is reached. */
const RBD_KEYS = ['pool', 'image', 'cephConf', 'cephUser', 'keyring'] as const;

/** Accumulates errors and remembers which pointers already have one, to avoid saying a thing twice. */
class Report {
  readonly errors: ConfigError[] = [];
  add(path: string, message: string): void {
    if (!this.errors.some((e) => e.path === path && e.message === message)) this.errors.push({ path, message });
  }
  has(path: string): boolean {
    return this.errors.some((e) => e.path === path);
  }
}

/** Validate and normalize an already-parsed topology document. */
export function normalizeTopology(json: unknown, opts: NormalizeOptions = {}): TopologyResult {
  const report = new Report();
  for (const e of schemaErrors(json)) report.add(e.path, e.message);
  // Secrets by reference are read into a copy: the caller's document keeps its references.
  const topology = checkAndBuild(isObj(json) && JSON.stringify(json.targets ?? null).includes('"secretFile"') ? structuredClone(json) : json, opts, report);
  if (report.errors.length > 0 || topology === undefined) return { ok: false, errors: sortByPath(report.errors) };
  return { ok: true, topology };
}

/** Errors in path order (array indices numerically), so a file's problems read top to bottom. */
function sortByPath(errors: ConfigError[]): ConfigError[] {
  const key = (p: string): string[] => p.split('/').slice(1);
  return [...errors].sort((a, b) => {
    const x = key(a.path);
    const y = key(b.path);
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      if (x[i] === y[i]) continue;
      const nx = /^\d+$/.test(x[i]) ? Number(x[i]) : NaN;
      const ny = /^\d+$/.test(y[i]) ? Number(y[i]) : NaN;
      if (!Number.isNaN(nx) && !Number.isNaN(ny)) return nx - ny;
      return x[i] < y[i] ? -1 : 1;
    }
    return x.length - y.length;
  });
}

/** Read, parse, validate and normalize a topology file. Relative paths resolve against its directory. */
export function loadTopologyFile(file: string, opts: Omit<NormalizeOptions, 'baseDir'> = {}): TopologyResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { ok: false, errors: [{ path: '', message: `cannot read ${file}: ${err.code ?? err.message}` }] };
  }
  const parsed = parseJsonText(text);
  if (!parsed.ok) return parsed;
  return normalizeTopology(parsed.value, { ...opts, baseDir: nodePath.dirname(nodePath.resolve(file)) });
}

/** JSON.parse with a line and column on failure. A UTF-8 byte order mark is tolerated. */
export function parseJsonText(text: string): { ok: true; value: unknown } | { ok: false; errors: ConfigError[] } {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return { ok: true, value: JSON.parse(body) as unknown };
  } catch (e) {
    const where = findJsonSyntaxError(body);
    const message = where !== undefined
      ? `invalid JSON at line ${where.line}, column ${where.column}: ${where.message}`
      : `invalid JSON: ${(e as Error).message}`;
    return { ok: false, errors: [{ path: '', message }] };
  }
}

function checkAndBuild(json: unknown, opts: NormalizeOptions, report: Report): Topology | undefined {
  if (!isObj(json)) return undefined; // the schema already said "must be an object"
  const cwd = opts.cwd ?? process.cwd();
  const baseDir = opts.baseDir ?? cwd;

  // State directory: an override wins, then the document (relative to the file), then ./nexus-state.
  let stateDir: string | undefined;
  if (opts.stateDir === null) stateDir = undefined;
  else if (opts.stateDir !== undefined) stateDir = nodePath.resolve(cwd, opts.stateDir);
  else if (str(json.stateDir) !== undefined) stateDir = nodePath.resolve(baseDir, json.stateDir as string);
  else stateDir = nodePath.resolve(cwd, DEFAULT_STATE_DIR);

  if (stateDir !== undefined) {
    const where = opts.stateDir !== undefined ? '' : '/stateDir';
    const refused = kernelFilesystemOf(stateDir);
    if (refused !== undefined) {
      report.add(where, `${where === '' ? '--state-dir ' : ''}${stateDir} is under ${refused}, a kernel filesystem that cannot hold storage`);
    }
  }

  resolveSecretFiles(json, baseDir, report);
  const engine = checkEngine(json.engine, report);
  const iscsi = checkIscsi(json.iscsi, report);
  // A --state-dir override moves relative device paths with it: the file's own directory is
  // where they were meant to go only when the file also says where the state lives.
  const pathBase = opts.stateDir !== undefined && stateDir !== undefined ? stateDir : baseDir;
  const devices = checkDevices(json.devices, { baseDir: pathBase, stateDir }, report);
  checkLibraries(json.devices, devices, { baseDir: pathBase, stateDir }, report);
  // Names as written, so a device with some other mistake does not also break every reference to it.
  const deviceNames = new Set(arr(json.devices).filter(isObj).map((d) => str(d.name)).filter((n): n is string => n !== undefined));
  const targets = checkTargets(json.targets, deviceNames, report);
  checkSecretReuse(json.targets, report);
  checkAluaGroups(json.devices, devices, targets, report);
  const gateway = checkGateways(json, devices, targets, report);
  const daemon = checkDaemonEndpoints(json, baseDir, report);

  return { stateDir: stateDir ?? '', engine, iscsi, devices, targets, ...daemon, ...(gateway === undefined ? {} : { gateway }) };
}

/** The control socket path (relative to the file) and the metrics portal. */
function checkDaemonEndpoints(json: Obj, baseDir: string, report: Report): Pick<Topology, 'control' | 'metrics'> {
  const out: Pick<Topology, 'control' | 'metrics'> = {};
  const control = isObj(json.control) ? json.control : undefined;
  const socket = str(control?.socket);
  if (socket !== undefined) out.control = { socket: nodePath.resolve(baseDir, socket) };
  const listen = str(isObj(json.metrics) ? json.metrics.listen : undefined);
  if (listen !== undefined) {
    const p = parsePortal(listen);
    if (!p.ok) report.add('/metrics/listen', p.message);
    else out.metrics = { listen: p.portal.text };
  }
  return out;
}

/**
 * procfs and sysfs hold kernel objects, not files: creating a directory there fails in ways a
 * recursive mkdir never leaves (it loops), and a LUN there would be a kernel knob. Refused by name.
 */
const KERNEL_FILESYSTEMS = ['/proc', '/sys'] as const;

function kernelFilesystemOf(absolute: string): string | undefined {
  return KERNEL_FILESYSTEMS.find((k) => absolute === k || absolute.startsWith(k + '/'));
}

function checkEngine(v: unknown, report: Report): Topology['engine'] {
  const e = isObj(v) ? v : {};
  let bufferPoolBytes = DEFAULT_BUFFER_POOL_BYTES;
  const pool = e.bufferPool;
  if (typeof pool === 'string' || typeof pool === 'number') {
    const r = tryParseSize(pool);
    if (!r.ok) report.add('/engine/bufferPool', r.message);
    else if (r.bytes === 0n) report.add('/engine/bufferPool', 'the buffer pool must not be empty');
    else if (r.bytes > BigInt(Number.MAX_SAFE_INTEGER)) report.add('/engine/bufferPool', 'the buffer pool is larger than this process can address');
    else bufferPoolBytes = Number(r.bytes);
  }
  return { threads: int(e.threads) ?? defaultEngineThreads(), bufferPoolBytes, ...(e.statistics === false ? { statistics: false } : {}) };
}

function checkIscsi(v: unknown, report: Report): IscsiSettings {
  const s = isObj(v) ? v : {};
  const out: Record<string, unknown> = {};
  // Each setting of the key table: the file's value when well-typed (the schema reported the
  // rest), else the default.
  for (const spec of ISCSI_SETTINGS) {
    const given = s[spec.name];
    const value = isSettingValue(spec, given) ? given : DEFAULT_ISCSI[spec.name];
    out[spec.name] = Array.isArray(value) ? [...(value as unknown[])] : value;
  }
  const settings = out as IscsiSettings;
  if (s.firstBurstLength === undefined) {
    // A smaller MaxBurstLength pulls the default FirstBurstLength down with it.
    settings.firstBurstLength = Math.min(settings.firstBurstLength, settings.maxBurstLength);
  } else if (Number.isInteger(s.firstBurstLength) && settings.firstBurstLength > settings.maxBurstLength) {
    // RFC 7143 13.14: FirstBurstLength MUST NOT exceed MaxBurstLength.
    report.add('/iscsi/firstBurstLength', `firstBurstLength ${settings.firstBurstLength} exceeds maxBurstLength ${settings.maxBurstLength} (RFC 7143 13.14)`);
  }
  return settings;
}

/**
 * A vcdrom device (a CD/DVD-ROM drive): read-only, removable, 2048-byte blocks and the size of
 * its image, so the settings that say otherwise are errors at their own path.
 */
function checkCdrom(raw: Obj, at: (...t: Array<string | number>) => string, report: Report): void {
  const deviceType = str(raw.deviceType);
  if (deviceType !== undefined && deviceType !== CDROM_TYPE) {
    report.add(at('deviceType'), `a vcdrom device is a CD/DVD-ROM drive: its deviceType is "${CDROM_TYPE}"`);
  }
  if (raw.size !== undefined) report.add(at('size'), 'a vcdrom device takes its size from its ISO image');
  if (raw.blockSize !== undefined && raw.blockSize !== CDROM_BLOCK_SIZE) {
    report.add(at('blockSize'), `CD/DVD media have ${CDROM_BLOCK_SIZE}-byte blocks`);
  }
  if (raw.physicalBlockSize !== undefined) report.add(at('physicalBlockSize'), 'CD/DVD media have no physical block size to set');
  if (raw.readOnly === false) report.add(at('readOnly'), 'a CD/DVD-ROM medium is read-only');
  if (raw.removable === false) report.add(at('removable'), 'a CD/DVD-ROM medium is removable');
  if (raw.thin === true) report.add(at('thin'), 'a CD/DVD-ROM medium is not thin provisioned');
}

/**
 * A changer device: a library, not a medium of blocks, so the block settings are errors at their
 * own path; `slots` is required.
 */
function checkChangerSettings(raw: Obj, at: (...t: Array<string | number>) => string, report: Report): void {
  const deviceType = str(raw.deviceType);
  if (deviceType !== undefined && deviceType !== CHANGER_TYPE) {
    report.add(at('deviceType'), `a changer device is a medium changer: its deviceType is "${CHANGER_TYPE}"`);
  }
  for (const k of ['path', 'size', 'blockSize', 'physicalBlockSize', 'writeCache', 'thin', 'readOnly', 'removable'] as const) {
    if (raw[k] !== undefined) report.add(at(k), `a medium changer has no ${k}: it moves the cartridges of its library (its state file is "state")`);
  }
  if (raw.slots === undefined) report.add(at('slots'), 'a medium changer needs its number of storage slots');
}

/**
 * The libraries of the changers: each drive a removable-medium device of this topology that no
 * other changer also loads, each cartridge in a storage slot of its own with a bar code no other
 * cartridge of the library has, and a state file (by default `<stateDir>/<name>.library.json`).
 */
function checkLibraries(v: unknown, devices: DeviceConfig[], dirs: { baseDir: string; stateDir?: string }, report: Report): void {
  const byName = new Map(devices.map((d) => [d.name, d]));
  const loadedBy = new Map<string, string>();
  arr(v).forEach((raw, i) => {
    if (!isObj(raw) || raw.handler !== 'changer') return;
    const at = (...t: Array<string | number>): string => jsonPointer('devices', i, ...t);
    const name = str(raw.name);
    const drives: string[] = [];
    arr(raw.drives).forEach((d, k) => {
      if (typeof d !== 'string') return;
      const drive = byName.get(d);
      if (d === name) report.add(at('drives', k), 'a changer cannot load itself');
      else if (drive === undefined) report.add(at('drives', k), `device "${d}" is not defined`);
      else if (!deviceTypes.of(drive).changeMedium) {
        report.add(at('drives', k), `device "${d}" (${deviceTypes.of(drive).name}) has no removable medium to load`);
      } else if (drives.includes(d)) report.add(at('drives', k), `drive "${d}" is listed twice`);
      else if (loadedBy.has(d)) report.add(at('drives', k), `drive "${d}" is already in the library of "${loadedBy.get(d)}"`);
      else if (name !== undefined) { drives.push(d); loadedBy.set(d, name); }
    });
    const slots = int(raw.slots) ?? 0;
    const cartridges: LibraryConfig['cartridges'] = [];
    const slotOf = new Map<number, number>();
    const barcodeOf = new Map<string, number>();
    arr(raw.cartridges).forEach((c, k) => {
      if (!isObj(c)) return;
      const slot = int(c.slot);
      const barcode = str(c.barcode);
      const path = str(c.path);
      let ok = slot !== undefined && barcode !== undefined && path !== undefined;
      if (slot !== undefined && slot > slots) { report.add(at('cartridges', k, 'slot'), `slot ${slot} is beyond the library's ${slots} slots`); ok = false; }
      else if (slot !== undefined && slotOf.has(slot)) {
        report.add(at('cartridges', k, 'slot'), `slot ${slot} already holds ${jsonPointer('devices', i, 'cartridges', slotOf.get(slot)!)}`); ok = false;
      } else if (slot !== undefined) slotOf.set(slot, k);
      if (barcode !== undefined && barcodeOf.has(barcode)) {
        report.add(at('cartridges', k, 'barcode'), `bar code "${barcode}" is already on ${jsonPointer('devices', i, 'cartridges', barcodeOf.get(barcode)!)}`); ok = false;
      } else if (barcode !== undefined) barcodeOf.set(barcode, k);
      if (ok) cartridges.push({ barcode: barcode!, path: nodePath.resolve(dirs.baseDir, path!), slot: slot! });
    });
    let statePath: string | undefined;
    const state = str(raw.state);
    if (state !== undefined) statePath = nodePath.resolve(dirs.baseDir, state);
    else if (dirs.stateDir !== undefined && name !== undefined) statePath = nodePath.join(dirs.stateDir, `${name}.library.json`);
    else report.add(at('state'), 'a medium changer needs a state file and there is no stateDir to put it in');
    const dev = name !== undefined ? byName.get(name) : undefined;
    if (dev !== undefined && statePath !== undefined) {
      dev.library = { drives, slots, mailSlots: int(raw.mailSlots) ?? 0, cartridges, statePath };
    }
  });
}

/**
 * A vtape device (a tape drive): removable, its capacity the cartridge's, its block length set by
 * the initiator (MODE SELECT: fixed or variable-block mode), so the disk settings are errors.
 */
function checkTape(raw: Obj, at: (...t: Array<string | number>) => string, report: Report): void {
  const deviceType = str(raw.deviceType);
  if (deviceType !== undefined && deviceType !== TAPE_TYPE) {
    report.add(at('deviceType'), `a vtape device is a tape drive: its deviceType is "${TAPE_TYPE}"`);
  }
  if (raw.size !== undefined) report.add(at('size'), 'a vtape device takes its capacity from its cartridge (nexus tape create --size)');
  if (raw.blockSize !== undefined) report.add(at('blockSize'), 'a tape drive\'s block length is set by the initiator (MODE SELECT: fixed or variable-block mode)');
  if (raw.physicalBlockSize !== undefined) report.add(at('physicalBlockSize'), 'a tape drive has no physical block size to set');
  if (raw.removable === false) report.add(at('removable'), 'a tape cartridge is removable');
  if (raw.thin === true) report.add(at('thin'), 'a tape cartridge is not thin provisioned');
}

/** The cartridge a vtape drive holds at start: a file with a cartridge header. */
function checkCartridge(path: string, pointer: string, report: Report): void {
  try {
    readCartridgeLabel(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    report.add(pointer, err.code === 'ERR_TAPE_FORMAT' ? err.message : `cannot read the cartridge ${path}: ${err.code ?? err.message}`);
  }
}

/**
 * A passthrough device: a SCSI device of this host, its size, block size and type its own, and
 * not one this host uses itself (sg-node.ts says why, at the path).
 */
function checkPassthrough(raw: Obj, at: (...t: Array<string | number>) => string, report: Report): void {
  const deviceType = str(raw.deviceType);
  if (deviceType !== undefined && deviceType !== PASSTHROUGH_TYPE) {
    report.add(at('deviceType'), `a passthrough device has the type its device reports: its deviceType is "${PASSTHROUGH_TYPE}"`);
  }
  for (const k of ['size', 'blockSize', 'physicalBlockSize', 'thin', 'writeCache', 'removable', 'serial', 'vendor', 'product', 'revision'] as const) {
    if (raw[k] !== undefined) report.add(at(k), `a passthrough device takes ${k} from the device itself`);
  }
  if (str(raw.path) === undefined) report.add(at('path'), 'passthrough devices need the path of a SCSI device (/dev/sgN, /dev/sdX, /dev/bsg/H:C:T:L or /dev/disk/by-id/...)');
}

/**
 * An rbd device: a pool and an image, its size the image's (resize the image, not the topology);
 * ceph.conf and the keyring, when given, relative to the topology file and readable now. Whether
 * the cluster answers is known only when the device opens (the start reports it then).
 */
function checkRbd(raw: Obj, baseDir: string, at: (...t: Array<string | number>) => string, report: Report): RbdConfig | undefined {
  for (const k of ['pool', 'image'] as const) {
    if (str(raw[k]) === undefined) report.add(at(k), `an rbd device needs the ${k} of its Ceph RBD image`);
  }
  for (const k of ['size', 'path'] as const) {
    if (raw[k] !== undefined) report.add(at(k), `an rbd device takes its ${k === 'size' ? 'size from its image (rbd resize changes it)' : 'image from pool and image, not a path'}`);
  }
  if (!native.haveLibrbd) report.add(at('handler'), `the rbd handler is not built: ${native.librbdMissing ?? 'librbd missing'}`);
  const pool = str(raw.pool), image = str(raw.image);
  if (pool === undefined || image === undefined) return undefined;
  const cfg: RbdConfig = { pool, image };
  for (const k of ['cephConf', 'keyring'] as const) {
    const v = str(raw[k]);
    if (v === undefined) continue;
    const file = nodePath.resolve(baseDir, v);
    try {
      if (!statSync(file).isFile()) report.add(at(k), `${file} is not a file`);
    } catch (e) {
      report.add(at(k), `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    cfg[k] = file;
  }
  const user = str(raw.cephUser);
  if (user !== undefined) cfg.cephUser = user;
  return cfg;
}

/** The ISO image of a vcdrom: a readable regular file. */
function checkImage(path: string, pointer: string, report: Report): void {
  try {
    if (!statSync(path).isFile()) report.add(pointer, `${path} is not a file (an ISO image)`);
  } catch (e) {
    report.add(pointer, `cannot read the ISO image ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function checkDevices(v: unknown, dirs: { baseDir: string; stateDir?: string }, report: Report): DeviceConfig[] {
  const out: DeviceConfig[] = [];
  const seen = new Map<string, number>();
  arr(v).forEach((raw, i) => {
    if (!isObj(raw)) return;
    const at = (...t: Array<string | number>): string => jsonPointer('devices', i, ...t);
    const name = str(raw.name);
    if (name !== undefined) {
      const first = seen.get(name);
      if (first !== undefined) report.add(at('name'), `device name "${name}" is already used by /devices/${first}`);
      else seen.set(name, i);
    }
    const handler = HANDLERS.includes(raw.handler as HandlerName) ? (raw.handler as HandlerName) : undefined;
    if (handler === 'changer') {
      checkChangerSettings(raw, at, report);
    } else {
      for (const k of LIBRARY_KEYS) if (raw[k] !== undefined) report.add(at(k), `${k} belongs to a medium changer (handler "changer")`);
    }
    let rbd: RbdConfig | undefined;
    if (handler === 'rbd') {
      rbd = checkRbd(raw, dirs.baseDir, at, report);
    } else {
      for (const k of RBD_KEYS) if (raw[k] !== undefined) report.add(at(k), `${k} belongs to an rbd device (handler "rbd")`);
    }
    if (raw.allowVendorCommands !== undefined && handler !== 'passthrough') {
      report.add(at('allowVendorCommands'), 'only a passthrough device has vendor-specific commands to pass down');
    }
    if (handler === 'vcdrom') {
      checkCdrom(raw, at, report);
    } else if (handler === 'vtape') {
      checkTape(raw, at, report);
    } else if (handler === 'passthrough') {
      checkPassthrough(raw, at, report);
    } else if (raw.blockSize === CDROM_BLOCK_SIZE) {
      report.add(at('blockSize'), `blockSize ${CDROM_BLOCK_SIZE} is the block size of CD/DVD media (handler vcdrom); disks have 512 or 4096`);
    }
    const blockSize = handler === 'vcdrom' ? CDROM_BLOCK_SIZE : raw.blockSize === 4096 ? 4096 : DEFAULT_BLOCK_SIZE;
    const physicalBlockSize = raw.physicalBlockSize === 512 || raw.physicalBlockSize === 4096 ? raw.physicalBlockSize : undefined;
    if (physicalBlockSize !== undefined && physicalBlockSize < blockSize) {
      // SBC-4 5.16.2: the physical block holds one or more logical blocks, never a fraction of one.
      report.add(at('physicalBlockSize'), `physicalBlockSize ${physicalBlockSize} is smaller than blockSize ${blockSize}`);
    }

    // Size: required where there is no backing to take it from.
    let sizeBytes = 0n;
    if (typeof raw.size === 'string' || typeof raw.size === 'number') {
      const r = tryParseSize(raw.size);
      if (!r.ok) report.add(at('size'), r.message);
      else if (r.bytes === 0n) report.add(at('size'), 'size must be greater than 0');
      else if (handler === 'vcdrom' || handler === 'vtape' || handler === 'passthrough' || handler === 'rbd') { /* refused by checkCdrom / checkTape / checkPassthrough / checkRbd: the medium gives the size */ }
      else if (r.bytes % BigInt(blockSize) !== 0n) {
        report.add(at('size'), `size ${r.bytes} bytes is not a multiple of blockSize ${blockSize}`);
      } else sizeBytes = r.bytes;
    } else if (raw.size === undefined && (handler === 'nullio' || handler === 'ram')) {
      report.add(at('size'), `size is required for ${handler} devices`);
    }

    // Backing path: relative to the file; fileio defaults into the state directory.
    let path: string | undefined;
    const rawPath = str(raw.path);
    if (handler === 'nullio' || handler === 'ram' || handler === 'rbd') {
      if (rawPath !== undefined && handler !== 'rbd') report.add(at('path'), `${handler} devices have no backing path`);
    } else if (rawPath !== undefined) {
      path = nodePath.resolve(dirs.baseDir, rawPath);
      const refused = kernelFilesystemOf(path);
      if (refused !== undefined) report.add(at('path'), `${path} is under ${refused}, a kernel filesystem that cannot hold storage`);
      // The ISO image must be there: the drive opens it at start (a missing one is said here, at its path).
      if (handler === 'vcdrom') checkImage(path, at('path'), report);
      if (handler === 'vtape') checkCartridge(path, at('path'), report);
      if (handler === 'passthrough') {
        const where = resolveSgNode(path);
        if (!where.ok) report.add(at('path'), where.reason);
      }
    } else if (handler === 'blockio') {
      report.add(at('path'), 'blockio devices need the path of a block device');
    } else if (handler === 'fileio') {
      if (dirs.stateDir === undefined) report.add(at('path'), 'fileio device has no path and there is no stateDir to put it in');
      else if (name !== undefined) path = nodePath.join(dirs.stateDir, `${name}.img`);
    }

    if (name === undefined || handler === undefined) return;
    const dev: DeviceConfig = {
      name,
      handler,
      sizeBytes,
      blockSize,
      // Write-back is what every Linux target defaults to; the initiator can still ask for FUA/SYNC.
      writeCache: raw.writeCache === 'writethrough' ? 'writethrough' : 'writeback',
      // Sparse files by default for fileio: punching holes costs nothing there.
      // rbd images are thin whatever their creation said: unwritten objects do not exist.
      thin: bool(raw.thin) ?? (handler === 'fileio' || handler === 'rbd'),
      readOnly: handler === 'vcdrom' || (bool(raw.readOnly) ?? false),
      removable: handler === 'vcdrom' || handler === 'vtape' || (bool(raw.removable) ?? false),
    };
    const deviceType = str(raw.deviceType) ?? (handler === 'vcdrom' ? CDROM_TYPE : handler === 'vtape' ? TAPE_TYPE : handler === 'changer' ? CHANGER_TYPE : handler === 'passthrough' ? PASSTHROUGH_TYPE : undefined);
    if (deviceType === CDROM_TYPE && handler !== 'vcdrom') {
      report.add(at('handler'), `a ${CDROM_TYPE} device reads an ISO image: its handler is "vcdrom"`);
    } else if (deviceType === TAPE_TYPE && handler !== 'vtape') {
      report.add(at('handler'), `a ${TAPE_TYPE} device holds a cartridge: its handler is "vtape"`);
    } else if (deviceType === CHANGER_TYPE && handler !== 'changer') {
      report.add(at('handler'), `a ${CHANGER_TYPE} device moves cartridges of a library: its handler is "changer"`);
    } else if (deviceType === PASSTHROUGH_TYPE && handler !== 'passthrough') {
      report.add(at('handler'), `a ${PASSTHROUGH_TYPE} device is a SCSI device of this host: its handler is "passthrough"`);
    } else if (deviceType !== undefined && !deviceTypes.names().includes(deviceType)) {
      report.add(at('deviceType'), `unknown device type "${deviceType}" (one of: ${deviceTypes.names().join(', ')})`);
    } else if (deviceType !== undefined) dev.deviceType = deviceType;
    if (path !== undefined) dev.path = path;
    if (physicalBlockSize !== undefined) dev.physicalBlockSize = physicalBlockSize;
    for (const k of ['serial', 'vendor', 'product', 'revision'] as const) {
      const s = str(raw[k]);
      if (s !== undefined) dev[k] = s;
    }
    if (raw.allowVendorCommands === true && handler === 'passthrough') dev.allowVendorCommands = true;
    if (rbd !== undefined) dev.rbd = rbd;
    const alua = aluaOf(raw.alua);
    if (alua !== undefined) dev.alua = alua;
    out.push(dev);
  });
  return out;
}

function checkLunMap(
  v: unknown, base: Array<string | number>, devices: Set<string>, report: Report,
): LunMapping[] {
  const out: LunMapping[] = [];
  const seen = new Map<number, number>();
  arr(v).forEach((raw, k) => {
    if (!isObj(raw)) return;
    const at = (t: string): string => jsonPointer(...base, k, t);
    const lun = int(raw.lun);
    const device = str(raw.device);
    if (lun !== undefined) {
      const first = seen.get(lun);
      if (first !== undefined) report.add(at('lun'), `LUN ${lun} is already mapped by ${jsonPointer(...base, first)}`);
      else seen.set(lun, k);
    }
    if (device !== undefined && !devices.has(device)) report.add(at('device'), `device "${device}" is not defined`);
    if (lun === undefined || device === undefined) return;
    // The mapping's own flag: a LUN onto a read-only device is read-only whatever it says, because
    // the unit refuses writes itself (pipeline.ts), so a device made writable live exports writably
    // again through every mapping that does not say otherwise.
    out.push({ lun, device, readOnly: bool(raw.readOnly) ?? false });
  });
  return out;
}

function checkAuth(v: unknown, base: Array<string | number>, report: Report): AuthConfig | undefined {
  if (!isObj(v)) return undefined;
  const out: AuthConfig = {};
  for (const which of ['chap', 'mutualChap'] as const) {
    const c = v[which];
    if (!isObj(c)) continue;
    const user = str(c.user);
    const secret = str(c.secret);
    const secretFile = str(c.secretFile);
    if (secret !== undefined) {
      const bytes = Buffer.byteLength(secret, 'utf8');
      if (bytes < CHAP_SECRET_MIN_BYTES) {
        report.add(jsonPointer(...base, which, 'secret'),
          `CHAP secret is ${bytes} bytes; it must be at least ${CHAP_SECRET_MIN_BYTES} (RFC 7143 9.2.1: 96 bits)`);
      } else if (bytes > CHAP_SECRET_MAX_BYTES) {
        report.add(jsonPointer(...base, which, 'secret'), `CHAP secret is ${bytes} bytes; initiators accept at most ${CHAP_SECRET_MAX_BYTES}`);
      }
    }
    if (user !== undefined && secret !== undefined) out[which] = { user, secret, ...(secretFile !== undefined ? { secretFile } : {}) };
  }
  if (isObj(v.mutualChap) && !isObj(v.chap)) {
    // The target answers the initiator's challenge only after the initiator has answered its own
    // (RFC 7143 12.1.3): mutual CHAP without one-way CHAP never happens.
    report.add(jsonPointer(...base, 'mutualChap'), 'mutualChap needs chap: the target authenticates itself only after the initiator has');
  } else if (isObj(v.mutualChap) && isObj(v.chap)
    && typeof v.chap.secret === 'string' && v.chap.secret === v.mutualChap.secret) {
    report.add(jsonPointer(...base, 'mutualChap', 'secret'),
      'the mutual CHAP secret must differ from the initiator\'s CHAP secret (RFC 7143 9.2.1)');
  }
  return out;
}

/** Every CHAP block of the document: targets' auth and discoveryAuth, groups' auth. */
function eachChap(v: unknown, f: (c: Obj, base: Array<string | number>) => void): void {
  arr(v).forEach((t, i) => {
    if (!isObj(t)) return;
    const visit = (auth: unknown, base: Array<string | number>): void => {
      if (!isObj(auth)) return;
      for (const which of ['chap', 'mutualChap'] as const) if (isObj(auth[which])) f(auth[which] as Obj, [...base, which]);
    };
    visit(t.auth, ['targets', i, 'auth']);
    visit(t.discoveryAuth, ['targets', i, 'discoveryAuth']);
    arr(t.groups).forEach((g, j) => { if (isObj(g)) visit(g.auth, ['targets', i, 'groups', j, 'auth']); });
  });
}

/**
 * CHAP secrets given by reference (`secretFile`, relative to the topology file): read here, so
 * every later check sees the secret, and the reference made absolute, so config.get and
 * config.save keep it a reference. The file holds the secret alone; a final newline is not part
 * of it. Exactly one of `secret` and `secretFile`.
 */
function resolveSecretFiles(json: Obj, baseDir: string, report: Report): void {
  eachChap(json.targets, (c, base) => {
    const file = str(c.secretFile);
    if (file === undefined) {
      if (str(c.secret) === undefined) report.add(jsonPointer(...base), 'give the CHAP secret as "secret" or by reference as "secretFile"');
      return;
    }
    if (c.secret !== undefined) {
      report.add(jsonPointer(...base, 'secretFile'), 'give the CHAP secret as "secret" or as "secretFile", not both');
      return;
    }
    const abs = nodePath.resolve(baseDir, file);
    try {
      c.secret = readFileSync(abs, 'utf8').replace(/\r?\n$/, '');
      c.secretFile = abs;
    } catch (e) {
      report.add(jsonPointer(...base, 'secretFile'), `cannot read ${abs}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  });
}

/**
 * RFC 7143 9.2.1: a secret used to authenticate initiators MUST NOT be used to authenticate a
 * target, anywhere. The same-block case is reported by checkAuth; this catches reuse across blocks.
 */
function checkSecretReuse(v: unknown, report: Report): void {
  const initiatorSecrets = new Set<string>();
  const targetSecrets: Array<{ path: string; secret: string; chapSecret?: string }> = [];
  const visit = (auth: unknown, base: Array<string | number>): void => {
    if (!isObj(auth)) return;
    const chap = isObj(auth.chap) ? str(auth.chap.secret) : undefined;
    if (chap !== undefined) initiatorSecrets.add(chap);
    const mutual = isObj(auth.mutualChap) ? str(auth.mutualChap.secret) : undefined;
    if (mutual !== undefined) targetSecrets.push({ path: jsonPointer(...base, 'mutualChap', 'secret'), secret: mutual, chapSecret: chap });
  };
  arr(v).forEach((t, i) => {
    if (!isObj(t)) return;
    visit(t.auth, ['targets', i, 'auth']);
    visit(t.discoveryAuth, ['targets', i, 'discoveryAuth']);
    arr(t.groups).forEach((g, j) => { if (isObj(g)) visit(g.auth, ['targets', i, 'groups', j, 'auth']); });
  });
  for (const m of targetSecrets) {
    if (m.secret !== m.chapSecret && initiatorSecrets.has(m.secret)) {
      report.add(m.path, 'this mutual CHAP secret is also used to authenticate an initiator elsewhere in the file (RFC 7143 9.2.1)');
    }
  }
}

/**
 * A fabric target's WWN, TPG and node ACLs, each checked as the fabric's kernel module checks
 * them (kernel-shim/fabrics.ts), so a wrong name fails here with its JSON path and not as an
 * EINVAL from configfs.
 */
function checkFabricTarget(driver: FabricDriver, raw: Record<string, unknown>, at: (...t: Array<string | number>) => string, report: Report): FabricTargetConfig | undefined {
  const f = FABRICS[driver];
  const wwn = str(raw.wwn);
  if (wwn === undefined) {
    report.add(at('wwn'), `a ${driver} target needs "wwn": ${f.wwnFormat}`);
  } else {
    const bad = f.checkWwn(wwn);
    if (bad) report.add(at('wwn'), bad);
  }
  const tpgt = typeof raw.tpgt === 'number' ? raw.tpgt : f.onlyTpgt ?? 1;
  if (f.onlyTpgt !== undefined && tpgt !== f.onlyTpgt) report.add(at('tpgt'), `${f.module} takes only tpgt ${f.onlyTpgt}`);
  const initiator = str(raw.initiator);
  if (initiator !== undefined) {
    if (!f.nexusAttribute) report.add(at('initiator'), `only loopback targets name their initiator port; ${driver} initiators come in from the fabric`);
    else {
      const bad = f.checkInitiator(initiator);
      if (bad) report.add(at('initiator'), bad);
    }
  }
  const acls: FabricTargetConfig['acls'] = [];
  const seen = new Map<string, number>();
  arr(raw.acls).forEach((a, k) => {
    if (!isObj(a)) return;
    const name = str(a.initiator);
    if (name === undefined) return;
    const bad = f.checkInitiator(name);
    if (bad) { report.add(at('acls', k, 'initiator'), bad); return; }
    const first = seen.get(name.toLowerCase());
    if (first !== undefined) { report.add(at('acls', k, 'initiator'), `initiator "${name}" already has an ACL at ${at('acls', first)}`); return; }
    seen.set(name.toLowerCase(), k);
    acls.push({ initiator: name, readOnly: bool(a.readOnly) === true });
  });
  if (f.aclsRequired && arr(raw.acls).length === 0) report.add(at('acls'), `${f.module} lets in only initiators with a node ACL: list at least one`);
  if (wwn === undefined) return undefined;
  const out: FabricTargetConfig = { wwn, tpgt, acls };
  if (initiator !== undefined) out.initiator = initiator;
  return out;
}

function checkTargets(v: unknown, devices: Set<string>, report: Report): TargetConfig[] {
  const out: TargetConfig[] = [];
  const seen = new Map<string, number>();
  arr(v).forEach((raw, i) => {
    if (!isObj(raw)) return;
    const at = (...t: Array<string | number>): string => jsonPointer('targets', i, ...t);
    const driver = raw.driver === 'iscsi' || raw.driver === 'local' || isFabricDriver(raw.driver) ? raw.driver : undefined;
    const name = str(raw.name);
    if (name !== undefined) {
      // RFC 7143 4.2.7.1: iSCSI names compare case-insensitively.
      const key = name.toLowerCase();
      const first = seen.get(key);
      if (first !== undefined) report.add(at('name'), `target "${name}" is already defined by /targets/${first}`);
      else seen.set(key, i);
      if (driver === 'iscsi') {
        const check = checkIscsiName(name);
        if (!check.ok) report.add(at('name'), check.message);
      }
    }

    // Portals: several targets may share one (one listener serves them all); one target may not
    // list the same portal twice.
    const portals: string[] = [];
    if (raw.portals === undefined) {
      if (driver === 'iscsi') portals.push(DEFAULT_PORTAL);
    } else if (driver === 'local' && arr(raw.portals).length > 0) {
      report.add(at('portals'), 'local targets are reached in-process and have no portals');
    } else if (isFabricDriver(driver) && arr(raw.portals).length > 0) {
      report.add(at('portals'), `${driver} targets are reached through their HBA port (wwn), not portals`);
    } else {
      const where = new Map<string, number>();
      arr(raw.portals).forEach((p, k) => {
        if (typeof p !== 'string') return;
        const r = parsePortal(p);
        if (!r.ok) { report.add(at('portals', k), r.message); return; }
        const first = where.get(r.portal.text);
        if (first !== undefined) report.add(at('portals', k), `portal ${r.portal.text} is already listed at ${at('portals', first)}`);
        else { where.set(r.portal.text, k); portals.push(r.portal.text); }
      });
    }

    const portGroups = checkPortGroups(raw.portGroups, portals, at, report);
    const luns = checkLunMap(raw.luns, ['targets', i, 'luns'], devices, report);
    const auth = checkAuth(raw.auth, ['targets', i, 'auth'], report);
    const discoveryAuth = checkAuth(raw.discoveryAuth, ['targets', i, 'discoveryAuth'], report);
    const groups = checkGroups(raw.groups, i, devices, report);

    const fabric = isFabricDriver(driver) ? checkFabricTarget(driver, raw, at, report) : undefined;
    if (!isFabricDriver(driver)) {
      for (const k of ['wwn', 'tpgt', 'initiator', 'acls']) {
        if (raw[k] !== undefined) report.add(at(k), `only fabric targets (loopback, fc, fcoe, srp) have "${k}"`);
      }
    } else if (arr(raw.groups).length > 0 || raw.auth !== undefined) {
      // TCMU carries no initiator identity: per-initiator views are LIO's node ACLs.
      report.add(at(raw.auth !== undefined ? 'auth' : 'groups'), `${driver} targets give initiators their view with "acls" (LIO node ACLs), not groups or auth`);
    }

    if (driver === undefined || name === undefined) return;
    const t: TargetConfig = { driver, name, portals, luns, groups };
    if (fabric !== undefined) t.fabric = fabric;
    const alias = str(raw.alias);
    if (alias !== undefined) t.alias = alias;
    if (bool(raw.enabled) === false) t.enabled = false;
    if (auth !== undefined) t.auth = auth;
    if (discoveryAuth !== undefined) t.discoveryAuth = discoveryAuth;
    if (portGroups !== undefined) t.portGroups = portGroups;
    out.push(t);
  });
  return out;
}

/**
 * A device's ALUA settings as the schema let them through (group ids are checked against the
 * targets in checkAluaGroups): absent stays absent, so a topology without ALUA is unchanged.
 */
function aluaOf(v: unknown): AluaConfig | undefined {
  if (!isObj(v)) return undefined;
  const states: Record<number, AccessStateName> = {};
  if (isObj(v.states)) for (const [id, st] of Object.entries(v.states)) states[Number(id)] = st as AccessStateName;
  return { tpgs: (str(v.tpgs) ?? 'both') as TpgsMode, states, transitionMs: int(v.transitionMs) ?? 0 };
}

/**
 * SPC-4 5.16.2.1: the target's portals in target port groups. Every portal in exactly one group
 * (a portal the groups leave out would be a target port in no group, which REPORT TARGET PORT
 * GROUPS could not describe), each id once.
 */
function checkPortGroups(
  v: unknown, portals: string[], at: (...t: Array<string | number>) => string, report: Report,
): PortGroupConfig[] | undefined {
  if (v === undefined) return undefined;
  const out: PortGroupConfig[] = [];
  const ids = new Map<number, number>();
  const placed = new Map<string, string>();
  arr(v).forEach((raw, j) => {
    if (!isObj(raw)) return;
    const id = int(raw.id);
    if (id !== undefined) {
      const first = ids.get(id);
      if (first !== undefined) report.add(at('portGroups', j, 'id'), `target port group ${id} is already defined by ${at('portGroups', first)}`);
      else ids.set(id, j);
    }
    const members: string[] = [];
    arr(raw.portals).forEach((p, k) => {
      if (typeof p !== 'string') return;
      const r = parsePortal(p);
      if (!r.ok) { report.add(at('portGroups', j, 'portals', k), r.message); return; }
      const text = r.portal.text;
      if (!portals.includes(text)) { report.add(at('portGroups', j, 'portals', k), `portal ${text} is not one of the target's portals`); return; }
      const first = placed.get(text);
      if (first !== undefined) { report.add(at('portGroups', j, 'portals', k), `portal ${text} is already in the target port group at ${first}`); return; }
      placed.set(text, at('portGroups', j));
      members.push(text);
    });
    if (id !== undefined) out.push({ id, portals: members });
  });
  for (const p of portals) {
    if (!placed.has(p) && out.length > 0) report.add(at('portGroups'), `portal ${p} is in no target port group`);
  }
  return out;
}

/**
 * Several gateways, one target (README "Scaling out with Ceph"): the topology's `gateway` names
 * this daemon and each target port group of a target served by several gateways names its own.
 * Groups of other gateways become `remote` (listed, not listened on). Such a target exports only
 * stores every gateway reaches alike (rbd images): a file LUN behind two gateways would be two
 * different disks under one device identifier.
 */
function checkGateways(json: Obj, devices: DeviceConfig[], targets: TargetConfig[], report: Report): string | undefined {
  const self = str(json.gateway);
  const rawTargets = arr(json.targets);
  for (const t of targets) {
    const ti = rawTargets.findIndex(r => isObj(r) && r.name === t.name);
    const rawGroups = isObj(rawTargets[ti]) ? arr((rawTargets[ti] as Obj).portGroups) : [];
    const gatewayOf = (id: number): { j: number; gateway: string | undefined } => {
      const j = rawGroups.findIndex(r => isObj(r) && r.id === id);
      return { j, gateway: j >= 0 ? str((rawGroups[j] as Obj).gateway) : undefined };
    };
    const groups = t.portGroups ?? [];
    const withGateway = groups.filter(g => gatewayOf(g.id).gateway !== undefined);
    if (withGateway.length === 0) continue;
    for (const g of groups) {
      const { j, gateway } = gatewayOf(g.id);
      if (gateway === undefined) {
        report.add(jsonPointer('targets', ti, 'portGroups', j), 'a target served by several gateways names the gateway of each of its target port groups');
        continue;
      }
      if (self === undefined) {
        report.add(jsonPointer('targets', ti, 'portGroups', j, 'gateway'), `a group served by gateway "${gateway}" needs the topology's "gateway" to say which gateway this daemon is`);
        continue;
      }
      g.gateway = gateway;
      if (gateway !== self) g.remote = true;
    }
    if (self === undefined) continue;
    if (!groups.some(g => g.gateway === self)) {
      report.add(jsonPointer('targets', ti, 'portGroups'), `no target port group of "${t.name}" is served by gateway "${self}" (this daemon)`);
    }
    // Only a store shared through the cluster may sit behind another gateway's port group.
    const rawLuns = isObj(rawTargets[ti]) ? arr((rawTargets[ti] as Obj).luns) : [];
    const mapped: Array<{ device: string; where: string }> = [
      ...t.luns.map(m => ({ device: m.device, where: jsonPointer('targets', ti, 'luns', rawLuns.findIndex(r => isObj(r) && r.lun === m.lun), 'device') })),
      ...t.groups.flatMap((gr, gi) => {
        const rawGroupLuns = isObj(rawTargets[ti]) ? arr(arr((rawTargets[ti] as Obj).groups).filter(isObj)[gi]?.luns) : [];
        return gr.luns.map(m => ({ device: m.device, where: jsonPointer('targets', ti, 'groups', gi, 'luns', rawGroupLuns.findIndex(r => isObj(r) && r.lun === m.lun), 'device') }));
      }),
    ];
    for (const m of mapped) {
      const d = devices.find(x => x.name === m.device);
      if (d !== undefined && d.handler !== 'rbd') {
        report.add(m.where, `device "${d.name}" (handler ${d.handler}) is not shared between gateways: a target with port groups on other gateways exports rbd devices only`);
      }
    }
  }
  return self;
}

/**
 * Each target port group a device names in alua.states must be a group of a target that exports
 * the device (or of any target, for a device no target exports yet).
 */
function checkAluaGroups(v: unknown, devices: DeviceConfig[], targets: TargetConfig[], report: Report): void {
  const raws = arr(v);
  devices.forEach((d) => {
    if (d.alua === undefined) return;
    const i = raws.findIndex(r => isObj(r) && r.name === d.name);
    const exporting = targets.filter(t => [...t.luns, ...t.groups.flatMap(g => g.luns)].some(m => m.device === d.name));
    const ids = new Set((exporting.length > 0 ? exporting : targets).flatMap(t => portGroupsOf(t).map(g => g.id)));
    for (const id of Object.keys(d.alua.states).map(Number)) {
      if (!ids.has(id)) {
        report.add(jsonPointer('devices', i, 'alua', 'states', String(id)),
          `target port group ${id} is not a port group of ${exporting.length > 0 ? 'a target exporting the device' : 'any target'} (known: ${[...ids].sort((a, b) => a - b).join(', ')})`);
      }
    }
  });
}

function checkGroups(v: unknown, ti: number, devices: Set<string>, report: Report): GroupConfig[] {
  const out: GroupConfig[] = [];
  const names = new Map<string, number>();
  const patterns = new Map<string, string>();
  arr(v).forEach((raw, j) => {
    if (!isObj(raw)) return;
    const at = (...t: Array<string | number>): string => jsonPointer('targets', ti, 'groups', j, ...t);
    const name = str(raw.name);
    if (name !== undefined) {
      const first = names.get(name);
      if (first !== undefined) report.add(at('name'), `group "${name}" is already defined by ${jsonPointer('targets', ti, 'groups', first)}`);
      else names.set(name, j);
    }
    const initiators: string[] = [];
    arr(raw.initiators).forEach((p, k) => {
      if (typeof p !== 'string') return;
      // SCST: an initiator belongs to at most one group of a target; the same pattern in two
      // groups would make its LUN map depend on the order of the file.
      const key = p.toLowerCase();
      const first = patterns.get(key);
      if (first !== undefined) report.add(at('initiators', k), `initiator pattern "${p}" is already in ${first}`);
      else patterns.set(key, at('initiators', k));
      initiators.push(p);
    });
    const luns = checkLunMap(raw.luns, ['targets', ti, 'groups', j, 'luns'], devices, report);
    const auth = checkAuth(raw.auth, ['targets', ti, 'groups', j, 'auth'], report);
    if (name === undefined) return;
    const g: GroupConfig = { name, initiators, luns };
    if (auth !== undefined) g.auth = auth;
    out.push(g);
  });
  return out;
}
