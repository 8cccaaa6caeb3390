import * as fs from 'node:fs';
import * as path from 'node:path';
import { PrSnapshot } from './pr';
import { NexusError } from './result';

/**
 * Where persistent reservations live across power loss (SPC-4 5.12.5, APTPL): one JSON file per
 * device under `<stateDir>/pr/`.
 *
 * A kill or a power cut at any instant leaves either the old or the new file, never a torn or an
 * empty one: the new state goes to a temporary file that is written and fsynced, renamed over the
 * old one, and the directory is fsynced so that the rename itself is on disk before PERSISTENT
 * RESERVE OUT completes. All of it goes through the asynchronous fs API (libuv's thread pool), so
 * the fsyncs never stall the engine thread's event loop and the other units' commands on it.
 */
export interface PrStore {
  /** The saved state, read once when the unit is created (start-up). */
  load(device: string): PrSnapshot | undefined;
  /** Make `s` durable; resolves once it is. Calls for one device never overlap (pr.ts commit). */
  save(device: string, s: PrSnapshot): Promise<void>;
}

/** The file's registration as JSON holds it: keys are 64-bit, so decimal strings. */
type StoredSnapshot = Omit<PrSnapshot, 'registrations'> & { registrations: Array<Omit<PrSnapshot['registrations'][number], 'key'> & { key: string }> };

/** fsync a directory, so that the entries just created or renamed in it survive a crash. */
async function syncDirectory(dir: string): Promise<void> {
  const h = await fs.promises.open(dir, 'r');
  try { await h.sync(); } finally { await h.close(); }
}

export function filePrStore(stateDir: string): PrStore {
  const dir = path.join(stateDir, 'pr');
  const file = (device: string) => path.join(dir, `${encodeURIComponent(device)}.json`);
  let dirReady: Promise<void> | undefined;
  const ensureDir = () => (dirReady ??= (async () => {
    await fs.promises.mkdir(dir, { recursive: true });
    // The pr/ entry in the state directory must be durable before a file in it can be.
    await syncDirectory(stateDir);
  })().catch(err => { dirReady = undefined; throw err; }));
  return {
    load(device) {
      // A temporary left by a kill during a save was never renamed: the old file stands.
      fs.rmSync(`${file(device)}.tmp`, { force: true });
      let text: string;
      try { text = fs.readFileSync(file(device), 'utf8'); } catch { return undefined; }
      let raw: StoredSnapshot;
      try { raw = JSON.parse(text) as StoredSnapshot; } catch (err) {
        // Cannot happen through save(); refuse to start rather than silently drop registrations.
        throw new NexusError('ERR_PR_STATE', `${file(device)}: not a persistent reservation state (${(err as Error).message})`);
      }
      return { ...raw, registrations: raw.registrations.map(r => ({ ...r, allTgPt: r.allTgPt ?? false, key: BigInt(r.key) })) };
    },
    async save(device, s) {
      await ensureDir();
      const text = JSON.stringify(s, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
      const target = file(device);
      const tmp = `${target}.tmp`;
      const h = await fs.promises.open(tmp, 'w', 0o600);
      try {
        await h.writeFile(text);
        await h.sync();
      } finally {
        await h.close();
      }
      await fs.promises.rename(tmp, target);
      await syncDirectory(dir);
    },
  };
}
