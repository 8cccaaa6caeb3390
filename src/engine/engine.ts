import { SENSE } from './spec/asc';
import { NexusError } from './result';
import { DeviceConfig, LunMapping, TargetConfig, Topology } from './topology';
import { LogicalUnit } from './logical-unit';
import { TargetLunMaps } from './lun-map';
import { ItNexus, NexusIdentity } from './nexus';
import { Logger } from './pipeline';
import { Backstore } from './types';
import { deviceTypes } from './devices';
import { openBackstore } from './backstores';
import { filePrStore, PrStore } from './pr-store';
import type { EngineApi } from './engine-api';

export interface EngineOptions {
  log?: Logger;
  /** Replace how backstores are opened (tests inject failing stores). */
  openBackstore?: (cfg: DeviceConfig) => Promise<Backstore>;
  /**
   * Where persistent reservations survive power loss (APTPL). Default: `<stateDir>/pr/` when the
   * topology has a state directory; none otherwise (then APTPL is not offered).
   */
  prStore?: PrStore;
}

interface TargetRuntime { config: TargetConfig; maps: TargetLunMaps }

/**
 * The SCSI target engine as pure state and logic: logical units, targets with their LUN maps, and
 * the I_T nexuses that transports open. Hosts no sockets and no threads; any thread can own one.
 */
export class Engine implements EngineApi {
  readonly units = new Map<string, LogicalUnit>();
  private readonly targets = new Map<string, TargetRuntime>();
  private readonly nexuses = new Map<number, ItNexus>();
  private nextNexusId = 1;

  private constructor(private readonly opts: EngineOptions) {}

  static async create(topology: Pick<Topology, 'devices' | 'targets'> & { stateDir?: string }, opts: EngineOptions = {}): Promise<Engine> {
    const prStore = opts.prStore ?? (topology.stateDir ? filePrStore(topology.stateDir) : undefined);
    const e = new Engine({ ...opts, prStore });
    try {
      for (const d of topology.devices) await e.addDevice(d);
      for (const t of topology.targets) e.addTarget(t);
    } catch (err) {
      await e.close();
      throw err;
    }
    return e;
  }

  async addDevice(cfg: DeviceConfig): Promise<LogicalUnit> {
    if (this.units.has(cfg.name)) throw new NexusError('ERR_TOPOLOGY', `device "${cfg.name}" already exists`);
    // The device's personality (disk unless the topology says otherwise) gives its command table,
    // bindings and mode pages.
    const personality = deviceTypes.of(cfg);
    const store = await (this.opts.openBackstore ?? openBackstore)(cfg);
    const prStore = this.opts.prStore;
    // A store with a block size of its own (a pass-through device) sizes the unit's transfers.
    const unitCfg = store.blockSize !== undefined && store.blockSize !== cfg.blockSize
      ? { ...cfg, blockSize: store.blockSize as DeviceConfig['blockSize'] } : cfg;
    const lu = new LogicalUnit(
      unitCfg, store, personality.forUnit(unitCfg, store), personality.modePages(store),
      prStore ? { persist: s => prStore.save(cfg.name, s) } : {},
    );
    // SPC-4 5.12.5: registrations made with APTPL = 1 survive power loss; others do not.
    const saved = prStore?.load(cfg.name);
    if (saved?.aptpl) lu.pr.restore(saved);
    // SPC-4 5.17: the unit's copy manager reaches every unit of this engine by its NAA designator.
    lu.copyTargets = naa => this.unitByNaa(naa);
    this.units.set(cfg.name, lu);
    return lu;
  }

  addTarget(cfg: TargetConfig): void {
    if (this.targets.has(cfg.name)) throw new NexusError('ERR_TOPOLOGY', `target "${cfg.name}" already exists`);
    const maps = new TargetLunMaps(cfg, name => {
      const lu = this.units.get(name);
      if (!lu) throw new NexusError('ERR_TOPOLOGY', `target "${cfg.name}" maps unknown device "${name}"`);
      return lu;
    });
    this.targets.set(cfg.name, { config: cfg, maps });
  }

  /** The unit whose NAA designator (VPD 83h) is `naa`, for EXTENDED COPY target descriptors. */
  unitByNaa(naa: Uint8Array): LogicalUnit | undefined {
    for (const lu of this.units.values()) if (lu.identity.naa.equals(naa)) return lu;
    return undefined;
  }

  targetNames(): string[] { return [...this.targets.keys()]; }

  targetConfig(name: string): TargetConfig | undefined { return this.targets.get(name)?.config; }

  /** Whether `initiatorName` sees anything of `targetName` (SendTargets filtering). */
  canSee(targetName: string, initiatorName: string): boolean {
    const t = this.targets.get(targetName);
    return !!t && t.maps.select(initiatorName).entries.size > 0;
  }

  /** The LUN map group an initiator falls in (auth overrides per group). */
  groupFor(targetName: string, initiatorName: string): string | undefined {
    return this.targets.get(targetName)?.maps.select(initiatorName).group?.name;
  }

  /** Open an I_T nexus; undefined when the target does not exist. */
  openNexus(ident: NexusIdentity): ItNexus | undefined {
    const t = this.targets.get(ident.targetName);
    if (!t) return undefined;
    const map = t.maps.select(ident.initiatorName);
    const n = new ItNexus(this.nextNexusId++, ident, map, this, this.opts.log);
    for (const lu of n.units()) n.attach(lu);
    this.nexuses.set(n.id, n);
    return n;
  }

  /** Called by ItNexus.close. */
  forgetNexus(n: ItNexus): void { this.nexuses.delete(n.id); }

  liveNexuses(): ItNexus[] { return [...this.nexuses.values()]; }

  unitsOfTarget(targetName: string): LogicalUnit[] {
    const t = this.targets.get(targetName);
    if (!t) return [];
    const set = new Set<LogicalUnit>();
    for (const m of t.maps.all()) for (const e of m.entries.values()) set.add(e.lu);
    return [...set];
  }

  /**
   * Map a device at a LUN at run time (the target default map, or a group's). Every nexus using
   * that map gets REPORTED LUNS DATA HAS CHANGED (SPC-4 5.14) on the units it already saw.
   */
  addLun(targetName: string, m: LunMapping, group?: string): void {
    const map = this.mapOf(targetName, group);
    if (map.entries.has(m.lun)) throw new NexusError('ERR_TOPOLOGY', `LUN ${m.lun} is already mapped`);
    const lu = this.units.get(m.device);
    if (!lu) throw new NexusError('ERR_TOPOLOGY', `unknown device "${m.device}"`);
    this.announceLunChange(map);
    map.entries.set(m.lun, { lun: m.lun, lu, readOnly: m.readOnly });
    for (const n of this.nexuses.values()) if (n.map === map) n.attach(lu);
  }

  removeLun(targetName: string, lun: number, group?: string): void {
    const map = this.mapOf(targetName, group);
    const e = map.entries.get(lun);
    if (!e) throw new NexusError('ERR_TOPOLOGY', `LUN ${lun} is not mapped`);
    map.entries.delete(lun);
    for (const n of this.nexuses.values()) {
      if (n.map !== map) continue;
      if (![...map.entries.values()].some(x => x.lu === e.lu)) {
        e.lu.nexusKeys.delete(n.id);
        e.lu.tasks.abort(t => t.nexusId === n.id);
      }
    }
    this.announceLunChange(map);
  }

  /** Resize a device; every I_T nexus of it gets CAPACITY DATA HAS CHANGED (SBC-4 4.x). */
  async resizeDevice(name: string, sizeBytes: bigint): Promise<void> {
    const lu = this.units.get(name);
    if (!lu) throw new NexusError('ERR_TOPOLOGY', `unknown device "${name}"`);
    if (sizeBytes % BigInt(lu.blockSize) !== 0n) {
      throw new NexusError('ERR_TOPOLOGY', `size ${sizeBytes} is not a multiple of the block size ${lu.blockSize}`);
    }
    await lu.backstore.resize(sizeBytes);
    lu.raiseUa(SENSE.CAPACITY_DATA_HAS_CHANGED);
  }

  /**
   * Change the medium of a device whose personality has one the host can swap (CD/DVD-ROM):
   * `path` undefined ejects it, a path inserts that image. Refused (NexusError
   * ERR_MEDIUM_REMOVAL_PREVENTED) while an initiator keeps the medium locked in.
   */
  async changeMedium(name: string, path?: string): Promise<void> {
    const lu = this.units.get(name);
    if (!lu) throw new NexusError('ERR_TOPOLOGY', `unknown device "${name}"`);
    const personality = deviceTypes.of(lu.config);
    if (!personality.changeMedium) throw new NexusError('ERR_NO_REMOVABLE_MEDIUM', `device "${name}" (${personality.name}) has no medium to change`);
    await personality.changeMedium(lu, path);
  }

  /** Flush write-back caches and close backstores (daemon shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.nexuses.values()].map(n => n.close('logout')));
    for (const lu of this.units.values()) {
      try { await lu.backstore.flush(); } finally { await lu.backstore.close(); }
    }
    this.units.clear();
  }

  private mapOf(targetName: string, group?: string) {
    const t = this.targets.get(targetName);
    const map = t?.maps.byName(group);
    if (!map) throw new NexusError('ERR_TOPOLOGY', `no target "${targetName}"${group ? ` group "${group}"` : ''}`);
    return map;
  }

  private announceLunChange(map: ReturnType<Engine['mapOf']>): void {
    for (const n of this.nexuses.values()) {
      if (n.map !== map) continue;
      for (const lu of n.units()) lu.ua.queue(n.itKey).add(SENSE.REPORTED_LUNS_DATA_HAS_CHANGED);
    }
  }
}
