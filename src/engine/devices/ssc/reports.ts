import { Decoded } from '../../cdb/dsl';
import { REPORT_DENSITY_SUPPORT } from '../../cdb/defs/ssc';
import { REQUEST_SENSE } from '../../cdb/defs/core';
import { check, good, Outcome } from '../../result';
import { SENSE } from '../../spec/asc';
import { ExecContext, LogPageDef, LuView, VpdPageDef } from '../../types';
import { buildSense, SenseFormat } from '../../sense';
import { mediumNotPresent } from '../../medium';
import { asciiField } from '../../vpd';
import { FORMAT_BOUNDED_COUNTER, FORMAT_UNBOUNDED_COUNTER, TSD, u64s } from '../../log-pages';
import { BLOCK_LIMITS, DENSITY_CODE, pastEarlyWarning, tapeOf } from './drive';

/**
 * What the drive reports about itself and its medium (SSC-4): READ BLOCK LIMITS, REPORT DENSITY
 * SUPPORT, REQUEST SENSE with the stream bits, the sequential-access device characteristics VPD
 * page, and the sequential-access device and TapeAlert log pages.
 */

/** READ BLOCK LIMITS (SSC-4 7.4): GRANULARITY, MAXIMUM BLOCK LENGTH LIMIT, MINIMUM BLOCK LENGTH LIMIT. */
export function sscReadBlockLimits(): Outcome {
  const b = Buffer.alloc(6);
  b[0] = BLOCK_LIMITS.granularity & 0x1f; // byte 0: GRANULARITY (bits 4..0)
  b.writeUIntBE(BLOCK_LIMITS.maximum, 1, 3); // bytes 1..3 MAXIMUM BLOCK LENGTH LIMIT
  b.writeUInt16BE(BLOCK_LIMITS.minimum, 4); // bytes 4..5 MINIMUM BLOCK LENGTH LIMIT
  return good(b);
}

/** SSC-4 REPORT DENSITY SUPPORT: the 52-byte density support data block descriptor. */
const DENSITY_DESCRIPTOR_BYTES = 52;

/**
 * REPORT DENSITY SUPPORT (SSC-4 6.x): one density, this drive's cartridge format. MEDIA one asks
 * for the densities of the mounted medium, so it needs one (NOT READY otherwise); WRTOK then
 * says whether that cartridge can be written.
 */
export function sscReportDensitySupport(ctx: ExecContext<Decoded<typeof REPORT_DENSITY_SUPPORT.fields>>): Outcome {
  const lu = ctx.lu;
  const t = tapeOf(lu);
  if (ctx.f.media && !lu.mediumPresent) return check(mediumNotPresent(lu));
  const c = t.loaded ? t.cartridge : undefined;
  const d = Buffer.alloc(DENSITY_DESCRIPTOR_BYTES);
  d[0] = DENSITY_CODE; // PRIMARY DENSITY CODE
  d[1] = DENSITY_CODE; // SECONDARY DENSITY CODE
  const wrtok = !(ctx.f.media && (ctx.readOnly || t.readOnly));
  d[2] = (wrtok ? 0x80 : 0) | 0x20 | 0x01; // WRTOK | DUP 0 | DEFLT 1 | DLV 1
  d.writeUInt16BE(DENSITY_DESCRIPTOR_BYTES - 3, 3); // bytes 3..4 DESCRIPTOR LENGTH (DLV one)
  // bytes 5..7 BITS PER MM, 8..9 MEDIA WIDTH: no physical medium, 0
  d.writeUInt16BE(1, 10); // TRACKS
  // bytes 12..15 CAPACITY in megabytes (10^6 bytes) of the mounted cartridge (0 without one)
  d.writeUInt32BE(c ? Math.floor(c.label.capacityBytes / 1e6) : 0, 12);
  asciiField('NEXUS', 8).copy(d, 16); // bytes 16..23 ASSIGNING ORGANIZATION
  asciiField('NXTAPE1', 8).copy(d, 24); // bytes 24..31 DENSITY NAME
  asciiField('Nexus cartridge v1', 20).copy(d, 32); // bytes 32..51 DESCRIPTION
  const h = Buffer.alloc(4);
  h.writeUInt16BE(2 + d.length, 0); // AVAILABLE DENSITY SUPPORT LENGTH (bytes after itself)
  return good(Buffer.concat([h, d]));
}

/**
 * REQUEST SENSE (SPC-4 6.39 with SSC-4's stream bits): a pending unit attention, else the drive's
 * state now: MEDIUM NOT PRESENT while no cartridge is loaded; else NO SENSE, with EOM set once
 * the records are past early warning. The sense of an earlier CHECK CONDITION went with it
 * (autosense) and is not kept.
 */
export function sscRequestSense(ctx: ExecContext<Decoded<typeof REQUEST_SENSE.fields>>): Outcome {
  const { lu, nexus } = ctx;
  const fmt = ctx.f.desc ? SenseFormat.DESCRIPTOR : SenseFormat.FIXED;
  const ua = lu.ua.queue(nexus.itKey).take();
  if (ua) return good(buildSense({ cond: ua }, fmt));
  if (!lu.mediumPresent) return good(buildSense({ cond: mediumNotPresent(lu) }, fmt));
  const c = tapeOf(lu).cartridge;
  const eom = c !== undefined && pastEarlyWarning(c);
  return good(buildSense({ cond: SENSE.NO_ADDITIONAL_SENSE, eom }, fmt));
}

/** SSC-4 7.x: the Sequential-access device characteristics VPD page (B0h). */
export const SEQUENTIAL_ACCESS_DEVICE_CHARACTERISTICS: VpdPageDef = {
  code: 0xb0,
  build(lu: LuView): Buffer {
    const b = Buffer.alloc(6);
    b[0] = lu.type & 0x1f; // PERIPHERAL QUALIFIER 000b | PERIPHERAL DEVICE TYPE 01h
    b[1] = 0xb0; // PAGE CODE
    b.writeUInt16BE(2, 2); // PAGE LENGTH
    b[4] = 0x00; // WORM 0: cartridges are rewritable
    return b;
  },
};

/** SSC-4 8.2 log page codes of a tape drive. */
export const enum SscLogPage { SEQUENTIAL_ACCESS_DEVICE = 0x0c, TAPE_ALERT = 0x2e }

/**
 * SSC-4 8.2.2 Sequential-access device log page (0Ch): bytes received from and sent to the
 * application (written to and read from the medium: no compression, so the same counts), and
 * cleaning required (never).
 */
export const SEQUENTIAL_ACCESS_DEVICE_LOG: LogPageDef = {
  code: SscLogPage.SEQUENTIAL_ACCESS_DEVICE,
  parameters(lu: LuView) {
    const t = tapeOf(lu);
    const counter = TSD | FORMAT_UNBOUNDED_COUNTER;
    return [
      { code: 0x0000, control: counter, value: u64s(t.bytesWritten) }, // data bytes received from the application
      { code: 0x0001, control: counter, value: u64s(t.bytesWritten) }, // data bytes written to the medium
      { code: 0x0002, control: counter, value: u64s(t.bytesRead) }, // data bytes read from the medium
      { code: 0x0003, control: counter, value: u64s(t.bytesRead) }, // data bytes sent to the application
      { code: 0x0100, control: TSD | FORMAT_BOUNDED_COUNTER, value: Buffer.from([0]) }, // cleaning required: no
    ];
  },
};

/**
 * SSC-4 8.2.3 TapeAlert log page (2Eh): flags 0001h..0040h, one byte each. A virtual drive has
 * no head to clean and no medium to wear: every flag is clear.
 */
export const TAPE_ALERT_LOG: LogPageDef = {
  code: SscLogPage.TAPE_ALERT,
  parameters() {
    return Array.from({ length: 0x40 }, (_, i) => ({ code: i + 1, control: FORMAT_BOUNDED_COUNTER, value: Buffer.from([0]) }));
  },
};
