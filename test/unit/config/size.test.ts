import { expect } from 'chai';
import { formatSize, MAX_SIZE_BYTES, parseSize, tryParseSize } from '../../../src/daemon/config/size';

describe('config/size', () => {
  // Expected values written out as literals, not computed by the parser's own tables.
  const cases: Array<[string | number, bigint]> = [
    ['512MiB', 536870912n],
    ['1TiB', 1099511627776n],
    ['1GiB', 1073741824n],
    ['4KiB', 4096n],
    ['2PiB', 2251799813685248n],
    ['1GB', 1000000000n],
    ['1TB', 1000000000000n],
    ['5MB', 5000000n],
    ['3kB', 3000n],
    ['1K', 1024n],
    ['1M', 1048576n],
    ['1G', 1073741824n],
    ['1T', 1099511627776n],
    ['4096', 4096n],
    ['4096B', 4096n],
    [' 8 MiB ', 8388608n],
    ['1.5KiB', 1536n],
    ['0.5GiB', 536870912n],
    [0, 0n],
    [1048576, 1048576n],
  ];
  for (const [input, bytes] of cases) {
    it(`parses ${JSON.stringify(input)} as ${bytes} bytes`, () => {
      expect(parseSize(input)).to.equal(bytes);
    });
  }

  const bad = ['12 parsecs', '', 'MiB', '-1GiB', '1.0001KiB', '1e9', '0x100', '1 G iB', '1.5B'];
  for (const input of bad) {
    it(`rejects ${JSON.stringify(input)} with a message`, () => {
      const r = tryParseSize(input);
      expect(r.ok).to.equal(false);
      if (!r.ok) expect(r.message).to.be.a('string').and.not.equal('');
    });
  }

  it('rejects fractional and unsafe numbers', () => {
    expect(tryParseSize(1.5).ok).to.equal(false);
    expect(tryParseSize(-1).ok).to.equal(false);
    expect(tryParseSize(2 ** 60).ok).to.equal(false);
  });

  it('rejects sizes beyond a 64-bit LBA of 512-byte blocks', () => {
    expect(MAX_SIZE_BYTES).to.equal(9444732965739290427391n);
    expect(tryParseSize('8192EiB').ok).to.equal(false);
    expect(tryParseSize('8EiB').ok).to.equal(true);
  });

  it('throws ERR_SIZE from parseSize on a malformed constant', () => {
    expect(() => parseSize('twelve')).to.throw().with.property('code', 'ERR_SIZE');
  });

  it('formats sizes with the largest exact binary unit', () => {
    expect(formatSize(1073741824n)).to.equal('1GiB');
    expect(formatSize(1099511627776n)).to.equal('1TiB');
    expect(formatSize(1536n)).to.equal('1536B');
    expect(formatSize(3145728n)).to.equal('3MiB');
    expect(formatSize(0n)).to.equal('0B');
  });
});
