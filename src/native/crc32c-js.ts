/**
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78) in JavaScript,
 * slice-by-8: the iSCSI header and data digest (RFC 7143 13.1; test vectors
 * RFC 3720 B.4). Same convention as the native crc32c: the register starts at
 * ~seed and the result is xor'ed with 0xffffffff, so a finished digest can be
 * continued: crc32cJs(b, crc32cJs(a)) === crc32cJs(concat(a, b)).
 *
 * For 48-byte Basic Header Segments this beats a native call (DESIGN.md 10).
 */

const POLY = 0x82f63b78;

/** TABLES[k][b]: the CRC of byte b followed by k zero bytes. */
const TABLES: Uint32Array[] = buildTables();

function buildTables(): Uint32Array[] {
  const t: Uint32Array[] = [];
  const t0 = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t0[i] = c >>> 0;
  }
  t.push(t0);
  for (let k = 1; k < 8; k++) {
    const prev = t[k - 1];
    const tk = new Uint32Array(256);
    for (let i = 0; i < 256; i++) tk[i] = (prev[i] >>> 8) ^ t0[prev[i] & 0xff];
    t.push(tk);
  }
  return t;
}

function asBytes(buf: ArrayBufferView | ArrayBufferLike): Uint8Array {
  if (buf instanceof Uint8Array) return buf;
  if (ArrayBuffer.isView(buf)) return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf instanceof ArrayBuffer || buf instanceof SharedArrayBuffer) return new Uint8Array(buf);
  const e = new TypeError('crc32c: buf must be an ArrayBufferView or (Shared)ArrayBuffer') as TypeError & { code: string };
  e.code = 'ERR_INVALID_ARG_TYPE';
  throw e;
}

export function crc32cJs(buf: ArrayBufferView | ArrayBufferLike, seed = 0): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    const e = new RangeError('crc32c: seed must be a uint32') as RangeError & { code: string };
    e.code = 'ERR_OUT_OF_RANGE';
    throw e;
  }
  const p = asBytes(buf);
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES;
  let crc = ~seed >>> 0;
  let i = 0;
  const n = p.length;
  const end8 = n - (n & 7);
  for (; i < end8; i += 8) {
    const lo = (crc ^ (p[i] | (p[i + 1] << 8) | (p[i + 2] << 16) | (p[i + 3] << 24))) >>> 0;
    crc =
      t7[lo & 0xff] ^
      t6[(lo >>> 8) & 0xff] ^
      t5[(lo >>> 16) & 0xff] ^
      t4[lo >>> 24] ^
      t3[p[i + 4]] ^
      t2[p[i + 5]] ^
      t1[p[i + 6]] ^
      t0[p[i + 7]];
  }
  for (; i < n; i++) crc = t0[(crc ^ p[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
