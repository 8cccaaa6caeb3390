import { expect } from 'chai';
import { crc32c, crc32cJs, dataDigest, headerDigest, readDigest, writeDigest } from '../../../src/transports/iscsi/digest';

// RFC 3720 Appendix B.4: CRC32C examples, CRC bytes as they appear on the wire.
const inc = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const dec = Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i));
const readPdu = Buffer.from(
  '01c00000000000000000000000000000' + '14000000000004000000001400000018' + '28000000000000000200000000000000',
  'hex',
);
const vectors: Array<[string, Buffer, string]> = [
  ['32 bytes of zeroes', Buffer.alloc(32), 'aa36918a'],
  ['32 bytes of ones', Buffer.alloc(32, 0xff), '43aba862'],
  ['32 bytes of incrementing 00..1f', inc, '4e79dd46'],
  ['32 bytes of decrementing 1f..00', dec, '5cdb3f11'],
  ['an iSCSI SCSI Read (10) command PDU', readPdu, '563a96d9'],
];

describe('iSCSI CRC32C (digest.ts)', () => {
  for (const [name, input, wire] of vectors) {
    it(`RFC 3720 B.4: ${name}`, () => {
      const out = Buffer.alloc(4);
      writeDigest(out, 0, crc32cJs(input));
      expect(out.toString('hex')).to.equal(wire);
      expect(crc32c(input)).to.equal(readDigest(Buffer.from(wire, 'hex'), 0));
      expect(headerDigest(input)).to.equal(readDigest(Buffer.from(wire, 'hex'), 0));
    });
  }

  it('check value of "123456789" is 0xE3069283', () => {
    expect(crc32cJs(Buffer.from('123456789'))).to.equal(0xe3069283);
  });

  it('continues across pieces: crc(a+b) = crc(b, seed crc(a)) at every split', () => {
    const buf = Buffer.from(Array.from({ length: 77 }, (_, i) => (i * 37 + 11) & 0xff));
    const whole = crc32cJs(buf);
    for (let k = 0; k <= buf.length; k++) {
      expect(crc32cJs(buf, k, buf.length, crc32cJs(buf, 0, k))).to.equal(whole);
    }
  });

  it('a large buffer agrees with a bitwise reference (slice-by-8 tables)', () => {
    const buf = Buffer.from(Array.from({ length: 4099 }, (_, i) => (i * 131 + 7) & 0xff));
    let c = 0xffffffff;
    for (const b of buf) {
      c ^= b;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    }
    expect(crc32c(buf)).to.equal(~c >>> 0);
  });

  it('RFC 7143 11.2.4: the data digest covers the zero padding', () => {
    const data = Buffer.from([1, 2, 3, 4, 5]);
    const padded = Buffer.from([1, 2, 3, 4, 5, 0, 0, 0]);
    expect(dataDigest(data)).to.equal(crc32cJs(padded));
    expect(dataDigest(padded)).to.equal(crc32cJs(padded));
  });
});
