/**
 * What `nexus serve` runs without a topology file: one iSCSI target on loopback with a sparse
 * 1 GiB file disk at LUN 0 and a 1 TiB null device at LUN 1 (for measuring the target without
 * storage in the way). It goes through the same normalizer as a file, so defaults and checks match.
 */

import type { Topology } from '../../engine/topology';
import { NexusError } from '../../engine/result';
import { DEFAULT_STATE_DIR } from './defaults';
import { normalizeTopology, type NormalizeOptions, type TopologyResult } from './load';

export const DEFAULT_TARGET_NAME = 'iqn.2026-11.io.nexus:default';

/** The default as a topology document (what `nexus default-topology` prints). */
export function defaultTopologyDocument(): Record<string, unknown> {
  return {
    stateDir: DEFAULT_STATE_DIR,
    devices: [
      // No path: fileio defaults to <stateDir>/disk0.img, created sparse.
      { name: 'disk0', handler: 'fileio', size: '1GiB', blockSize: 512, thin: true },
      { name: 'null0', handler: 'nullio', size: '1TiB', blockSize: 512 },
    ],
    targets: [
      {
        driver: 'iscsi',
        name: DEFAULT_TARGET_NAME,
        portals: ['127.0.0.1:3260'],
        luns: [{ lun: 0, device: 'disk0' }, { lun: 1, device: 'null0' }],
      },
    ],
  };
}

/**
 * The default, normalized. stateDir resolves against `opts.cwd` (default process.cwd()); an
 * `opts.stateDir` override moves disk0.img with it.
 */
export function defaultTopologyResult(opts: Omit<NormalizeOptions, 'baseDir'> = {}): TopologyResult {
  return normalizeTopology(defaultTopologyDocument(), { ...opts, baseDir: opts.cwd ?? process.cwd() });
}

/** The default, normalized; the built-in document is valid by construction, so failure is a bug. */
export function defaultTopology(opts: Omit<NormalizeOptions, 'baseDir'> = {}): Topology {
  const r = defaultTopologyResult(opts);
  if (!r.ok) {
    throw new NexusError('ERR_TOPOLOGY', `built-in default topology is invalid: ${JSON.stringify(r.errors)}`);
  }
  return r.topology;
}
