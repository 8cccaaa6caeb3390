import * as fs from 'node:fs/promises';
import * as nodePath from 'node:path';
import { NexusError } from '../result';
import { LibraryConfig } from '../topology';
import { Backstore } from '../types';
import { errnoError } from './errno-sense';

/**
 * Where a medium changer's library keeps its state (handler `changer`): which cartridge is in
 * which element, where each came from (the SOURCE STORAGE ELEMENT ADDRESS SMC-3 reports), and
 * whether a cartridge in a mail slot was put there by the operator. A changer has no blocks: this
 * store's "bytes" are the state file, a small JSON document replaced whole on every change.
 *
 * Crash safety: the new document is written to a temporary file, fsynced, renamed over the old
 * one, and the directory is fsynced, so after a crash the file is either the old state or the
 * new one, never a mix or nothing. `save` resolves only once the new state is durable.
 */

/** An element of the library that can hold a cartridge; `index` counts from 0 within its kind. */
export interface LibraryPlace {
  kind: 'slot' | 'mail' | 'drive';
  index: number;
}

export interface CartridgeState {
  barcode: string;
  /** The medium file the drives load. */
  path: string;
  at: LibraryPlace;
  /** The element it was last moved from; absent when it never moved (or came in by the mail slot). */
  from?: LibraryPlace;
  /** In a mail slot because the operator put it there (SMC-3 IMPEXP), not because it was exported. */
  imported?: boolean;
}

export interface LibraryState {
  cartridges: CartridgeState[];
}

/** The state file's format version. */
const STATE_VERSION = 1;

export function samePlace(a: LibraryPlace | undefined, b: LibraryPlace | undefined): boolean {
  return a !== undefined && b !== undefined && a.kind === b.kind && a.index === b.index;
}

/** How many elements of a kind the library has. */
export function placesOf(cfg: LibraryConfig, kind: LibraryPlace['kind']): number {
  return kind === 'slot' ? cfg.slots : kind === 'mail' ? cfg.mailSlots : cfg.drives.length;
}

export class LibraryStore implements Backstore {
  readonly kind = 'null' as const;
  readonly sizeBytes = 0n;
  readonly readOnly = true;
  readonly thin = false;
  writeBack = false;

  private constructor(readonly config: LibraryConfig, private current: LibraryState) {}

  /**
   * The library of a changer: the state file when there is one, else the topology's cartridges
   * in their slots (written out at once, so the file exists from the first start). Cartridges of
   * the topology whose bar code the state does not know join it in their slot when it is free:
   * a cartridge added to the topology later appears; one the state already has stays where the
   * state says it is.
   */
  static async open(name: string, cfg: LibraryConfig | undefined): Promise<LibraryStore> {
    if (!cfg) throw new NexusError('ERR_TOPOLOGY', `changer "${name}" has no library`);
    let text: string | undefined;
    try {
      text = await fs.readFile(cfg.statePath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const state: LibraryState = text === undefined ? { cartridges: [] } : decodeState(cfg.statePath, text);
    let added = text === undefined;
    for (const c of cfg.cartridges) {
      if (state.cartridges.some(s => s.barcode === c.barcode)) continue;
      const at: LibraryPlace = { kind: 'slot', index: c.slot - 1 };
      if (state.cartridges.some(s => samePlace(s.at, at))) continue;
      state.cartridges.push({ barcode: c.barcode, path: c.path, at });
      added = true;
    }
    checkState(cfg, state, cfg.statePath);
    const store = new LibraryStore(cfg, state);
    if (added) await store.save(state);
    return store;
  }

  /** The state as last made durable. */
  get state(): LibraryState { return this.current; }

  /** Make `next` the library's state: durable when the promise resolves. */
  async save(next: LibraryState): Promise<void> {
    checkState(this.config, next, this.config.statePath);
    const file = this.config.statePath;
    const dir = nodePath.dirname(file);
    await fs.mkdir(dir, { recursive: true });
    const tmp = `${file}.tmp`;
    const fh = await fs.open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(JSON.stringify({ version: STATE_VERSION, cartridges: next.cartridges }, null, 1) + '\n');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, file);
    // The rename is durable only once the directory entry is.
    const d = await fs.open(dir, 'r');
    try { await d.sync(); } finally { await d.close(); }
    this.current = next;
  }

  // A library holds no blocks: nothing reaches these through the pipeline (a changer has no
  // data command); they answer as a device without a medium would.
  read(): Promise<void> { return Promise.reject(errnoError('ENODEV', 'a medium changer has no blocks')); }
  write(): Promise<void> { return this.read(); }
  unmap(): Promise<void> { return this.read(); }
  resize(): Promise<void> { return this.read(); }
  flush(): Promise<void> { return Promise.resolve(); }
  async mapStatus(): Promise<{ mapped: boolean; length: number }> { return { mapped: true, length: 0 }; }
  close(): Promise<void> { return Promise.resolve(); }
}

function decodeState(file: string, text: string): LibraryState {
  let raw: unknown;
  try { raw = JSON.parse(text); } catch (e) {
    throw new NexusError('ERR_LIBRARY_STATE', `${file}: not JSON (${(e as Error).message})`);
  }
  const doc = raw as { version?: unknown; cartridges?: unknown };
  if (typeof raw !== 'object' || raw === null || doc.version !== STATE_VERSION || !Array.isArray(doc.cartridges)) {
    throw new NexusError('ERR_LIBRARY_STATE', `${file}: not a version ${STATE_VERSION} library state`);
  }
  const place = (p: unknown): LibraryPlace | undefined => {
    const q = p as LibraryPlace | undefined;
    if (q === undefined) return undefined;
    if (typeof q !== 'object' || q === null || !['slot', 'mail', 'drive'].includes(q.kind) || !Number.isInteger(q.index)) {
      throw new NexusError('ERR_LIBRARY_STATE', `${file}: ${JSON.stringify(p)} is not an element`);
    }
    return { kind: q.kind, index: q.index };
  };
  return {
    cartridges: doc.cartridges.map((c: Partial<CartridgeState>) => {
      if (typeof c.barcode !== 'string' || typeof c.path !== 'string') {
        throw new NexusError('ERR_LIBRARY_STATE', `${file}: a cartridge needs a bar code and a path`);
      }
      const out: CartridgeState = { barcode: c.barcode, path: c.path, at: place(c.at)! };
      if (out.at === undefined) throw new NexusError('ERR_LIBRARY_STATE', `${file}: cartridge ${c.barcode} is nowhere`);
      const from = place(c.from);
      if (from) out.from = from;
      if (c.imported === true) out.imported = true;
      return out;
    }),
  };
}

/**
 * The library's invariants: every cartridge in one element that exists, no element holding two,
 * no bar code twice. A state that breaks them is refused (never repaired by dropping a cartridge).
 */
function checkState(cfg: LibraryConfig, s: LibraryState, file: string): void {
  const held = new Set<string>();
  const codes = new Set<string>();
  for (const c of s.cartridges) {
    const where = `${c.at.kind} ${c.at.index}`;
    if (c.at.index < 0 || c.at.index >= placesOf(cfg, c.at.kind)) {
      throw new NexusError('ERR_LIBRARY_STATE', `${file}: cartridge ${c.barcode} is in ${where}, which the library does not have`);
    }
    if (held.has(where)) throw new NexusError('ERR_LIBRARY_STATE', `${file}: two cartridges in ${where}`);
    if (codes.has(c.barcode)) throw new NexusError('ERR_LIBRARY_STATE', `${file}: bar code ${c.barcode} twice`);
    held.add(where);
    codes.add(c.barcode);
  }
}
