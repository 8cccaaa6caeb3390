import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BlockBackstore } from '../../../src/engine/backstores/block';
import { openBackstore } from '../../../src/engine/backstores';
import * as native from '../../../src/native';
import { BufferPool } from '../../../src/workers/buffer-pool';
import { directIoDir, pattern } from '../native/helpers';
import { NATIVE_ADDON, requirePrereq } from '../../helpers/prereq';

describe('blockio backstore: O_DIRECT through the native addon', function () {
  this.timeout(20000);
  let dir: string;
  let file: string;
  const SIZE = 1 << 20;

  before(function () {
    requirePrereq(this, NATIVE_ADDON);
    dir = directIoDir();
  });
  beforeEach(() => {
    file = path.join(dir, 'blk.img');
    fs.writeFileSync(file, pattern(SIZE, 3));
  });
  after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

  for (const backend of ['auto', 'threads'] as const) {
    it(`reads and writes aligned pool buffers without a bounce (${backend})`, async () => {
      const s = await BlockBackstore.open({ path: file, sizeBytes: 0n, backend });
      const pool = BufferPool.create({ classes: [{ size: 65536, count: 2 }], allocate: native.allocAlignedShared });
      try {
        expect(s.direct).to.equal(true);
        expect(s.sizeBytes).to.equal(BigInt(SIZE));
        const h = pool.get(8192);
        const into = pool.view(h).subarray(0, 8192);
        await s.read(4096, into);
        expect(Buffer.from(into).equals(pattern(8192, 3, 4096))).to.equal(true);
        const out = pool.view(pool.get(4096)).subarray(0, 4096);
        out.set(pattern(4096, 9));
        await s.write(12288, out, true);
        expect(s.bounces).to.equal(0);
        // Another descriptor, through the page cache, sees what O_DIRECT wrote.
        const back = Buffer.alloc(4096);
        const fd = fs.openSync(file, 'r');
        fs.readSync(fd, back, 0, 4096, 12288);
        fs.closeSync(fd);
        expect(back.equals(pattern(4096, 9))).to.equal(true);
      } finally { await s.close(); }
    });
  }

  it('bounces an unaligned Buffer through an aligned one', async () => {
    const s = await BlockBackstore.open({ path: file, sizeBytes: 0n });
    try {
      const raw = Buffer.alloc(4096 + 1);
      const odd = raw.subarray(1); // address is odd: cannot be an O_DIRECT target
      await s.read(512, odd);
      expect(odd.equals(pattern(4096, 3, 512))).to.equal(true);
      const data = Buffer.alloc(1024 + 3).subarray(3);
      data.set(pattern(1024, 5));
      await s.write(1024, data, false);
      // Offset by an odd count: a fresh small allocation may land 512-aligned by chance.
      const again = Buffer.alloc(1024 + 5).subarray(5);
      await s.read(1024, again);
      expect(again.equals(pattern(1024, 5))).to.equal(true);
      expect(s.bounces).to.equal(3);
    } finally { await s.close(); }
  });

  it('submits a tick\'s requests together and keeps each result with its request', async () => {
    const s = await BlockBackstore.open({ path: file, sizeBytes: 0n, depth: 4 });
    try {
      const bufs = Array.from({ length: 10 }, () => new Uint8Array(native.allocAlignedShared(4096), 0, 4096));
      await Promise.all(bufs.map((b, i) => s.read(i * 4096, b)));
      bufs.forEach((b, i) => expect(Buffer.from(b).equals(pattern(4096, 3, i * 4096)), `block ${i}`).to.equal(true));
    } finally { await s.close(); }
  });

  it('rejects ranges past the end and writes to a read-only store', async () => {
    const s = await BlockBackstore.open({ path: file, sizeBytes: 0n, readOnly: true });
    try {
      const b = new Uint8Array(native.allocAlignedShared(4096), 0, 4096);
      const past = await s.read(SIZE, b).then(() => '', (e: NodeJS.ErrnoException) => e.code);
      expect(past).to.equal('EINVAL');
      const ro = await s.write(0, b, false).then(() => '', (e: NodeJS.ErrnoException) => e.code);
      expect(ro).to.equal('EROFS');
    } finally { await s.close(); }
  });

  it('unmap leaves zeros behind', async () => {
    const s = await BlockBackstore.open({ path: file, sizeBytes: 0n, thin: true });
    try {
      await s.unmap(65536, 8192);
      const b = new Uint8Array(native.allocAlignedShared(8192), 0, 8192);
      await s.read(65536, b);
      expect(Buffer.from(b).equals(Buffer.alloc(8192))).to.equal(true);
    } finally { await s.close(); }
  });

  it('is what handler blockio opens', async () => {
    const s = await openBackstore({
      name: 'b0', handler: 'blockio', path: file, sizeBytes: BigInt(SIZE), blockSize: 512,
      writeCache: 'writethrough', thin: false, readOnly: false,
    });
    try {
      expect(s).to.be.instanceOf(BlockBackstore);
      expect(s.kind).to.equal('block');
    } finally { await s.close(); }
  });
});
