// CRC32C (Castagnoli, reflected polynomial 0x82F63B78) for iSCSI header and data digests,
// RFC 7143 13.1 and RFC 3720 Appendix B.4. Header digests run here in JS (a 48-byte header
// costs less than a native call); data digests use the native addon when it is loaded.

const POLY = 0x82f63b78;

// Slice-by-8: TABLE[k][b] is the CRC of byte b followed by k zero bytes.
const TABLE: Uint32Array[] = (() => {
  const t: Uint32Array[] = [];
  for (let k = 0; k < 8; k++) t.push(new Uint32Array(256));
  for (let b = 0; b < 256; b++) {
    let c = b;
    for (let i = 0; i < 8; i++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[0][b] = c >>> 0;
  }
  for (let b = 0; b < 256; b++) {
    let c = t[0][b];
    for (let k = 1; k < 8; k++) {
      c = t[0][c & 0xff] ^ (c >>> 8);
      t[k][b] = c >>> 0;
    }
  }
  return t;
})();
const [T0, T1, T2, T3, T4, T5, T6, T7] = TABLE;

/**
 * CRC32C of buf[start, end) in JS. `crc` is the value returned for the preceding bytes
 * (0 to start), so a digest can be computed over several pieces.
 */
export function crc32cJs(buf: Uint8Array, start = 0, end = buf.length, crc = 0): number {
  let c = ~crc >>> 0;
  let i = start;
  const end8 = end - ((end - start) & 7);
  while (i < end8) {
    const lo = (c ^ (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24))) >>> 0;
    c =
      T7[lo & 0xff] ^
      T6[(lo >>> 8) & 0xff] ^
      T5[(lo >>> 16) & 0xff] ^
      T4[lo >>> 24] ^
      T3[buf[i + 4]] ^
      T2[buf[i + 5]] ^
      T1[buf[i + 6]] ^
      T0[buf[i + 7]];
    i += 8;
  }
  while (i < end) c = T0[(c ^ buf[i++]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

interface NativeCrc {
  available: boolean;
  crc32c(buf: Uint8Array, seed?: number): number;
}

let native: NativeCrc | null | undefined;

/** The native addon's CRC32C when it is built and agrees with the check value; null otherwise. */
function loadNative(): NativeCrc | null {
  if (native !== undefined) return native;
  native = null;
  try {
    // Loaded lazily so the protocol layer works (and tests run) without the addon.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const mod = require('../../native') as Partial<NativeCrc>;
    if (mod && mod.available === true && typeof mod.crc32c === 'function') {
      const candidate = mod as NativeCrc;
      // RFC 3720 B.4 style self-check: the standard check value of "123456789".
      if (candidate.crc32c(Buffer.from('123456789', 'latin1')) >>> 0 === 0xe3069283) native = candidate;
    }
  } catch {
    native = null;
  }
  return native;
}

/** Whether data digests run natively. */
export function nativeDigestAvailable(): boolean {
  return loadNative() !== null;
}

/** Below this many bytes the JS tables beat the cost of a native call. */
const NATIVE_THRESHOLD = 256;

/** CRC32C of a whole buffer: native for large buffers when available, JS otherwise. */
export function crc32c(buf: Uint8Array): number {
  if (buf.length >= NATIVE_THRESHOLD) {
    const n = loadNative();
    if (n) return n.crc32c(buf) >>> 0;
  }
  return crc32cJs(buf, 0, buf.length, 0);
}

/** RFC 7143 11.2 / 13.1: header digest over BHS + AHS, always in JS. */
export function headerDigest(header: Uint8Array, start = 0, end = header.length): number {
  return crc32cJs(header, start, end, 0);
}

const ZERO_PAD = new Uint8Array(3);

/**
 * RFC 7143 11.2.4: the data digest covers the data segment and its padding (zero bytes to a
 * 4-byte boundary). Padding is folded in here so callers pass the unpadded data.
 */
export function dataDigest(data: Uint8Array): number {
  const pad = (4 - (data.length & 3)) & 3;
  const c = crc32c(data);
  return pad === 0 ? c : crc32cJs(ZERO_PAD, 0, pad, c);
}

/** RFC 3720 B.4: digests go on the wire least significant byte first. */
export function writeDigest(out: Uint8Array, offset: number, crc: number): void {
  out[offset] = crc & 0xff;
  out[offset + 1] = (crc >>> 8) & 0xff;
  out[offset + 2] = (crc >>> 16) & 0xff;
  out[offset + 3] = (crc >>> 24) & 0xff;
}

export function readDigest(buf: Uint8Array, offset: number): number {
  return (buf[offset] | (buf[offset + 1] << 8) | (buf[offset + 2] << 16) | (buf[offset + 3] << 24)) >>> 0;
}
