import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import * as native from '../../../src/native';
import { createJsIoQueue } from '../../../src/native/js-io-queue';
import { demandInCi, describeNeeds, ioUringKernel, LIBURING, NATIVE_ADDON, requirePrereq, tool } from '../../helpers/prereq';
import { directIoDir, pattern, patternFile } from './helpers';

// Workers load the addon through src/native/index.ts (tsx compiles it there too).
const indexPath = require.resolve('../../../src/native');

function submit(q: native.IoQueue, reqs: native.IoRequest[]): Promise<native.IoResult[]> {
  return new Promise(resolve => q.submit(reqs, resolve));
}

function fdOf(r: { fd: number } | native.NativeError): number {
  if (native.isNativeError(r)) throw new Error(`open failed: ${r.errno}`);
  return r.fd;
}

// Every backend: io_uring, the native thread pool, and the pure-JS queue used without the addon.
// io_uring is a prerequisite of its own (the kernel accepting io_uring_setup, probed apart from
// the addon, and liburing built in): when both are there, a ring that does not work fails.
const backends: Array<[string, (depth: number) => native.IoQueue]> = [
  ['io_uring', depth => native.createIoQueue({ depth, backend: 'io_uring' })],
  ['threads', depth => native.createIoQueue({ depth, backend: 'threads', threads: 2 })],
  ['js', depth => createJsIoQueue({ depth })],
];

describeNeeds(NATIVE_ADDON)('native/io-queue', () => {
  let dir: string;
  let file: string;
  let fd: number;
  let rfd: number;
  const FILE_BYTES = 256 * 1024;
  // What 'auto' must choose on this machine: io_uring when the kernel accepts io_uring_setup
  // and the addon was built with liburing, the thread pool otherwise (never the JS queue).
  // The kernel is probed with python3, itself a prerequisite of the tests that use the answer.
  const autoBackend = (): 'io_uring' | 'threads' => (ioUringKernel().available && LIBURING.available ? 'io_uring' : 'threads');

  before(() => {
    dir = directIoDir();
    file = patternFile(dir, 'q.img', FILE_BYTES, 5);
    fd = fdOf(native.openBlock(file, { direct: true }));
    rfd = fdOf(native.openBlock(file, { readOnly: true }));
  });
  after(() => {
    native.closeBlock(fd);
    native.closeBlock(rfd);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("'auto' picks io_uring when the kernel accepts it and liburing is built in, else threads", function () {
    requirePrereq(this, tool('python3'));
    // With CI=true both are required, so there 'auto' must be io_uring.
    demandInCi(ioUringKernel(), LIBURING);
    const q = native.createIoQueue();
    expect(q.backend, `kernel accepts io_uring: ${ioUringKernel().available}, liburing built in: ${LIBURING.available}`).to.equal(autoBackend());
    expect(q.depth).to.equal(64);
    q.close();
  });

  it('a demanded io_uring backend is refused with an error only where the kernel or the build lacks it', function () {
    requirePrereq(this, tool('python3'));
    if (autoBackend() === 'io_uring') {
      const q = native.createIoQueue({ backend: 'io_uring' });
      expect(q.backend).to.equal('io_uring');
      q.close();
    } else {
      expect(() => native.createIoQueue({ backend: 'io_uring' })).to.throw();
    }
  });

  for (const [name, make] of backends) {
    describe(`backend ${name}`, function () {
      before(function () {
        if (name === 'io_uring') requirePrereq(this, tool('python3'), ioUringKernel(), LIBURING);
      });

      it('reads a batch larger than the depth into page-aligned shared memory, results in request order', async () => {
        const q = make(4);
        const sab = native.allocAlignedShared(FILE_BYTES);
        const reqs: native.IoRequest[] = [];
        // 16 reads of 16 KiB, submitted in reverse order, offsets as bigint and number.
        for (let i = 15; i >= 0; i--) {
          reqs.push({ op: 'read', fd, buf: new Uint8Array(sab, i * 16384, 16384), offset: i % 2 ? BigInt(i * 16384) : i * 16384 });
        }
        const res = await submit(q, reqs);
        expect(res.map(r => r.res)).to.deep.equal(new Array(16).fill(16384));
        expect(Buffer.from(new Uint8Array(sab)).equals(pattern(FILE_BYTES, 5))).to.equal(true);
        expect(q.inFlight).to.equal(0);
        q.close();
      });

      it('writes, fdatasyncs and fsyncs, then reads back what was written', async () => {
        const q = make(8);
        const sab = native.allocAlignedShared(8192);
        const out = new Uint8Array(sab, 0, 4096).fill(0x3c);
        const res = await submit(q, [
          { op: 'write', fd, buf: out, offset: 65536 },
          { op: 'write', fd, buf: out, offset: 69632n, length: 4096 },
        ]);
        expect(res).to.deep.equal([{ res: 4096 }, { res: 4096 }]);
        expect(await submit(q, [{ op: 'fdatasync', fd }, { op: 'fsync', fd }])).to.deep.equal([{ res: 0 }, { res: 0 }]);
        const back = new Uint8Array(sab, 4096, 4096);
        expect(await submit(q, [{ op: 'read', fd, buf: back, offset: 69632 }])).to.deep.equal([{ res: 4096 }]);
        expect(back.every(b => b === 0x3c)).to.equal(true);
        // Put the pattern back for the other tests.
        const restore = new Uint8Array(native.allocAlignedShared(8192));
        restore.set(pattern(8192, 5, 65536));
        expect(await submit(q, [{ op: 'write', fd, buf: restore, offset: 65536 }])).to.deep.equal([{ res: 8192 }]);
        q.close();
      });

      it('reports per-request errno values inside a batch without failing the others', async () => {
        const q = make(8);
        const sab = native.allocAlignedShared(3 * 4096);
        const ok = new Uint8Array(sab, 0, 4096);
        const res = await submit(q, [
          { op: 'read', fd, buf: ok, offset: 0 },
          { op: 'read', fd: 987654, buf: ok, offset: 0 }, // not open
          { op: 'read', fd: -1, buf: ok, offset: 0 },
          { op: 'read', fd, buf: ok, offset: -4096 },
          { op: 'read', fd, buf: ok, offset: 0, length: 8192 }, // past the view
          { op: 'read', fd, buf: new Uint8Array(sab, 1, 4096), offset: 0 }, // O_DIRECT, misaligned address
          { op: 'write', fd: rfd, buf: ok, offset: 0 }, // read-only fd
          { op: 'fsync', fd: 987654 },
        ]);
        expect(res[0]).to.deep.equal({ res: 4096 });
        expect(res.slice(1)).to.deep.equal([
          { res: -9, errno: 'EBADF' },
          { res: -9, errno: 'EBADF' },
          { res: -22, errno: 'EINVAL' },
          { res: -22, errno: 'EINVAL' },
          { res: -22, errno: 'EINVAL' },
          { res: -9, errno: 'EBADF' },
          { res: -9, errno: 'EBADF' },
        ]);
        q.close();
      });

      it('a short read at end of file returns the bytes there are; past the end returns 0', async () => {
        const q = make(4);
        const buf = new Uint8Array(native.allocAlignedShared(8192));
        const res = await submit(q, [
          { op: 'read', fd: rfd, buf, offset: FILE_BYTES - 100 },
          { op: 'read', fd: rfd, buf: new Uint8Array(10), offset: FILE_BYTES + 4096 },
        ]);
        expect(res).to.deep.equal([{ res: 100 }, { res: 0 }]);
        expect(Buffer.from(buf.subarray(0, 100)).equals(pattern(100, 5, FILE_BYTES - 100))).to.equal(true);
        q.close();
      });

      it('calls back asynchronously, also for an empty or all-invalid batch', async () => {
        const q = make(4);
        let sync = true;
        const p1 = new Promise<native.IoResult[]>(resolve => q.submit([], r => resolve(r)));
        const p2 = new Promise<[native.IoResult[], boolean]>(resolve =>
          q.submit([{ op: 'read', fd: -1, buf: new Uint8Array(1), offset: 0 }], r => resolve([r, sync])),
        );
        sync = false;
        expect(await p1).to.deep.equal([]);
        const [r2, wasSync] = await p2;
        expect(wasSync).to.equal(false);
        expect(r2).to.deep.equal([{ res: -9, errno: 'EBADF' }]);
        q.close();
      });

      it('throws TypeError for wrong JS types and submits nothing of that batch', () => {
        const q = make(4);
        const buf = new Uint8Array(16);
        const garbage: unknown[] = [
          [{ op: 'erase', fd, buf, offset: 0 }],
          [{ op: 'read', fd: '3', buf, offset: 0 }],
          [{ op: 'read', fd, buf: 'nope', offset: 0 }],
          [{ op: 'read', fd, buf: [1, 2, 3], offset: 0 }],
          [{ op: 'read', fd, buf, offset: '0' }],
          [{ op: 'read', fd, buf, offset: 0, length: {} }],
          [null],
          [42],
          'not an array',
          undefined,
        ];
        for (const g of garbage) {
          expect(() => q.submit(g as native.IoRequest[], () => undefined), JSON.stringify(g)).to.throw(TypeError);
        }
        expect(() => q.submit([], 'cb' as unknown as () => void)).to.throw(TypeError);
        expect(q.inFlight).to.equal(0);
        q.close();
        expect(() => q.submit([], () => undefined)).to.throw().with.property('code', 'ERR_QUEUE_CLOSED');
      });

      it('close() while I/O is in flight still delivers the results', async () => {
        const q = make(2);
        const sab = native.allocAlignedShared(65536);
        const reqs: native.IoRequest[] = [];
        for (let i = 0; i < 16; i++) reqs.push({ op: 'read', fd, buf: new Uint8Array(sab, i * 4096, 4096), offset: i * 4096 });
        const p = submit(q, reqs);
        q.close();
        const res = await p;
        expect(res.every(r => r.res === 4096)).to.equal(true);
      });
    });
  }

  it('createIoQueue validates its options', () => {
    expect(() => native.createIoQueue({ depth: 0 })).to.throw(RangeError);
    expect(() => native.createIoQueue({ depth: 1.5 })).to.throw(RangeError);
    expect(() => native.createIoQueue({ depth: '8' as unknown as number })).to.throw(TypeError);
    expect(() => native.createIoQueue({ backend: 'aio' as unknown as 'threads' })).to.throw(TypeError);
    expect(() => native.createIoQueue({ threads: 0 })).to.throw(RangeError);
    expect(() => native.createIoQueue(5 as unknown as native.IoQueueOptions)).to.throw(TypeError);
    expect(() => createJsIoQueue({ depth: 0 })).to.throw(RangeError);
  });

  it('works inside worker_threads, each with its own queue, and a worker can exit with I/O queued', async () => {
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      require('tsx/cjs');
       const addon = require(workerData.indexPath);
      const q = addon.createIoQueue({ depth: 8 });
      const sab = addon.allocAlignedShared(4096);
      const o = addon.openBlock(workerData.file, { direct: true, readOnly: true });
      q.submit([{ op: 'read', fd: o.fd, buf: new Uint8Array(sab), offset: workerData.offset }], res => {
        const crc = addon.crc32c(new Uint8Array(sab));
        // Leave more I/O in flight on purpose: worker teardown must drain it.
        const more = [];
        for (let i = 0; i < 8; i++) more.push({ op: 'read', fd: o.fd, buf: new Uint8Array(sab), offset: i * 4096 });
        q.submit(more, () => {});
        parentPort.postMessage({ backend: q.backend, res: res[0].res, crc });
      });`;
    const run = (offset: number): Promise<{ backend: string; res: number; crc: number }> =>
      new Promise((resolve, reject) => {
        const w = new Worker(code, { eval: true, workerData: { indexPath, file, offset } });
        w.once('message', m => {
          w.terminate().then(() => resolve(m), reject);
        });
        w.once('error', reject);
      });
    const [a, b] = await Promise.all([run(0), run(8192)]);
    const here = native.createIoQueue();
    here.close();
    for (const [m, off] of [
      [a, 0],
      [b, 8192],
    ] as const) {
      expect(m.res).to.equal(4096);
      expect(m.crc).to.equal(native.crc32c(pattern(4096, 5, off)));
      expect(m.backend, 'a worker chooses the backend the main thread chooses').to.equal(here.backend);
    }
  });

  it('an idle queue does not keep the process alive', function () {
    this.timeout(15000);
    const script = `
      const addon = require(${JSON.stringify(indexPath)});
      for (const backend of ['auto', 'threads']) {
        const q = addon.createIoQueue({ backend });
        q.submit([], () => process.stdout.write(backend + ' done\\n'));
      }`;
    const r = spawnSync(process.execPath, ['-r', 'tsx/cjs', '-e', script], { timeout: 10000, encoding: 'utf8' });
    expect(r.signal, r.stderr).to.equal(null);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('auto done\nthreads done\n');
  });

  it('a callback that throws becomes an uncaughtException, and later batches are still delivered', function () {
    this.timeout(15000);
    const script = `
      const addon = require(${JSON.stringify(indexPath)});
      process.on('uncaughtException', e => process.stdout.write('uncaught ' + e.message + '\\n'));
      const q = addon.createIoQueue();
      q.submit([], () => { throw new Error('boom'); });
      q.submit([], () => { process.stdout.write('second\\n'); q.close(); });`;
    const r = spawnSync(process.execPath, ['-r', 'tsx/cjs', '-e', script], { timeout: 10000, encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('uncaught boom\nsecond\n');
  });
});
