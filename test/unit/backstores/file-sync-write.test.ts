import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileBackstore } from '../../../src/engine/backstores/file';
import { NATIVE_ADDON, requirePrereq } from '../../helpers/prereq';

// Write-back writes go to the page cache synchronously; FUA and write-through keep the async path
// (which syncs to stable storage before completing).
describe('file backstore: synchronous write-back writes (writeNow)', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nexus-fsw-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('write-back: writes the bytes now and says so', async function () {
    requirePrereq(this, NATIVE_ADDON); // the synchronous path needs the native addon's pwrite
    const p = path.join(dir, 'a.img');
    const f = await FileBackstore.open({ path: p, sizeBytes: 1n << 20n, writeBack: true });
    try {
      expect(f.writeNow(8192, Buffer.alloc(4096, 0x7e), false)).to.equal(true);
      const back = Buffer.alloc(4096);
      fs.readSync(fs.openSync(p, 'r'), back, 0, 4096, 8192);
      expect(back.every(b => b === 0x7e)).to.equal(true);
    } finally { await f.close(); }
  });

  it('FUA, write-through, out of range and negative offsets take the async path', async () => {
    const f = await FileBackstore.open({ path: path.join(dir, 'b.img'), sizeBytes: 1n << 20n, writeBack: true });
    const wt = await FileBackstore.open({ path: path.join(dir, 'c.img'), sizeBytes: 1n << 20n, writeBack: false });
    try {
      expect(f.writeNow(0, Buffer.alloc(512), true)).to.equal(false);
      expect(wt.writeNow(0, Buffer.alloc(512), false)).to.equal(false);
      expect(f.writeNow((1 << 20) - 256, Buffer.alloc(512), false)).to.equal(false);
      expect(f.writeNow(-512, Buffer.alloc(512), false)).to.equal(false);
    } finally { await f.close(); await wt.close(); }
  });
});
