import type { Engine, EngineOptions } from './engine/engine';
import { Supervisor, SupervisorOptions } from './workers/supervisor';
import { NexusError } from './engine/result';
import type { AccessStateName, Topology, LunMapping } from './engine/topology';
import type { AccessStatesView } from './engine/alua';
import type { LibraryElementView } from './engine/device-registry';
import type { MediumInDrive } from './engine/device-registry';
import { LocalSession } from './transports/local/session';

/**
 * Embedded mode (SCST's scst_local): the engine in-process, with an initiator API for test rigs.
 * It composes the same runtime the daemon runs (src/workers/supervisor.ts) with the local
 * transport (src/transports/local/session.ts), as src/daemon/daemon.ts composes it with iSCSI.
 * The sessions live on the calling thread, whose scheduler hosts every unit with 0 engine threads
 * (every command a direct call) and none with N (every command crosses a ring to the unit's
 * engine thread, as a session placed away from its units would in the daemon).
 */

export interface EmbeddedOptions extends EngineOptions {
  /**
   * Engine threads: 0 (default) hosts the units on this thread; N > 0 runs the logical units on
   * N engine threads, with the same results.
   */
  threads?: number;
  /** Runtime tuning (rings, pool, queue bound, supervision) when threads > 0. */
  runtime?: Omit<SupervisorOptions, 'threads' | 'callingThread' | 'here'>;
}

export class EmbeddedTarget {
  private constructor(readonly runtime: Supervisor, private readonly defaultTarget: string) {}

  /** Start an engine from a normalized topology (see src/daemon/config for the JSON normalizer). */
  static async start(topology: Pick<Topology, 'devices' | 'targets'> & { stateDir?: string }, opts: EmbeddedOptions = {}): Promise<EmbeddedTarget> {
    const first = topology.targets[0]?.name;
    if (!first) throw new NexusError('ERR_TOPOLOGY', 'topology has no target');
    const threads = opts.threads ?? 0;
    const { log, openBackstore, prStore } = opts;
    // Every command of an embedded session crosses to an engine thread anyway: spread the units
    // over the threads (placement.ts) unless asked otherwise.
    const runtime = await Supervisor.create(topology, {
      homing: 'spread', ...opts.runtime, threads, callingThread: true, here: { log, openBackstore, prStore },
    });
    return new EmbeddedTarget(runtime, first);
  }

  /** The units' Engine when they all live on this thread, for run-time reconfiguration. */
  private local(): Engine {
    if (this.runtime.threads === 0) return this.runtime.engine.unitEngine;
    throw new NexusError('ERR_UNSUPPORTED', 'LUN and size changes are not available with engine threads yet');
  }

  /**
   * Open an I_T nexus as `initiatorName` (optionally with an initiator port id, like an ISID, and
   * the portal of the target it comes in on: its target port and target port group).
   */
  session(initiatorName: string, opts: { target?: string; isid?: string; tpgt?: number; portal?: string } = {}): LocalSession {
    const targetName = opts.target ?? this.defaultTarget;
    const n = this.runtime.engine.openNexus({
      targetName, initiatorName, isid: opts.isid, tpgt: opts.tpgt, ...(opts.portal === undefined ? {} : { portal: opts.portal }),
    });
    if (!n) throw new NexusError('ERR_NO_TARGET', `no target "${targetName}"`);
    return new LocalSession(n);
  }

  /**
   * SPC-4 5.16.2: change `device`'s asymmetric access states by target port group id (an implicit
   * transition: every I_T nexus of the unit gets ASYMMETRIC ACCESS STATE CHANGED).
   */
  setAccessStates(device: string, states: Record<number, AccessStateName>): Promise<void> {
    return this.local().setAccessStates(device, states);
  }

  accessStates(device: string): AccessStatesView { return this.local().accessStates(device); }

  addLun(m: LunMapping, opts: { target?: string; group?: string } = {}): void {
    this.local().addLun(opts.target ?? this.defaultTarget, m, opts.group);
  }

  removeLun(lun: number, opts: { target?: string; group?: string } = {}): void {
    this.local().removeLun(opts.target ?? this.defaultTarget, lun, opts.group);
  }

  resize(device: string, sizeBytes: bigint): Promise<void> { return this.local().resizeDevice(device, sizeBytes); }

  /**
   * Take the medium out of a CD/DVD-ROM drive or a tape drive (`path` undefined), or put the
   * image or cartridge at `path` in.
   */
  changeMedium(device: string, path?: string): Promise<void> { return this.local().changeMedium(device, path); }

  /** The elements of changer `device`'s library and the cartridge in each. */
  libraryInventory(device: string): LibraryElementView[] { return this.local().libraryInventory(device); }

  /** The operator puts a cartridge into a mail slot of changer `device`; its element address. */
  libraryImport(device: string, cartridge: { barcode: string; path: string }, mailSlot?: number): Promise<number> {
    return this.local().libraryImport(device, cartridge, mailSlot);
  }

  /** The operator takes the cartridge `barcode` out of a mail slot of changer `device`. */
  libraryExport(device: string, barcode: string): Promise<{ barcode: string; path: string }> {
    return this.local().libraryExport(device, barcode);
  }

  /** The cartridge in a tape drive (file, barcode, loaded), undefined when it is empty. */
  mediumOf(device: string): MediumInDrive | undefined { return this.local().mediumOf(device); }

  stop(): Promise<void> { return this.runtime.close(); }
}
