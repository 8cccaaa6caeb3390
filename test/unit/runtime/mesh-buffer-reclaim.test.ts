// Supervision of the engine-thread mesh and the shared buffer pool (buffer-pool.ts owner tags,
// supervisor.ts recovery): a thread that dies holding Data-Out buffers it adopted from a
// peer gives them back before its replacement starts, while the other thread keeps serving.
import { expect } from 'chai';
import * as net from 'node:net';
import * as path from 'node:path';
import { BufferRecovery, Supervisor } from '../../../src/workers/supervisor';
import { LineClient, dev, tgt } from './helpers';
import { describeNeeds, NATIVE_ADDON } from '../../helpers/prereq';

const ENTRY = path.join(__dirname, 'fixtures', 'scsi-entry.ts');
const TARGET = 'iqn.2024-01.test:reclaim';
const LOCAL_TARGET = 'iqn.2024-01.test:reclaim-local';
const CLASSES = [{ size: 4096, count: 16 }, { size: 65536, count: 4 }];


/** Buffers of class 0 whose state word names `owner` (scan through the public ownerOf). */
function ownedBy(threads: Supervisor, owner: number): number {
  let n = 0;
  for (let i = 0; i < CLASSES[0].count; i++) if (threads.pool.ownerOf(i) === owner) n++;
  return n;
}

// Threads take over a session through the native dupFd (socket hand-off); without the addon it cannot run.
describeNeeds(NATIVE_ADDON)('engine-thread mesh: pool buffers of a dead thread', function () {
  this.timeout(30000);

  it('a thread killed while its unit writes Data-Out from a peer returns those buffers; the peer keeps serving', async () => {
    const recoveries: BufferRecovery[] = [];
    // slow1 is homed on thread 1 and takes 150 ms per write: its Data-Out stays adopted there.
    const threads = await Supervisor.create({
      devices: [dev('d0'), dev('slow1')],
      targets: [tgt(TARGET, ['d0', 'slow1']), tgt(LOCAL_TARGET, ['d0'])],
    }, { threads: 2, homing: 'spread', threadEntry: ENTRY, poolClasses: CLASSES, onBuffersReclaimed: r => recoveries.push(r) });
    const accepted: net.Socket[] = [];
    const server = net.createServer(s => {
      accepted.push(s);
      s.once('data', () => {
        void threads.handOff({ fabric: 'scsi',
          socket: s,
          state: {
            targetName: TARGET, initiatorName: 'iqn.2024-01.test:host', isid: '400001370001', tsih: 1, cid: 0, tpgt: 1, portal: '',
            statSN: 1, expCmdSN: 1, maxCmdSN: 1, params: {},
          },
          finalResponse: Buffer.from('OK\n', 'latin1'),
        });
      });
    });
    await new Promise<void>(res => server.listen(0, '127.0.0.1', () => res()));
    const c = new LineClient((server.address() as net.AddressInfo).port);
    try {
      expect(threads.threadOf('slow1')).to.equal(1);
      c.socket.write('LOGIN\n');
      await c.until(() => c.text.startsWith('OK\n'));
      // Equal units on both threads, no sessions yet: the session goes to thread 0, LUN 1 is remote.
      expect(threads.registry.load(0), c.text).to.equal(1);
      c.socket.write('REMOTE 1 4\n');
      await c.until(() => c.text.includes('SENT\n'));
      // Thread 1 adopted the four Data-Out buffers thread 0 staged (the owner tag says so).
      for (let i = 0; i < 200 && ownedBy(threads, 1) < 4; i++) await new Promise(res => setTimeout(res, 5));
      expect(ownedBy(threads, 1)).to.equal(4);
      await threads.worker(1)!.terminate();
      await c.until(() => c.text.includes('DONE'));
      expect(c.text).to.contain('DONE good=0 other=4\n');
      await threads.whenReady(1);
      expect(recoveries).to.have.length(1);
      expect(recoveries[0].threadIndex).to.equal(1);
      expect(recoveries[0].acknowledged).to.equal(true);
      expect(recoveries[0].reclaimed).to.equal(4);
      expect(threads.recovery.reclaimed).to.equal(4);
      // Every buffer is free again: the pool is back to its full size.
      expect(threads.pool.stats().map(s => s.inUse)).to.deep.equal([0, 0]);
      expect(ownedBy(threads, 1)).to.equal(0);
      // Thread 0 never stopped serving: a unit homed there answers a new nexus.
      c.socket.write(`LOCAL ${LOCAL_TARGET} 0\n`);
      await c.until(() => c.text.includes('LOCAL'));
      expect(c.text).to.contain('LOCAL ok\n');
      expect(threads.pool.stats().map(s => s.inUse)).to.deep.equal([0, 0]);
    } finally {
      c.socket.destroy();
      for (const s of accepted) s.destroy();
      await new Promise<void>(res => server.close(() => res()));
      await threads.close();
    }
  });
});
