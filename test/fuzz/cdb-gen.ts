// Random CDBs for the fuzz tests: either bytes with a random operation code (sized by its group
// code, SPC-4 4.2.5.1), or a real SBC/SPC operation code with random fields, transfer lengths
// biased small so the fuzz spends its time in decoding, not in moving megabytes.
import { Prng } from './prng';

/** Operation codes a disk serves or decodes (SPC-4 / SBC-4), with their service actions. */
const KNOWN: ReadonlyArray<readonly [number, number, readonly number[]]> = [
  // [opcode, CDB length, service actions (in byte 1, bits 4-0) or none]
  [0x00, 6, []], [0x03, 6, []], [0x04, 6, []], [0x08, 6, []], [0x0a, 6, []], [0x12, 6, []], [0x15, 6, []],
  [0x16, 6, []], [0x17, 6, []], [0x1a, 6, []], [0x1b, 6, []], [0x1c, 6, []], [0x1d, 6, []], [0x1e, 6, []],
  [0x25, 10, []], [0x28, 10, []], [0x2a, 10, []], [0x2e, 10, []], [0x2f, 10, []], [0x34, 10, []], [0x35, 10, []],
  [0x37, 10, []], [0x3b, 10, []], [0x3c, 10, []], [0x41, 10, []], [0x42, 10, []], [0x4c, 10, []], [0x4d, 10, []],
  [0x55, 10, []], [0x56, 10, []], [0x57, 10, []], [0x5a, 10, []], [0x5e, 10, [0, 1, 2, 3]], [0x5f, 10, [0, 1, 2, 3, 4, 5, 6, 7]],
  [0x83, 16, []], [0x84, 16, []], [0x88, 16, []], [0x89, 16, []], [0x8a, 16, []], [0x8b, 16, []], [0x8e, 16, []],
  [0x8f, 16, []], [0x90, 16, []], [0x91, 16, []], [0x93, 16, []], [0x9e, 16, [0x10, 0x12, 0x13]], [0xa0, 12, []],
  [0xa2, 12, []], [0xa3, 12, [0x0a, 0x0c, 0x0d, 0x0f]], [0xa4, 12, [0x06, 0x0a]], [0xa8, 12, []], [0xaa, 12, []], [0xaf, 12, []],
  [0x7f, 32, []],
];

/** SPC-4 4.2.5.1: CDB length from the group code (top 3 bits of the operation code). */
export function cdbLengthFor(op: number): number {
  switch (op >>> 5) {
    case 0: return 6;
    case 1: case 2: return 10;
    case 4: return 16;
    case 5: return 12;
    default: return 16; // reserved and vendor groups: any length
  }
}

function smallLength(r: Prng, max: number): number {
  return r.weighted<number>([[6, r.int(9)], [3, r.int(256)], [1, r.int(max + 1)]]);
}

/** A random CDB; `maxLength` bounds it (16 for the iSCSI BHS, 260 with an Extended CDB AHS). */
export function randomCdb(r: Prng, maxLength = 16): Buffer {
  const mode = r.weighted([[3, 'known'], [1, 'random-op'], [1, 'known-garbage']] as const);
  if (mode === 'random-op') {
    const op = r.int(256);
    const b = r.bytes(Math.min(maxLength, cdbLengthFor(op)));
    b[0] = op;
    return b;
  }
  const [op, len, sas] = r.pick(KNOWN);
  const n = Math.min(maxLength, len);
  const b = mode === 'known-garbage' ? r.bytes(n) : Buffer.alloc(n);
  b[0] = op;
  if (mode === 'known-garbage') return b;
  if (sas.length > 0) b[1] = r.pick(sas) | (r.chance(0.1) ? r.int(8) << 5 : 0);
  else if (r.chance(0.3)) b[1] = r.int(256);
  // LBA and transfer length where the READ/WRITE family keeps them (SBC-4 5.x), mostly small.
  if (n === 6) {
    b[2] = r.chance(0.8) ? 0 : r.int(256);
    b[3] = r.int(256);
    b[4] = smallLength(r, 255);
  } else if (n === 10) {
    b.writeUInt32BE(r.chance(0.7) ? r.int(4096) : r.edgyU32(), 2);
    b.writeUInt16BE(smallLength(r, 0xffff), 7);
  } else if (n === 12) {
    b.writeUInt32BE(r.chance(0.7) ? r.int(4096) : r.edgyU32(), 2);
    b.writeUInt32BE(r.chance(0.9) ? smallLength(r, 0xffff) : r.edgyU32(), 6);
  } else if (n >= 16) {
    b.writeUInt32BE(r.chance(0.8) ? 0 : r.edgyU32(), 2);
    b.writeUInt32BE(r.chance(0.7) ? r.int(4096) : r.edgyU32(), 6);
    b.writeUInt32BE(r.chance(0.9) ? smallLength(r, 0xffff) : r.edgyU32(), 10);
  }
  if (op === 0x7f && n >= 10) {
    b[7] = r.int(256); // ADDITIONAL CDB LENGTH
    b.writeUInt16BE(r.int(0x10000), 8); // service action
  }
  // The control byte, sometimes with NACA or vendor bits.
  if (r.chance(0.1)) b[n - 1] = r.int(256);
  return b;
}
