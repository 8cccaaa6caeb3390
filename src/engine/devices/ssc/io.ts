import { Decoded, invalidFieldOf } from '../../cdb/dsl';
import { READ_16, READ_6, WRITE_16, WRITE_6, WRITE_FILEMARKS_16, WRITE_FILEMARKS_6 } from '../../cdb/defs/ssc';
import { check, checkWithData, good, GOOD, Outcome } from '../../result';
import { SENSE, SenseCondition } from '../../spec/asc';
import { ExecContext } from '../../types';
import { senseFromErrno } from '../../backstores/errno-sense';
import { RECORD_HEADER_BYTES, RecordType, TapeRecord } from '../../backstores/tape-cartridge';
import { BLOCK_LIMITS, cartridgeOf, earlyWarning, pastEarlyWarning, residue, tapeOf } from './drive';
import { locateFirst } from './position';

/**
 * READ, WRITE and WRITE FILEMARKS (SSC-4 6.x, 4.2): data blocks and filemarks at the logical
 * position, in fixed-block mode (TRANSFER LENGTH counts blocks of the mode's block length) or
 * variable-block mode (one block of TRANSFER LENGTH bytes). The 6-byte forms act where the drive
 * is; the 16-byte forms name where they start (PARTITION, LOGICAL OBJECT IDENTIFIER) and locate
 * there first. Both forms share one body per command: their rows name the fields alike, so a
 * refusal points into whichever CDB came.
 */

type ReadFields = { fixed: boolean; sili: boolean; transferLength: number };
type WriteFields = { fixed: boolean; transferLength: number };
type FilemarkFields = { immed: boolean; filemarkCount: number };

/** READ(6). */
export function sscRead6(ctx: ExecContext<Decoded<typeof READ_6.fields>>): Promise<Outcome> {
  return read(ctx);
}

/** READ(16): the read starts at the named logical object (SSC-4: a locate first when elsewhere). */
export async function sscRead16(ctx: ExecContext<Decoded<typeof READ_16.fields>>): Promise<Outcome> {
  return locateFirst(ctx, ctx.f.transferLength) ?? read(ctx);
}

async function read(ctx: ExecContext<ReadFields>): Promise<Outcome> {
  const { fixed, sili, transferLength: n } = ctx.f;
  const t = tapeOf(ctx.lu);
  // SSC-4 READ(6): FIXED and SILI both one, or FIXED with variable-block mode, is an invalid CDB.
  if (fixed && sili) return invalidFieldOf(ctx.def, 'sili');
  if (fixed && t.blockLength === 0) return invalidFieldOf(ctx.def, 'fixed');
  // SSC-4: a TRANSFER LENGTH of zero transfers nothing and does not move.
  if (n === 0) return GOOD;
  const c = cartridgeOf(ctx.lu);
  try {
    if (!fixed) {
      if (n > BLOCK_LIMITS.maximum) return invalidFieldOf(ctx.def, 'transferLength');
      const p = t.position;
      // SSC-4 4.2.9: reading at end-of-data: BLANK CHECK, END-OF-DATA DETECTED, the position
      // unchanged, INFORMATION the requested length.
      if (p >= c.objects) return check(SENSE.END_OF_DATA_DETECTED, { information: BigInt(n) });
      if (c.typeAt(p) === RecordType.FILEMARK) {
        // SSC-4 4.2.x: a filemark is read: NO SENSE, FILEMARK, FILEMARK DETECTED; the position is
        // after it (its EOM side); INFORMATION the requested length.
        t.position = p + 1;
        return check(SENSE.FILEMARK_DETECTED, { filemark: true, information: BigInt(n) });
      }
      const len = c.lengthAt(p);
      const data = new Uint8Array(Math.min(len, n));
      await c.read(p, data);
      t.position = p + 1;
      t.bytesRead += data.length;
      if (len === n) return good(data);
      // SSC-4 READ(6) incorrect length: the position is after the block either way. An
      // underlength block with SILI one is no exception; otherwise ILI with INFORMATION the
      // requested minus the actual length (negative for an overlength block, which SILI excuses
      // only in variable-block mode).
      if (sili && (len < n || t.blockLength === 0)) return good(data);
      return checkWithData(data, SENSE.NO_ADDITIONAL_SENSE, { ili: true, information: residue(n - len) });
    }
    const bs = t.blockLength;
    const out = new Uint8Array(n * bs);
    for (let k = 0; k < n; k++) {
      const p = t.position;
      const left = BigInt(n - k);
      const got = out.subarray(0, k * bs);
      if (p >= c.objects) return withData(got, SENSE.END_OF_DATA_DETECTED, { information: left });
      if (c.typeAt(p) === RecordType.FILEMARK) {
        t.position = p + 1;
        return withData(got, SENSE.FILEMARK_DETECTED, { filemark: true, information: left });
      }
      const len = c.lengthAt(p);
      if (len !== bs) {
        // SSC-4: a block of another length in fixed mode: ILI, the position after it, INFORMATION
        // the blocks not read (the incorrect one included); the blocks before it are returned.
        t.position = p + 1;
        return withData(got, SENSE.NO_ADDITIONAL_SENSE, { ili: true, information: left });
      }
      await c.read(p, out.subarray(k * bs, (k + 1) * bs));
      t.position = p + 1;
      t.bytesRead += bs;
    }
    return good(out);
  } catch (err) {
    return senseFromErrno(err, 'read');
  }
}

/** The sense of a fixed-mode READ that stopped early, with the blocks it read before, if any. */
function withData(data: Uint8Array, cond: SenseCondition, extra: { filemark?: boolean; ili?: boolean; information: bigint }): Outcome {
  return data.length ? checkWithData(data, cond, extra) : check(cond, extra);
}

/**
 * Append `records` at the position (cutting what follows it first, SSC-4 4.2.9), as many as fit
 * before the end of the partition. Returns how many were recorded.
 */
async function record(ctx: ExecContext<unknown>, records: TapeRecord[]): Promise<number> {
  const t = tapeOf(ctx.lu);
  const c = cartridgeOf(ctx.lu);
  await c.truncate(t.position);
  let room = c.label.capacityBytes - c.usedBytes;
  let fit = 0;
  for (const r of records) {
    const size = RECORD_HEADER_BYTES + (r.type === RecordType.DATA ? r.data.length : 0);
    if (size > room) break;
    room -= size;
    fit++;
  }
  await c.append(records.slice(0, fit));
  t.position = c.objects;
  // Unbuffered mode (BUFFERED MODE 0): GOOD only once the records are on the medium.
  if (!t.buffered) await c.sync();
  return fit;
}

/** WRITE(6). */
export function sscWrite6(ctx: ExecContext<Decoded<typeof WRITE_6.fields>>): Promise<Outcome> {
  return write(ctx);
}

/**
 * WRITE(16): the blocks are written at the named logical object (SSC-4: a locate first), which
 * makes it end-of-data like any write (SSC-4 4.2.9).
 */
export async function sscWrite16(ctx: ExecContext<Decoded<typeof WRITE_16.fields>>): Promise<Outcome> {
  return locateFirst(ctx, ctx.f.transferLength) ?? write(ctx);
}

async function write(ctx: ExecContext<WriteFields>): Promise<Outcome> {
  const { fixed, transferLength: n } = ctx.f;
  const t = tapeOf(ctx.lu);
  if (fixed && t.blockLength === 0) return invalidFieldOf(ctx.def, 'fixed');
  if (n === 0) return GOOD;
  if (!fixed && n > BLOCK_LIMITS.maximum) return invalidFieldOf(ctx.def, 'transferLength');
  const data = ctx.dataOut ?? new Uint8Array(0);
  const records: TapeRecord[] = [];
  if (fixed) {
    const bs = t.blockLength;
    for (let k = 0; k < n; k++) records.push({ type: RecordType.DATA, data: data.subarray(k * bs, (k + 1) * bs) });
  } else {
    records.push({ type: RecordType.DATA, data });
  }
  try {
    const written = await record(ctx, records);
    t.bytesWritten += written * (fixed ? t.blockLength : n);
    if (written < records.length) {
      // SSC-4 4.2.5: no room before the end of the partition: VOLUME OVERFLOW with EOM;
      // INFORMATION the blocks (fixed) or bytes (variable) not written.
      return check(SENSE.VOLUME_OVERFLOW_END_OF_PARTITION, { eom: true, information: BigInt(fixed ? n - written : n) });
    }
    return pastEarlyWarning(cartridgeOf(ctx.lu)) ? earlyWarning() : GOOD;
  } catch (err) {
    return senseFromErrno(err, 'write');
  }
}

/**
 * WRITE FILEMARKS(6). With IMMED zero every record written before is on the medium when the
 * command completes (SSC-4: the command applications use to flush, a count of zero included).
 */
export function sscWriteFilemarks6(ctx: ExecContext<Decoded<typeof WRITE_FILEMARKS_6.fields>>): Promise<Outcome> {
  return writeFilemarks(ctx);
}

/** WRITE FILEMARKS(16): at the named logical object (SSC-4: a locate first), then as WRITE FILEMARKS(6). */
export async function sscWriteFilemarks16(ctx: ExecContext<Decoded<typeof WRITE_FILEMARKS_16.fields>>): Promise<Outcome> {
  return locateFirst(ctx, ctx.f.filemarkCount) ?? writeFilemarks(ctx);
}

async function writeFilemarks(ctx: ExecContext<FilemarkFields>): Promise<Outcome> {
  const n = ctx.f.filemarkCount;
  const c = cartridgeOf(ctx.lu);
  try {
    const marks: TapeRecord[] = Array.from({ length: n }, () => ({ type: RecordType.FILEMARK }));
    const written = n > 0 ? await record(ctx, marks) : 0;
    if (!ctx.f.immed) await c.sync();
    if (written < n) return check(SENSE.VOLUME_OVERFLOW_END_OF_PARTITION, { eom: true, information: BigInt(n - written) });
    return n > 0 && pastEarlyWarning(c) ? earlyWarning() : GOOD;
  } catch (err) {
    return senseFromErrno(err, 'write');
  }
}
