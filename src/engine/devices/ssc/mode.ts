import { invalidParamField, Outcome } from '../../result';
import { ModeMedium, ModePageCode, ModePageDef } from '../../mode-page-store';
import { TapeBackstore } from '../../backstores/tape';
import { BLOCK_LIMITS, DENSITY_CODE } from './drive';

/**
 * The tape drive's mode parameters (SSC-4 8.3): the mode parameter header's DEVICE-SPECIFIC
 * PARAMETER and block descriptor, which set fixed or variable-block mode, and the data
 * compression, device configuration and medium partition pages.
 */

/** SSC-4 8.3 DEVICE-SPECIFIC PARAMETER: WP (bit 7), BUFFERED MODE (bits 6..4), SPEED (bits 3..0). */
const WP = 0x80;
const BUFFERED_MODE_SHIFT = 4;
const BUFFERED_MODE_MASK = 0x70;
const SPEED_MASK = 0x0f;
/** SSC-4 8.3: a DENSITY CODE of 00h in MODE SELECT keeps the default density; 7Fh keeps the current one. */
const DENSITY_DEFAULT = 0x00;
const DENSITY_NO_CHANGE = 0x7f;

/** The header and block descriptor of a tape drive, over its drive state. */
export function tapeModeMedium(t: TapeBackstore): ModeMedium {
  return {
    deviceSpecific: writeProtected => (writeProtected || t.readOnly ? WP : 0) | ((t.buffered ? 1 : 0) << BUFFERED_MODE_SHIFT),
    blockDescriptor: () => {
      const d = new Uint8Array(8);
      d[0] = DENSITY_CODE; // DENSITY CODE
      // bytes 1..3 NUMBER OF BLOCKS 0: the rest of the medium has the same format; byte 4 reserved
      d[5] = (t.blockLength >> 16) & 0xff; d[6] = (t.blockLength >> 8) & 0xff; d[7] = t.blockLength & 0xff; // BLOCK LENGTH
      return d;
    },
    select: (dsp, dspAt, bd, bdAt): Outcome | (() => boolean) => {
      // SSC-4 8.3: WP is ignored by MODE SELECT; BUFFERED MODE 000b or 001b; SPEED 0 (default).
      const buffered = (dsp & BUFFERED_MODE_MASK) >> BUFFERED_MODE_SHIFT;
      if (buffered > 1) return invalidParamField(dspAt, 6);
      if (dsp & SPEED_MASK) return invalidParamField(dspAt, 3);
      let blockLength = t.blockLength;
      if (bd) {
        const density = bd[0];
        if (density !== DENSITY_DEFAULT && density !== DENSITY_NO_CHANGE && density !== DENSITY_CODE) return invalidParamField(bdAt);
        // NUMBER OF BLOCKS: zero (the whole medium) is the only one a tape takes.
        if (bd[1] | bd[2] | bd[3]) return invalidParamField(bdAt + 1);
        if (bd[4]) return invalidParamField(bdAt + 4);
        blockLength = (bd[5] << 16) | (bd[6] << 8) | bd[7];
        // SSC-4 8.3: a block length outside READ BLOCK LIMITS is refused (0 selects variable-block mode).
        if (blockLength !== 0 && (blockLength < BLOCK_LIMITS.minimum || blockLength > BLOCK_LIMITS.maximum)) return invalidParamField(bdAt + 5);
      }
      return () => {
        const changed = t.blockLength !== blockLength || t.buffered !== (buffered === 1);
        t.blockLength = blockLength;
        t.buffered = buffered === 1;
        return changed;
      };
    },
  };
}

const page0 = (code: ModePageCode, body: number[]): Uint8Array => Uint8Array.from([code, body.length, ...body]);

/**
 * SSC-4 8.3.2 Data compression page (0Fh), PAGE LENGTH 0Eh: the drive cannot compress, and says
 * so: DCE 0, DCC 0 (byte 2), DDE 0 (byte 3), both algorithms 0 (none). Nothing is changeable.
 */
const DATA_COMPRESSION: ModePageDef = {
  code: ModePageCode.DATA_COMPRESSION, subpage: 0,
  defaults: () => page0(ModePageCode.DATA_COMPRESSION, new Array(14).fill(0)),
  changeable: page0(ModePageCode.DATA_COMPRESSION, new Array(14).fill(0)),
};

/**
 * SSC-4 8.3.3 Device configuration page (10h), PAGE LENGTH 0Eh:
 *  byte 2: CAP 0 | CAF 0 | ACTIVE FORMAT 0;  byte 3 ACTIVE PARTITION 0;  bytes 4..7 buffer ratios
 *  and WRITE DELAY TIME 0 (no object buffer);  byte 8: OBR 0 | LOIS 1 (logical object identifiers
 *  are kept: READ POSITION reports them) | RSMK 0 | AVC 0 | SOCF 00b | ROBO 0 | REW 0;  byte 9 GAP SIZE 0;
 *  byte 10: EOD DEFINED 000b | EEG 1 (EOD is generated) | SEW 1 (written data is synchronized at
 *  early warning: there is no buffer) | SWP 0 | BAML 0 | BAM 0;  bytes 11..13 buffer size at early
 *  warning 0;  byte 14 SELECT DATA COMPRESSION ALGORITHM 0 (none);  byte 15 write protect bits 0.
 */
const DEVICE_CONFIGURATION: ModePageDef = {
  code: ModePageCode.DEVICE_CONFIGURATION, subpage: 0,
  defaults: () => page0(ModePageCode.DEVICE_CONFIGURATION, [0, 0, 0, 0, 0, 0, 0x40, 0, 0x18, 0, 0, 0, 0, 0]),
  changeable: page0(ModePageCode.DEVICE_CONFIGURATION, new Array(14).fill(0)),
};

/**
 * SSC-4 8.3.4 Medium partition page (11h), PAGE LENGTH 06h: one partition; MAXIMUM ADDITIONAL
 * PARTITIONS 0, ADDITIONAL PARTITIONS DEFINED 0; byte 4 FDP SDP IDP PSUM POFM CLEAR ADDP all 0;
 * byte 5 MEDIUM FORMAT RECOGNITION 03h (format and partitions recognized); no partition size
 * descriptors (the one partition is the whole cartridge). Nothing is changeable.
 */
const MEDIUM_PARTITION: ModePageDef = {
  code: ModePageCode.MEDIUM_PARTITION, subpage: 0,
  defaults: () => page0(ModePageCode.MEDIUM_PARTITION, [0, 0, 0, 0x03, 0, 0]),
  changeable: page0(ModePageCode.MEDIUM_PARTITION, new Array(6).fill(0)),
};

export const SSC_MODE_PAGES: readonly ModePageDef[] = [DATA_COMPRESSION, DEVICE_CONFIGURATION, MEDIUM_PARTITION];
