import { Decoded, invalidField, invalidFieldOf, pointerTo } from './cdb/dsl';
import { MODE_SELECT_10, MODE_SELECT_6, MODE_SENSE_10, MODE_SENSE_6 } from './cdb/defs/spc';
import { GOOD, Outcome, check, good, invalidParamField } from './result';
import { SENSE } from './spec/asc';
import { PeripheralType } from './spec/status';
import { ExecContext, LuView } from './types';
import { ALL_SUBPAGES, ModePageCode, ModePageDef, ModePages, PageControl } from './mode-page-store';

/**
 * MODE SENSE / MODE SELECT (SPC-4 6.11-6.14) over the unit's mode page store (mode-page-store.ts).
 * Nothing is saveable: PC 11b and SP 1 are refused.
 */

/**
 * SPC-4 6.11: which pages a PAGE CODE / SUBPAGE CODE pair asks for, in ascending page order,
 * or the INVALID FIELD IN CDB outcome.
 */
function selectPages(all: readonly ModePageDef[], pageCode: number, subpage: number): readonly ModePageDef[] | Outcome {
  if (pageCode === ModePageCode.ALL_PAGES) {
    if (subpage === 0) return all.filter(p => p.subpage === 0);
    if (subpage === ALL_SUBPAGES) return all;
    return invalidField(MODE_SENSE_10.fields.subpageCode);
  }
  const ofPage = all.filter(p => p.code === pageCode);
  // SPC-4 6.11: an unsupported page is INVALID FIELD IN CDB at PAGE CODE.
  if (ofPage.length === 0) return invalidField(MODE_SENSE_10.fields.pageCode);
  if (subpage === ALL_SUBPAGES) return ofPage;
  const one = ofPage.filter(p => p.subpage === subpage);
  return one.length ? one : invalidField(MODE_SENSE_10.fields.subpageCode);
}

/** SBC-4 6.5.2 table 181: DEVICE-SPECIFIC PARAMETER of a direct-access device. */
function deviceSpecificParameter(ctx: ExecContext<unknown>, modes: ModePages): number {
  if (ctx.lu.type !== PeripheralType.DISK) return 0;
  const wp = ctx.readOnly || modes.softwareWriteProtect;
  return (wp ? 0x80 : 0) | 0x10; // WP | DPOFUA (DPO and FUA are honoured)
}

/** SBC-4 6.5.2: the short (8-byte) or long (16-byte) LBA mode parameter block descriptor. */
function blockDescriptor(lu: LuView, long: boolean): Buffer {
  if (long) {
    const d = Buffer.alloc(16);
    d.writeBigUInt64BE(lu.blocks, 0); // bytes 0..7 NUMBER OF LOGICAL BLOCKS
    d.writeUInt32BE(lu.blockSize, 12); // bytes 12..15 LOGICAL BLOCK LENGTH
    return d;
  }
  const d = Buffer.alloc(8);
  // bytes 0..3 NUMBER OF LOGICAL BLOCKS, FFFFFFFFh when the capacity does not fit
  d.writeUInt32BE(lu.blocks > 0xffffffffn ? 0xffffffff : Number(lu.blocks), 0);
  d.writeUIntBE(lu.blockSize, 5, 3); // byte 4 reserved, bytes 5..7 LOGICAL BLOCK LENGTH
  return d;
}

/** MODE SENSE(10)'s fields; MODE SENSE(6) has all but LLBAA. */
type ModeSenseFields = Omit<Decoded<typeof MODE_SENSE_10.fields>, 'llbaa'> & { llbaa?: boolean };

function modeSense(ctx: ExecContext<ModeSenseFields>, ten: boolean): Outcome {
  const { dbd, llbaa, pc, pageCode, subpageCode } = ctx.f;
  // SPC-4 6.11 table 163: saved values are not implemented → SAVING PARAMETERS NOT SUPPORTED.
  if (pc === PageControl.SAVED) {
    return check(SENSE.SAVING_PARAMETERS_NOT_SUPPORTED, { fieldPointer: pointerTo(MODE_SENSE_10.fields.pc) });
  }
  const modes = ctx.lu.modes;
  // Tape drives: PAGE CODE 00h (SPC-4: vendor specific, no page format) asks for the mode
  // parameter header and block descriptor alone, which is how Linux st and tape software read the
  // density, block length and WP of the drive.
  const headerOnly = modes.medium !== undefined && pageCode === 0 && subpageCode === 0;
  const selected = headerOnly ? [] : selectPages(modes.pages, pageCode, subpageCode);
  if (!Array.isArray(selected)) return selected as Outcome;
  const pages = (selected as readonly ModePageDef[]).map(p => modes.values(p, pc));
  // Block descriptors describe the medium of direct-access devices; DBD 1 leaves them out.
  const long = ten && llbaa === true;
  const medium = modes.medium;
  const bd = dbd ? Buffer.alloc(0)
    : medium ? Buffer.from(medium.blockDescriptor())
      : ctx.lu.type === PeripheralType.DISK ? blockDescriptor(ctx.lu, long) : Buffer.alloc(0);
  const body = Buffer.concat([bd, ...pages]);
  const dsp = medium ? medium.deviceSpecific(ctx.readOnly || modes.softwareWriteProtect) : deviceSpecificParameter(ctx, modes);
  if (ten) {
    // SPC-4 7.5.5 table 452: mode parameter header(10)
    const h = Buffer.alloc(8);
    h.writeUInt16BE(6 + body.length, 0); // MODE DATA LENGTH: bytes after itself
    h[2] = 0; // MEDIUM TYPE
    h[3] = dsp; // DEVICE-SPECIFIC PARAMETER
    h[4] = long && bd.length && !medium ? 0x01 : 0; // LONGLBA
    h.writeUInt16BE(bd.length, 6); // BLOCK DESCRIPTOR LENGTH
    return good(Buffer.concat([h, body]));
  }
  // SPC-4 7.5.5 table 451: mode parameter header(6)
  const h = Buffer.alloc(4);
  h[0] = 3 + body.length; // MODE DATA LENGTH
  h[1] = 0; // MEDIUM TYPE
  h[2] = dsp; // DEVICE-SPECIFIC PARAMETER
  h[3] = bd.length; // BLOCK DESCRIPTOR LENGTH
  return good(Buffer.concat([h, body]));
}

export function spcModeSense6(ctx: ExecContext<Decoded<typeof MODE_SENSE_6.fields>>): Outcome {
  return modeSense(ctx, false);
}

export function spcModeSense10(ctx: ExecContext<ModeSenseFields>): Outcome {
  return modeSense(ctx, true);
}

const plle = (): Outcome => check(SENSE.PARAMETER_LIST_LENGTH_ERROR);
const highestBit = (v: number): number => 31 - Math.clz32(v);

/** A checked MODE SELECT parameter list: the pages to install, or the outcome that refuses it. */
type ParsedSelect = { ok: true; pages: Array<{ def: ModePageDef; bytes: Uint8Array }>; apply?: () => boolean } | { ok: false; outcome: Outcome };

/**
 * SPC-4 6.9 / 7.5: parse a MODE SELECT parameter list strictly, against the current values. Only
 * changeable bits may differ; lengths must be the page's own.
 */
export function parseModeSelect(data: Uint8Array, ten: boolean, lu: LuView, modes: ModePages): ParsedSelect {
  const fail = (outcome: Outcome): ParsedSelect => ({ ok: false, outcome });
  const len = data.length;
  const hdrLen = ten ? 8 : 4;
  if (len < hdrLen) return fail(plle());
  const disk = lu.type === PeripheralType.DISK;
  // SPC-4 7.5.5: MODE DATA LENGTH is reserved for MODE SELECT.
  if (ten ? (data[0] | data[1]) !== 0 : data[0] !== 0) return fail(invalidParamField(data[0] ? 0 : 1));
  const mediumType = ten ? 2 : 1;
  if (data[mediumType] !== 0) return fail(invalidParamField(mediumType));
  // SBC-4 6.5.2: WP and DPOFUA are not set by MODE SELECT; initiators commonly send back the header
  // they read, so those two are ignored. The other bits are reserved.
  const dspAt = ten ? 3 : 2;
  const medium = modes.medium;
  const dspBad = medium ? 0 : disk ? data[dspAt] & ~0x90 : data[dspAt];
  if (dspBad) return fail(invalidParamField(dspAt, highestBit(dspBad)));
  let longLba = false;
  if (ten) {
    if (data[4] & 0xfe) return fail(invalidParamField(4, highestBit(data[4] & 0xfe)));
    if (data[5]) return fail(invalidParamField(5, highestBit(data[5])));
    longLba = (data[4] & 0x01) !== 0;
  }
  const bdLen = ten ? (data[6] << 8) | data[7] : data[3];
  const bdLenAt = ten ? 6 : 3;
  const bdSize = longLba ? 16 : 8;
  if (bdLen !== 0 && (!(disk || medium) || bdLen !== bdSize || (medium && longLba))) return fail(invalidParamField(bdLenAt));
  let off = hdrLen;
  if (off + bdLen > len) return fail(plle());
  let apply: (() => boolean) | undefined;
  if (medium) {
    const r = medium.select(data[dspAt], dspAt, bdLen ? data.subarray(off, off + bdLen) : undefined, off);
    if (typeof r !== 'function') return fail(r);
    apply = r;
    off += bdLen;
  } else if (bdLen) {
    // SBC-4 6.5.2: the block descriptor may repeat the current geometry (or say 0 blocks: no
    // change); anything else would be a format change, which is not offered.
    const dv = Buffer.from(data.buffer, data.byteOffset + off, bdLen);
    if (longLba) {
      const n = dv.readBigUInt64BE(0);
      if (n !== 0n && n !== lu.blocks) return fail(invalidParamField(off));
      const r = dv.readUInt32BE(8);
      if (r) return fail(invalidParamField(off + 8));
      if (dv.readUInt32BE(12) !== lu.blockSize) return fail(invalidParamField(off + 12));
    } else {
      const n = dv.readUInt32BE(0);
      const cur = lu.blocks > 0xffffffffn ? 0xffffffff : Number(lu.blocks);
      if (n !== 0 && n !== cur) return fail(invalidParamField(off));
      if (dv[4]) return fail(invalidParamField(off + 4, highestBit(dv[4])));
      if (dv.readUIntBE(5, 3) !== lu.blockSize) return fail(invalidParamField(off + 5));
    }
    off += bdLen;
  }
  const defs = modes.pages;
  const pages: Array<{ def: ModePageDef; bytes: Uint8Array }> = [];
  while (off < len) {
    if (len - off < 2) return fail(plle());
    // SPC-4 7.5.7: byte 0 PS (reserved for MODE SELECT, ignored: it is echoed back from MODE
    // SENSE data) | SPF | PAGE CODE.
    const spf = (data[off] & 0x40) !== 0;
    const code = data[off] & 0x3f;
    if (spf && len - off < 4) return fail(plle());
    const subpage = spf ? data[off + 1] : 0;
    const hl = spf ? 4 : 2;
    const pageLength = spf ? (data[off + 2] << 8) | data[off + 3] : data[off + 1];
    const ofCode = defs.filter(d => d.code === code);
    if (ofCode.length === 0) return fail(invalidParamField(off, 5));
    const def = ofCode.find(d => d.subpage === subpage && (d.subpage !== 0) === spf);
    if (!def) return fail(invalidParamField(spf ? off + 1 : off, spf ? undefined : 6));
    const cur = modes.values(def, PageControl.CURRENT);
    if (pageLength !== cur.length - hl) return fail(invalidParamField(spf ? off + 2 : off + 1));
    if (off + hl + pageLength > len) return fail(plle());
    const next = Uint8Array.from(cur);
    for (let i = hl; i < cur.length; i++) {
      const v = data[off + i];
      // SPC-4 6.9.1: setting a field to a value it cannot take is INVALID FIELD IN PARAMETER LIST.
      const bad = (v ^ cur[i]) & ~def.changeable[i] & 0xff;
      if (bad) return fail(invalidParamField(off + i, highestBit(bad)));
      next[i] = v;
    }
    pages.push({ def, bytes: next });
    off += hl + pageLength;
  }
  return { ok: true, pages, apply };
}

type ModeSelectFields = Decoded<typeof MODE_SELECT_10.fields>;

function modeSelect(ctx: ExecContext<ModeSelectFields>, ten: boolean): Outcome {
  // SPC-4 6.9.1: PF 0 would mean vendor-specific page formats; only the standard's are known.
  if (!ctx.f.pf) return invalidFieldOf(ctx.def, 'pf');
  const data = ctx.dataOut ?? new Uint8Array(0);
  // SPC-4 6.9.1: a PARAMETER LIST LENGTH of zero transfers nothing and is not an error.
  if (data.length === 0) return GOOD;
  const modes = ctx.lu.modes;
  const parsed = parseModeSelect(data, ten, ctx.lu, modes);
  if (!parsed.ok) return parsed.outcome;
  let changed = false;
  for (const p of parsed.pages) changed = modes.set(p.def.code, p.def.subpage, p.bytes) || changed;
  if (parsed.apply) changed = parsed.apply() || changed;
  // SBC-4 6.5.5: WCE 0 makes the device server write through: the backstore follows the page.
  ctx.lu.backstore.writeBack = modes.writeCacheEnabled;
  // SPC-4 6.9.1: other I_T nexuses learn of the change through MODE PARAMETERS CHANGED.
  if (changed) ctx.lu.raiseUa(SENSE.MODE_PARAMETERS_CHANGED, ctx.nexus.id);
  return GOOD;
}

export function spcModeSelect6(ctx: ExecContext<Decoded<typeof MODE_SELECT_6.fields>>): Outcome {
  return modeSelect(ctx, false);
}

export function spcModeSelect10(ctx: ExecContext<ModeSelectFields>): Outcome {
  return modeSelect(ctx, true);
}
