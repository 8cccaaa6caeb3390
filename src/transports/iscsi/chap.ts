// CHAP (RFC 1994) as iSCSI uses it (RFC 7143 12.1.3), with the SHA-256 algorithm number from
// the IANA PPP authentication algorithms registry (RFC 7143 12.1.3 allows any listed there).
import { createHash, timingSafeEqual } from 'node:crypto';
import { NexusError } from '../../engine/result';

export enum ChapAlgorithm {
  MD5 = 5,
  SHA256 = 7,
}

const HASH: Record<ChapAlgorithm, { name: string; length: number }> = {
  [ChapAlgorithm.MD5]: { name: 'md5', length: 16 },
  [ChapAlgorithm.SHA256]: { name: 'sha256', length: 32 },
};

/** Random bytes a challenge takes at most: the CHAP_I byte and the longest challenge (createChallenge). */
export const CHAP_CHALLENGE_RANDOM_BYTES = 1 + Math.max(16, ...Object.values(HASH).map((h) => h.length));

export function chapDigestLength(alg: ChapAlgorithm): number {
  return HASH[alg].length;
}

/** RFC 7143 12.1.3: secrets shorter than 96 bits (12 bytes) must not be used. */
export const MIN_SECRET_LENGTH = 12;
/** RFC 7143 12.1.3: a binary CHAP value is at most 1024 bytes. */
export const MAX_CHAP_BINARY = 1024;

export function secretLongEnough(secret: string | Uint8Array): boolean {
  return (typeof secret === 'string' ? Buffer.byteLength(secret, 'utf8') : secret.length) >= MIN_SECRET_LENGTH;
}

/**
 * RFC 7143 12.1.3: the target picks the first algorithm of the initiator's CHAP_A list that it
 * supports. Null when none (the login then fails with an authentication failure).
 */
export function selectChapAlgorithm(offer: string, supported: readonly ChapAlgorithm[]): ChapAlgorithm | null {
  for (const v of offer.split(',')) {
    const n = /^[0-9]{1,3}$/.test(v) ? Number(v) : NaN;
    if ((supported as readonly number[]).includes(n)) return n as ChapAlgorithm;
  }
  return null;
}

/** RFC 7143 6.1: binary-value is 0x hex or 0b base64. Null when malformed or too long. */
export function decodeChapBinary(v: string): Buffer | null {
  let out: Buffer;
  if (/^0[xX]([0-9a-fA-F]{2})+$/.test(v)) out = Buffer.from(v.slice(2), 'hex');
  else if (/^0[xX][0-9a-fA-F]+$/.test(v)) out = Buffer.from(`0${v.slice(2)}`, 'hex'); // odd digit count
  else if (/^0[bB][A-Za-z0-9+/]+={0,2}$/.test(v) && (v.length - 2) % 4 === 0) out = Buffer.from(v.slice(2), 'base64');
  else return null;
  return out.length > 0 && out.length <= MAX_CHAP_BINARY ? out : null;
}

export function encodeChapHex(b: Uint8Array): string {
  return `0x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')}`;
}

/** RFC 1994 4.1: Response = H(Identifier || secret || Challenge). */
export function chapResponse(alg: ChapAlgorithm, id: number, secret: string | Uint8Array, challenge: Uint8Array): Buffer {
  return createHash(HASH[alg].name)
    .update(Buffer.from([id & 0xff]))
    .update(typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret)
    .update(challenge)
    .digest();
}

export interface ChapChallenge {
  id: number;
  challenge: Buffer;
}

/**
 * A new challenge from caller-supplied randomness (so tests are deterministic): one byte of
 * identifier and a challenge as long as the digest (at least 16 bytes).
 */
export function createChallenge(alg: ChapAlgorithm, randomBytes: (n: number) => Uint8Array): ChapChallenge {
  const n = Math.max(16, HASH[alg].length);
  const r = randomBytes(n + 1);
  if (r.length < n + 1) throw new NexusError('ERR_ISCSI_CHAP', 'randomBytes returned too few bytes');
  return { id: r[0], challenge: Buffer.from(r.subarray(1, n + 1)) };
}

/** Check an initiator's CHAP_R against the expected response, in constant time. */
export function verifyChapResponse(
  alg: ChapAlgorithm,
  id: number,
  secret: string | Uint8Array,
  challenge: Uint8Array,
  response: string,
): boolean {
  const got = decodeChapBinary(response);
  const want = chapResponse(alg, id, secret, challenge);
  if (!got || got.length !== want.length) return false;
  return timingSafeEqual(got, want);
}

/** RFC 7143 12.1.3: a challenge equal to the one we sent is a reflection attack. */
export function isReflectedChallenge(ours: Uint8Array, theirs: Uint8Array): boolean {
  return ours.length === theirs.length && timingSafeEqual(ours, theirs);
}
