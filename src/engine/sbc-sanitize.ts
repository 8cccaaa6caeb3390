import { senseFromErrno } from './backstores/errno-sense';
import * as D from './cdb/defs/sbc';
import { GOOD, Outcome, invalidParamField } from './result';
import { IO_CHUNK_BYTES } from './sbc-io';
import { Binding, Exec, ExecContext, LuView, bind } from './types';
import { invalidFieldOf } from './cdb/dsl';

/**
 * SBC-4 5.30 SANITIZE: OVERWRITE writes an initialization pattern over every logical block,
 * BLOCK ERASE deallocates every block of a thin unit (reads then return zeros: WABEREQ 01b in the
 * block device characteristics page), EXIT FAILURE MODE leaves the (never entered) failure mode.
 * While a sanitize runs the unit answers NOT READY, SANITIZE IN PROGRESS to everything but the
 * commands SBC-4 4.11.2 lets through (the pipeline checks `lu.sanitizing`); IMMED returns status
 * once the parameters are checked and lets the operation finish on its own. Task management does
 * not stop a sanitize (SBC-4 4.11.1: it continues across resets).
 */

interface SanitizeFields { immed: boolean; ause: boolean; parameterListLength: number }

/** SBC-4 table 98: OVERWRITE parameter list header is 4 bytes, then the pattern. */
const OVERWRITE_HEADER = 4;

interface OverwriteParams { pattern: Uint8Array; invert: boolean; count: number }

/**
 * SBC-4 5.30.3 OVERWRITE parameter list: byte 0 INVERT (7), TEST (6..5), OVERWRITE COUNT (4..0);
 * bytes 2..3 INITIALIZATION PATTERN LENGTH, then the pattern. The list must hold a header and a
 * pattern of 1..block size bytes; anything else is refused.
 */
function overwriteParams(ctx: ExecContext<SanitizeFields>): OverwriteParams | Outcome {
  const { lu, f, dataOut: data } = ctx;
  const plen = f.parameterListLength;
  if (plen <= OVERWRITE_HEADER || plen > lu.blockSize + OVERWRITE_HEADER || !data) return invalidFieldOf(ctx.def, 'parameterListLength');
  const count = data[0] & 0x1f;
  if ((data[0] & 0x60) !== 0) return invalidParamField(0, 6); // TEST: vendor-specific test modes not offered
  if (count === 0) return invalidParamField(0, 4);
  const ipl = (data[2] << 8) | data[3];
  if (ipl === 0 || ipl > lu.blockSize || ipl > plen - OVERWRITE_HEADER) return invalidParamField(2);
  return { pattern: data.slice(OVERWRITE_HEADER, OVERWRITE_HEADER + ipl), invert: (data[0] & 0x80) !== 0, count };
}

function isOutcome(v: object): v is Outcome { return 'status' in v; }

/**
 * One block of the pattern, repeated to fill it. Only the last of OVERWRITE COUNT passes is
 * written: earlier passes are overwritten by it, and with INVERT the passes alternate, so the
 * last one is inverted when the count is even.
 */
function patternBlock(lu: LuView, p: OverwriteParams): Buffer {
  const block = Buffer.alloc(lu.blockSize);
  for (let i = 0; i < block.length; i++) block[i] = p.pattern[i % p.pattern.length];
  if (p.invert && p.count % 2 === 0) for (let i = 0; i < block.length; i++) block[i] ^= 0xff;
  return block;
}

/**
 * Pieces a store's fill is split into, so the progress indication moves (SPC-4 4.5.2.4.4), none
 * smaller than FILL_PIECE_MIN_BYTES (a small unit is one piece).
 */
const FILL_PIECES = 64;
const FILL_PIECE_MIN_BYTES = 1 << 20;

/** `done` of `size` bytes are done: the progress indication, a fraction of 65536. */
function progressed(lu: LuView, done: number, size: number): void {
  lu.sanitizeProgress = size > 0 ? Math.min(0xffff, Math.floor((done / size) * 0x10000)) : 0;
}

async function overwriteAll(lu: LuView, block: Buffer): Promise<void> {
  const size = Number(lu.blocks) * lu.blockSize;
  if (lu.backstore.fill) {
    // Blocking tasks in the store's own pool instead of thousands of writes on this thread: a
    // few large pieces, whole blocks each.
    const piece = Math.ceil(Math.max(FILL_PIECE_MIN_BYTES, size / FILL_PIECES) / lu.blockSize) * lu.blockSize;
    for (let off = 0; off < size; off += piece) {
      await lu.backstore.fill(off, Math.min(piece, size - off), block);
      progressed(lu, Math.min(size, off + piece), size);
    }
    await lu.backstore.flush();
    return;
  }
  const chunk = Buffer.alloc(Math.min(size, Math.max(lu.blockSize, IO_CHUNK_BYTES - (IO_CHUNK_BYTES % lu.blockSize))));
  for (let at = 0; at < chunk.length; at += lu.blockSize) block.copy(chunk, at);
  for (let off = 0; off < size;) {
    const len = Math.min(chunk.length, size - off);
    await lu.backstore.write(off, chunk.subarray(0, len), false);
    off += len;
    progressed(lu, off, size);
  }
  await lu.backstore.flush();
}

async function eraseAll(lu: LuView): Promise<void> {
  const size = Number(lu.blocks) * lu.blockSize;
  await lu.backstore.unmap(0, size);
  await lu.backstore.flush();
}

/** Run `op` with the unit in the sanitize-in-progress state; IMMED answers before it ends. */
async function sanitizing(lu: LuView, immed: boolean, op: () => Promise<void>): Promise<Outcome> {
  lu.sanitizing = true;
  lu.sanitizeProgress = 0;
  const run = op().finally(() => { lu.sanitizing = false; lu.sanitizeProgress = 0; });
  if (immed) {
    // SBC-4 5.30.1: with IMMED the outcome is only visible through REQUEST SENSE afterwards; a
    // failure leaves the data as it is, which the next read shows.
    run.catch(() => undefined);
    return GOOD;
  }
  try {
    await run;
  } catch (e) {
    return senseFromErrno(e, 'write');
  }
  return GOOD;
}

export const execSanitizeOverwrite: Exec<SanitizeFields> = ctx => {
  const { lu, f } = ctx;
  const p = overwriteParams(ctx);
  if (isOutcome(p)) return p;
  const block = patternBlock(lu, p);
  return sanitizing(lu, f.immed, () => overwriteAll(lu, block));
};

export const execSanitizeBlockErase: Exec<SanitizeFields> = ctx => {
  const { lu, f } = ctx;
  // SBC-4 5.30.2: BLOCK ERASE takes no parameter list.
  if (f.parameterListLength !== 0) return invalidFieldOf(ctx.def, 'parameterListLength');
  return sanitizing(lu, f.immed, () => eraseAll(lu));
};

/** SBC-4 5.30.4: no sanitize ever fails into the failure mode here, so there is nothing to leave. */
export const execSanitizeExitFailureMode: Exec<SanitizeFields> = ctx => {
  if (ctx.f.parameterListLength !== 0) return invalidFieldOf(ctx.def, 'parameterListLength');
  return GOOD;
};

export const sanitizeBindings: Binding[] = [
  bind(D.SANITIZE_OVERWRITE, execSanitizeOverwrite),
  bind(D.SANITIZE_BLOCK_ERASE, execSanitizeBlockErase),
  bind(D.SANITIZE_EXIT_FAILURE_MODE, execSanitizeExitFailureMode),
];
