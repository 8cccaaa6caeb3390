import { expect } from 'chai';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockingPool, blockingTasksRun } from '../../../src/engine/backstores/blocking-pool';
import { FileBackstore } from '../../../src/engine/backstores/file';

describe('blocking pool (piscina) for system calls with no async form', function () {
  this.timeout(20000);
  const dir = mkdtempSync(join(tmpdir(), 'nexus-blocking-'));

  it('runs fdatasync and fsync on a descriptor of this process, and returns errno values', async () => {
    const pool = new BlockingPool({ maxThreads: 1 });
    const path = join(dir, 'a.img');
    writeFileSync(path, Buffer.alloc(8192, 1));
    const fd = openSync(path, 'r+');
    try {
      expect(await pool.run({ op: 'fdatasync', fd })).to.deep.equal({ ok: true });
      expect(await pool.run({ op: 'fsync', fd })).to.deep.equal({ ok: true });
      const bad = await pool.run({ op: 'fdatasync', fd: 1_000_000 });
      expect(bad).to.deep.include({ ok: false, errno: 'EBADF' });
      expect(pool.stats.completed).to.equal(3);
    } finally {
      closeSync(fd);
      await pool.close();
    }
    expect(await pool.run({ op: 'fsync', fd: 0 })).to.deep.include({ ok: false, errno: 'ESHUTDOWN' });
  });

  it('fills a range with a repeated pattern, aligned to the range start, and nothing outside it', async () => {
    const pool = new BlockingPool({ maxThreads: 1 });
    const path = join(dir, 'b.img');
    writeFileSync(path, Buffer.alloc(3 * 1024 * 1024, 0xee));
    const fd = openSync(path, 'r+');
    try {
      const pattern = Uint8Array.from([1, 2, 3]);
      const offset = 4096 + 7;
      const length = 2 * 1024 * 1024 + 5; // more than one chunk, not a whole number of patterns
      expect(await pool.run({ op: 'fill', fd, offset, length, pattern })).to.deep.equal({ ok: true });
      const got = readFileSync(path);
      expect(got[offset - 1]).to.equal(0xee);
      expect(got[offset + length]).to.equal(0xee);
      for (const i of [0, 1, 2, 3, 1024 * 1024 - 1, 1024 * 1024, 1024 * 1024 + 1, length - 1]) {
        expect(got[offset + i], `byte ${i}`).to.equal(pattern[i % 3]);
      }
      expect(await pool.run({ op: 'fill', fd, offset: 0, length: 1, pattern: new Uint8Array(0) })).to.deep.include({ ok: false, errno: 'EINVAL' });
    } finally {
      closeSync(fd);
      await pool.close();
    }
  });

  it('a write-through file LUN syncs through the pool and leaves no threads after close', async () => {
    const path = join(dir, 'c.img');
    const before = blockingTasksRun();
    const b = await FileBackstore.open({ path, sizeBytes: 1024n * 1024n, writeBack: false });
    await b.write(0, Buffer.alloc(4096, 0x5a), false);
    await b.flush();
    await b.close();
    expect(blockingTasksRun()).to.equal(before + 2); // the write-through write's sync and the flush
    expect(readFileSync(path).subarray(0, 4096).every((x) => x === 0x5a)).to.equal(true);
    // A write-back LUN never needs it for a plain write: the page cache takes the data.
    const wb = await FileBackstore.open({ path, sizeBytes: 1024n * 1024n, writeBack: true });
    await wb.write(4096, Buffer.alloc(512, 1), false);
    await wb.close();
    expect(blockingTasksRun()).to.equal(before + 2);
  });
});
