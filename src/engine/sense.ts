import { SenseKey } from './spec/status';
import { SenseSpec } from './result';

/**
 * The one sense builder (SPC-4 4.5): fixed format (70h) or descriptor format (72h), chosen by the
 * control mode page's D_SENSE bit. Used for every CHECK CONDITION in the engine.
 */
export enum SenseFormat { FIXED = 0, DESCRIPTOR = 1 }

export const FIXED_SENSE_LENGTH = 18;

export function buildSense(spec: SenseSpec, format: SenseFormat, deferred = false): Buffer {
  return format === SenseFormat.DESCRIPTOR ? buildDescriptor(spec, deferred) : buildFixed(spec, deferred);
}

/** Sense-key-specific bytes (3 bytes) or undefined when none apply. */
function senseKeySpecific(spec: SenseSpec): [number, number, number] | undefined {
  const key = spec.cond.key;
  if (spec.progress !== undefined && (key === SenseKey.NOT_READY || key === SenseKey.NO_SENSE)) {
    // SPC-4 4.5.2.4.4: SKSV, then the PROGRESS INDICATION, a fraction of 65536.
    const p = Math.max(0, Math.min(0xffff, Math.floor(spec.progress)));
    return [0x80, (p >> 8) & 0xff, p & 0xff];
  }
  const fp = spec.fieldPointer;
  // SPC-4 4.5.2.4.2: field pointer is valid for ILLEGAL REQUEST.
  if (!fp || spec.cond.key !== SenseKey.ILLEGAL_REQUEST) return undefined;
  let b0 = 0x80; // SKSV
  if (fp.cd) b0 |= 0x40; // C/D: 1 = the CDB, 0 = the parameter list
  if (fp.bit !== undefined) b0 |= 0x08 | (fp.bit & 0x07); // BPV + BIT POINTER
  return [b0, (fp.byte >> 8) & 0xff, fp.byte & 0xff];
}

function buildFixed(spec: SenseSpec, deferred: boolean): Buffer {
  const b = Buffer.alloc(FIXED_SENSE_LENGTH);
  const info = spec.information;
  // byte 0: VALID (INFORMATION is meaningful) | response code 70h current / 71h deferred
  b[0] = (deferred ? 0x71 : 0x70) | (info !== undefined && info <= 0xffffffffn ? 0x80 : 0);
  // byte 2: FILEMARK | EOM | ILI | sense key
  b[2] = (spec.filemark ? 0x80 : 0) | (spec.eom ? 0x40 : 0) | (spec.ili ? 0x20 : 0) | (spec.cond.key & 0x0f);
  if (info !== undefined) b.writeUInt32BE(Number(info & 0xffffffffn), 3); // bytes 3..6: INFORMATION
  b[7] = FIXED_SENSE_LENGTH - 8; // byte 7: additional sense length
  if (spec.commandSpecific !== undefined) b.writeUInt32BE(Number(spec.commandSpecific & 0xffffffffn), 8);
  b[12] = spec.cond.asc; // byte 12: ASC
  b[13] = spec.cond.ascq; // byte 13: ASCQ
  const sks = senseKeySpecific(spec); // bytes 15..17: sense-key specific
  if (sks) { b[15] = sks[0]; b[16] = sks[1]; b[17] = sks[2]; }
  return b;
}

function buildDescriptor(spec: SenseSpec, deferred: boolean): Buffer {
  const parts: Buffer[] = [];
  if (spec.information !== undefined) {
    // SPC-4 4.5.2.2 information descriptor: type 00h, length 0Ah, VALID, 8-byte INFORMATION
    const d = Buffer.alloc(12);
    d[0] = 0x00; d[1] = 0x0a; d[2] = 0x80;
    d.writeBigUInt64BE(BigInt.asUintN(64, spec.information), 4);
    parts.push(d);
  }
  if (spec.commandSpecific !== undefined) {
    // SPC-4 4.5.2.3 command-specific information descriptor: type 01h, length 0Ah
    const d = Buffer.alloc(12);
    d[0] = 0x01; d[1] = 0x0a;
    d.writeBigUInt64BE(BigInt.asUintN(64, spec.commandSpecific), 4);
    parts.push(d);
  }
  const sks = senseKeySpecific(spec);
  if (sks) {
    // SPC-4 4.5.2.4 sense key specific descriptor: type 02h, length 06h
    const d = Buffer.alloc(8);
    d[0] = 0x02; d[1] = 0x06; d[4] = sks[0]; d[5] = sks[1]; d[6] = sks[2];
    parts.push(d);
  }
  if (spec.filemark || spec.eom || spec.ili) {
    // SPC-4 4.5.2.5 stream commands descriptor: type 04h, length 02h, byte 3 FILEMARK | EOM | ILI
    const d = Buffer.alloc(4);
    d[0] = 0x04; d[1] = 0x02;
    d[3] = (spec.filemark ? 0x80 : 0) | (spec.eom ? 0x40 : 0) | (spec.ili ? 0x20 : 0);
    parts.push(d);
  }
  const body = Buffer.concat(parts);
  const h = Buffer.alloc(8);
  h[0] = deferred ? 0x73 : 0x72; // response code
  h[1] = spec.cond.key & 0x0f;
  h[2] = spec.cond.asc;
  h[3] = spec.cond.ascq;
  h[7] = body.length; // additional sense length
  return Buffer.concat([h, body]);
}

/** Read key/ASC/ASCQ back from either format (REQUEST SENSE conversions, tests, logs). */
export function parseSense(b: Uint8Array): { key: number; asc: number; ascq: number; information?: bigint } | undefined {
  if (b.length < 8) return undefined;
  const code = b[0] & 0x7f;
  if (code === 0x70 || code === 0x71) {
    if (b.length < 14) return undefined;
    const valid = (b[0] & 0x80) !== 0;
    const info = valid ? BigInt(((b[3] << 24) >>> 0) + (b[4] << 16) + (b[5] << 8) + b[6]) : undefined;
    return { key: b[2] & 0x0f, asc: b[12], ascq: b[13], information: info };
  }
  if (code === 0x72 || code === 0x73) {
    let information: bigint | undefined;
    for (let i = 8; i + 2 <= b.length && i < 8 + b[7];) {
      const type = b[i], len = b[i + 1];
      if (type === 0 && len >= 0x0a) information = Buffer.from(b.buffer, b.byteOffset + i + 4, 8).readBigUInt64BE(0);
      i += 2 + len;
    }
    return { key: b[1] & 0x0f, asc: b[2], ascq: b[3], information };
  }
  return undefined;
}
