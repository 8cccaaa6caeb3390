/**
 * Defaults the loader fills into a Topology. One table, so the documentation, the loader and the
 * tests read the same numbers.
 */

import { availableParallelism } from 'node:os';
import { IscsiSettings, defaultIscsiSettings } from '../../transports/iscsi/settings';

/**
 * The topology's `iscsi` section: what the target offers at login (RFC 7143 section 13) and the
 * transport's own settings, from the table in transports/iscsi/settings.ts. The RFC's own
 * defaults are conservative (8 KiB segments, InitialR2T=Yes); these are what Linux targets ship
 * for a LAN.
 */
export const DEFAULT_ISCSI: Readonly<IscsiSettings> = Object.freeze(defaultIscsiSettings());

export const DEFAULT_BUFFER_POOL_BYTES = 256 * 1024 * 1024;

/**
 * One engine thread per core the process may use. The default placement homes a target's units
 * on one thread with its sessions, and a thread with no work parks, so threads beyond what the
 * load needs cost nothing while idle.
 */
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
