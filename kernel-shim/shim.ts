// The HBA target-mode shim: serves a topology's fabric targets (loopback, fc, fcoe, srp) through
// LIO's TCMU (DESIGN.md §8). One code path for both entries: `nexus serve` runs it on the
// daemon's runtime beside the iSCSI portals (src/daemon/daemon.ts), `nexus shim` on a runtime of
// its own (`ownRuntime`: embedded mode's composition over the devices the fabric targets export).
// It applies the configfs plan (configfs.ts), serving each backstore's ring before any LUN is
// linked, and on stop undoes what it made, last first. Each TCMU device is one nexus of the
// runtime on the fabric target that exports it (`servingLuns`), its commands sent to the device's
// LUN there: LIO's core does the LUN mapping and the per-initiator state.
//
// Before anything is made the shim joins TCMU's generic-netlink family
// (src/transports/tcmu/netlink.ts) and answers the kernel's events for its own devices, so that
// configfs writes on them complete (without a listener the kernel refuses every reconfiguration
// with ESRCH; with replies on, a write waits for the answer):
// - RECONFIG dev_size (attrib/dev_size): the unit is resized (SBC-4: its nexus gets CAPACITY
//   DATA HAS CHANGED); a size that is not a whole number of blocks, or a backstore that cannot
//   take it, is refused and the write fails with that errno, LIO's dev_size unchanged;
// - RECONFIG emulate_write_cache: the unit goes write-back or write-through (SPC-4 caching page);
// - RECONFIG dev_config: only the device's own (nexus/<device>) is accepted, since Nexus serves
//   the ring under that name;
// - REMOVED: the ring stops being served (commands still arriving are answered BUSY, those in
//   flight complete), then the answer lets the kernel unregister the uio device;
// - ADDED: not waited for (nl_reply_supported=-1 at creation: the shim itself enabled the device).
import * as fs from 'node:fs';
import { constants } from 'node:os';
import * as path from 'node:path';
import { EmbeddedTarget } from '../src/embedded';
import type { DeviceConfig, Topology } from '../src/engine/topology';
import type { NexusApi } from '../src/engine/engine-api';
import { isNativeError, openNetlink, openUioRing } from '../src/native';
import type { NativeError, UioEventCallback, UioRing } from '../src/native';
import { Nlmsg, TcmuNetlink } from '../src/transports/tcmu/netlink';
import type { TcmuEvent, TcmuNetlinkSocket } from '../src/transports/tcmu/netlink';
import { TcmuGenlCmd } from '../src/transports/tcmu/spec';
import { NexusError } from '../src/engine/result';
import { TcmuDevice } from '../src/transports/tcmu/device';
import { isRingFault } from '../src/transports/tcmu/ring';
import type { FabricLogger } from '../src/transports/fabric';
import {
  DEFAULT_SHIM_SETTINGS, checkKernel, devConfigOf, formatOp, nodeFs, planShim, shimTopologyErrors, undoOps, uioNameOf,
} from './configfs';
import type { ConfigfsFs, ConfigfsOp, ShimSettings } from './configfs';
import { isFabricDriver } from './fabrics';

export interface ShimDeps {
  readonly fsys?: ConfigfsFs;
  readonly settings?: ShimSettings;
  /** /sys/module: which kernel modules are loaded. */
  readonly sysModule?: string;
  /** /sys/class/uio: the uio devices and their names and maps. */
  readonly sysClassUio?: string;
  /** Where the uio device nodes are (/dev). */
  readonly devDir?: string;
  /** Opens and maps a uio device (the native addon's openUioRing). */
  readonly openRing?: (p: string, size: number, onEvent: UioEventCallback) => UioRing | NativeError;
  /** Opens a generic-netlink socket (the native addon's openNetlink), for TCMU's events. */
  readonly openNetlink?: (onDatagram: (d: Uint8Array | NativeError) => void) => TcmuNetlinkSocket | NativeError;
  readonly log?: FabricLogger;
  /** Where the operations applied are kept, so a restarted shim removes what a killed one made. */
  readonly stateFile?: string;
}

/**
 * Where each exported device's TCMU nexus opens: the first fabric target that maps it read-write
 * (else the first that maps it), and its LUN there. LIO's write_protect guards the read-only
 * mappings of other targets per initiator (SPC-4 5.12).
 */
export function servingLuns(t: Pick<Topology, 'targets'>): Map<string, { target: string; lun: number }> {
  const out = new Map<string, { target: string; lun: number; readOnly: boolean }>();
  for (const tg of t.targets) {
    if (!isFabricDriver(tg.driver)) continue;
    for (const m of tg.luns) {
      const had = out.get(m.device);
      if (had === undefined || (had.readOnly && !m.readOnly)) out.set(m.device, { target: tg.name, lun: m.lun, readOnly: m.readOnly });
    }
  }
  return new Map([...out].map(([d, v]) => [d, { target: v.target, lun: v.lun }]));
}

/** The topology a runtime of the shim's own needs: the fabric targets and the devices they export. */
export function fabricTopology(t: Pick<Topology, 'devices' | 'targets'> & { stateDir?: string }): Pick<Topology, 'devices' | 'targets'> & { stateDir?: string } {
  const targets = t.targets.filter(tg => isFabricDriver(tg.driver));
  const used = new Set(targets.flatMap(tg => tg.luns.map(m => m.device)));
  return { devices: t.devices.filter(d => used.has(d.name)), targets, ...(t.stateDir !== undefined ? { stateDir: t.stateDir } : {}) };
}

/** A change of a device the kernel asked for through configfs (dev_size, emulate_write_cache). */
export type DeviceChange = { readonly sizeBytes: bigint } | { readonly writeCache: DeviceConfig['writeCache'] };

/** What the shim needs of the runtime it serves from: the daemon's, or one of its own. */
export interface ShimRuntime {
  /** Opens the I_T nexus that stands for LIO's core on `target` (undefined: no such target). */
  openNexus(target: string, initiator: string): NexusApi | undefined;
  /** Carries out `change` on `device` everywhere it lives (and in the running topology). */
  changeDevice(device: string, change: DeviceChange): Promise<void>;
  /** Stops the runtime if the shim owns it. */
  stop(): Promise<void>;
}

/** `nexus shim`'s runtime: the fabric targets' devices on embedded mode's composition. */
export async function ownRuntime(topology: Topology): Promise<ShimRuntime> {
  let current = fabricTopology(topology);
  const engine = await EmbeddedTarget.start(current, { threads: topology.engine?.threads ?? 0 });
  return {
    openNexus: (target, initiator) => engine.runtime.engine.openNexus({ targetName: target, initiatorName: initiator }),
    async changeDevice(device, change) {
      const cfg = current.devices.find(d => d.name === device);
      if (cfg === undefined) throw new NexusError('ERR_TOPOLOGY', `unknown device "${device}"`);
      const after = { ...current, devices: current.devices.map(d => (d === cfg ? { ...d, ...change } : d)) };
      if ('sizeBytes' in change) {
        await engine.runtime.reconfigure({ kind: 'resize', device, sizeBytes: String(change.sizeBytes) }, { kind: 'resize', device, sizeBytes: String(cfg.sizeBytes) }, after);
      } else {
        await engine.runtime.reconfigure({ kind: 'writeCache', device, mode: change.writeCache }, { kind: 'writeCache', device, mode: cfg.writeCache }, after);
      }
      current = after;
    },
    stop: () => engine.stop(),
  };
}

const EINVAL = constants.errno.EINVAL;
const EIO = constants.errno.EIO;

export class Shim {
  private readonly devices = new Map<string, TcmuDevice>();
  private stopped = false;
  private netlink: TcmuNetlink | undefined;
  /** The devices this shim serves, by the uio name the kernel's events carry. */
  private readonly byUioName = new Map<string, string>();

  /** The exported devices as they are now (sizes and cache modes follow the kernel's changes). */
  private readonly configs: Map<string, DeviceConfig>;
  private readonly serving: Map<string, { target: string; lun: number }>;

  private constructor(
    private readonly runtime: ShimRuntime,
    private readonly fsys: ConfigfsFs,
    private readonly owned: ConfigfsOp[],
    private readonly deps: ShimDeps,
    topology: Topology,
  ) {
    this.configs = new Map(topology.devices.map(d => [d.name, { ...d }]));
    this.serving = servingLuns(topology);
  }

  /** The TCMU device serving `device`, while it runs. */
  device(name: string): TcmuDevice | undefined { return this.devices.get(name); }

  /**
   * Wires and serves `topology`'s fabric targets. Fails with every reason the kernel is not ready
   * (configfs, TCMU, each fabric's module) before making anything; a step that fails undoes the
   * ones before it. `runtime` is the daemon's (`nexus serve`); without it the shim starts its own.
   */
  static async start(topology: Topology, deps: ShimDeps = {}, runtime?: ShimRuntime): Promise<Shim | { errors: string[] }> {
    const fsys = deps.fsys ?? nodeFs;
    const settings = deps.settings ?? DEFAULT_SHIM_SETTINGS;
    const errors = [...shimTopologyErrors(topology), ...checkKernel(topology, fsys, settings, deps.sysModule)];
    if (errors.length > 0) return { errors };
    const plan = planShim(topology, fsys, settings);
    const engine = runtime ?? await ownRuntime(topology);
    const previous = readOwned(deps.stateFile);
    const shim = new Shim(engine, fsys, [], deps, topology);
    for (const device of plan.backstores.keys()) shim.byUioName.set(uioNameOf(settings.hba, device), device);
    const open = deps.openNetlink ?? (cb => openNetlink(Nlmsg.NETLINK_GENERIC, cb));
    const netlink = await TcmuNetlink.start(cb => open(cb), e => shim.onKernelEvent(e), deps.log);
    if (!(netlink instanceof TcmuNetlink)) {
      await engine.stop();
      return { errors: [netlink.error] };
    }
    shim.netlink = netlink;
    const applied: ConfigfsOp[] = [];
    try {
      for (const op of plan.up) {
        await shim.apply(op, topology);
        applied.push(op);
      }
    } catch (e) {
      await shim.undo(undoOps(applied));
      netlink.close();
      await engine.stop();
      return { errors: [(e as Error).message] };
    }
    // What a killed run made is ours to remove too; its serve steps are this run's.
    const served = new Set(previous.filter(o => o.op === 'serve').map(o => (o as { device: string }).device));
    shim.owned.push(...previous, ...applied.filter(o => o.op !== 'serve' || !served.has(o.device)));
    writeOwned(deps.stateFile, shim.owned);
    return shim;
  }

  private async apply(op: ConfigfsOp, topology?: Topology): Promise<void> {
    const fsys = this.fsys;
    try {
      switch (op.op) {
        case 'mkdir': await fsys.mkdir(op.path); break;
        case 'write': await fsys.write(op.path, op.value); break;
        case 'symlink': await fsys.symlink(op.target, op.path); break;
        case 'unlink': await fsys.unlink(op.path); break;
        case 'rmdir': await fsys.rmdir(op.path); break;
        case 'serve': this.serve(op.device, op.uioName, topology!); break;
        case 'stop': await this.devices.get(op.device)?.close(); this.devices.delete(op.device); break;
      }
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new NexusError('ERR_SHIM', `${formatOp(op)}: ${err.code ?? ''}${err.code ? ' ' : ''}${err.message}`);
    }
  }

  /** Maps the uio device target_core_user made for `device` and serves its ring. */
  private serve(device: string, uioName: string, topology: Topology): void {
    const sysClassUio = this.deps.sysClassUio ?? '/sys/class/uio';
    const uio = this.fsys.list(sysClassUio).find(u => this.fsys.read(path.join(sysClassUio, u, 'name')).trim() === uioName);
    if (uio === undefined) throw new NexusError('ERR_SHIM', `no uio device is named ${uioName} in ${sysClassUio}`);
    const size = Number(this.fsys.read(path.join(sysClassUio, uio, 'maps', 'map0', 'size')).trim());
    const open = this.deps.openRing ?? openUioRing;
    let served: TcmuDevice | undefined;
    const ring = open(path.join(this.deps.devDir ?? '/dev', uio), size, ev => served?.onEvent(ev));
    if (isNativeError(ring)) throw new NexusError('ERR_SHIM', `${uio}: ${ring.errno} ${ring.message ?? ''}`);
    const cfg = topology.devices.find(d => d.name === device);
    const at = this.serving.get(device);
    const nexus = at !== undefined ? this.runtime.openNexus(at.target, `tcmu:${uioName}`) : undefined;
    if (at === undefined || nexus === undefined) {
      ring.close();
      throw new NexusError('ERR_SHIM', `no fabric target of the runtime exports ${device}`);
    }
    const d = TcmuDevice.attach({
      port: { map: ring.map, kick: () => ring.kick(), close: () => ring.close() },
      nexus, lun: at.lun, deviceType: cfg?.deviceType, log: this.deps.log,
      onFailed: f => this.deps.log?.error({ device, fault: f.fault }, 'tcmu device failed'),
    });
    if (isRingFault(d)) {
      ring.close();
      throw new NexusError('ERR_SHIM', `${uio}: ${d.fault}`);
    }
    served = d;
    this.devices.set(device, d);
    // Entries may be waiting already (a ring taken over).
    d.serve();
  }

  /**
   * One of the kernel's TCMU events (DESIGN.md §8): the answer the kernel waits for, or undefined
   * for a device another handler serves (tcmu-runner's) and for the add the shim made itself.
   */
  private async onKernelEvent(e: TcmuEvent): Promise<number | undefined> {
    const device = this.byUioName.get(e.uioName);
    if (device === undefined) return undefined;
    switch (e.cmd) {
      case TcmuGenlCmd.TCMU_CMD_ADDED_DEVICE:
        return undefined;
      case TcmuGenlCmd.TCMU_CMD_REMOVED_DEVICE: {
        const d = this.devices.get(device);
        this.devices.delete(device);
        if (d) {
          this.deps.log?.info({ device }, 'tcmu: the kernel removes the device; its ring is no longer served');
          await d.close();
        }
        return 0;
      }
      case TcmuGenlCmd.TCMU_CMD_RECONFIG_DEVICE:
        return this.reconfigure(device, e);
    }
  }

  private async reconfigure(device: string, e: TcmuEvent): Promise<number> {
    const cfg = this.configs.get(device);
    if (cfg === undefined) return -EINVAL;
    try {
      if (e.devSize !== undefined) {
        // SBC-4 4.5: a logical unit's capacity is whole logical blocks.
        if (e.devSize <= 0n || e.devSize % BigInt(cfg.blockSize) !== 0n) {
          this.deps.log?.warn({ device, devSize: String(e.devSize), blockSize: cfg.blockSize }, 'tcmu: dev_size refused: not a whole number of blocks');
          return -EINVAL;
        }
        await this.runtime.changeDevice(device, { sizeBytes: e.devSize });
        cfg.sizeBytes = e.devSize;
        this.deps.log?.info({ device, sizeBytes: String(e.devSize) }, 'tcmu: resized by the kernel (dev_size)');
      }
      if (e.writeCache !== undefined) {
        const mode: DeviceConfig['writeCache'] = e.writeCache ? 'writeback' : 'writethrough';
        await this.runtime.changeDevice(device, { writeCache: mode });
        cfg.writeCache = mode;
        this.deps.log?.info({ device, writeCache: mode }, 'tcmu: write cache set by the kernel (emulate_write_cache)');
      }
      if (e.devConfig !== undefined && e.devConfig.trim() !== devConfigOf(device)) {
        this.deps.log?.warn({ device, devConfig: e.devConfig.trim() }, 'tcmu: dev_config refused: Nexus serves this device as its own');
        return -EINVAL;
      }
      return 0;
    } catch (err) {
      this.deps.log?.warn({ device, error: (err as Error).message }, 'tcmu: reconfiguration failed');
      return (err as { code?: string }).code === 'ERR_TOPOLOGY' ? -EINVAL : -EIO;
    }
  }

  private async undo(ops: ConfigfsOp[]): Promise<string[]> {
    const failures: string[] = [];
    for (const op of ops) {
      if ((op.op === 'rmdir' || op.op === 'unlink') && !this.fsys.exists(op.path)) continue;
      try {
        await this.apply(op);
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
    return failures;
  }

  /**
   * Stops serving and stops the runtime, leaving the kernel's wiring in place for another run to
   * take over (the state file says what to remove then): an upgrade in place, or a process that
   * is about to go away.
   */
  async handOver(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const d of this.devices.values()) await d.close();
    this.devices.clear();
    this.netlink?.close();
    await this.runtime.stop();
  }

  /** Undoes everything this shim (or a killed run of it) made, last first, then stops the runtime. */
  async stop(): Promise<string[]> {
    if (this.stopped) return [];
    this.stopped = true;
    const failures = await this.undo(undoOps(this.owned));
    for (const d of this.devices.values()) await d.close();
    this.devices.clear();
    // Only now: removing a backstore waits for the answer to its REMOVED event.
    this.netlink?.close();
    await this.runtime.stop();
    if (failures.length === 0 && this.deps.stateFile) fs.rmSync(this.deps.stateFile, { force: true });
    return failures;
  }
}

function readOwned(file: string | undefined): ConfigfsOp[] {
  if (!file || !fs.existsSync(file)) return [];
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    return Array.isArray(v) ? (v as ConfigfsOp[]) : [];
  } catch {
    return [];
  }
}

function writeOwned(file: string | undefined, ops: readonly ConfigfsOp[]): void {
  if (!file) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(ops));
}
