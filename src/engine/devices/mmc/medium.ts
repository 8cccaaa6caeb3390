import { LuView } from '../../types';

/**
 * What the drive knows of the medium in it: the MMC-6 profile it reads it as (4.3,), its
 * track layout (one complete session with one data track, as an ISO image is), and the MSF
 * addresses CD structures use.
 */

/** MMC-6: the profiles this drive offers, spelled as MMC-6 names them. */
export enum Profile {
  /** No current profile: no medium is present (MMC-6). */
  NONE = 0x0000,
  CD_ROM = 0x0008,
  DVD_ROM = 0x0010,
}

/** Every profile the drive can read, in descending order (the profile list feature's order). */
export const PROFILES: readonly Profile[] = [Profile.DVD_ROM, Profile.CD_ROM];

/**
 * The longest CD (80 minutes of 75 sectors a second, Red Book): a larger image can only be a DVD.
 * An image up to this size is read as a CD-ROM, whose structures (TOC, MSF) fit it.
 */
export const CD_MAX_BLOCKS = 80 * 60 * 75;

/** MMC-6: LBA 0 is MSF 00:02:00, two seconds (150 sectors) after the start of the program area. */
export const MSF_OFFSET = 150;

/** The current profile: none without a medium, else CD-ROM or DVD-ROM by the image's size. */
export function currentProfile(lu: Pick<LuView, 'mediumPresent' | 'blocks'>): Profile {
  if (!lu.mediumPresent) return Profile.NONE;
  return lu.blocks <= BigInt(CD_MAX_BLOCKS) ? Profile.CD_ROM : Profile.DVD_ROM;
}

/** MMC-6: the minute, second and frame of an LBA. */
export function lbaToMsf(lba: number): [number, number, number] {
  const at = lba + MSF_OFFSET;
  return [Math.floor(at / (60 * 75)), Math.floor(at / 75) % 60, at % 75];
}

/**
 * MMC-6 / 533: a CONTROL nibble of 4h is a data track recorded uninterrupted; ADR 1h
 * says the Q sub-channel holds the current position. Byte = ADR << 4 | CONTROL.
 */
export const ADR_CONTROL_DATA_TRACK = 0x14;

/** The one track (and session) of an image. */
export const TRACK = 1;
export const SESSION = 1;
/** MMC-6: the TRACK NUMBER that names the lead-out. */
export const LEAD_OUT = 0xaa;
