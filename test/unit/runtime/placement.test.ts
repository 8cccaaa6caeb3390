// Placement (placement.ts): the units a session can reach live on one engine thread by default,
// so a session placed there runs every command as a direct call (DESIGN.md §3).
import { expect } from 'chai';
import * as net from 'node:net';
import * as path from 'node:path';
import { describeNeeds, NATIVE_ADDON } from '../../helpers/prereq';
import type { TargetConfig } from '../../../src/engine/topology';
import { homeThreads, placeSession } from '../../../src/workers/placement';
import { Supervisor } from '../../../src/workers/supervisor';
import { LineClient, dev, tgt } from './helpers';

const ENTRY = path.join(__dirname, 'fixtures', 'scsi-entry.ts');

function withGroup(t: TargetConfig, devices: string[]): TargetConfig {
  return { ...t, groups: [{ name: 'g', initiators: ['iqn.x:*'], luns: devices.map((d, i) => ({ lun: i, device: d, readOnly: false })) }] };
}

describe('runtime placement', () => {
  it('colocate: a target\'s devices share a thread; groups of devices go round-robin in topology order', () => {
    const topo = {
      devices: ['a0', 'a1', 'b0', 'c0', 'c1', 'd0'].map(n => dev(n)),
      targets: [tgt('t:a', ['a0', 'a1']), tgt('t:b', ['b0']), tgt('t:c', ['c0', 'c1']), tgt('t:d', ['d0'])],
    };
    expect(homeThreads(topo, 2)).to.deep.equal([0, 0, 1, 0, 0, 1]);
    expect(homeThreads(topo, 3)).to.deep.equal([0, 0, 1, 2, 2, 0]);
    expect(homeThreads(topo, 1)).to.deep.equal([0, 0, 0, 0, 0, 0]);
  });

  it('colocate: a device exported by two targets, or by a group, joins their devices in one group', () => {
    const shared = {
      devices: ['x', 'y', 'z', 'w'].map(n => dev(n)),
      targets: [tgt('t:1', ['x', 'z']), tgt('t:2', ['y']), tgt('t:3', ['z', 'w'])],
    };
    // t:1 and t:3 share z: x, z, w are one group (thread 0); y is the second (thread 1).
    expect(homeThreads(shared, 2)).to.deep.equal([0, 1, 0, 0]);
    const grouped = {
      devices: ['x', 'y', 'z'].map(n => dev(n)),
      targets: [withGroup(tgt('t:1', ['x']), ['y']), tgt('t:2', ['z'])],
    };
    // A group's LUN map is part of its target's: x and y together, z apart.
    expect(homeThreads(grouped, 2)).to.deep.equal([0, 0, 1]);
    // A device no target exports is a group of its own.
    expect(homeThreads({ devices: [dev('p'), dev('q')], targets: [] }, 2)).to.deep.equal([0, 1]);
  });

  it('spread: device i on thread i mod N', () => {
    const topo = { devices: ['a0', 'a1', 'b0'].map(n => dev(n)), targets: [tgt('t:a', ['a0', 'a1', 'b0'])] };
    expect(homeThreads(topo, 2, 'spread')).to.deep.equal([0, 1, 0]);
  });

  it('a session goes to the thread with most of its units, a tie to the least loaded, never to a thread that is down', () => {
    expect(placeSession([1, 1, 0], [true, true], () => 0)).to.equal(1);
    expect(placeSession([0, 1], [true, true], t => (t === 0 ? 3 : 1))).to.equal(1);
    expect(placeSession([1, 1], [true, false], () => 0)).to.equal(0);
    expect(placeSession([0], [false, false], () => 0)).to.equal(-1);
  });
});


describeNeeds(NATIVE_ADDON)('runtime placement with sessions on engine threads', function () {
  this.timeout(30000);

  it('the default topology of the benchmark (a file and a null LUN in one target): every command of the session is local', async () => {
    const TARGET = 'iqn.2024-01.test:bench';
    const OTHER = 'iqn.2024-01.test:other';
    const threads = await Supervisor.create({
      devices: [dev('file0'), dev('null0', 'nullio'), dev('d2')],
      targets: [tgt(TARGET, ['file0', 'null0']), tgt(OTHER, ['d2'])],
    }, { threads: 2, threadEntry: ENTRY });
    const accepted: net.Socket[] = [];
    const server = net.createServer(s => {
      accepted.push(s);
      s.once('data', () => {
        void threads.handOff({
          fabric: 'scsi', socket: s,
          state: {
            targetName: TARGET, initiatorName: 'iqn.2024-01.test:host', isid: '400001370002', tsih: 2, cid: 0, tpgt: 1, portal: '',
            statSN: 1, expCmdSN: 1, maxCmdSN: 1, params: {},
          },
          finalResponse: Buffer.from('OK\n', 'latin1'),
        });
      });
    });
    await new Promise<void>(res => server.listen(0, '127.0.0.1', () => res()));
    const c = new LineClient((server.address() as net.AddressInfo).port);
    try {
      // Both LUNs of the target on thread 0, the other target's unit on thread 1.
      expect([threads.threadOf('file0'), threads.threadOf('null0'), threads.threadOf('d2')]).to.deep.equal([0, 0, 1]);
      c.socket.write('LOGIN\n');
      await c.until(() => c.text.startsWith('OK\n'));
      expect(threads.registry.load(0)).to.equal(1);
      // Writes to the null LUN (LUN 1) and a write read back on the file LUN (LUN 0).
      c.socket.write('REMOTE 1 8\n');
      await c.until(() => c.text.includes('DONE'));
      expect(c.text).to.contain('DONE good=8 other=0\n');
      c.socket.write(`LOCAL ${TARGET} 0\n`);
      await c.until(() => c.text.includes('LOCAL'));
      expect(c.text).to.contain('LOCAL ok\n');
      const t0 = (await threads.stats()).find(r => r.threadIndex === 0)!.counters;
      expect(t0.localCommands).to.be.at.least(12);
      expect(t0.remoteCommands).to.equal(0);
      expect(t0['ring.sent']).to.equal(0);
    } finally {
      c.socket.destroy();
      for (const s of accepted) s.destroy();
      await new Promise<void>(res => server.close(() => res()));
      await threads.close();
    }
  });
});
