import { expect } from 'chai';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBackstore } from '../../../src/engine/backstores/file';
import { openBackstore } from '../../../src/engine/backstores';
import { FALLBACK_THIN_OPS } from '../../../src/engine/backstores/thin-ops';
import { DeviceConfig } from '../../../src/engine/topology';
import { itNeeds, NATIVE_ADDON } from '../../helpers/prereq';

describe('FileBackstore', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'nexus-file-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('creates a missing file sparse at the configured size, making its directory', async () => {
    const path = join(dir, 'a', 'b', 'disk.img');
    const f = await FileBackstore.open({ path, sizeBytes: 64n << 20n });
    await f.close();
    const st = await stat(path);
    expect(st.size).to.equal(64 << 20);
    expect(st.blocks * 512).to.be.lessThan(1 << 20); // sparse: nothing allocated
  });

  it('keeps an existing file\'s contents; size 0n takes the file\'s size', async () => {
    const path = join(dir, 'existing.img');
    await writeFile(path, Buffer.alloc(8192, 0x41));
    const f = await FileBackstore.open({ path, sizeBytes: 0n });
    expect(f.sizeBytes).to.equal(8192n);
    const b = Buffer.alloc(16);
    await f.read(4096, b);
    expect(b.equals(Buffer.alloc(16, 0x41))).to.equal(true);
    await f.close();
  });

  it('writes land in the file (write-back, FUA, write-through) and read back', async () => {
    const path = join(dir, 'rw.img');
    const f = await FileBackstore.open({ path, sizeBytes: 1n << 20n, writeBack: true });
    await f.write(0, Buffer.alloc(512, 1), false);
    await f.write(512, Buffer.alloc(512, 2), true);
    f.writeBack = false;
    await f.write(1024, Buffer.alloc(512, 3), false);
    await f.flush();
    await f.close();
    const raw = await readFile(path);
    expect([raw[0], raw[512], raw[1024], raw[1536]]).to.deep.equal([1, 2, 3, 0]);
  });

  it('read-only stores refuse writes with EROFS', async () => {
    const path = join(dir, 'ro.img');
    await writeFile(path, Buffer.alloc(4096));
    const f = await FileBackstore.open({ path, sizeBytes: 0n, readOnly: true });
    const err = await f.write(0, Buffer.alloc(512), false).then(() => undefined, (e: NodeJS.ErrnoException) => e.code);
    expect(err).to.equal('EROFS');
    await f.close();
  });

  it('resize truncates the file', async () => {
    const path = join(dir, 'resize.img');
    const f = await FileBackstore.open({ path, sizeBytes: 1n << 20n });
    await f.resize(2n << 20n);
    expect(f.sizeBytes).to.equal(2n << 20n);
    expect((await stat(path)).size).to.equal(2 << 20);
    await f.close();
  });

  itNeeds(NATIVE_ADDON)('with the addon, unmap punches a hole and mapStatus reports it', async () => {
    const path = join(dir, 'thin.img');
    const f = await FileBackstore.open({ path, sizeBytes: 1n << 20n, thin: true });
    expect(f.thinOps.native).to.equal(true);
    await f.write(0, Buffer.alloc(256 << 10, 0x7f), false);
    await f.unmap(64 << 10, 128 << 10);
    expect(await f.mapStatus(0)).to.deep.equal({ mapped: true, length: 64 << 10 });
    expect(await f.mapStatus(64 << 10)).to.deep.equal({ mapped: false, length: 128 << 10 });
    expect(await f.mapStatus(192 << 10)).to.deep.equal({ mapped: true, length: 64 << 10 });
    expect(await f.mapStatus(256 << 10)).to.deep.equal({ mapped: false, length: 768 << 10 });
    const b = Buffer.alloc(4096, 1);
    await f.read(100 << 10, b);
    expect(b.equals(Buffer.alloc(4096))).to.equal(true);
    await f.close();
  });

  it('without the addon (fallback), unmap writes zeros and everything is mapped', async () => {
    const path = join(dir, 'fallback.img');
    const f = await FileBackstore.open({ path, sizeBytes: 1n << 20n, thin: true, thinOps: FALLBACK_THIN_OPS });
    await f.write(0, Buffer.alloc(8192, 0x7f), false);
    await f.unmap(4096, 4096);
    const b = Buffer.alloc(8192);
    await f.read(0, b);
    expect(b.subarray(0, 4096).equals(Buffer.alloc(4096, 0x7f))).to.equal(true);
    expect(b.subarray(4096).equals(Buffer.alloc(4096))).to.equal(true);
    expect(await f.mapStatus(4096)).to.deep.equal({ mapped: true, length: (1 << 20) - 4096 });
    await f.close();
  });
});

describe('openBackstore', () => {
  const base: DeviceConfig = { name: 'd', handler: 'ram', sizeBytes: 1n << 20n, blockSize: 512, writeCache: 'writethrough', thin: true, readOnly: false };

  it('maps handlers to backstore kinds and carries the cache mode and thin flag', async () => {
    const ram = await openBackstore(base);
    expect([ram.kind, ram.writeBack, ram.thin, ram.sizeBytes]).to.deep.equal(['memory', false, true, 1n << 20n]);
    const nul = await openBackstore({ ...base, handler: 'nullio', writeCache: 'writeback', thin: false });
    expect([nul.kind, nul.writeBack, nul.thin]).to.deep.equal(['null', true, false]);
    const dir = await mkdtemp(join(tmpdir(), 'nexus-open-'));
    try {
      const file = await openBackstore({ ...base, handler: 'fileio', path: join(dir, 'x', 'f.img') });
      expect(file.kind).to.equal('file');
      await file.close();
      const blk = await openBackstore({ ...base, handler: 'blockio', path: join(dir, 'x', 'f.img') });
      expect(blk.kind).to.equal('block');
      await blk.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('blockio never creates its target', async () => {
    const err = await openBackstore({ ...base, handler: 'blockio', path: join(tmpdir(), 'nexus-no-such-device-x9') })
      .then(() => undefined, (e: NodeJS.ErrnoException) => e.code);
    expect(err).to.equal('ENOENT');
  });
});
