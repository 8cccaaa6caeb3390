import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * The package's version, from the nearest package.json of this package above this module
 * (src/daemon or dist/src/daemon): what `nexus --version` and the control socket's daemon.info say.
 */
export function packageVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'nexus-target' && pkg.version !== undefined) return pkg.version;
    }
    if (path.dirname(dir) === dir) return 'unknown';
  }
}
