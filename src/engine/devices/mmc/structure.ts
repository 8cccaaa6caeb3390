import { Decoded, invalidFieldOf } from '../../cdb/dsl';
import { READ_DISC_STRUCTURE } from '../../cdb/defs/mmc';
import { check, good, Outcome } from '../../result';
import { SENSE } from '../../spec/asc';
import { ExecContext } from '../../types';
import { currentProfile, Profile } from './medium';

/**
 * READ DISC STRUCTURE (MMC-6) of a DVD-ROM: the structures a drive with the DVD Read feature
 * (001Fh, which GET CONFIGURATION reports) answers for MEDIA TYPE 0000b (DVD). Windows asks for
 * the copyright information of a DVD before it reads one, and Linux's DVD_READ_STRUCT ioctl for the
 * physical format. A pressed, single-layer disc of the image's size with no copy protection.
 */

/** MMC-6 READ DISC STRUCTURE MEDIA TYPE: DVD and HD DVD structures (0001b, BD, is not claimed). */
const MEDIA_TYPE_DVD = 0b0000;

/** MMC-6 READ DISC STRUCTURE FORMAT codes this drive answers for DVD media. */
export const enum DvdStructure {
  PHYSICAL_FORMAT_INFORMATION = 0x00,
  COPYRIGHT_INFORMATION = 0x01,
  DISC_STRUCTURE_LIST = 0xff,
}

/** DVD-ROM (ECMA-267): the data area of a disc starts at physical sector number 030000h. */
const DATA_AREA_START_PSN = 0x030000;

/** The 2048-byte physical format information of a single-layer DVD-ROM of `blocks` blocks. */
function physicalFormatInformation(blocks: number): Buffer {
  const b = Buffer.alloc(2048);
  b[0] = 0x01; // BOOK TYPE 0000b (DVD-ROM) | PART VERSION 0001b
  b[1] = 0x0f; // DISC SIZE 0000b (120 mm) | MAXIMUM RATE 1111b (not specified)
  b[2] = 0x01; // NUMBER OF LAYERS 00b (one) | TRACK PATH 0 (parallel) | LAYER TYPE 0001b (embossed: read-only)
  b[3] = 0x00; // LINEAR DENSITY 0000b (0.267 µm/bit) | TRACK DENSITY 0000b (0.74 µm/track)
  b.writeUInt32BE(DATA_AREA_START_PSN, 4); // bytes 4..7: STARTING PHYSICAL SECTOR NUMBER OF DATA AREA
  b.writeUInt32BE(DATA_AREA_START_PSN + blocks - 1, 8); // bytes 8..11: END PHYSICAL SECTOR NUMBER OF DATA AREA
  // bytes 12..15 END SECTOR NUMBER IN LAYER 0: 0 on a single-layer disc; byte 16 BCA FLAG 0;
  // bytes 17..2047 medium specific: 0
  return b;
}

/** The copyright information: no copy protection system, every region may play it. */
function copyrightInformation(): Buffer {
  // byte 0 COPYRIGHT PROTECTION SYSTEM TYPE 00h (none), byte 1 REGION MANAGEMENT INFORMATION 00h
  // (no region excluded), bytes 2..3 reserved
  return Buffer.from([0x00, 0x00, 0x00, 0x00]);
}

/** A structure with its 4-byte header: bytes 0..1 DATA LENGTH (what follows them), 2..3 reserved. */
function withHeader(body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(body.length + 2, 0);
  return Buffer.concat([h, body]);
}

/** The structures of the disc structure list, with the length READ DISC STRUCTURE returns for each. */
const STRUCTURES: ReadonlyArray<readonly [DvdStructure, number]> = [
  [DvdStructure.PHYSICAL_FORMAT_INFORMATION, 4 + 2048],
  [DvdStructure.COPYRIGHT_INFORMATION, 4 + 4],
];

function discStructureList(): Buffer {
  const all: Array<readonly [number, number]> = [...STRUCTURES, [DvdStructure.DISC_STRUCTURE_LIST, 4 + 4 * (STRUCTURES.length + 1)]];
  const b = Buffer.alloc(4 * all.length);
  all.forEach(([format, length], i) => {
    b[4 * i] = format; // FORMAT CODE
    b[4 * i + 1] = 0x40; // SDS 0 (not sent by SEND DISC STRUCTURE) | RDS 1 (read by READ DISC STRUCTURE)
    b.writeUInt16BE(length, 4 * i + 2); // STRUCTURE LENGTH
  });
  return b;
}

export function mmcReadDiscStructure(ctx: ExecContext<Decoded<typeof READ_DISC_STRUCTURE.fields>>): Outcome {
  const { mediaType, layerNumber, format } = ctx.f;
  if (mediaType !== MEDIA_TYPE_DVD) return invalidFieldOf(ctx.def, 'mediaType');
  if (format === DvdStructure.DISC_STRUCTURE_LIST) return good(withHeader(discStructureList()));
  // MMC-6: a DVD structure of a medium that is not a DVD: CANNOT READ MEDIUM - INCOMPATIBLE FORMAT.
  if (currentProfile(ctx.lu) !== Profile.DVD_ROM) return check(SENSE.CANNOT_READ_MEDIUM_INCOMPATIBLE_FORMAT);
  switch (format) {
    case DvdStructure.PHYSICAL_FORMAT_INFORMATION:
      // One layer: layer 0 is the only one there is.
      if (layerNumber !== 0) return invalidFieldOf(ctx.def, 'layerNumber');
      return good(withHeader(physicalFormatInformation(Number(ctx.lu.blocks))));
    case DvdStructure.COPYRIGHT_INFORMATION:
      if (layerNumber !== 0) return invalidFieldOf(ctx.def, 'layerNumber');
      return good(withHeader(copyrightInformation()));
    default:
      return invalidFieldOf(ctx.def, 'format');
  }
}
