/**
 * Why the daemon could not start, as one line that names the object at fault by the JSON path
 * of the topology value (or the command-line option) that named it, and the cause:
 *
 *   /targets/0/portals/0: cannot listen on 127.0.0.1:3260: address already in use (EADDRINUSE)
 *   /devices/0/path: cannot create /etc/passwd/x: /etc/passwd is not a directory
 *
 * An error nothing in the topology explains is passed on as it came.
 */

import type { Topology } from '../engine/topology';
import { NexusError } from '../engine/result';
import { jsonPointer } from './config/load';
import { formatPortal, parsePortal } from './config/portal';

/** Where values the command line overrides came from: JSON paths do not name those. */
export interface StartOrigins {
  /** "/stateDir" (the file or the default) or "--state-dir". */
  stateDir: string;
  /** Set when `--listen` replaced every target's portals. */
  listen?: string;
}

export const START_FAILED = 'ERR_START';

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'no local interface has this address',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a component of the path is not a directory',
  EISDIR: 'is a directory',
  EROFS: 'read-only filesystem',
  ENOSPC: 'no space left on device',
};

/** A start failure located in the topology. */
export function startFailed(where: string, cause: string): NexusError {
  return new NexusError(START_FAILED, `${where}: ${cause}`);
}

/** Locate `e` in the topology when it can be located; otherwise return it unchanged. */
export function locateStartError(e: unknown, topology: Topology, origins: StartOrigins): unknown {
  if (e instanceof NexusError && e.code === START_FAILED) return e;
  const err = e as Error & { code?: string; address?: string; port?: number; syscall?: string };
  if (typeof err !== 'object' || err === null) return e;
  const code = typeof err.code === 'string' ? err.code : undefined;

  // A portal that cannot be listened on (net.Server 'error' carries address and port).
  if (err.syscall === 'listen' || code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL') {
    if (typeof err.address === 'string' && typeof err.port === 'number') {
      const where = origins.listen ?? portalPointer(topology, err.address, err.port);
      if (where !== undefined) {
        const why = code !== undefined ? `${ERRNO_TEXT[code] ?? code} (${code})` : err.message;
        return startFailed(where, `cannot listen on ${formatPortal(err.address, err.port)}: ${why}`);
      }
    }
  }

  // A device whose backing file cannot be opened: the errno message names its path. Engine
  // threads report a failure as text only, so the path in the text is what there is to go by.
  const message = typeof err.message === 'string' ? err.message : String(e);
  const devices = topology.devices
    .map((d, i) => ({ d, i }))
    .filter(({ d }) => d.path !== undefined && message.includes(d.path))
    .sort((a, b) => (b.d.path as string).length - (a.d.path as string).length);
  const hit = devices[0];
  if (hit !== undefined) {
    const cause = message.replace(/^engine thread \d+ failed to start: /, '');
    return startFailed(jsonPointer('devices', hit.i, 'path'), `${hit.d.name}: ${cause}`);
  }
  return e;
}

function portalPointer(topology: Topology, host: string, port: number): string | undefined {
  for (let i = 0; i < topology.targets.length; i++) {
    const portals = topology.targets[i].portals;
    for (let k = 0; k < portals.length; k++) {
      const p = parsePortal(portals[k]);
      if (p.ok && p.portal.host === host && p.portal.port === port) return jsonPointer('targets', i, 'portals', k);
    }
  }
  return undefined;
}
