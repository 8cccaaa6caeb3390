import { expect } from 'chai';
import {
  ChapAlgorithm, chapResponse, createChallenge, decodeChapBinary, encodeChapHex, isReflectedChallenge, secretLongEnough,
  selectChapAlgorithm, verifyChapResponse,
} from '../../../src/transports/iscsi/chap';

// Expected digests computed independently (hashlib) for H(id || secret || challenge).
const SECRET = 'secret-twelve-bytes';
const CH16 = Buffer.from(Array.from({ length: 16 }, (_, i) => i));
const CH32 = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const MD5_R = '29ee51ffb3b998c2f42efbd17bf17d1b';
const SHA256_R = '216a32425c431b19f20e1df0c18dc9ef04c8c7eca2ab37fdfaa56fa448ec2430';

describe('CHAP (chap.ts)', () => {
  it('RFC 1994 4.1: MD5 response = MD5(id || secret || challenge)', () => {
    expect(chapResponse(ChapAlgorithm.MD5, 1, SECRET, CH16).toString('hex')).to.equal(MD5_R);
  });
  it('SHA-256 (algorithm 7) response', () => {
    expect(chapResponse(ChapAlgorithm.SHA256, 0x2a, SECRET, CH32).toString('hex')).to.equal(SHA256_R);
  });
  it('verifies hex and base64 encodings, refuses wrong responses', () => {
    expect(verifyChapResponse(ChapAlgorithm.MD5, 1, SECRET, CH16, `0x${MD5_R}`)).to.equal(true);
    expect(verifyChapResponse(ChapAlgorithm.MD5, 1, SECRET, CH16, `0X${MD5_R.toUpperCase()}`)).to.equal(true);
    expect(verifyChapResponse(ChapAlgorithm.MD5, 1, SECRET, CH16, `0b${Buffer.from(MD5_R, 'hex').toString('base64')}`)).to.equal(true);
    expect(verifyChapResponse(ChapAlgorithm.MD5, 2, SECRET, CH16, `0x${MD5_R}`)).to.equal(false);
    expect(verifyChapResponse(ChapAlgorithm.MD5, 1, SECRET, CH16, `0x${MD5_R.slice(0, 30)}`)).to.equal(false);
    expect(verifyChapResponse(ChapAlgorithm.MD5, 1, SECRET, CH16, MD5_R)).to.equal(false);
  });
  it('RFC 7143 12.1.3: picks the first of the initiator\'s CHAP_A list the target supports', () => {
    expect(selectChapAlgorithm('5,7', [ChapAlgorithm.SHA256, ChapAlgorithm.MD5])).to.equal(ChapAlgorithm.MD5);
    expect(selectChapAlgorithm('7,5', [ChapAlgorithm.MD5, ChapAlgorithm.SHA256])).to.equal(ChapAlgorithm.SHA256);
    expect(selectChapAlgorithm('6,7', [ChapAlgorithm.MD5])).to.equal(null);
    expect(selectChapAlgorithm('abc,5', [ChapAlgorithm.MD5])).to.equal(ChapAlgorithm.MD5);
  });
  it('decodes binary values: hex, odd hex, base64; refuses junk and oversize', () => {
    expect(decodeChapBinary('0x0a0B')?.toString('hex')).to.equal('0a0b');
    expect(decodeChapBinary('0xabc')?.toString('hex')).to.equal('0abc');
    expect(decodeChapBinary('0bAAEC')?.toString('hex')).to.equal('000102');
    expect(decodeChapBinary('0x')).to.equal(null);
    expect(decodeChapBinary('12ab')).to.equal(null);
    expect(decodeChapBinary('0bAAE')).to.equal(null);
    expect(decodeChapBinary(`0x${'00'.repeat(1025)}`)).to.equal(null);
    expect(encodeChapHex(Buffer.from([0, 255]))).to.equal('0x00ff');
  });
  it('challenge comes from caller-supplied randomness: id byte then digest-sized challenge', () => {
    const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => 0x10 + i));
    const md5 = createChallenge(ChapAlgorithm.MD5, bytes);
    expect(md5.id).to.equal(0x10);
    expect(md5.challenge.toString('hex')).to.equal('1112131415161718191a1b1c1d1e1f20');
    expect(createChallenge(ChapAlgorithm.SHA256, bytes).challenge.length).to.equal(32);
  });
  it('RFC 7143 12.1.3: detects a reflected challenge', () => {
    expect(isReflectedChallenge(CH16, Buffer.from(CH16))).to.equal(true);
    expect(isReflectedChallenge(CH16, CH32)).to.equal(false);
    expect(isReflectedChallenge(CH16, Buffer.alloc(16))).to.equal(false);
  });
  it('RFC 7143 12.1.3: secrets of at least 12 bytes', () => {
    expect(secretLongEnough('12345678901')).to.equal(false);
    expect(secretLongEnough('123456789012')).to.equal(true);
    expect(secretLongEnough(Buffer.alloc(12))).to.equal(true);
  });
});
