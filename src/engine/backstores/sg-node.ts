import * as fs from 'node:fs';
import * as nodePath from 'node:path';

/**
 * Where a pass-through device's path leads: the SCSI generic node of the device it names, found
 * through sysfs, and whether this host uses that device itself. `/dev/sgN` is taken as it is;
 * a block node (`/dev/sdX`, `/dev/disk/by-id/...`), a bsg node (`/dev/bsg/H:C:T:L`) or any other
 * character node of a SCSI device (`/dev/nst0`, `/dev/sr0`) leads to the sg node of the same
 * SCSI device (`<device>/scsi_generic/sgN` in sysfs). A partition, a node of something that is
 * not a SCSI device, or a device whose block node is mounted, used as swap or held by another
 * driver (device mapper, md: `/sys/block/X/holders`) is refused: exporting it would let remote
 * initiators write under this host's own use of it.
 */

/** Linux's SCSI_GENERIC_MAJOR. */
const SCSI_GENERIC_MAJOR = 21;

export interface DevNumber { kind: 'char' | 'block'; major: number; minor: number }

/** The file system views the resolver reads; tests give a tree of their own. */
export interface HostView {
  sys: string;
  dev: string;
  proc: string;
  /** The device number of a node, undefined when the path is not a device node. */
  statDev(path: string): DevNumber | undefined;
}

function statDev(path: string): DevNumber | undefined {
  const st = fs.statSync(path);
  const kind = st.isCharacterDevice() ? 'char' : st.isBlockDevice() ? 'block' : undefined;
  if (kind === undefined) return undefined;
  // Linux new_decode_dev: 12 bits of major, 20 of minor.
  const rdev = st.rdev;
  return { kind, major: Math.floor(rdev / 256) & 0xfff, minor: (rdev & 0xff) | (Math.floor(rdev / 4096) & 0xfff00) };
}

export const HOST: HostView = { sys: '/sys', dev: '/dev', proc: '/proc', statDev };

export interface SgNode {
  /** The sg node to open (`/dev/sgN`). */
  sgPath: string;
  /** The SCSI device's sysfs directory (queue_depth, block/, ...). */
  deviceDir: string;
  /** The block device of a disk or CD/DVD drive (`sda`), undefined for tapes and changers. */
  blockName?: string;
}

export type Resolution = { ok: true; node: SgNode } | { ok: false; reason: string };

function list(dir: string): string[] {
  try { return fs.readdirSync(dir); } catch { return []; }
}

/** Resolve `path` to its device's sg node and refuse a device this host uses. */
export function resolveSgNode(path: string, host: HostView = HOST): Resolution {
  let dev: DevNumber | undefined;
  try {
    dev = host.statDev(path);
  } catch (e) {
    return { ok: false, reason: `${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
  if (!dev) return { ok: false, reason: `${path} is not a device node (a SCSI generic node /dev/sgN, or the block, bsg or tape node of a SCSI device)` };
  // /sys/dev/{char,block}/MAJ:MIN is the class device of that number; its `device` link is the
  // SCSI device (H:C:T:L) for every node a SCSI device has.
  const classDir = nodePath.join(host.sys, 'dev', dev.kind, `${dev.major}:${dev.minor}`);
  let deviceDir: string;
  try {
    deviceDir = fs.realpathSync(nodePath.join(classDir, 'device'));
  } catch {
    const partition = dev.kind === 'block' && fs.existsSync(nodePath.join(classDir, 'partition'));
    return { ok: false, reason: partition ? `${path} is a partition; export the whole device` : `${path} is not a SCSI device` };
  }
  let sgName: string | undefined;
  if (dev.kind === 'char' && dev.major === SCSI_GENERIC_MAJOR) {
    sgName = nodePath.basename(fs.realpathSync(classDir));
  } else {
    sgName = list(nodePath.join(deviceDir, 'scsi_generic'))[0];
    if (sgName === undefined) return { ok: false, reason: `${path}: its SCSI device has no sg node (is the sg driver loaded?)` };
  }
  const blockName = list(nodePath.join(deviceDir, 'block'))[0];
  if (blockName !== undefined) {
    const busy = inUse(blockName, host);
    if (busy !== undefined) return { ok: false, reason: `${path} (${blockName}) is in use on this host: ${busy}` };
  }
  return { ok: true, node: { sgPath: nodePath.join(host.dev, sgName), deviceDir, blockName } };
}

/** Why a block device (or one of its partitions) is used on this host, undefined when it is not. */
function inUse(blockName: string, host: HostView): string | undefined {
  const blockDir = nodePath.join(host.sys, 'block', blockName);
  const parts = [blockName, ...list(blockDir).filter(n => n.startsWith(blockName))];
  for (const p of parts) {
    const dir = p === blockName ? blockDir : nodePath.join(blockDir, p);
    const holders = list(nodePath.join(dir, 'holders'));
    if (holders.length > 0) return `held by ${holders.join(', ')}`;
  }
  const names = new Set(parts.map(p => nodePath.join(host.dev, p)));
  const read = (f: string): string => { try { return fs.readFileSync(nodePath.join(host.proc, f), 'utf8'); } catch { return ''; } };
  for (const line of read('self/mounts').split('\n')) {
    const [source, target] = line.split(' ');
    if (source !== undefined && names.has(source)) return `${source} is mounted on ${target}`;
  }
  for (const line of read('swaps').split('\n').slice(1)) {
    const source = line.split(/\s+/)[0];
    if (source && names.has(source)) return `${source} is a swap area`;
  }
  return undefined;
}

/** A number from a sysfs attribute of the device, undefined when absent or not a number. */
export function sysfsNumber(file: string): number | undefined {
  try {
    const v = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}
