/**
 * What a valid topology may still get wrong on this machine: not errors (the file is right, the
 * host may change), but said at `validate` and at start.
 */

import { totalmem } from 'node:os';
import type { Topology } from '../../engine/topology';
import { jsonPointer, type ConfigError } from './load';
import { formatSize } from './size';

const GIB = 2 ** 30;

/** Warnings for `topology` on a machine with `memoryBytes` of memory (os.totalmem()). */
export function topologyWarnings(topology: Topology, memoryBytes: number = totalmem()): ConfigError[] {
  const out: ConfigError[] = [];
  topology.devices.forEach((d, i) => {
    // A ram device's pages are allocated as they are written: it starts, then fails or pushes
    // the host into swap and the OOM killer once initiators fill it.
    if (d.handler === 'ram' && d.sizeBytes > BigInt(memoryBytes)) {
      out.push({
        path: jsonPointer('devices', i, 'size'),
        message: `ram device "${d.name}" (${formatSize(d.sizeBytes)}) is larger than this machine's memory (${(memoryBytes / GIB).toFixed(1)} GiB)`,
      });
    }
  });
  return out;
}
