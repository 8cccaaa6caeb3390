import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as native from '../../../src/native';
import { describeNeeds, NATIVE_ADDON } from '../../helpers/prereq';
import { directIoDir, pattern, patternFile } from './helpers';

function fdOf(r: { fd: number } | native.NativeError): number {
  if (native.isNativeError(r)) throw new Error(`open failed: ${r.errno}`);
  return r.fd;
}

describeNeeds(NATIVE_ADDON)('native/block-io', () => {
  let dir: string;
  let file: string;
  const fds: number[] = [];
  const open = (p: string, o: native.OpenBlockOptions): number => {
    const fd = fdOf(native.openBlock(p, o));
    fds.push(fd);
    return fd;
  };

  before(() => {
    dir = directIoDir();
    file = patternFile(dir, 'disk.img', 256 * 1024, 3);
  });
  after(() => {
    for (const fd of fds) native.closeBlock(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('openBlock answers errno values for missing files and directories opened for writing', () => {
    expect(native.openBlock(path.join(dir, 'nope'), { direct: true })).to.include({ errno: 'ENOENT' });
    expect(native.openBlock(dir, { readOnly: false })).to.include({ errno: 'EISDIR' });
    expect(native.openBlock('', {})).to.include({ errno: 'EINVAL' });
  });

  it('O_DIRECT reads into an aligned shared buffer return the file bytes', () => {
    const fd = open(file, { direct: true, readOnly: true });
    const sab = native.allocAlignedShared(8192);
    const buf = new Uint8Array(sab);
    expect(native.preadSync(fd, buf, 4096)).to.equal(8192);
    expect(Buffer.from(buf).equals(pattern(8192, 3, 4096))).to.equal(true);
    expect(native.preadSync(fd, buf, 8192n, 4096)).to.equal(4096);
    expect(Buffer.from(buf.subarray(0, 4096)).equals(pattern(4096, 3, 8192))).to.equal(true);
  });

  it('O_DIRECT with a misaligned buffer address, offset or length is EINVAL, not a crash', () => {
    const fd = open(file, { direct: true, readOnly: true });
    const sab = native.allocAlignedShared(3 * 4096);
    expect(native.preadSync(fd, new Uint8Array(sab, 1, 4096), 0)).to.include({ errno: 'EINVAL' });
    expect(native.preadSync(fd, new Uint8Array(sab, 0, 4096), 1)).to.include({ errno: 'EINVAL' });
    expect(native.preadSync(fd, new Uint8Array(sab, 0, 4096), 0, 100)).to.include({ errno: 'EINVAL' });
  });

  it('pwriteSync writes through O_DIRECT and a buffered read sees it', () => {
    const f = patternFile(dir, 'w.img', 64 * 1024, 0);
    const fd = open(f, { direct: true });
    const sab = native.allocAlignedShared(4096);
    new Uint8Array(sab).fill(0xa5);
    expect(native.pwriteSync(fd, new Uint8Array(sab), 8192)).to.equal(4096);
    const back = fs.readFileSync(f);
    expect(back.subarray(8192, 12288).every(b => b === 0xa5)).to.equal(true);
    expect(back[8191]).to.equal((8191 * 7) & 0xff);
    expect(back[12288]).to.equal((12288 * 7) & 0xff);
  });

  it('a read-only fd refuses writes with EBADF; closed and nonsense fds answer EBADF', () => {
    const fd = open(file, { readOnly: true });
    expect(native.pwriteSync(fd, new Uint8Array(16), 0)).to.include({ errno: 'EBADF' });
    const gone = fdOf(native.openBlock(file, { readOnly: true }));
    expect(native.closeBlock(gone)).to.equal(undefined);
    expect(native.closeBlock(gone)).to.include({ errno: 'EBADF' });
    expect(native.preadSync(gone, new Uint8Array(16), 0)).to.include({ errno: 'EBADF' });
    expect(native.preadSync(-1, new Uint8Array(16), 0)).to.include({ errno: 'EBADF' });
    expect(native.preadSync(1.5, new Uint8Array(16), 0)).to.include({ errno: 'EBADF' });
    expect(native.closeBlock(-7)).to.include({ errno: 'EBADF' });
  });

  it('bad offsets and lengths are EINVAL values; wrong JS types throw TypeError', () => {
    const fd = open(file, { readOnly: true });
    const buf = new Uint8Array(64);
    expect(native.preadSync(fd, buf, -1)).to.include({ errno: 'EINVAL' });
    expect(native.preadSync(fd, buf, -1n)).to.include({ errno: 'EINVAL' });
    expect(native.preadSync(fd, buf, 0.5)).to.include({ errno: 'EINVAL' });
    expect(native.preadSync(fd, buf, 2n ** 64n)).to.include({ errno: 'EINVAL' });
    expect(native.preadSync(fd, buf, 0, 65)).to.include({ errno: 'EINVAL' });
    expect(native.preadSync(fd, buf, 0, -1)).to.include({ errno: 'EINVAL' });
    const garbage: unknown[][] = [
      [],
      ['3', buf, 0],
      [fd, 'buf', 0],
      [fd, 123, 0],
      [fd, buf, '0'],
      [fd, buf, undefined],
      [fd, buf, 0, 'x'],
      [fd, buf, 0, 8, 'opts'],
      [fd, buf, 0, 8, { nowait: 'yes' }],
    ];
    const call = native.preadSync as unknown as (...a: unknown[]) => unknown;
    for (const args of garbage) expect(() => call(...args), JSON.stringify(args)).to.throw(TypeError);
    expect(() => (native.openBlock as unknown as (...a: unknown[]) => unknown)(42)).to.throw(TypeError);
    expect(() => native.openBlock(file, { direct: 1 as unknown as boolean })).to.throw(TypeError);
  });

  it('preadSync with nowait reads cached data, or says EAGAIN when it would block', () => {
    const fd = open(file, { readOnly: true });
    fs.readFileSync(file); // warm the page cache
    const buf = new Uint8Array(4096);
    const r = native.preadSync(fd, buf, 0, undefined, { nowait: true });
    if (typeof r === 'number') {
      expect(r).to.equal(4096);
      expect(Buffer.from(buf).equals(pattern(4096, 3))).to.equal(true);
    } else {
      expect(r.errno).to.equal('EAGAIN'); // page evicted between the two calls
    }
    // O_DIRECT bypasses the cache: RWF_NOWAIT then either reads or answers EAGAIN.
    const dfd = open(file, { readOnly: true, direct: true });
    const abuf = new Uint8Array(native.allocAlignedShared(4096));
    const d = native.preadSync(dfd, abuf, 0, undefined, { nowait: true });
    expect(d === 4096 || (native.isNativeError(d) && d.errno === 'EAGAIN'), JSON.stringify(d)).to.equal(true);
  });

  it('punchHole deallocates a range without changing the size; seekData/seekHole find it', () => {
    const f = patternFile(dir, 'thin.img', 3 * 65536, 1);
    const fd = open(f, {});
    expect(native.punchHole(fd, 65536, 65536)).to.equal(undefined);
    expect(fs.statSync(f).size).to.equal(3 * 65536);
    expect(native.seekHole(fd, 0)).to.equal(65536);
    expect(native.seekData(fd, 65536)).to.equal(131072);
    expect(native.seekData(fd, 0n)).to.equal(0);
    // SEEK_HOLE: end of file is a hole.
    expect(native.seekHole(fd, 131072)).to.equal(3 * 65536);
    // ENXIO (at or past end of file) is null.
    expect(native.seekData(fd, 3 * 65536)).to.equal(null);
    expect(native.seekHole(fd, 10 * 65536)).to.equal(null);
    const mid = new Uint8Array(65536);
    expect(native.preadSync(fd, mid, 65536)).to.equal(65536);
    expect(mid.every(b => b === 0)).to.equal(true);
    const tail = new Uint8Array(16);
    expect(native.preadSync(fd, tail, 131072)).to.equal(16);
    expect(Buffer.from(tail).equals(pattern(16, 1, 131072))).to.equal(true);
  });

  it('thin-provisioning calls answer errno values for bad arguments', () => {
    const fd = open(file, { readOnly: true });
    expect(native.punchHole(fd, 0, 4096)).to.include({ errno: 'EBADF' }); // read-only fd
    expect(native.punchHole(fd, -1, 4096)).to.include({ errno: 'EINVAL' });
    expect(native.punchHole(fd, 0, 0)).to.include({ errno: 'EINVAL' });
    expect(native.punchHole(-1, 0, 4096)).to.include({ errno: 'EBADF' });
    expect(native.seekData(fd, -5)).to.include({ errno: 'EINVAL' });
    expect(native.seekHole(999999, 0)).to.include({ errno: 'EBADF' });
    expect(() => native.seekData(fd, 'x' as unknown as number)).to.throw(TypeError);
    expect(() => native.punchHole(fd, 0, null as unknown as number)).to.throw(TypeError);
  });

  it('blockInfo reports a regular file size and errno for bad fds', () => {
    const fd = open(file, { readOnly: true });
    expect(native.blockInfo(fd)).to.include({ size: 256 * 1024, isBlockDevice: false, logicalBlockSize: 512 });
    expect(native.blockInfo(-1)).to.include({ errno: 'EBADF' });
  });
});
