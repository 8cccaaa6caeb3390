import { MaintIn, Op } from './spec/opcodes';
import { Tpgs } from './spec/alua';
import { Decoded, invalidField } from './cdb/dsl';
import { INQUIRY } from './cdb/defs/spc';
import { Outcome, good } from './result';
import { PeripheralType } from './spec/status';
import { ExecContext, LuView } from './types';
import { asciiField, buildVpdPage } from './vpd';

/** SPC-4 6.6.2 table 143: the standard INQUIRY data is 96 bytes (additional length 5Bh). */
export const STANDARD_INQUIRY_LENGTH = 96;

/** SPC-4 table 143 VERSION: 06h claims SPC-4. */
export const SPC4_VERSION = 0x06;

/**
 * SPC-4 6.6.2 table 150 version descriptors, "no version claimed" codes. SBC-3's code is used for
 * disks because SPC-4's table lists it and the disk command set is SBC-3 compatible.
 */
export enum VersionDescriptor {
  SAM_5 = 0x00a0,
  SPC_4 = 0x0460,
  SBC_3 = 0x04c0,
  MMC_6 = 0x04e0,
  ISCSI = 0x0960,
}

export function versionDescriptors(lu: LuView): VersionDescriptor[] {
  const v = [VersionDescriptor.SAM_5, VersionDescriptor.ISCSI, VersionDescriptor.SPC_4];
  if (lu.type === PeripheralType.DISK) v.push(VersionDescriptor.SBC_3);
  if (lu.type === PeripheralType.CDROM) v.push(VersionDescriptor.MMC_6);
  return v;
}

interface StandardInquiryFields {
  /** Byte 0: PERIPHERAL QUALIFIER and PERIPHERAL DEVICE TYPE. */
  peripheral: number;
  removable: boolean;
  /** 3PC: third-party copy (EXTENDED COPY) supported. */
  thirdPartyCopy: boolean;
  /** TPGS: the asymmetric access management the unit supports (SPC-4 6.6.2 table 143). */
  tpgs: Tpgs;
  vendor: string;
  product: string;
  revision: string;
  descriptors: readonly VersionDescriptor[];
}

/** SPC-4 6.6.2 table 143, byte by byte. */
function encodeStandardInquiry(v: StandardInquiryFields): Buffer {
  const b = Buffer.alloc(STANDARD_INQUIRY_LENGTH);
  b[0] = v.peripheral; // PERIPHERAL QUALIFIER | PERIPHERAL DEVICE TYPE
  b[1] = v.removable ? 0x80 : 0; // RMB
  b[2] = SPC4_VERSION; // VERSION
  // NORMACA 0 (no ACA), HISUP 1 (hierarchical LUNs), RESPONSE DATA FORMAT 2
  b[3] = 0x10 | 0x02;
  b[4] = STANDARD_INQUIRY_LENGTH - 5; // ADDITIONAL LENGTH: bytes after byte 4
  // byte 5: SCCS 0, ACC 0, TPGS (bits 5..4: implicit, explicit or both, SPC-4 5.16.2.2), 3PC, PROTECT 0
  b[5] = (v.tpgs << 4) | (v.thirdPartyCopy ? 0x08 : 0);
  b[6] = 0; // ENCSERV 0, MULTIP 0
  b[7] = 0x02; // CMDQUE 1: full task management model
  asciiField(v.vendor, 8).copy(b, 8); // T10 VENDOR IDENTIFICATION
  asciiField(v.product, 16).copy(b, 16); // PRODUCT IDENTIFICATION
  asciiField(v.revision, 4).copy(b, 32); // PRODUCT REVISION LEVEL
  // bytes 36..55 vendor specific (zero), 56 CLOCKING/QAS/IUS (zero), 57 reserved
  let off = 58; // bytes 58..73: VERSION DESCRIPTOR 1..8
  for (const d of v.descriptors) { b.writeUInt16BE(d, off); off += 2; }
  return b; // bytes 74..95 reserved
}

/** SPC-4 6.6.2: standard INQUIRY data of a logical unit. */
export function buildStandardInquiry(lu: LuView): Buffer {
  return encodeStandardInquiry({
    peripheral: lu.type & 0x1f, // PERIPHERAL QUALIFIER 000b: connected
    removable: lu.removable,
    thirdPartyCopy: lu.table.lookup(Op.EXTENDED_COPY, 0x00) !== undefined,
    // SPC-4 5.16.2.2: a unit whose table has REPORT TARGET PORT GROUPS reports its TPGS mode.
    tpgs: lu.table.lookup(Op.MAINTENANCE_IN, MaintIn.REPORT_TARGET_PORT_GROUPS) !== undefined ? lu.access.tpgs : Tpgs.NOT_SUPPORTED,
    vendor: lu.identity.vendor, product: lu.identity.product, revision: lu.identity.revision,
    descriptors: versionDescriptors(lu),
  });
}

/**
 * SPC-4 6.6.2 and 5.10: standard INQUIRY data for a LUN with no logical unit behind it:
 * PERIPHERAL QUALIFIER 011b, device type 1Fh.
 */
export function buildNoUnitInquiry(): Buffer {
  return encodeStandardInquiry({
    peripheral: 0x60 | PeripheralType.UNKNOWN, removable: false, thirdPartyCopy: false, tpgs: Tpgs.NOT_SUPPORTED,
    vendor: 'NEXUS', product: 'NO LOGICAL UNIT', revision: '0001',
    descriptors: [VersionDescriptor.SAM_5, VersionDescriptor.ISCSI, VersionDescriptor.SPC_4],
  });
}

/** SPC-4 7.8.2: the Supported VPD Pages page of a LUN with no logical unit: only itself. */
export function buildNoUnitVpd00(): Buffer {
  return Buffer.from([0x60 | PeripheralType.UNKNOWN, 0x00, 0x00, 0x01, 0x00]);
}

/** INQUIRY (SPC-4 6.6): standard data or a VPD page; the pipeline trims to ALLOCATION LENGTH. */
export function spcInquiry(ctx: ExecContext<Decoded<typeof INQUIRY.fields>>): Outcome {
  const { evpd, pageCode } = ctx.f;
  if (!evpd) {
    // SPC-4 6.6.1: EVPD zero with a non-zero PAGE CODE is INVALID FIELD IN CDB.
    if (pageCode !== 0) return invalidField(INQUIRY.fields.pageCode);
    return good(buildStandardInquiry(ctx.lu));
  }
  const page = buildVpdPage(pageCode, ctx.lu, ctx.nexus);
  // SPC-4 6.6.1: a VPD page the device server does not support is INVALID FIELD IN CDB.
  return page ? good(page) : invalidField(INQUIRY.fields.pageCode);
}
