import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as native from '../../../src/native';
import { crc32cJs } from '../../../src/native/crc32c-js';
import { describeNeeds, NATIVE_ADDON, requirePrereq } from '../../helpers/prereq';

// RFC 3720 B.4: CRC values are listed there as the bytes of the digest on the
// wire (least significant byte first); here they are written as numbers.
const RFC3720_B4: Array<[string, Uint8Array, number]> = [
  ['32 bytes of zeroes', new Uint8Array(32), 0x8a9136aa],
  ['32 bytes of ones', new Uint8Array(32).fill(0xff), 0x62a8ab43],
  ['32 bytes ascending 00..1f', Uint8Array.from({ length: 32 }, (_, i) => i), 0x46dd794e],
  ['32 bytes descending 1f..00', Uint8Array.from({ length: 32 }, (_, i) => 31 - i), 0x113fdb5c],
  [
    'an iSCSI SCSI Read (10) command PDU',
    Uint8Array.from([
      0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
      0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ]),
    0xd9963a56, // on the wire: 56 3a 96 d9
  ],
];

// Deterministic pseudo-random bytes (xorshift32), no dependency on the code under test.
function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

// Bit-at-a-time reference, written from the polynomial's definition.
function crcBitwise(p: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of p) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

const impls: Array<[string, (b: ArrayBufferView | ArrayBufferLike, seed?: number) => number]> = [
  ['native (index)', native.crc32c],
  ['JS slice-by-8', crc32cJs],
];

describe('native/crc32c', () => {
  it('the addon uses SSE4.2 when the CPU has it, else its table', function () {
    requirePrereq(this, NATIVE_ADDON);
    const sse42 = /^flags\s*:.*\bsse4_2\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
    expect(native.crc32cImpl).to.equal(sse42 ? 'sse4.2' : 'table');
  });

  for (const [name, crc] of impls) {
    describe(name, () => {
      for (const [what, bytes, expected] of RFC3720_B4) {
        it(`RFC 3720 B.4: ${what} -> 0x${expected.toString(16)}`, () => {
          expect(crc(bytes)).to.equal(expected);
        });
      }

      it('empty input is 0, and 0 as seed continues nothing', () => {
        expect(crc(new Uint8Array(0))).to.equal(0);
        expect(crc(new Uint8Array(0), 0x12345678)).to.equal(0x12345678);
      });

      it('matches the bitwise definition for every length 0..80 at every start offset 0..7', () => {
        const base = noise(96, 7);
        for (let off = 0; off < 8; off++) {
          for (let len = 0; len <= 80; len++) {
            const view = base.subarray(off, off + len);
            expect(crc(view), `off ${off} len ${len}`).to.equal(crcBitwise(view));
          }
        }
      });

      it('seed continues a digest: crc(b, crc(a)) === crc(a ++ b)', () => {
        const all = noise(5000, 99);
        const whole = crcBitwise(all);
        for (const cut of [0, 1, 7, 48, 4096, 4999, 5000]) {
          expect(crc(all.subarray(cut), crc(all.subarray(0, cut))), `cut ${cut}`).to.equal(whole);
        }
      });

      it('reads views on SharedArrayBuffers, DataViews and bare buffers', () => {
        const sab = new SharedArrayBuffer(64);
        const u8 = new Uint8Array(sab);
        u8.set(RFC3720_B4[2][1], 16);
        expect(crc(new Uint8Array(sab, 16, 32))).to.equal(0x46dd794e);
        expect(crc(new DataView(sab, 16, 32))).to.equal(0x46dd794e);
        const ab = new Uint8Array(32).fill(0xff).buffer;
        expect(crc(ab)).to.equal(0x62a8ab43);
      });

      it('rejects garbage with TypeError / RangeError, never a crash', () => {
        for (const bad of [undefined, null, 42, 'abc', {}, [1, 2, 3]]) {
          expect(() => crc(bad as unknown as Uint8Array)).to.throw(TypeError);
        }
        expect(() => crc(new Uint8Array(1), -1)).to.throw(RangeError);
        expect(() => crc(new Uint8Array(1), 2 ** 32)).to.throw(RangeError);
        expect(() => crc(new Uint8Array(1), 1.5)).to.throw(RangeError);
        expect(() => crc(new Uint8Array(1), '1' as unknown as number)).to.throw();
      });
    });
  }

  it('native and JS agree on large buffers (256 KiB)', () => {
    const big = noise(256 * 1024, 3);
    expect(native.crc32c(big)).to.equal(crc32cJs(big));
    expect(native.crc32c(big)).to.equal(crcBitwise(big));
  });
});

describeNeeds(NATIVE_ADDON)('native/crc32c table path (CPUs without SSE4.2)', () => {
  it('NEXUS_CRC32C=table selects the table and it meets the RFC 3720 B.4 vectors', function () {
    this.timeout(20000);
    // A child process: the choice is made once per process at load time.
    const index = require.resolve('../../../src/native');
    const script = `
      const n = require(${JSON.stringify(index)});
      const asc = Uint8Array.from({ length: 32 }, (_, i) => i);
      const big = new Uint8Array(100000).map((_, i) => (i * 31) & 0xff);
      process.stdout.write(JSON.stringify([n.crc32cImpl, n.crc32c(asc), n.crc32c(asc.slice().reverse()),
        n.crc32c(big) === n.crc32cJs(big), n.crc32c(asc.subarray(5), n.crc32c(asc.subarray(0, 5)))]));`;
    const r = spawnSync(process.execPath, ['-r', 'tsx/cjs', '-e', script], {
      env: { ...process.env, NEXUS_CRC32C: 'table' },
      encoding: 'utf8',
      timeout: 15000,
    });
    expect(r.status, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.equal(['table', 0x46dd794e, 0x113fdb5c, true, 0x46dd794e]);
  });
});
