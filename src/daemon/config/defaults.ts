/**
 * Defaults the loader fills into a Topology. One table, so the documentation, the loader and the
 * tests read the same numbers.
 */

import { availableParallelism } from 'node:os';
import type { IscsiSettings } from '../../engine/topology';

/**
 * Operational parameters the target offers at login (RFC 7143 section 13). The RFC's own defaults
 * are conservative (8 KiB segments, InitialR2T=Yes); these are what Linux targets ship for a LAN.
 */
export const DEFAULT_ISCSI: Readonly<IscsiSettings> = Object.freeze<IscsiSettings>({
  maxRecvDataSegmentLength: 262144,
  maxBurstLength: 1048576,
  firstBurstLength: 262144,
  initialR2T: false,
  immediateData: true,
  maxOutstandingR2T: 8,
  // Offer both; the initiator picks (RFC 7143 13.1: the responder selects the first value it
  // supports from the originator's list).
  headerDigest: ['None', 'CRC32C'],
  dataDigest: ['None', 'CRC32C'],
  nopInIntervalSec: 15,
  nopInTimeoutSec: 10,
  defaultTime2Wait: 2,
  defaultTime2Retain: 20,
  queueDepth: 128,
  // About one initiator turn at queue depth 1 on loopback or a LAN (busy-poll.ts).
  busyPollMicros: 50,
});

export const DEFAULT_BUFFER_POOL_BYTES = 256 * 1024 * 1024;

/** One engine thread per core the process may use (DESIGN.md §3). */
export function defaultEngineThreads(): number {
  return availableParallelism();
}

/** Relative to the current working directory when the file does not say. */
export const DEFAULT_STATE_DIR = './nexus-state';

export const DEFAULT_BLOCK_SIZE = 512;

/** Loopback, so a topology without portals is never reachable from the network by accident. */
export const DEFAULT_PORTAL = '127.0.0.1:3260';

/** RFC 7143 9.2.1: CHAP secrets of fewer than 96 random bits need IPsec; require at least 12 bytes. */
export const CHAP_SECRET_MIN_BYTES = 12;
/** Longest secret the common initiators accept (open-iscsi and LIO keep 256-byte buffers). */
export const CHAP_SECRET_MAX_BYTES = 255;
