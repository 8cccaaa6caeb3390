import { Decoded, invalidFieldOf } from '../../cdb/dsl';
import { GET_CONFIGURATION } from '../../cdb/defs/mmc';
import { good, Outcome } from '../../result';
import { ExecContext, LuView } from '../../types';
import { currentProfile, Profile, PROFILES } from './medium';

/**
 * GET CONFIGURATION (MMC-6): the features of a read-only CD/DVD-ROM drive over images
 * (MMC-6), each with its Current bit following the medium in the drive.
 */

/** MMC-6: the feature codes this drive has, spelled as MMC-6 names them. */
export enum Feature {
  PROFILE_LIST = 0x0000,
  CORE = 0x0001,
  MORPHING = 0x0002,
  REMOVABLE_MEDIUM = 0x0003,
  RANDOM_READABLE = 0x0010,
  CD_READ = 0x001e,
  DVD_READ = 0x001f,
  REAL_TIME_STREAMING = 0x0107,
}

/** MMC-6: RT. */
export enum RequestType { ALL = 0b00, CURRENT = 0b01, ONE = 0b10 }

/** MMC-6: PHYSICAL INTERFACE STANDARD 00000001h, the SCSI family (iSCSI included). */
const PHYSICAL_INTERFACE_SCSI = 0x00000001;
/** MMC-6: LOADING MECHANISM TYPE 001b, a tray. */
const LOADING_MECHANISM_TRAY = 0b001;

interface FeatureDescriptor { code: Feature; version: number; persistent: boolean; current: boolean; data: number[] }

/** MMC-6: the 4-byte feature header, then the feature's own bytes. */
function encode(d: FeatureDescriptor): number[] {
  // bytes 0..1 FEATURE CODE; byte 2 VERSION (5..2) | PERSISTENT (1) | CURRENT (0); byte 3 ADDITIONAL LENGTH
  return [d.code >> 8, d.code & 0xff, (d.version << 2) | (d.persistent ? 0x02 : 0) | (d.current ? 0x01 : 0), d.data.length, ...d.data];
}

const be32 = (v: number): number[] => [v >>> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];

/** Every feature of the drive, in feature-code order (MMC-6), for the medium in it. */
function features(lu: LuView): FeatureDescriptor[] {
  const profile = currentProfile(lu);
  const present = profile !== Profile.NONE;
  return [
    // MMC-6: a 4-byte profile descriptor per profile: PROFILE NUMBER, CURRENTP (byte 2 bit 0)
    { code: Feature.PROFILE_LIST, version: 0, persistent: true, current: true,
      data: PROFILES.flatMap(p => [p >> 8, p & 0xff, p === profile ? 0x01 : 0, 0]) },
    // MMC-6, version 2: PHYSICAL INTERFACE STANDARD; byte 8 INQ2 (1) 0 | DBE (0)
    // 1 (device busy events are reported); bytes 9..11 reserved
    { code: Feature.CORE, version: 2, persistent: true, current: true, data: [...be32(PHYSICAL_INTERFACE_SCSI), 0x01, 0, 0, 0] },
    // MMC-6, version 1: byte 4 OCEVENT 1 (operational change events) | ASYNC 0 (polled only)
    { code: Feature.MORPHING, version: 1, persistent: true, current: true, data: [0x02, 0, 0, 0] },
    // MMC-6: byte 4 LOADING MECHANISM TYPE (7..5) | LOAD (4) 1 | EJECT (3) 1 |
    // PVNT JMPR (2) 0 | DBML (1) 0 | LOCK (0) 1
    { code: Feature.REMOVABLE_MEDIUM, version: 0, persistent: true, current: true,
      data: [(LOADING_MECHANISM_TRAY << 5) | 0x10 | 0x08 | 0x01, 0, 0, 0] },
    // MMC-6: LOGICAL BLOCK SIZE 2048, BLOCKING (sectors per ECC block: 16 on DVD,
    // 1 on CD), byte 10 PP 0 (no page 01h)
    { code: Feature.RANDOM_READABLE, version: 0, persistent: false, current: present,
      data: [...be32(lu.blockSize), 0, profile === Profile.DVD_ROM ? 16 : 1, 0, 0] },
    // MMC-6, version 2: byte 4 DAP 0 | C2 FLAGS 0 | CD-TEXT 0
    { code: Feature.CD_READ, version: 2, persistent: false, current: profile === Profile.CD_ROM, data: [0, 0, 0, 0] },
    // MMC-6, version 1: byte 4 MULTI110 0; byte 6 DUAL-RW 0 | DUAL-R 0
    { code: Feature.DVD_READ, version: 1, persistent: false, current: profile === Profile.DVD_ROM, data: [0, 0, 0, 0] },
    // MMC-6, version 0: GET PERFORMANCE is implemented; byte 4 SCS (3) 1: SET CD
    // SPEED is supported; RBCB, MP2A, WSPD, SW 0 (no writing, no buffer reports)
    { code: Feature.REAL_TIME_STREAMING, version: 0, persistent: false, current: present, data: [0x08, 0, 0, 0] },
  ];
}

export function mmcGetConfiguration(ctx: ExecContext<Decoded<typeof GET_CONFIGURATION.fields>>): Outcome {
  const { lu, f } = ctx;
  const all = features(lu);
  let chosen: FeatureDescriptor[];
  switch (f.rt) {
    // MMC-6: RT 00b every feature from STARTING FEATURE NUMBER on, current or not
    case RequestType.ALL: chosen = all.filter(d => d.code >= f.startingFeatureNumber); break;
    // RT 01b: only the current ones
    case RequestType.CURRENT: chosen = all.filter(d => d.code >= f.startingFeatureNumber && d.current); break;
    // RT 10b: the one feature named, or none (header only) when the drive does not have it
    case RequestType.ONE: chosen = all.filter(d => d.code === f.startingFeatureNumber); break;
    default: return invalidFieldOf(ctx.def, 'rt');
  }
  const body = chosen.flatMap(encode);
  const profile = currentProfile(lu);
  // MMC-6 feature header: bytes 0..3 DATA LENGTH (bytes after the field),
  // 4..5 reserved, 6..7 CURRENT PROFILE
  return good(Buffer.from([...be32(4 + body.length), 0, 0, profile >> 8, profile & 0xff, ...body]));
}

