import { expect } from 'chai';
import { MemoryBackstore, MEMORY_CHUNK_BYTES } from '../../../src/engine/backstores/memory';
import { NullBackstore } from '../../../src/engine/backstores/null';
import { SHARED_ZEROS_BYTES, syncIoOf } from '../../../src/engine/backstores/sync-io';

describe('MemoryBackstore', () => {
  it('allocates nothing up front: a 1 GiB store holds no chunk until written', async () => {
    const m = new MemoryBackstore({ sizeBytes: 1n << 30n });
    expect(m.allocatedChunks).to.equal(0);
    const b = Buffer.alloc(4096, 0xff);
    await m.read(512 << 20, b);
    expect(b.equals(Buffer.alloc(4096))).to.equal(true);
    expect(m.allocatedChunks).to.equal(0);
  });

  it('a write across a chunk boundary allocates both chunks and reads back', async () => {
    const m = new MemoryBackstore({ sizeBytes: 4n << 20n });
    const data = Buffer.alloc(8192);
    for (let i = 0; i < data.length; i++) data[i] = i & 0xff;
    await m.write(MEMORY_CHUNK_BYTES - 4096, data, false);
    expect(m.allocatedChunks).to.equal(2);
    const back = Buffer.alloc(8192);
    await m.read(MEMORY_CHUNK_BYTES - 4096, back);
    expect(back.equals(data)).to.equal(true);
  });

  it('unmap frees whole chunks and zeroes partial ones; mapStatus follows chunk presence', async () => {
    const m = new MemoryBackstore({ sizeBytes: 4n << 20n });
    await m.write(0, Buffer.alloc(4 << 20, 0x11), false);
    expect(m.allocatedChunks).to.equal(4);
    await m.unmap(MEMORY_CHUNK_BYTES - 512, MEMORY_CHUNK_BYTES + 1024);
    expect(m.allocatedChunks).to.equal(3); // chunk 1 freed; 0 and 2 keep their data but the range is zeroed
    const b = Buffer.alloc(1024);
    await m.read(MEMORY_CHUNK_BYTES - 512, b);
    expect(b.equals(Buffer.alloc(1024))).to.equal(true);
    const edge = Buffer.alloc(2);
    await m.read(2 * MEMORY_CHUNK_BYTES + 512, edge);
    expect([...edge]).to.deep.equal([0x11, 0x11]);
    expect(await m.mapStatus(0)).to.deep.equal({ mapped: true, length: MEMORY_CHUNK_BYTES });
    expect(await m.mapStatus(MEMORY_CHUNK_BYTES + 100)).to.deep.equal({ mapped: false, length: MEMORY_CHUNK_BYTES - 100 });
    expect(await m.mapStatus(2 * MEMORY_CHUNK_BYTES)).to.deep.equal({ mapped: true, length: 2 * MEMORY_CHUNK_BYTES });
  });

  it('resize shrinks (dropping and zeroing) and grows', async () => {
    const m = new MemoryBackstore({ sizeBytes: 3n << 20n });
    await m.write(0, Buffer.alloc(3 << 20, 0x22), false);
    await m.resize(BigInt(MEMORY_CHUNK_BYTES + 4096));
    expect(m.allocatedChunks).to.equal(2);
    await m.resize(3n << 20n);
    const b = Buffer.alloc(8);
    await m.read(MEMORY_CHUNK_BYTES + 4096, b);
    expect(b.equals(Buffer.alloc(8))).to.equal(true);
    await m.read(MEMORY_CHUNK_BYTES + 4088, b);
    expect(b.equals(Buffer.alloc(8, 0x22))).to.equal(true);
  });

  it('refuses I/O outside the store with EINVAL, and writes when read-only with EROFS', async () => {
    const m = new MemoryBackstore({ sizeBytes: 4096n });
    let code: string | undefined;
    await m.read(4096 - 511, Buffer.alloc(512)).catch((e: NodeJS.ErrnoException) => { code = e.code; });
    expect(code).to.equal('EINVAL');
    const ro = new MemoryBackstore({ sizeBytes: 4096n, readOnly: true });
    await ro.write(0, Buffer.alloc(512), false).catch((e: NodeJS.ErrnoException) => { code = e.code; });
    expect(code).to.equal('EROFS');
  });
});

describe('NullBackstore', () => {
  it('reads zeros, drops writes, and takes sizes up to 2^64 blocks', async () => {
    const n = new NullBackstore({ sizeBytes: (1n << 64n) * 512n });
    await n.write(4096, Buffer.alloc(512, 7), true);
    const b = Buffer.alloc(512, 0xee);
    await n.read(4096, b);
    expect(b.equals(Buffer.alloc(512))).to.equal(true);
    expect(n.sizeBytes).to.equal((1n << 64n) * 512n);
    expect((await n.mapStatus(0)).mapped).to.equal(true);
    expect((await new NullBackstore({ sizeBytes: 4096n, thin: true }).mapStatus(1024))).to.deep.equal({ mapped: false, length: 3072 });
  });
});

describe('synchronous store I/O (SyncIo)', () => {
  it('memory: writeNow/readNow move the bytes, across a chunk boundary too; out of range or read-only says no', () => {
    const m = new MemoryBackstore({ sizeBytes: 4n << 20n });
    const data = Buffer.alloc(8192);
    for (let i = 0; i < data.length; i++) data[i] = (i * 13 + 1) & 0xff;
    const at = (1 << 20) - 4096;
    expect(m.writeNow(at, data, false)).to.equal(true);
    const back = Buffer.alloc(8192);
    expect(m.readNow(at, back)).to.equal(true);
    expect(back.equals(data)).to.equal(true);
    expect(m.readNow((4 << 20) - 512, Buffer.alloc(1024))).to.equal(false);
    expect(m.writeNow(-512, Buffer.alloc(512), false)).to.equal(false);
    const ro = new MemoryBackstore({ sizeBytes: 1n << 20n, readOnly: true });
    expect(ro.writeNow(0, Buffer.alloc(512), false)).to.equal(false);
  });

  it('null: lendNow gives shared zeros up to SHARED_ZEROS_BYTES; readNow zero-fills; writeNow drops', () => {
    const n = new NullBackstore({ sizeBytes: 1n << 40n });
    const a = n.lendNow(0, 4096)!;
    expect(a.length).to.equal(4096);
    expect(a.every(x => x === 0)).to.equal(true);
    expect(n.lendNow(1 << 30, 512)!.buffer).to.equal(a.buffer);
    expect(n.lendNow(0, SHARED_ZEROS_BYTES + 512)).to.equal(undefined);
    const into = Buffer.alloc(512, 0xff);
    expect(n.readNow(0, into)).to.equal(true);
    expect(into.every(x => x === 0)).to.equal(true);
    expect(n.writeNow(0, Buffer.alloc(512, 1), true)).to.equal(true);
    expect(syncIoOf(n)).to.equal(n);
  });
});
