import { SENSE } from '../../spec/asc';
import { check, GOOD, NexusError, Outcome } from '../../result';
import { LuView } from '../../types';
import { deviceTypes, LibraryElementView } from '../../device-registry';
import { CartridgeState, LibraryPlace, LibraryState, LibraryStore, samePlace } from '../../backstores/library';
import { addressOf, allElements, elementAt, ElementType, MEDIUM_TRANSPORT_ADDRESS } from './elements';
import { ElementReport } from './element-status';
import { moveAllowed } from './mode-pages';

/**
 * A library at work: the changer's unit, its state store and its drives' units.
 *
 * The persisted state is the one truth of where each cartridge is; a drive's medium follows it.
 * Every change is ordered so that a crash at any point leaves each cartridge in exactly one place
 * and start() makes the drives agree with the state again:
 *
 * - into a drive: the state naming the drive is made durable first, then the drive is loaded.
 *   A crash in between leaves a state that says "in the drive" and an empty drive: start()
 *   loads it.
 * - out of a drive: the drive is unloaded first, then the state naming the new element is made
 *   durable. A crash in between leaves a state that still says "in the drive": start() loads it
 *   back, and the cartridge is where the initiator last saw it succeed.
 * - MOVE MEDIUM completes with GOOD only after the new state is durable.
 *
 * One change at a time: moves and operator actions are queued on one chain, since each reads
 * the state, awaits the disk and the drives, then writes the state.
 */
export class Library {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(readonly lu: LuView, readonly store: LibraryStore, readonly drives: readonly LuView[]) {}

  private get state(): LibraryState { return this.store.state; }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work, work);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private cartridgeAt(p: LibraryPlace): CartridgeState | undefined {
    return this.state.cartridges.find(c => samePlace(c.at, p));
  }

  /** The state with `barcode` replaced by `next` (or removed when undefined). */
  private withCartridge(barcode: string, next: CartridgeState | undefined): LibraryState {
    const rest = this.state.cartridges.filter(c => c.barcode !== barcode);
    return { cartridges: next ? [...rest, next] : rest };
  }

  private async load(drive: number, path: string | undefined): Promise<void> {
    const unit = this.drives[drive];
    const personality = deviceTypes.of(unit.config);
    if (!personality.changeMedium) throw new NexusError('ERR_TOPOLOGY', `drive "${unit.name}" has no removable medium`);
    await personality.changeMedium(unit, path);
  }

  /** Make every drive hold what the state says (start, and recovery after a crash). */
  start(): Promise<void> {
    return this.serial(async () => {
      for (let i = 0; i < this.drives.length; i++) {
        const c = this.cartridgeAt({ kind: 'drive', index: i });
        if (c) await this.load(i, c.path);
        // A drive configured with a medium of its own gives it up: the library decides.
        else if (this.drives[i].config.path !== undefined) await this.load(i, undefined);
      }
    });
  }

  /** Every element with what it holds, in ascending address order (READ ELEMENT STATUS). */
  reports(): ElementReport[] {
    return allElements(this.store.config).map(e => {
      const c = e.place ? this.cartridgeAt(e.place) : undefined;
      const r: ElementReport = { type: e.type, address: e.address, full: c !== undefined };
      if (c) {
        r.barcode = c.barcode;
        if (c.from) r.source = addressOf(c.from);
        if (c.imported) r.imported = true;
      }
      if (e.type === ElementType.DATA_TRANSFER && e.place) r.naa = this.drives[e.place.index].identity.naa;
      return r;
    });
  }

  /** Whether `address` names an element of this library. */
  has(address: number): boolean { return elementAt(this.store.config, address) !== undefined; }

  /**
   * SMC-3 6.6 MOVE MEDIUM from `source` to `destination` (element addresses) by the medium
   * transport at `transport` (0 = the default one).
   */
  move(transport: number, source: number, destination: number): Promise<Outcome> {
    return this.serial(async () => {
      const cfg = this.store.config;
      // SMC-3 6.6: a MEDIUM TRANSPORT ADDRESS of zero names the default transport, which is
      // also the library's only one (address 0000h).
      if (transport !== MEDIUM_TRANSPORT_ADDRESS) return check(SENSE.INVALID_ELEMENT_ADDRESS);
      const from = elementAt(cfg, source);
      const to = elementAt(cfg, destination);
      if (!from || !to) return check(SENSE.INVALID_ELEMENT_ADDRESS);
      // The transport holds no cartridge between commands: nothing to move from it, and the
      // device capabilities page offers no move into it.
      if (from.kind === 'transport') return check(SENSE.MEDIUM_SOURCE_ELEMENT_EMPTY);
      if (to.kind === 'transport' || !moveAllowed(from.kind, to.kind)) return check(SENSE.INVALID_ELEMENT_ADDRESS);
      const cart = this.cartridgeAt(from);
      if (!cart) return check(SENSE.MEDIUM_SOURCE_ELEMENT_EMPTY);
      if (this.cartridgeAt(to)) return check(SENSE.MEDIUM_DESTINATION_ELEMENT_FULL);
      const moved: CartridgeState = { barcode: cart.barcode, path: cart.path, at: to, from };
      if (from.kind === 'drive') {
        // SPC-4 PREVENT ALLOW MEDIUM REMOVAL on the drive: its medium stays (SMC-3 6.6: MEDIUM
        // REMOVAL PREVENTED).
        if (this.drives[from.index].preventRemoval.size > 0) return check(SENSE.MEDIUM_REMOVAL_PREVENTED);
        try {
          await this.load(from.index, undefined);
        } catch (e) {
          if (e instanceof NexusError && e.code === 'ERR_MEDIUM_REMOVAL_PREVENTED') return check(SENSE.MEDIUM_REMOVAL_PREVENTED);
          throw e;
        }
      }
      // Into a drive: durable first, loaded second (see the class comment).
      try {
        await this.store.save(this.withCartridge(cart.barcode, moved));
      } catch (e) {
        if (from.kind === 'drive') await this.load(from.index, cart.path);
        throw e;
      }
      if (to.kind === 'drive') {
        try {
          await this.load(to.index, cart.path);
        } catch {
          // The drive cannot take it (its file is unreadable): the cartridge goes back.
          await this.store.save(this.withCartridge(cart.barcode, cart));
          if (from.kind === 'drive') await this.load(from.index, cart.path);
          return check(SENSE.MEDIA_LOAD_OR_EJECT_FAILED);
        }
      }
      return GOOD;
    });
  }

  // ---- the operator -------------------------------------------------------------------------

  inventory(): LibraryElementView[] {
    return allElements(this.store.config).map(e => {
      const kind = e.place?.kind ?? 'transport';
      const v: LibraryElementView = {
        element: kind, number: e.place ? e.place.index + (kind === 'drive' ? 0 : 1) : 0, address: e.address,
      };
      if (e.place?.kind === 'drive') v.device = this.drives[e.place.index].name;
      const c = e.place ? this.cartridgeAt(e.place) : undefined;
      if (c) {
        v.barcode = c.barcode;
        v.path = c.path;
        if (c.from) v.source = addressOf(c.from);
        if (c.imported) v.imported = true;
      }
      return v;
    });
  }

  /** SMC-3: the mail slots stay shut to the operator while an initiator prevents removal. */
  private checkMailSlotOpen(): void {
    if (this.lu.preventRemoval.size > 0) {
      throw new NexusError('ERR_MEDIUM_REMOVAL_PREVENTED', `${this.lu.name}: the import/export elements are locked (${SENSE.MEDIUM_REMOVAL_PREVENTED.name})`);
    }
  }

  /**
   * The operator puts a cartridge into a mail slot; every I_T nexus of the changer then gets
   * IMPORT OR EXPORT ELEMENT ACCESSED (SMC-3), telling software to read the element status again.
   */
  importCartridge(cartridge: { barcode: string; path: string }, mailSlot?: number): Promise<number> {
    return this.serial(async () => {
      this.checkMailSlotOpen();
      const cfg = this.store.config;
      if (!/^[\x21-\x7e]{1,32}$/.test(cartridge.barcode)) {
        throw new NexusError('ERR_LIBRARY', `bar code "${cartridge.barcode}" is not 1 to 32 printable characters without spaces`);
      }
      if (this.state.cartridges.some(c => c.barcode === cartridge.barcode)) {
        throw new NexusError('ERR_LIBRARY', `${this.lu.name} already has a cartridge with bar code ${cartridge.barcode}`);
      }
      let index: number;
      if (mailSlot !== undefined) {
        if (!Number.isInteger(mailSlot) || mailSlot < 1 || mailSlot > cfg.mailSlots) {
          throw new NexusError('ERR_LIBRARY', `${this.lu.name} has no mail slot ${mailSlot} (it has ${cfg.mailSlots})`);
        }
        index = mailSlot - 1;
        if (this.cartridgeAt({ kind: 'mail', index })) throw new NexusError('ERR_LIBRARY', `mail slot ${mailSlot} of ${this.lu.name} is full`);
      } else {
        index = [...Array(cfg.mailSlots).keys()].find(i => !this.cartridgeAt({ kind: 'mail', index: i })) ?? -1;
        if (index < 0) throw new NexusError('ERR_LIBRARY', `${this.lu.name} has no empty mail slot`);
      }
      const at: LibraryPlace = { kind: 'mail', index };
      await this.store.save(this.withCartridge(cartridge.barcode, { barcode: cartridge.barcode, path: cartridge.path, at, imported: true }));
      this.lu.raiseUa(SENSE.IMPORT_OR_EXPORT_ELEMENT_ACCESSED);
      return addressOf(at);
    });
  }

  /** The operator takes a cartridge out of its mail slot (IMPORT OR EXPORT ELEMENT ACCESSED follows). */
  exportCartridge(barcode: string): Promise<{ barcode: string; path: string }> {
    return this.serial(async () => {
      this.checkMailSlotOpen();
      const c = this.state.cartridges.find(x => x.barcode === barcode);
      if (!c) throw new NexusError('ERR_LIBRARY', `${this.lu.name} has no cartridge with bar code ${barcode}`);
      if (c.at.kind !== 'mail') {
        throw new NexusError('ERR_LIBRARY', `cartridge ${barcode} is in ${c.at.kind} ${c.at.index + (c.at.kind === 'drive' ? 0 : 1)}, not in a mail slot: move it there first`);
      }
      await this.store.save(this.withCartridge(barcode, undefined));
      this.lu.raiseUa(SENSE.IMPORT_OR_EXPORT_ELEMENT_ACCESSED);
      return { barcode: c.barcode, path: c.path };
    });
  }
}
