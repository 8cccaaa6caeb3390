// `nexus serve` with fabric targets (src/daemon/daemon.ts): one daemon serves an iSCSI portal and
// a loopback target side by side from one runtime, through the same shim code `nexus shim` runs
// (kernel-shim/shim.ts), here on a configfs tree, rings and netlink that behave as the kernel's
// (fake-configfs.ts, the simulator, fake-netlink.ts). The real kernel path is the VM's
// serve-iscsi-and-loopback step.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { normalizeTopology } from '../../../src/daemon/config/load';
import { startDaemon } from '../../../src/daemon/daemon';
import type { DaemonHandle } from '../../../src/daemon/daemon';
import { createLogger } from '../../../src/daemon/log';
import { callOnce } from '../../../src/daemon/control/client';
import { Status } from '../../../src/engine/spec/status';
import { TcmuKernelSim } from '../../../kernel-shim/simulator';
import type { UioRing } from '../../../src/native';
import { FakeConfigfs } from './fake-configfs';
import { requirePrereq, tool } from '../../helpers/prereq';
import { run } from '../../helpers/run';

const C = '/sys/kernel/config/target';
const TUR = { cdb: [0, 0, 0, 0, 0, 0] };
const READ_CAPACITY_10 = { cdb: [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0], dir: 'in' as const, length: 8 };

for (const threads of [0, 2]) {
  describe(`nexus serve: iSCSI portals and fabric targets from one runtime (engine threads: ${threads})`, function () {
    this.timeout(60000);
    let dir: string;
    let fake: FakeConfigfs;
    let sims: TcmuKernelSim[];
    let before: string[];
    let d: DaemonHandle | undefined;

    beforeEach(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nexus-serve-fabric-'));
      fake = new FakeConfigfs();
      before = fake.snapshot();
      sims = [];
      const r = normalizeTopology({
        stateDir: path.join(dir, 'state'), engine: { threads },
        devices: [{ name: 'disk0', handler: 'ram', size: '16MiB' }, { name: 'disk1', handler: 'ram', size: '8MiB' }],
        targets: [
          { driver: 'iscsi', name: 'iqn.2026-11.io.nexus:serve', portals: ['127.0.0.1:0'], luns: [{ lun: 0, device: 'disk0' }] },
          { driver: 'loopback', name: 'sas0', wwn: 'naa.5001405000000001', luns: [{ lun: 3, device: 'disk1' }] },
        ],
      }, { baseDir: dir, cwd: dir });
      if (!r.ok) throw new Error(JSON.stringify(r.errors));
      d = await startDaemon(r.topology, {
        log: createLogger({ level: 'silent' }),
        shim: {
          fsys: fake, openNetlink: fake.genl.open,
          openRing: (_p, _size, onEvent) => {
            const sim = new TcmuKernelSim();
            sims.push(sim);
            sim.onInterrupt = () => onEvent(1);
            const ring: UioRing = { map: sim.map, kick: () => { sim.irqcontrol(); return undefined; }, close: () => { sim.onInterrupt = undefined; } };
            return ring;
          },
        },
      });
    });

    afterEach(async () => {
      await d?.stop();
      d = undefined;
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('listens on the iSCSI portal and serves the loopback target\'s LUN through its TCMU ring', async () => {
      expect(d!.listening).to.have.length(1);
      // An iSCSI initiator can connect while the fabric side serves.
      const s = net.connect(d!.listening[0].port, '127.0.0.1');
      await new Promise<void>((ok, ko) => { s.once('connect', ok); s.once('error', ko); });
      s.destroy();
      expect(fake.exists(`${C}/loopback/naa.5001405000000001/tpgt_1/lun/lun_3/disk1`)).to.equal(true);
      expect(sims).to.have.length(1);
      expect((await sims[0].submit(TUR).result).status).to.equal(Status.CHECK_CONDITION);
      const r = await sims[0].submit(READ_CAPACITY_10).result;
      expect([r.status, new DataView(r.data.buffer, r.data.byteOffset).getUint32(0) + 1]).to.deep.equal([Status.GOOD, 16384]);
    });

    it('a real iSCSI initiator (libiscsi\'s iscsi-inq) reads INQUIRY through the portal meanwhile', async function () {
      requirePrereq(this, tool('iscsi-inq'));
      const inq = await run('iscsi-inq', [`iscsi://127.0.0.1:${d!.listening[0].port}/iqn.2026-11.io.nexus:serve/0`]);
      expect(inq.code, inq.stderr).to.equal(0);
      expect(inq.stdout).to.match(/Vendor:\s*NEXUS/);
      expect(sims).to.have.length(1);
    });

    it('a configfs dev_size write is a transaction of the control plane: config.get says the new size', async () => {
      await sims[0].submit(TUR).result;
      await fake.write(`${C}/core/user_0/disk1/attrib/dev_size`, String(12 * 1024 * 1024));
      const ua = await sims[0].submit(READ_CAPACITY_10).result;
      expect([ua.status, ua.sense![12], ua.sense![13]]).to.deep.equal([Status.CHECK_CONDITION, 0x2a, 0x09]);
      const doc = await callOnce(path.join(dir, 'state', 'control.sock'), 'config.get') as { devices: Array<{ name: string; size: number }> };
      expect(doc.devices.find(x => x.name === 'disk1')!.size).to.equal(12 * 1024 * 1024);
    });

    it('config.apply refuses to change a fabric target live; stop removes the configfs wiring', async () => {
      const sock = path.join(dir, 'state', 'control.sock');
      const doc = await callOnce(sock, 'config.get', { secrets: true }) as { targets: Array<{ name: string; luns: unknown[] }> };
      doc.targets.find(t => t.name === 'sas0')!.luns.push({ lun: 4, device: 'disk0' });
      let message = '';
      try { await callOnce(sock, 'config.apply', { topology: doc }); } catch (e) { message = JSON.stringify(e) + String((e as Error).message); }
      expect(message).to.contain('fabric target');
      await d!.stop();
      d = undefined;
      expect(fake.snapshot()).to.deep.equal(before);
    });
  });
}
