/**
 * The directories a topology stores into: the state directory and the directory of every fileio
 * device. `validate` checks them without touching anything; `serve` creates what is missing
 * before the engine opens a single file, so a path that cannot be created is reported with the
 * JSON path of the value that named it, not as an engine thread's failure.
 *
 * Creation goes down the path one component at a time with a plain mkdir(2) each, so it takes
 * at most as many system calls as the path has components; a recursive mkdir on a filesystem
 * that answers oddly (procfs) can loop instead. /proc and /sys are refused by the loader already.
 */

import { mkdirSync, statSync } from 'node:fs';
import * as nodePath from 'node:path';
import type { Topology } from '../../engine/topology';
import { jsonPointer, type ConfigError } from './load';

/** Where the state directory was named: "/stateDir" in the file, or the `--state-dir` option. */
export interface StorageOrigins { stateDir: string }

export const FILE_STATE_DIR: StorageOrigins = { stateDir: '/stateDir' };

/** Directories longer than this are a mistake, not a layout. */
const MAX_COMPONENTS = 64;

/** Every directory the topology needs, with the JSON path (or option) that named it. */
function neededDirectories(topology: Topology, origins: StorageOrigins): Array<{ where: string; dir: string }> {
  const out: Array<{ where: string; dir: string }> = [];
  if (topology.stateDir !== '') out.push({ where: origins.stateDir, dir: topology.stateDir });
  topology.devices.forEach((d, i) => {
    if (d.handler === 'fileio' && d.path !== undefined) out.push({ where: jsonPointer('devices', i, 'path'), dir: nodePath.dirname(d.path) });
  });
  return out;
}

/**
 * Walk `dir` from the root. Returns why it cannot be (or become) a directory, or undefined.
 * With `create`, missing components are made; without, the first missing one ends the walk
 * (everything below it would be created at start).
 */
function walkDirectory(dir: string, create: boolean): string | undefined {
  const parts = nodePath.resolve(dir).split(nodePath.sep).filter((p) => p !== '');
  if (parts.length > MAX_COMPONENTS) return `${dir} has more than ${MAX_COMPONENTS} components`;
  let at: string = nodePath.sep;
  for (const part of parts) {
    at = nodePath.join(at, part);
    let isDir: boolean;
    try {
      isDir = statSync(at).isDirectory();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') return `cannot create ${dir}: ${at}: ${code ?? (e as Error).message}`;
      if (!create) return undefined;
      try {
        mkdirSync(at, { mode: 0o750 });
        continue;
      } catch (m) {
        const mcode = (m as NodeJS.ErrnoException).code;
        if (mcode === 'EEXIST') continue; // made by someone else meanwhile; stat it next time round
        return `cannot create ${dir}: mkdir ${at}: ${mcode ?? (m as Error).message}`;
      }
    }
    if (!isDir) return `cannot create ${dir}: ${at} is not a directory`;
  }
  return undefined;
}

/** What would stop `serve` from creating the topology's directories; nothing is created. */
export function checkStoragePaths(topology: Topology, origins: StorageOrigins = FILE_STATE_DIR): ConfigError[] {
  return walkAll(topology, origins, false);
}

/** Create the topology's directories; the errors say which value named a path that cannot be. */
export function createStorageDirectories(topology: Topology, origins: StorageOrigins = FILE_STATE_DIR): ConfigError[] {
  return walkAll(topology, origins, true);
}

function walkAll(topology: Topology, origins: StorageOrigins, create: boolean): ConfigError[] {
  const errors: ConfigError[] = [];
  for (const { where, dir } of neededDirectories(topology, origins)) {
    const why = walkDirectory(dir, create);
    if (why !== undefined) errors.push({ path: where, message: why });
  }
  topology.devices.forEach((d, i) => {
    if (d.handler !== 'fileio' || d.path === undefined) return;
    try {
      if (statSync(d.path).isDirectory()) errors.push({ path: jsonPointer('devices', i, 'path'), message: `${d.path} is a directory, not a file` });
    } catch {
      // Missing: fileio creates it. Anything else is the open's to report.
    }
  });
  return errors;
}
