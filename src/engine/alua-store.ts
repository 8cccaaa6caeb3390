import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AccessStateName } from './topology';
import { ACCESS_STATE_NAMES } from './alua';

/**
 * Where each unit's asymmetric access states live across restarts: one JSON file per device under
 * `<stateDir>/alua/`, `{ "<group id>": "<state>" }`. A state change is made durable before it
 * takes effect (and before SET TARGET PORT GROUPS completes with GOOD): the file is written to a
 * temporary, synced, renamed over the old one and the directory synced, so a crash at any instant
 * leaves the old states or the new ones, never a torn file. Changes are rare: the synchronous
 * write costs nothing on the data path.
 */
export interface AluaStore {
  load(device: string): Record<number, AccessStateName> | undefined;
  save(device: string, states: Record<number, AccessStateName>): void;
}

export function fileAluaStore(stateDir: string): AluaStore {
  const dir = path.join(stateDir, 'alua');
  const file = (device: string): string => path.join(dir, `${encodeURIComponent(device)}.json`);
  return {
    load(device) {
      let text: string;
      try { text = fs.readFileSync(file(device), 'utf8'); } catch { return undefined; }
      const raw: unknown = JSON.parse(text);
      if (typeof raw !== 'object' || raw === null) return undefined;
      const out: Record<number, AccessStateName> = {};
      for (const [g, s] of Object.entries(raw)) {
        // A file edited by hand with an unknown state or group keeps the topology's state there.
        if (/^[1-9][0-9]*$/.test(g) && ACCESS_STATE_NAMES.includes(s as AccessStateName)) out[Number(g)] = s as AccessStateName;
      }
      return out;
    },
    save(device, states) {
      fs.mkdirSync(dir, { recursive: true });
      const tmp = `${file(device)}.tmp`;
      const fd = fs.openSync(tmp, 'w', 0o600);
      try { fs.writeSync(fd, JSON.stringify(states)); fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
      fs.renameSync(tmp, file(device));
      // The rename is durable only once the directory entry is.
      const dfd = fs.openSync(dir, 'r');
      try { fs.fsyncSync(dfd); } finally { fs.closeSync(dfd); }
    },
  };
}
