// How the shim wires Nexus devices to Linux fabrics through LIO's configfs (DESIGN.md §8):
// a plan of exact operations computed from the topology and the tree as it is, applied in order,
// and undone in reverse so that configfs is left as it was found.
//
// For each device a fabric target exports, a TCMU backstore (target_core_user):
//   mkdir  core/user_<hba>/<device>
//   write  core/user_<hba>/<device>/control   dev_config=nexus/<device>,dev_size=…,hw_block_size=…,
//                                             hw_max_sectors=…,max_data_area_mb=…,nl_reply_supported=-1
//   write  attrib/cmd_time_out, attrib/qfull_time_out, attrib/tmr_notification=1
//   write  enable 1                            the uio device tcm-user/<hba>/<device>/nexus/<device> appears
//   write  attrib/nl_reply_supported 1         from now on the kernel waits for Nexus's answers
//   serve  <device>                            Nexus maps its ring: before any LUN is linked, since
//                                              linking a LUN makes the initiator scan it at once
// then for each fabric target (kernel-shim/fabrics.ts for each module's rules):
//   mkdir  target/<fabric>/<wwn>/tpgt_<n>[/lun/lun_<l>, /acls/<initiator>/lun_<l>]
//   write  tpgt_<n>/nexus <initiator>          loopback: tcm_loop's I_T nexus
//   ln -s  core/user_<hba>/<device>  tpgt_<n>/lun/lun_<l>/<device>
//   ln -s  tpgt_<n>/lun/lun_<l>  acls/<initiator>/lun_<l>/lun, write write_protect 1 when read-only
//   write  tpgt_<n>/enable 1                   qla2xxx, srpt
//
// nl_reply_supported, decided per event (target_core_user.c tcmu_init_genl_cmd_reply: the kernel
// waits for an answer when user space announced replies with SET_FEATURES, which the shim does,
// and the device's nl_reply_supported is > 0; it reads the attribute at each event):
// - -1 in `control`, so the add event that `enable` sends is not waited for: the shim itself is
//   enabling the device and serves it right after (tcmu_configure_device keeps -1; any value >= 0
//   would take the module-wide setting, which tcmu-runner may have set too);
// - 1 once enabled, so a reconfiguration (attrib/dev_size, emulate_write_cache, dev_config) waits
//   for Nexus to have followed it, or fails with Nexus's errno, and removal waits for Nexus to
//   have stopped serving the ring (kernel-shim/shim.ts answers). A backstore
// a previous run of the shim left (the process was killed) is taken over: its ring is reset
// first (action/reset_ring 1: the commands the dead process held complete BUSY and the initiator
// retries them) and it is removed at the end like one made now.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DeviceConfig, Topology } from '../src/engine/topology';
import { FABRICS, defaultLoopbackInitiator, isFabricDriver } from './fabrics';

export type ConfigfsOp =
  | { readonly op: 'mkdir'; readonly path: string }
  | { readonly op: 'write'; readonly path: string; readonly value: string }
  | { readonly op: 'symlink'; readonly target: string; readonly path: string }
  | { readonly op: 'serve'; readonly device: string; readonly uioName: string }
  | { readonly op: 'unlink'; readonly path: string }
  | { readonly op: 'rmdir'; readonly path: string }
  | { readonly op: 'stop'; readonly device: string };

/**
 * The file-system calls the shim makes (node:fs on the real tree; a fake tree in tests). The calls
 * that change the tree may wait on the kernel: linking a LUN makes the initiator scan it, whose
 * INQUIRY comes back through the ring this very thread serves, and unlinking one makes it send
 * SYNCHRONIZE CACHE the same way. They return promises on the real tree (the thread pool makes the
 * call) so the event loop keeps serving while the kernel waits.
 */
export interface ConfigfsFs {
  exists(p: string): boolean;
  read(p: string): string;
  list(p: string): string[];
  mkdir(p: string): Promise<void> | void;
  write(p: string, value: string): Promise<void> | void;
  symlink(target: string, p: string): Promise<void> | void;
  unlink(p: string): Promise<void> | void;
  rmdir(p: string): Promise<void> | void;
}

export const nodeFs: ConfigfsFs = {
  exists: p => { try { fs.lstatSync(p); return true; } catch { return false; } },
  read: p => fs.readFileSync(p, 'latin1'),
  list: p => fs.readdirSync(p),
  mkdir: p => fs.promises.mkdir(p),
  write: (p, v) => fs.promises.writeFile(p, v),
  symlink: (t, p) => fs.promises.symlink(t, p),
  unlink: p => fs.promises.unlink(p),
  rmdir: p => fs.promises.rmdir(p),
};

export interface ShimSettings {
  /** configfs mount point. */
  readonly root: string;
  /** The TCMU HBA index (core/user_<hba>). */
  readonly hba: number;
  /** TCMU's data area per device, in MiB (max_data_area_mb). */
  readonly maxDataAreaMb: number;
  /** Largest command, in blocks (hw_max_sectors). */
  readonly hwMaxSectors: number;
  /** Seconds the kernel gives a command in the ring before failing it (cmd_time_out). */
  readonly cmdTimeOutSec: number;
  /** Seconds a command may wait for ring space; -1: cmd_time_out (qfull_time_out). */
  readonly qfullTimeOutSec: number;
}

export const DEFAULT_SHIM_SETTINGS: ShimSettings = {
  root: '/sys/kernel/config', hba: 0, maxDataAreaMb: 64, hwMaxSectors: 2048, cmdTimeOutSec: 30, qfullTimeOutSec: -1,
};

export interface ShimPlan {
  /** The operations that bring the wiring up, in order. */
  readonly up: ConfigfsOp[];
  /** Backstores a previous run left, taken over (their rings reset before serving). */
  readonly adopted: string[];
  /** Devices served, by name, with their backstore directory. */
  readonly backstores: ReadonlyMap<string, string>;
}

/** The uio device name target_core_user gives a backstore (tcmu_update_uio_info). */
export function uioNameOf(hba: number, device: string): string {
  return `tcm-user/${hba}/${device}/${devConfigOf(device)}`;
}

/** The dev_config the shim gives a device's backstore (the uio name's last part). */
export function devConfigOf(device: string): string { return `nexus/${device}`; }

/**
 * The operations that wire `topology`'s fabric targets, against the tree as `fsys` shows it:
 * directories that exist already are not made again (and so not removed at the end).
 */
export function planShim(topology: Pick<Topology, 'devices' | 'targets'>, fsys: ConfigfsFs, settings: ShimSettings = DEFAULT_SHIM_SETTINGS): ShimPlan {
  const up: ConfigfsOp[] = [];
  const adopted: string[] = [];
  const target = path.join(settings.root, 'target');
  const made = new Set<string>();
  const mkdir = (p: string): void => {
    if (fsys.exists(p) || made.has(p)) return;
    made.add(p);
    up.push({ op: 'mkdir', path: p });
  };
  const devices = new Map(topology.devices.map(d => [d.name, d]));
  const fabricTargets = topology.targets.filter(t => isFabricDriver(t.driver) && t.fabric);
  const backstores = new Map<string, string>();

  const hbaDir = path.join(target, 'core', `user_${settings.hba}`);
  for (const t of fabricTargets) {
    for (const m of t.luns) {
      if (backstores.has(m.device)) continue;
      const d = devices.get(m.device);
      if (!d) continue;
      const dir = path.join(hbaDir, d.name);
      backstores.set(d.name, dir);
      mkdir(hbaDir);
      if (fsys.exists(dir)) {
        adopted.push(d.name);
        up.push({ op: 'write', path: path.join(dir, 'action', 'reset_ring'), value: '1' });
      } else {
        mkdir(dir);
        up.push(...backstoreSetup(dir, d, settings));
      }
      up.push({ op: 'serve', device: d.name, uioName: uioNameOf(settings.hba, d.name) });
    }
  }

  for (const t of fabricTargets) {
    const f = FABRICS[t.driver as keyof typeof FABRICS];
    const fab = t.fabric!;
    const fabricDir = path.join(target, f.configfsDir);
    const tpg = path.join(fabricDir, fab.wwn, `tpgt_${fab.tpgt}`);
    mkdir(fabricDir);
    mkdir(path.dirname(tpg));
    // A TPG a previous run left keeps its nexus and its enable (writing them again is EEXIST).
    const newTpg = !fsys.exists(tpg) && !made.has(tpg);
    mkdir(tpg);
    if (newTpg && f.nexusAttribute) up.push({ op: 'write', path: path.join(tpg, 'nexus'), value: fab.initiator ?? defaultLoopbackInitiator(fab.wwn) });
    for (const m of t.luns) {
      const lunDir = path.join(tpg, 'lun', `lun_${m.lun}`);
      mkdir(lunDir);
      const link = path.join(lunDir, m.device);
      if (!fsys.exists(link)) up.push({ op: 'symlink', target: backstores.get(m.device)!, path: link });
    }
    for (const a of fab.acls) {
      const acl = path.join(tpg, 'acls', a.initiator);
      mkdir(acl);
      for (const m of t.luns) {
        const mapped = path.join(acl, `lun_${m.lun}`);
        const newMapping = !fsys.exists(mapped) && !made.has(mapped);
        mkdir(mapped);
        const link = path.join(mapped, 'lun');
        if (!fsys.exists(link)) up.push({ op: 'symlink', target: path.join(tpg, 'lun', `lun_${m.lun}`), path: link });
        // SPC-4 5.12 (write protection per I_T_L nexus): LIO answers DATA PROTECT for this initiator.
        if (newMapping && (a.readOnly || m.readOnly)) up.push({ op: 'write', path: path.join(mapped, 'write_protect'), value: '1' });
      }
    }
    if (newTpg && f.tpgEnable) up.push({ op: 'write', path: path.join(tpg, 'enable'), value: '1' });
  }
  return { up, adopted, backstores };
}

/**
 * The `dev_size` of a backstore. LIO's core reads it only to size what it answers itself: its own
 * sense data is in descriptor format past 2^32 blocks (target_sense_desc_format), the blocks
 * counted as (dev_size - block_size) / block_size (tcmu_get_blocks). A device with no capacity
 * of blocks (a tape drive, a medium changer, a CD/DVD-ROM drive whose medium comes and goes) gets
 * one block: with 0 the count wraps to 2^64 - 1, and the unit attentions LIO raises itself
 * (REPORTED LUNS DATA HAS CHANGED when LUNs are linked) come in descriptor format, which the SPC-2
 * tools of those devices (mtx) cannot read. Everything else of such a device is Nexus's: INQUIRY
 * and the device type's commands pass to the ring (passthrough_parse_cdb).
 */
export function devSizeOf(d: Pick<DeviceConfig, 'sizeBytes' | 'blockSize'>): bigint {
  return d.sizeBytes >= BigInt(d.blockSize) ? d.sizeBytes : BigInt(d.blockSize);
}

function backstoreSetup(dir: string, d: DeviceConfig, s: ShimSettings): ConfigfsOp[] {
  const control = [
    `dev_config=${devConfigOf(d.name)}`, `dev_size=${devSizeOf(d)}`, `hw_block_size=${d.blockSize}`,
    `hw_max_sectors=${s.hwMaxSectors}`, `max_data_area_mb=${s.maxDataAreaMb}`, 'nl_reply_supported=-1',
  ].join(',');
  return [
    { op: 'write', path: path.join(dir, 'control'), value: control },
    { op: 'write', path: path.join(dir, 'attrib', 'cmd_time_out'), value: String(s.cmdTimeOutSec) },
    { op: 'write', path: path.join(dir, 'attrib', 'qfull_time_out'), value: String(s.qfullTimeOutSec) },
    { op: 'write', path: path.join(dir, 'attrib', 'tmr_notification'), value: '1' },
    { op: 'write', path: path.join(dir, 'enable'), value: '1' },
    { op: 'write', path: path.join(dir, 'attrib', 'nl_reply_supported'), value: '1' },
  ];
}

/** The undoing of applied operations, last first: links removed, directories made removed, serving stopped. */
export function undoOps(applied: readonly ConfigfsOp[]): ConfigfsOp[] {
  const out: ConfigfsOp[] = [];
  for (let i = applied.length - 1; i >= 0; i--) {
    const o = applied[i];
    if (o.op === 'mkdir') out.push({ op: 'rmdir', path: o.path });
    else if (o.op === 'symlink') out.push({ op: 'unlink', path: o.path });
    else if (o.op === 'serve') out.push({ op: 'stop', device: o.device });
  }
  return out;
}

/** An operation as a shell line (what --dry-run prints; `serve` and `stop` are Nexus's own steps). */
export function formatOp(o: ConfigfsOp): string {
  switch (o.op) {
    case 'mkdir': return `mkdir ${o.path}`;
    case 'write': return `echo -n '${o.value}' > ${o.path}`;
    case 'symlink': return `ln -s ${o.target} ${o.path}`;
    case 'serve': return `# nexus serves the TCMU ring of ${o.device} (uio name ${o.uioName})`;
    case 'unlink': return `rm ${o.path}`;
    case 'rmdir': return `rmdir ${o.path}`;
    case 'stop': return `# nexus stops serving ${o.device}`;
  }
}

/**
 * What the shim cannot serve in a topology that is otherwise valid, each with its JSON path. The
 * shim's runtime holds only the devices its fabric targets export (kernel-shim/shim.ts, shimEngineTopology), and a
 * medium changer loads its drives in the same runtime (SMC-3 MOVE MEDIUM is a medium change of
 * the drive): a changer exported without its drives would have nothing to load, and its drives
 * served by another process (`nexus serve`) would be a second owner of the same cartridges.
 */
export function shimTopologyErrors(t: Pick<Topology, 'devices' | 'targets'>): string[] {
  const exported = new Set<string>();
  for (const tg of t.targets) if (isFabricDriver(tg.driver)) for (const m of tg.luns) exported.add(m.device);
  const errors: string[] = [];
  t.devices.forEach((d, i) => {
    if (!exported.has(d.name) || !d.library) return;
    d.library.drives.forEach((drive, k) => {
      if (!exported.has(drive)) {
        errors.push(`/devices/${i}/drives/${k}: the changer "${d.name}" loads "${drive}", which no fabric target exports: the shim serves a library whole, so export "${drive}" as a LUN of a fabric target too`);
      }
    });
  });
  return errors;
}

/** What a fabric needs present before anything is made: configfs, LIO's core, the modules. */
export function checkKernel(topology: Pick<Topology, 'targets'>, fsys: ConfigfsFs, settings: ShimSettings, sysModule = '/sys/module'): string[] {
  const errors: string[] = [];
  const target = path.join(settings.root, 'target');
  if (!fsys.exists(target)) {
    errors.push(`${target} does not exist: mount configfs (mount -t configfs configfs ${settings.root}) and load target_core_mod`);
    return errors;
  }
  if (!fsys.exists(path.join(sysModule, 'target_core_user'))) {
    errors.push('kernel module target_core_user (TCMU) is not loaded: modprobe target_core_user');
  }
  const seen = new Set<string>();
  for (const t of topology.targets) {
    if (!isFabricDriver(t.driver) || seen.has(t.driver)) continue;
    seen.add(t.driver);
    const f = FABRICS[t.driver];
    if (!fsys.exists(path.join(target, f.configfsDir)) && !fsys.exists(path.join(sysModule, f.module))) {
      errors.push(`the ${t.driver} fabric's kernel module ${f.module} is not loaded (target "${t.name}"): modprobe ${f.module}`);
    }
  }
  return errors;
}
