import { SENSE } from './spec/asc';
import { NexusError } from './result';
import { AccessStateName, AuthConfig, DeviceConfig, GroupConfig, LunMapping, TargetConfig, Topology } from './topology';
import { LogicalUnit, type InquiryFields } from './logical-unit';
import { LunMap, TargetLunMaps, initiatorPattern } from './lun-map';
import { ItNexus, NexusIdentity } from './nexus';
import { Logger } from './pipeline';
import { Backstore } from './types';
import { deviceTypes } from './devices';
import type { LibraryElementView, MediumInDrive, MediumLibrary } from './device-registry';
import { openBackstore } from './backstores';
import { filePrStore, PrStore } from './pr-store';
import { AluaStore, fileAluaStore } from './alua-store';
import { accessStateOf, AccessStatesView, TransitionCause } from './alua';
import type { EngineApi } from './engine-api';
import { SharedReservations } from './shared-reservations';

export interface EngineOptions {
  log?: Logger;
  /** Replace how backstores are opened (tests inject failing stores). */
  openBackstore?: (cfg: DeviceConfig) => Promise<Backstore>;
  /**
   * Where persistent reservations survive power loss (APTPL). Default: `<stateDir>/pr/` when the
   * topology has a state directory; none otherwise (then APTPL is not offered).
   */
  prStore?: PrStore;
  /** Where asymmetric access states survive restarts. Default: `<stateDir>/alua/` when there is one. */
  aluaStore?: AluaStore;
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
  /** Units whose reservations live in the cluster, by device name. */
  private readonly sharedReservations = new Map<string, SharedReservations>();
  private nextNexusId = 1;

  private constructor(private readonly opts: EngineOptions) {}

  static async create(topology: Pick<Topology, 'devices' | 'targets'> & { stateDir?: string }, opts: EngineOptions = {}): Promise<Engine> {
    const prStore = opts.prStore ?? (topology.stateDir ? filePrStore(topology.stateDir) : undefined);
    const aluaStore = opts.aluaStore ?? (topology.stateDir ? fileAluaStore(topology.stateDir) : undefined);
    const e = new Engine({ ...opts, prStore, aluaStore });
    try {
      for (const d of topology.devices) await e.addDevice(d);
      // Personalities that act on other units (a changer loads its drives) start once all exist.
      for (const lu of e.units.values()) await deviceTypes.of(lu.config).start?.(lu, name => e.units.get(name));
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
    // SPC-4 5.12.5: registrations made with APTPL = 1 survive power loss; others do not.
    const saved = prStore?.load(cfg.name);
    const lu = new LogicalUnit(
      unitCfg, store, personality.forUnit(unitCfg, store), personality.modePages(store),
      prStore ? { persist: s => prStore.save(cfg.name, s), persistedAptpl: saved?.aptpl ?? false } : {},
      this.aluaOptions(cfg.name),
    );
    if (saved?.aptpl) lu.pr.restore(saved);
    // A store shared by several gateways keeps the reservations in the cluster: the unit serves
    // once it holds the cluster's state and follows its changes (shared-reservations.ts).
    if (store.openReservations) {
      let shared: SharedReservations;
      try {
        shared = new SharedReservations(lu, await store.openReservations());
        await shared.start();
      } catch (e) {
        await store.close();
        throw e;
      }
      lu.pr.share(shared);
      this.sharedReservations.set(cfg.name, shared);
    }
    // SBC-4 4.6: a store resized from outside (another gateway, the rbd tool) tells every I_T
    // nexus CAPACITY DATA HAS CHANGED, as a resize through this engine does.
    store.onCapacityChange?.(() => lu.raiseUa(SENSE.CAPACITY_DATA_HAS_CHANGED));
    // SPC-4 5.17: the unit's copy manager reaches every unit of this engine by its NAA designator.
    lu.copyTargets = naa => this.unitByNaa(naa);
    // SAM-5 6.5: conditions initiators should hear of at once reach the nexus's transport.
    lu.announce = (nexusId, c) => this.nexuses.get(nexusId)?.unitAttention(lu, c);
    this.units.set(cfg.name, lu);
    return lu;
  }

  /**
   * SPC-4 5.16.2: an implicit change of `device`'s asymmetric access states (the control plane,
   * the embedded API), by target port group id. Persisted before it takes effect; every I_T nexus
   * of the unit gets ASYMMETRIC ACCESS STATE CHANGED. Resolves once any transition time has passed.
   */
  setAccessStates(device: string, states: Record<number, AccessStateName>): Promise<void> {
    const lu = this.units.get(device);
    if (!lu) throw new NexusError('ERR_NO_DEVICE', `no device "${device}"`);
    const changes = Object.entries(states).map(([g, s]) => ({ group: Number(g), state: accessStateOf(s) }));
    return lu.access.change(changes, TransitionCause.IMPLICIT);
  }

  /** `device`'s asymmetric access: TPGS mode, transition time and each named group's state. */
  accessStates(device: string): AccessStatesView {
    const lu = this.units.get(device);
    if (!lu) throw new NexusError('ERR_NO_DEVICE', `no device "${device}"`);
    return lu.access.view();
  }

  /** A unit's saved access states and how it saves them (SPC-4 5.16: kept across restarts). */
  private aluaOptions(device: string): { saved?: Record<number, AccessStateName>; persist?: (s: Record<number, AccessStateName>) => void } {
    const store = this.opts.aluaStore;
    if (!store) return {};
    const saved = store.load(device);
    return { ...(saved ? { saved } : {}), persist: s => store.save(device, s) };
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
    const n = new ItNexus(this.nextNexusId++, ident, map, this, this.opts.log, t.config);
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
   * Write-back or write-through for a running unit (the topology's writeCache): the caching
   * page's WCE follows, the store flushes what it held before it writes through, and every other
   * I_T nexus gets MODE PARAMETERS CHANGED (SPC-4 6.9.1, as after a MODE SELECT).
   */
  async setWriteCache(name: string, mode: DeviceConfig['writeCache']): Promise<void> {
    const lu = this.units.get(name);
    if (!lu) throw new NexusError('ERR_TOPOLOGY', `unknown device "${name}"`);
    const on = mode === 'writeback';
    if (!on) await lu.backstore.flush();
    const changed = lu.modes.setWriteCacheEnabled(on);
    lu.backstore.writeBack = on;
    lu.config.writeCache = mode;
    if (changed) lu.raiseUa(SENSE.MODE_PARAMETERS_CHANGED);
  }

  /**
   * Read-only or read-write for a running unit (the topology's device readOnly). Commands already
   * past the pipeline's write-protect check finish; every later write answers DATA PROTECT, WRITE
   * PROTECTED (27h/00h), and MODE SENSE reports WP. The WP bit is in the mode parameter header
   * (SBC-4 6.5.1), so every I_T nexus gets MODE PARAMETERS CHANGED (SPC-4 5.14, as after a MODE
   * SELECT). Going read-only, what the write-back cache holds is flushed. A store opened read-only
   * stays so (the pipeline also checks the store): the daemon refuses that change live.
   */
  async setReadOnly(name: string, readOnly: boolean): Promise<void> {
    const lu = this.units.get(name);
    if (!lu) throw new NexusError('ERR_TOPOLOGY', `unknown device "${name}"`);
    if (lu.config.readOnly === readOnly) return;
    lu.config.readOnly = readOnly;
    if (readOnly && !lu.backstore.readOnly) await lu.backstore.flush();
    lu.raiseUa(SENSE.MODE_PARAMETERS_CHANGED);
  }

  /**
   * New INQUIRY fields (vendor, product, revision, serial; absent ones take their defaults) for a
   * running unit; every I_T nexus gets INQUIRY DATA HAS CHANGED (SPC-4 5.14, 3Fh/03h), which
   * covers the standard INQUIRY data and the VPD pages.
   */
  setInquiry(name: string, fields: InquiryFields): void {
    const lu = this.units.get(name);
    if (!lu) throw new NexusError('ERR_TOPOLOGY', `unknown device "${name}"`);
    lu.setIdentity(fields);
    lu.raiseUa(SENSE.INQUIRY_DATA_HAS_CHANGED);
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

  /** The elements of the library of changer `name` and what each holds. */
  libraryInventory(name: string): LibraryElementView[] {
    const { lu, library } = this.libraryUnit(name);
    return library.inventory(lu);
  }

  /**
   * The operator puts a cartridge into a mail slot of changer `name` (the first empty one unless
   * `mailSlot`, from 1, is given); its element address. Initiators get IMPORT OR EXPORT ELEMENT
   * ACCESSED. Refused while an initiator keeps the mail slots locked.
   */
  libraryImport(name: string, cartridge: { barcode: string; path: string }, mailSlot?: number): Promise<number> {
    const { lu, library } = this.libraryUnit(name);
    return library.importCartridge(lu, cartridge, mailSlot);
  }

  /** The operator takes the cartridge `barcode` out of its mail slot of changer `name`. */
  libraryExport(name: string, barcode: string): Promise<{ barcode: string; path: string }> {
    const { lu, library } = this.libraryUnit(name);
    return library.exportCartridge(lu, barcode);
  }

  private libraryUnit(name: string): { lu: LogicalUnit; library: MediumLibrary } {
    const lu = this.units.get(name);
    if (!lu) throw new NexusError('ERR_TOPOLOGY', `unknown device "${name}"`);
    const personality = deviceTypes.of(lu.config);
    if (!personality.library) throw new NexusError('ERR_NO_LIBRARY', `device "${name}" (${personality.name}) is not a medium changer`);
    return { lu, library: personality.library };
  }

  /**
   * Remove a device no LUN map names any more (live reconfiguration removes its mappings first):
   * its cache is flushed and its backstore closed.
   */
  async removeDevice(name: string): Promise<void> {
    const lu = this.units.get(name);
    if (!lu) throw new NexusError('ERR_TOPOLOGY', `unknown device "${name}"`);
    for (const t of this.targets.values()) {
      for (const m of t.maps.all()) {
        for (const e of m.entries.values()) {
          if (e.lu === lu) throw new NexusError('ERR_TOPOLOGY', `device "${name}" is still mapped by target "${t.config.name}"`);
        }
      }
    }
    this.units.delete(name);
    await this.closeShared(name);
    try { await lu.backstore.flush(); } finally { await lu.backstore.close(); }
  }

  private async closeShared(device: string): Promise<void> {
    const shared = this.sharedReservations.get(device);
    this.sharedReservations.delete(device);
    await shared?.close();
  }

  /** A target's settings for new logins (alias, portals, CHAP); its LUN maps and groups stay. */
  updateTarget(cfg: Omit<TargetConfig, 'luns' | 'groups'>): void {
    const t = this.targetOf(cfg.name);
    t.config = { ...cfg, luns: t.config.luns, groups: t.config.groups };
  }

  /** Remove a target; its nexuses end as if their sessions had logged out. */
  async removeTarget(name: string): Promise<void> {
    this.targetOf(name);
    const gone = [...this.nexuses.values()].filter(n => n.ident.targetName === name);
    await Promise.all(gone.map(n => n.close('logout')));
    this.targets.delete(name);
  }

  /**
   * A security group for new sessions (SCST): initiators matching its patterns log in to its LUN
   * map; its mappings come with addLun. Sessions already open keep the map they had.
   */
  addGroup(targetName: string, g: Omit<GroupConfig, 'luns'>): void {
    const t = this.targetOf(targetName);
    if (t.maps.byName(g.name)) throw new NexusError('ERR_TOPOLOGY', `target "${targetName}" already has group "${g.name}"`);
    const cfg: GroupConfig = { ...g, initiators: [...g.initiators], luns: [] };
    t.maps.groups.push({ map: new LunMap(g.name, cfg), patterns: cfg.initiators.map(initiatorPattern) });
    t.config = { ...t.config, groups: [...t.config.groups, cfg] };
  }

  removeGroup(targetName: string, group: string): void {
    const t = this.targetOf(targetName);
    const i = t.maps.groups.findIndex(x => x.map.name === group);
    if (i < 0) throw new NexusError('ERR_TOPOLOGY', `target "${targetName}" has no group "${group}"`);
    t.maps.groups.splice(i, 1);
    t.config = { ...t.config, groups: t.config.groups.filter(x => x.name !== group) };
  }

  /** A group's initiator patterns or CHAP, for new logins. */
  updateGroup(targetName: string, group: string, change: { initiators?: readonly string[]; auth?: AuthConfig | null }): void {
    const t = this.targetOf(targetName);
    const g = t.maps.groups.find(x => x.map.name === group);
    if (!g) throw new NexusError('ERR_TOPOLOGY', `target "${targetName}" has no group "${group}"`);
    if (change.initiators !== undefined) g.patterns = change.initiators.map(initiatorPattern);
    t.config = {
      ...t.config,
      groups: t.config.groups.map(x => {
        if (x.name !== group) return x;
        const out: GroupConfig = { ...x, initiators: change.initiators !== undefined ? [...change.initiators] : x.initiators };
        if (change.auth === null) delete out.auth;
        else if (change.auth !== undefined) out.auth = change.auth;
        return out;
      }),
    };
  }

  /**
   * The medium in a drive whose personality tracks one (tape cartridges: the file, its barcode,
   * whether it is loaded), undefined for an empty drive; a medium changer asks before it moves one.
   */
  mediumOf(name: string): MediumInDrive | undefined {
    const lu = this.units.get(name);
    if (!lu) throw new NexusError('ERR_TOPOLOGY', `unknown device "${name}"`);
    const personality = deviceTypes.of(lu.config);
    if (!personality.mediumOf) throw new NexusError('ERR_NO_REMOVABLE_MEDIUM', `device "${name}" (${personality.name}) has no medium it tracks`);
    return personality.mediumOf(lu);
  }

  /** Flush write-back caches and close backstores (daemon shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.nexuses.values()].map(n => n.close('logout')));
    for (const lu of this.units.values()) {
      lu.access.close();
      await this.closeShared(lu.name).catch(() => undefined);
      try { await lu.backstore.flush(); } finally { await lu.backstore.close(); }
    }
    this.units.clear();
  }

  private targetOf(name: string): TargetRuntime {
    const t = this.targets.get(name);
    if (!t) throw new NexusError('ERR_TOPOLOGY', `no target "${name}"`);
    return t;
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
