import { expect } from 'chai';
import { Worker } from 'node:worker_threads';
import * as native from '../../../src/native';
import { describeNeeds, NATIVE_ADDON } from '../../helpers/prereq';

// Workers load the addon through src/native/index.ts (tsx compiles it there too).
const indexPath = require.resolve('../../../src/native');

describeNeeds(NATIVE_ADDON)('native/shared-memory', () => {
  it('allocAlignedShared returns a zeroed, page-aligned SharedArrayBuffer of exactly the size asked', () => {
    for (const size of [1, 4096, 10000, 1 << 20]) {
      const sab = native.allocAlignedShared(size);
      expect(sab).to.be.instanceOf(SharedArrayBuffer);
      expect(sab.byteLength).to.equal(size);
      expect(native.addressOf(sab) % BigInt(native.pageSize)).to.equal(0n);
      const u8 = new Uint8Array(sab);
      expect(u8.every(b => b === 0)).to.equal(true);
    }
  });

  it('addressOf follows view offsets into the mapping', () => {
    const sab = native.allocAlignedShared(8192);
    const base = native.addressOf(sab);
    expect(native.addressOf(new Uint8Array(sab, 512, 100))).to.equal(base + 512n);
    expect(native.addressOf(new DataView(sab, 4097))).to.equal(base + 4097n);
    expect(native.addressOf(new Uint8Array(sab).subarray(3))).to.equal(base + 3n);
  });

  it('the memory works with Atomics and is shared with a worker thread', async () => {
    const sab = native.allocAlignedShared(4096);
    const i32 = new Int32Array(sab);
    // The worker stamps the buffer and answers with the address it sees, which
    // must be the same mapping as ours.
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       require('tsx/cjs');
       const addon = require(workerData.indexPath);
       const i32 = new Int32Array(workerData.sab);
       Atomics.store(i32, 1, 0x5a5a);
       Atomics.add(i32, 0, 41);
       parentPort.postMessage(addon.addressOf(workerData.sab).toString());`,
      { eval: true, workerData: { sab, indexPath } },
    );
    Atomics.store(i32, 0, 1);
    const addr = await new Promise<string>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(BigInt(addr)).to.equal(native.addressOf(sab));
    expect(Atomics.load(i32, 1)).to.equal(0x5a5a);
    expect(Atomics.load(i32, 0)).to.equal(42);
  });

  it('rejects garbage sizes with TypeError / RangeError, never a crash', () => {
    for (const bad of [undefined, null, '4096', {}, 10n]) {
      expect(() => native.allocAlignedShared(bad as unknown as number)).to.throw(TypeError);
    }
    for (const bad of [0, -1, 1.5, NaN, Infinity]) {
      expect(() => native.allocAlignedShared(bad)).to.throw(RangeError);
    }
    for (const bad of [undefined, 1, 'x', {}, [1]]) {
      expect(() => native.addressOf(bad as unknown as Uint8Array)).to.throw(TypeError);
    }
  });
});
