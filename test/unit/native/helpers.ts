import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * A directory on a file system that accepts O_DIRECT (tmpfs refuses it with
 * EINVAL): os.tmpdir() when it does, else /var/tmp, else ./.test-tmp.
 */
export function directIoDir(): string {
  const candidates = [os.tmpdir(), '/var/tmp', path.resolve(__dirname, '../../../.test-tmp')];
  for (const base of candidates) {
    try {
      fs.mkdirSync(base, { recursive: true });
      const dir = fs.mkdtempSync(path.join(base, 'nexus-native-'));
      const probe = path.join(dir, 'probe');
      fs.writeFileSync(probe, Buffer.alloc(4096));
      try {
        fs.closeSync(fs.openSync(probe, fs.constants.O_RDONLY | fs.constants.O_DIRECT));
        fs.unlinkSync(probe);
        return dir;
      } catch {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    } catch {
      // not writable here; try the next one
    }
  }
  throw new Error('no directory accepting O_DIRECT');
}

/** A file of `bytes` bytes where byte i is (i * 7 + seed) & 0xff. */
export function patternFile(dir: string, name: string, bytes: number, seed = 0): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, pattern(bytes, seed));
  return file;
}

export function pattern(bytes: number, seed = 0, start = 0): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) b[i] = ((start + i) * 7 + seed) & 0xff;
  return b;
}
