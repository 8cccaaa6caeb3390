import * as fs from 'node:fs';
import * as path from 'node:path';
import { PrSnapshot } from './pr';

/**
 * Where persistent reservations live across power loss (SPC-4 5.12.5, APTPL): one JSON file per
 * device under `<stateDir>/pr/`. Written atomically (temporary file, fsync, rename) because a
 * half-written file would lose every registration; PERSISTENT RESERVE OUT is rare, so the
 * synchronous write costs nothing on the data path.
 */
export interface PrStore {
  load(device: string): PrSnapshot | undefined;
  save(device: string, s: PrSnapshot): void;
}

export function filePrStore(stateDir: string): PrStore {
  const dir = path.join(stateDir, 'pr');
  const file = (device: string) => path.join(dir, `${encodeURIComponent(device)}.json`);
  return {
    load(device) {
      let text: string;
      try { text = fs.readFileSync(file(device), 'utf8'); } catch { return undefined; }
      const raw = JSON.parse(text) as PrSnapshot & { registrations: Array<{ key: string }> };
      // Keys are 64-bit: stored as decimal strings, since JSON numbers cannot hold them.
      return { ...raw, registrations: raw.registrations.map(r => ({ ...r, key: BigInt(r.key) })) } as PrSnapshot;
    },
    save(device, s) {
      fs.mkdirSync(dir, { recursive: true });
      const text = JSON.stringify(s, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
      const tmp = `${file(device)}.tmp`;
      const fd = fs.openSync(tmp, 'w', 0o600);
      try { fs.writeSync(fd, text); fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
      fs.renameSync(tmp, file(device));
    },
  };
}
