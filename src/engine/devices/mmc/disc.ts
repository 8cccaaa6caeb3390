import { Decoded, invalidFieldOf } from '../../cdb/dsl';
import { MECHANISM_STATUS, READ_DISC_INFORMATION, READ_TRACK_INFORMATION } from '../../cdb/defs/mmc';
import { check, good, Outcome } from '../../result';
import { SENSE } from '../../spec/asc';
import { ExecContext } from '../../types';
import { currentProfile, Profile, SESSION, TRACK } from './medium';

/**
 * READ DISC INFORMATION (MMC-6), READ TRACK INFORMATION (MMC-6) and MECHANISM STATUS
 * (MMC-6): a pressed (read-only), finalized disc of one complete session with one track.
 */

/** MMC-6: DATA TYPE 000b, standard disc information. */
const STANDARD_DISC_INFORMATION = 0b000;
/** MMC-6: a complete last session on a complete (finalized) disc. */
const SESSION_COMPLETE = 0b11;
const DISC_COMPLETE = 0b10;

export function mmcReadDiscInformation(ctx: ExecContext<Decoded<typeof READ_DISC_INFORMATION.fields>>): Outcome {
  if (ctx.f.dataType !== STANDARD_DISC_INFORMATION) return invalidFieldOf(ctx.def, 'dataType');
  const b = Buffer.alloc(34);
  b.writeUInt16BE(b.length - 2, 0); // bytes 0..1 DISC INFORMATION LENGTH
  // byte 2: DISC INFORMATION DATA TYPE 000b | ERASABLE 0 | STATE OF LAST SESSION | DISC STATUS
  b[2] = (SESSION_COMPLETE << 2) | DISC_COMPLETE;
  b[3] = TRACK; // NUMBER OF FIRST TRACK ON DISC
  b[4] = SESSION; // NUMBER OF SESSIONS (LSB)
  b[5] = TRACK; // FIRST TRACK NUMBER IN LAST SESSION (LSB)
  b[6] = TRACK; // LAST TRACK NUMBER IN LAST SESSION (LSB)
  // byte 7: DID_V 0 | DBC_V 0 | URU 1 (unrestricted use) | DAC_V 0 | BG FORMAT STATUS 00b
  b[7] = 0x20;
  b[8] = 0x00; // DISC TYPE 00h: CD-DA or CD-ROM (and 00h for non-CD media)
  // bytes 9..11 MSBs of the session and track numbers (0); 12..15 DISC IDENTIFICATION 0
  // bytes 16..19 LAST SESSION LEAD-IN START ADDRESS and 20..23 LAST POSSIBLE LEAD-OUT START
  // ADDRESS: FFFFFFFFh on a complete disc (MMC-6)
  b.writeUInt32BE(0xffffffff, 16);
  b.writeUInt32BE(0xffffffff, 20);
  // bytes 24..31 DISC BAR CODE, 32 DISC APPLICATION CODE, 33 NUMBER OF OPC TABLES: 0
  return good(b);
}

/** MMC-6: ADDRESS/NUMBER TYPE. */
export enum AddressNumberType { LBA = 0b00, TRACK = 0b01, SESSION = 0b10 }

export function mmcReadTrackInformation(ctx: ExecContext<Decoded<typeof READ_TRACK_INFORMATION.fields>>): Outcome {
  const { lu, f } = ctx;
  switch (f.addressNumberType) {
    case AddressNumberType.LBA:
      // MMC-6: an LBA that lies in no track is out of range.
      if (f.address >= lu.capacityBlocks) return check(SENSE.LBA_OUT_OF_RANGE, { information: BigInt(f.address) });
      break;
    case AddressNumberType.TRACK:
      // Track 0 (the lead-in) and FFh (an invisible track) exist only on recordable media.
      if (f.address !== TRACK) return invalidFieldOf(ctx.def, 'address');
      break;
    case AddressNumberType.SESSION:
      if (f.address !== SESSION) return invalidFieldOf(ctx.def, 'address');
      break;
    default:
      return invalidFieldOf(ctx.def, 'addressNumberType');
  }
  const b = Buffer.alloc(48);
  b.writeUInt16BE(b.length - 2, 0); // bytes 0..1 DATA LENGTH
  b[2] = TRACK; // TRACK NUMBER (LSB)
  b[3] = SESSION; // SESSION NUMBER (LSB)
  // byte 5: LJRS 0 | DAMAGE 0 | COPY 0 | TRACK MODE 4h (data, recorded uninterrupted)
  b[5] = 0x04;
  // byte 6: RT 0 | BLANK 0 | PACKET/INC 0 | FP 0 | DATA MODE 1h (mode 1: 2048 user bytes)
  b[6] = 0x01;
  b[7] = 0x00; // LRA_V 0, NWA_V 0: nothing is writable
  // bytes 8..11 TRACK START ADDRESS 0; 12..15 NEXT WRITABLE ADDRESS 0; 16..19 FREE BLOCKS 0
  // bytes 20..23 FIXED PACKET SIZE / BLOCKING FACTOR: an ECC block of DVD holds 16 sectors
  b.writeUInt32BE(currentProfile(lu) === Profile.DVD_ROM ? 16 : 0, 20);
  b.writeUInt32BE(lu.capacityBlocks, 24); // bytes 24..27 TRACK SIZE
  // bytes 28..31 LAST RECORDED ADDRESS (LRA_V 0), 32..33 MSBs, 36..47 read compatibility and layer jumps: 0
  return good(b);
}

/** MMC-6: the 8-byte mechanism status header, no slot tables (not a changer). */
export function mmcMechanismStatus(ctx: ExecContext<Decoded<typeof MECHANISM_STATUS.fields>>): Outcome {
  const b = Buffer.alloc(8);
  // byte 0: FAULT 0 | CHANGER STATE 00b (ready) | CURRENT SLOT 0
  // byte 1: MECHANISM STATE 000b (idle) | DOOR OPEN (4) | CURRENT SLOT high bits 0
  b[1] = ctx.lu.trayOpen ? 0x10 : 0;
  // bytes 2..4 CURRENT LBA (obsolete) 0; byte 5 NUMBER OF SLOTS AVAILABLE 0; 6..7 LENGTH OF SLOT TABLES 0
  return good(b);
}
