import { LuView, NexusView, VpdPageDef } from './types';

/**
 * Vital product data pages (SPC-4 7.8, SBC-4 6.6), built from the logical unit and the I_T nexus
 * that asks. Each device type lists the pages it offers (SPC_VPD_PAGES and, for disks,
 * SBC_VPD_PAGES); page 00h is generated from that list.
 */

/** ASCII field left-aligned and padded with spaces (SPC-4 4.3.1), truncated to `len`. */
export function asciiField(s: string, len: number): Buffer {
  const b = Buffer.alloc(len, 0x20);
  b.write(s.replace(/[^\x20-\x7e]/g, ' ').slice(0, len), 0, 'latin1');
  return b;
}

export enum VpdPage {
  SUPPORTED_VPD_PAGES = 0x00,
  UNIT_SERIAL_NUMBER = 0x80,
  DEVICE_IDENTIFICATION = 0x83,
  EXTENDED_INQUIRY_DATA = 0x86,
  SCSI_PORTS = 0x88,
  BLOCK_LIMITS = 0xb0,
  BLOCK_DEVICE_CHARACTERISTICS = 0xb1,
  LOGICAL_BLOCK_PROVISIONING = 0xb2,
}

/**
 * What the block limits page promises (SBC-4 6.6.4). The disk commands enforce the same numbers,
 * so they live here once.
 */
export const BLOCK_LIMITS = Object.freeze({
  /**
   * MAXIMUM COMPARE AND WRITE LENGTH in blocks. One block is what atomic test-and-set users (VMFS
   * ATS) send, and it keeps the range the engine must hold against other writers, and the 2×N
   * blocks it buffers, to a single block.
   */
  maxCompareAndWriteBlocks: 1,
  /**
   * MAXIMUM TRANSFER LENGTH, in bytes (divided by the block size on the page): what one command
   * may buffer. 32 MiB is 65536 blocks of 512 bytes, the largest READ(16)/WRITE(16) libiscsi's
   * WriteSame16.Unmap sends without reading this limit.
   */
  maxTransferBytes: 32 * 1024 * 1024,
  /**
   * MAXIMUM UNMAP LBA COUNT, in bytes: bounds the time one hole punch may take. 512 MiB keeps the
   * count at 1M blocks or fewer for either block size, the largest libiscsi's
   * Inquiry.BlockLimits accepts as a sane UNMAP limit.
   */
  maxUnmapBytes: 512 * 1024 * 1024,
  /** MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT: what fits a 16-bit UNMAP parameter list ((65535-8)/16). */
  maxUnmapDescriptors: 4095,
  /** MAXIMUM WRITE SAME LENGTH, in bytes. */
  maxWriteSameBytes: 1024 * 1024 * 1024,
  /**
   * WSNZ 0: a WRITE SAME with NUMBER OF LOGICAL BLOCKS zero writes (or unmaps) from its LBA through
   * the last LBA, within MAXIMUM WRITE SAME LENGTH.
   */
  writeSameNonZero: false,
  /** Hole-punch granularity of file systems (one page). */
  unmapGranularityBytes: 4096,
});

// SPC-4 7.8.6.1 table 459: the byte-0 fields of a designation descriptor.
enum ProtocolId { ISCSI = 0x5 }
enum CodeSet { BINARY = 0x1, ASCII = 0x2, UTF8 = 0x3 }
enum Association { LOGICAL_UNIT = 0x0, TARGET_PORT = 0x1, TARGET_DEVICE = 0x2 }
enum DesignatorType { T10_VENDOR_ID = 0x1, NAA = 0x3, RELATIVE_TARGET_PORT = 0x4, TARGET_PORT_GROUP = 0x5, SCSI_NAME_STRING = 0x8 }


/** SPC-4 7.8.1 table 454: the 4-byte VPD header and its body. */
function page(lu: LuView, code: VpdPage, body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h[0] = lu.type & 0x1f; // PERIPHERAL QUALIFIER 000b | PERIPHERAL DEVICE TYPE
  h[1] = code; // PAGE CODE
  h.writeUInt16BE(body.length, 2); // PAGE LENGTH
  return Buffer.concat([h, body]);
}

/** SPC-4 7.8.6.1 table 459: one designation descriptor. */
function designator(protocol: number, codeSet: CodeSet, piv: boolean, assoc: Association,
  type: DesignatorType, value: Buffer): Buffer {
  const d = Buffer.alloc(4 + value.length);
  d[0] = (protocol << 4) | codeSet; // PROTOCOL IDENTIFIER | CODE SET
  d[1] = (piv ? 0x80 : 0) | (assoc << 4) | type; // PIV | ASSOCIATION | DESIGNATOR TYPE
  d[3] = value.length; // DESIGNATOR LENGTH
  value.copy(d, 4);
  return d;
}

/** SPC-4 7.8.6.11: a SCSI name string is UTF-8, null-terminated, padded with nulls to a multiple of 4. */
export function scsiNameString(name: string): Buffer {
  const utf8 = Buffer.from(name, 'utf8');
  const len = Math.min(256, (utf8.length + 1 + 3) & ~3);
  const b = Buffer.alloc(len);
  utf8.copy(b, 0, 0, len - 1);
  return b;
}

/**
 * The designators of the target port a command came in on (SPC-4 7.8.6): relative target port,
 * target port group and the iSCSI target port name. A pass-through device's page 83h keeps its
 * own logical unit designators and gets these (devices/passthrough.ts).
 */
export function targetPortDesignators(nexus: NexusView): Buffer {
  const relPort = Buffer.alloc(4);
  relPort.writeUInt16BE(nexus.relativeTargetPortId & 0xffff, 2); // bytes 2..3 RELATIVE TARGET PORT IDENTIFIER
  const tpg = Buffer.alloc(4);
  tpg.writeUInt16BE(nexus.targetPortGroupId & 0xffff, 2); // bytes 2..3 TARGET PORT GROUP
  return Buffer.concat([
    // SPC-4 7.8.6.7: relative target port, PIV 1 so the protocol identifier (iSCSI) is valid.
    designator(ProtocolId.ISCSI, CodeSet.BINARY, true, Association.TARGET_PORT, DesignatorType.RELATIVE_TARGET_PORT, relPort),
    // SPC-4 7.8.6.8: target port group, association target port.
    designator(ProtocolId.ISCSI, CodeSet.BINARY, true, Association.TARGET_PORT, DesignatorType.TARGET_PORT_GROUP, tpg),
    // SPC-4 7.8.6.11 and 7.6.4.6: the iSCSI target port name "<name>,t,0x<TPGT>".
    designator(ProtocolId.ISCSI, CodeSet.UTF8, true, Association.TARGET_PORT, DesignatorType.SCSI_NAME_STRING, scsiNameString(nexus.targetPort)),
  ]);
}

function buildDeviceIdentification(lu: LuView, nexus: NexusView): Buffer {
  const t10 = Buffer.concat([asciiField(lu.identity.vendor, 8), Buffer.from(lu.identity.t10Id, 'latin1')]);
  return page(lu, VpdPage.DEVICE_IDENTIFICATION, Buffer.concat([
    // SPC-4 7.8.6.6: NAA IEEE Registered Extended, associated with the logical unit.
    designator(0, CodeSet.BINARY, false, Association.LOGICAL_UNIT, DesignatorType.NAA, lu.identity.naa),
    // SPC-4 7.8.6.4: T10 vendor ID based: T10 VENDOR IDENTIFICATION then the vendor-specific part.
    designator(0, CodeSet.ASCII, false, Association.LOGICAL_UNIT, DesignatorType.T10_VENDOR_ID, t10.subarray(0, 255)),
    targetPortDesignators(nexus),
  ]));
}

/**
 * SPC-4 7.8.10: the SCSI Ports page: one SCSI port designation descriptor (table 486) per target
 * port through which the logical unit is reached, in relative port order, each with one target
 * port descriptor (table 487), the iSCSI target port name. An initiator's multipath layer matches
 * the paths it sees against these ports.
 */
function buildScsiPorts(lu: LuView, nexus: NexusView): Buffer {
  const ports = [...nexus.targetPorts].sort((a, b) => a.relativeTargetPortId - b.relativeTargetPortId);
  return page(lu, VpdPage.SCSI_PORTS, Buffer.concat(ports.map((p) => {
    // SPC-4 7.8.10 table 487: a designation descriptor of ASSOCIATION 01b (target port): the SCSI
    // name string "<name>,t,0x<TPGT>", PIV 1 with the iSCSI protocol identifier.
    const target = designator(ProtocolId.ISCSI, CodeSet.UTF8, true, Association.TARGET_PORT, DesignatorType.SCSI_NAME_STRING, scsiNameString(p.name));
    const d = Buffer.alloc(12);
    // bytes 0..1 reserved
    d.writeUInt16BE(p.relativeTargetPortId & 0xffff, 2); // bytes 2..3 RELATIVE PORT IDENTIFIER
    // bytes 4..5 reserved; bytes 6..7 INITIATOR PORT TRANSPORTID LENGTH 0: no initiator port
    // TransportID (the descriptor names a target port, not one initiator's view of it).
    // bytes 8..9 reserved
    d.writeUInt16BE(target.length, 10); // bytes 10..11 TARGET PORT DESCRIPTORS LENGTH
    return Buffer.concat([d, target]);
  })));
}

/**
 * MAXIMUM COMPARE AND WRITE LENGTH for a unit: its store's when the store compares and writes
 * itself with a larger bound (rbd), else BLOCK_LIMITS's; never above the one-byte field.
 */
export function maxCompareAndWriteBlocks(lu: LuView): number {
  return Math.min(0xff, lu.backstore.maxCompareAndWriteBlocks ?? BLOCK_LIMITS.maxCompareAndWriteBlocks);
}

function buildExtendedInquiry(lu: LuView): Buffer {
  const b = Buffer.alloc(0x3c); // SPC-4 7.8.7 table 475: PAGE LENGTH 003Ch
  // byte 4 (body 0): ACTIVATE MICROCODE, SPT, GRD_CHK, APP_CHK, REF_CHK: no protection information
  b[0] = 0;
  // byte 5 (body 1): HEADSUP, ORDSUP, SIMPSUP: the task set honours all three task attributes
  b[1] = 0x04 | 0x02 | 0x01;
  // byte 6 (body 2): V_SUP when a volatile cache exists (write-back: SYNCHRONIZE CACHE flushes it).
  // WU_SUP stays zero: WRITE LONG with WR_UNCOR is not in the disk command set; NV_SUP zero: no
  // non-volatile cache.
  b[2] = lu.backstore.writeBack ? 0x01 : 0;
  // bytes 7.. : P_I_I_SUP, LUICLR, R_SUP, CBCS, microcode, self-test, POA/HRA/VSA, sense length:
  // none of these capabilities exist, so zero.
  return page(lu, VpdPage.EXTENDED_INQUIRY_DATA, b);
}

function buildBlockLimits(lu: LuView): Buffer {
  const b = Buffer.alloc(0x3c); // SBC-4 6.6.4 table 209: PAGE LENGTH 003Ch; offsets below are page bytes
  const at = (pageByte: number): number => pageByte - 4;
  const bs = lu.blockSize;
  b[at(4)] = BLOCK_LIMITS.writeSameNonZero ? 0x01 : 0; // WSNZ
  b[at(5)] = maxCompareAndWriteBlocks(lu); // MAXIMUM COMPARE AND WRITE LENGTH
  b.writeUInt16BE(1 << lu.physicalExponent, at(6)); // OPTIMAL TRANSFER LENGTH GRANULARITY
  b.writeUInt32BE(Math.floor(BLOCK_LIMITS.maxTransferBytes / bs), at(8)); // MAXIMUM TRANSFER LENGTH
  // bytes 12..15 OPTIMAL TRANSFER LENGTH, 16..19 MAXIMUM PREFETCH LENGTH: not reported (zero)
  if (lu.backstore.thin) {
    b.writeUInt32BE(Math.floor(BLOCK_LIMITS.maxUnmapBytes / bs), at(20)); // MAXIMUM UNMAP LBA COUNT
    b.writeUInt32BE(BLOCK_LIMITS.maxUnmapDescriptors, at(24)); // MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT
    // A store with a coarser deallocation unit (an rbd image's object) reports its own.
    const gran = Math.max(1, (lu.backstore.unmapGranularityBytes ?? BLOCK_LIMITS.unmapGranularityBytes) / bs, 1 << lu.physicalExponent);
    b.writeUInt32BE(gran, at(28)); // OPTIMAL UNMAP GRANULARITY
    b.writeUInt32BE(0x80000000, at(32)); // UGAVALID 1, UNMAP GRANULARITY ALIGNMENT 0
  }
  b.writeBigUInt64BE(BigInt(Math.floor(BLOCK_LIMITS.maxWriteSameBytes / bs)), at(36)); // MAXIMUM WRITE SAME LENGTH
  // bytes 44.. atomic transfer limits: atomic writes are not offered (zero)
  return page(lu, VpdPage.BLOCK_LIMITS, b);
}

function buildBlockDeviceCharacteristics(lu: LuView): Buffer {
  const b = Buffer.alloc(0x3c); // SBC-4 6.6.2 table 203: PAGE LENGTH 003Ch
  b.writeUInt16BE(0x0001, 0); // bytes 4..5 MEDIUM ROTATION RATE: 0001h non-rotating medium
  // byte 6 PRODUCT TYPE 0 (not indicated). Byte 7: WABEREQ (7..6) 01b where SANITIZE BLOCK ERASE
  // exists (thin units: erased blocks read back as zeros with GOOD status), WACEREQ (5..4) 00b
  // (no CRYPTOGRAPHIC ERASE), NOMINAL FORM FACTOR 0. Byte 8 FUAB/VBULS 0.
  if (lu.backstore.thin) b[3] = 0x40;
  return page(lu, VpdPage.BLOCK_DEVICE_CHARACTERISTICS, b);
}

/** SBC-4 6.6.7 table 215 PROVISIONING TYPE. */
enum ProvisioningType { FULL = 0x0, RESOURCE = 0x1, THIN = 0x2 }

function buildLogicalBlockProvisioning(lu: LuView): Buffer {
  const b = Buffer.alloc(4); // SBC-4 6.6.7 table 214: PAGE LENGTH 0004h (no provisioning group descriptor)
  const thin = lu.backstore.thin;
  b[0] = 0; // byte 4 THRESHOLD EXPONENT: no thresholds
  // byte 5: LBPU (UNMAP), LBPWS (WRITE SAME(16) UNMAP), LBPWS10 (WRITE SAME(10) UNMAP), LBPRZ 001b
  // (a hole reads as zeros), ANC_SUP 0 (no anchored state), DP 0 (no provisioning group descriptor)
  b[1] = thin ? 0x80 | 0x40 | 0x20 | 0x04 : 0;
  b[2] = thin ? ProvisioningType.THIN : ProvisioningType.FULL; // byte 6: PROVISIONING TYPE
  return page(lu, VpdPage.LOGICAL_BLOCK_PROVISIONING, b);
}

function buildUnitSerialNumber(lu: LuView): Buffer {
  // SPC-4 7.8.15: PRODUCT SERIAL NUMBER, ASCII
  return page(lu, VpdPage.UNIT_SERIAL_NUMBER, Buffer.from(lu.identity.serial.replace(/[^\x20-\x7e]/g, ' '), 'latin1'));
}

/** The SPC-4 pages every device type offers (page 00h is made from the unit's list). */
export const SPC_VPD_PAGES: readonly VpdPageDef[] = [
  { code: VpdPage.UNIT_SERIAL_NUMBER, build: buildUnitSerialNumber },
  { code: VpdPage.DEVICE_IDENTIFICATION, build: buildDeviceIdentification },
  { code: VpdPage.EXTENDED_INQUIRY_DATA, build: buildExtendedInquiry },
  { code: VpdPage.SCSI_PORTS, build: buildScsiPorts },
];

/** SBC-4 6.6: the block device pages a disk adds. */
export const SBC_VPD_PAGES: readonly VpdPageDef[] = [
  { code: VpdPage.BLOCK_LIMITS, build: buildBlockLimits },
  { code: VpdPage.BLOCK_DEVICE_CHARACTERISTICS, build: buildBlockDeviceCharacteristics },
  { code: VpdPage.LOGICAL_BLOCK_PROVISIONING, build: buildLogicalBlockProvisioning },
];

/** SPC-4 7.8.13: the supported page codes in ascending order, 00h itself first. */
function buildSupportedPages(lu: LuView): Buffer {
  const codes = [VpdPage.SUPPORTED_VPD_PAGES, ...lu.vpdPages.map(p => p.code)].sort((a, b) => a - b);
  return page(lu, VpdPage.SUPPORTED_VPD_PAGES, Buffer.from(codes));
}

/**
 * The VPD page `code` for this unit as seen through `nexus`, or undefined when its device type
 * does not offer it.
 */
export function buildVpdPage(code: number, lu: LuView, nexus: NexusView): Buffer | undefined {
  if (code === VpdPage.SUPPORTED_VPD_PAGES) return buildSupportedPages(lu);
  return lu.vpdPages.find(p => p.code === code)?.build(lu, nexus);
}
