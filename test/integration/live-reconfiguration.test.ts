// Live reconfiguration end to end (issue 10): a real daemon on loopback, a verified workload on
// one LUN (qemu-io writing patterns and reading them back through libiscsi) while the `nexus`
// CLI adds and removes devices and LUNs, resizes a disk, adds a group with a read-only mapping,
// changes CHAP for new sessions, saves the configuration and applies an edited file; then
// changes that fail (a backing file that cannot be opened, a portal already taken) leave
// config.get byte-identical. The workload must see no error and no mismatch.
import { expect } from 'chai';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import path from 'node:path';
import { ENGINE_THREADS, RunningDaemon, startDaemon } from '../helpers/daemon';
import { describeNeeds, NATIVE_ADDON, requirePrereq, tool } from '../helpers/prereq';
import { callOnce } from '../../src/daemon/control/client';
import { topologyDocument } from '../../src/daemon/control/config-document';
import { loadTopologyFile } from '../../src/daemon/config/load';
import { run, type Run } from '../helpers/run';

const ROOT = path.resolve(__dirname, '..', '..');
const TARGET = 'iqn.2026-11.io.nexus:live';
const WORKER = 'iqn.2026-11.example:worker';
const WORK_SECRET = 'worker-secret-123';


/** Rounds of writes with a pattern and reads verifying it, in one session each, until stopped. */
class Workload {
  rounds = 0;
  verifiedReads = 0;
  errors: string[] = [];
  private stopping = false;
  private child: ChildProcess | undefined;
  private done: Promise<void>;

  constructor(port: number) {
    this.done = this.loop(port);
  }

  private async loop(port: number): Promise<void> {
    while (!this.stopping) {
      const args = ['--image-opts',
        `driver=iscsi,transport=tcp,portal=127.0.0.1:${port},target=${TARGET},lun=0,initiator-name=${WORKER},user=w,password=${WORK_SECRET}`];
      for (let i = 0; i < 64; i++) {
        const pattern = ((this.rounds * 64 + i) % 250) + 1;
        const offset = (i % 32) * 65536;
        args.push('-c', `write -P ${pattern} ${offset} 64k`, '-c', `read -P ${pattern} ${offset} 64k`);
      }
      const out = await new Promise<string>((resolve) => {
        const c = spawn('qemu-io', args, { stdio: ['ignore', 'pipe', 'pipe'] });
        this.child = c;
        let text = '';
        c.stdout.on('data', (d: Buffer) => (text += d.toString()));
        c.stderr.on('data', (d: Buffer) => (text += d.toString()));
        c.once('exit', (code) => resolve(code === 0 ? text : `${text}\nqemu-io exit ${code}`));
      });
      this.rounds++;
      this.verifiedReads += (out.match(/^read 65536\/65536 bytes/gm) ?? []).length;
      for (const line of out.split('\n')) if (/fail|error|mismatch|exit [1-9]/i.test(line)) this.errors.push(line);
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.done;
  }
}

for (const threads of ENGINE_THREADS) {
  (threads > 0 ? describeNeeds(NATIVE_ADDON) : describe)(`live reconfiguration (engine threads: ${threads})`, function () {
    this.timeout(180000);
    let d: RunningDaemon;
    let sock: string;
    const nexus = (...args: string[]): Promise<Run> =>
      run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args, '--control', sock]);
    const config = async (): Promise<string> => JSON.stringify(await callOnce(sock, 'config.get', { secrets: true }));
    const capacity = async (lun: number, initiator: string, creds = `w%${WORK_SECRET}@`): Promise<number | undefined> => {
      const r = await run('iscsi-readcapacity16', ['-i', initiator, `iscsi://${creds}127.0.0.1:${d.port}/${TARGET}/${lun}`]);
      const m = /Total size:(\d+)/.exec(r.stdout);
      return m ? Number(m[1]) : undefined;
    };

    before(async () => {
      d = await startDaemon({
        devices: [
          { name: 'disk0', handler: 'fileio', path: 'disk0.img', size: '16MiB' },
          { name: 'null0', handler: 'nullio', size: '1GiB' },
        ],
        targets: [{
          driver: 'iscsi', name: TARGET, portals: ['127.0.0.1:0'],
          auth: { chap: { user: 'w', secret: WORK_SECRET } },
          luns: [{ lun: 0, device: 'disk0' }],
        }],
      }, { threads, logLevel: 'info' });
      sock = path.join(d.dir, 'state', 'control.sock');
    });
    after(async () => { if (d) await d.stop(); });

    it('changes everything around a verified workload without one error', async function () {
      requirePrereq(this, tool('qemu-io'), tool('iscsi-readcapacity16'));
      const work = new Workload(d.port);
      try {
        // A device added and mapped: a new session sees it.
        expect((await nexus('device', 'add', 'ram0', '--handler', 'ram', '--size', '8MiB')).code).to.equal(0);
        expect((await nexus('lun', 'map', TARGET, '1', 'ram0')).code).to.equal(0);
        expect(await capacity(1, 'iqn.2026-11.example:probe')).to.equal(8 << 20);

        // Resized: READ CAPACITY says the new size.
        const resized = await nexus('device', 'resize', 'ram0', '16MiB');
        expect(resized.stdout).to.contain(`resize device ram0 from ${8 << 20} to ${16 << 20} bytes`);
        expect(await capacity(1, 'iqn.2026-11.example:probe')).to.equal(16 << 20);

        // A group whose initiators see ram0 read-only at LUN 0, with CHAP of its own.
        const g = await nexus('group', 'add', TARGET, 'ro', '--initiator', 'iqn.2026-11.example:ro*', '--lun', '0=ram0:ro');
        expect(g.code, g.stderr).to.equal(0);
        expect(await capacity(0, 'iqn.2026-11.example:ro1')).to.equal(16 << 20);
        expect(await capacity(0, 'iqn.2026-11.example:rw1')).to.equal(16 << 20); // disk0, also 16 MiB
        const luns = (await callOnce(sock, 'luns.list')) as { group: string; lun: number; device: string; readOnly: boolean }[];
        expect(luns.find(l => l.group === 'ro' && l.lun === 0)).to.deep.include({ device: 'ram0', readOnly: true });

        // CHAP of the group changed: new logins need the new secret.
        await callOnce(sock, 'auth.set', { target: TARGET, group: 'ro', auth: { chap: { user: 'r', secret: 'reader-secret-123' } } });
        expect(await capacity(0, 'iqn.2026-11.example:ro2')).to.equal(undefined);
        expect(await capacity(0, 'iqn.2026-11.example:ro2', 'r%reader-secret-123@')).to.equal(16 << 20);

        // Removed again: unmapped first, then the device.
        expect((await nexus('device', 'rm', 'null0', '--dry-run')).stdout).to.contain('remove device null0');
        expect((await nexus('lun', 'unmap', TARGET, '1')).code).to.equal(0);
        expect(await capacity(1, 'iqn.2026-11.example:probe')).to.equal(undefined);

        // Saved, edited, applied from the file.
        const file = path.join(d.dir, 'topology.json');
        const saved = await nexus('config', 'save');
        expect(saved.code, saved.stderr).to.equal(0);
        expect(fs.existsSync(`${file}.bak`)).to.equal(true);
        const edited = JSON.parse(fs.readFileSync(file, 'utf8'));
        edited.devices.push({ name: 'ram2', handler: 'ram', size: '4MiB' });
        edited.targets[0].luns.push({ lun: 2, device: 'ram2' });
        edited.targets[0].groups = [];
        edited.devices = edited.devices.filter((x: { name: string }) => x.name !== 'ram0');
        fs.writeFileSync(file, JSON.stringify(edited, null, 2));
        const noTerminal = await nexus('config', 'apply', file);
        expect(noTerminal.code).to.equal(4);
        const plan = await nexus('config', 'apply', file, '--dry-run');
        expect(plan.stdout).to.contain('remove group ro').and.contain('add device ram2').and.contain('dry run');
        const applied = await nexus('config', 'apply', file, '--yes');
        expect(applied.code, applied.stderr).to.equal(0);
        expect(await capacity(2, 'iqn.2026-11.example:probe')).to.equal(4 << 20);
        const loaded = loadTopologyFile(file, {});
        expect(loaded.ok).to.equal(true);
        if (loaded.ok) expect(await config()).to.equal(JSON.stringify(topologyDocument(loaded.topology, { secrets: true })));
      } finally {
        await work.stop();
      }
      expect(work.errors, work.errors.join('\n')).to.deep.equal([]);
      expect(work.verifiedReads).to.be.greaterThan(0);
    });

    it('a disabled target takes no login until enabled again', async function () {
      requirePrereq(this, tool('iscsi-readcapacity16'));
      const before = await config();
      expect((await nexus('target', 'disable', TARGET)).code).to.equal(0);
      expect(await capacity(0, 'iqn.2026-11.example:probe')).to.equal(undefined);
      expect((await nexus('target', 'enable', TARGET)).code).to.equal(0);
      expect(await capacity(0, 'iqn.2026-11.example:probe')).to.equal(16 << 20);
      expect(await config()).to.equal(before);
    });

    it('a change that fails is undone: config.get byte-identical, sessions unharmed', async function () {
      requirePrereq(this, tool('qemu-io'), tool('iscsi-readcapacity16'));
      const before = await config();
      const work = new Workload(d.port);
      const holder = net.createServer();
      try {
        // A backing file under a regular file cannot be created: refused with its JSON path.
        const bad = await nexus('device', 'add', 'bad', '--handler', 'fileio', '--size', '1MiB', '--path', '/etc/passwd/x.img');
        expect(bad.code).to.equal(1);
        expect(bad.stderr).to.match(/\/params\/devices\/\d+\/path/);
        // A block device that does not exist: the engine cannot open it; nothing stays.
        const gone = await callOnce(sock, 'config.apply', { topology: { ...JSON.parse(before), devices: [...JSON.parse(before).devices, { name: 'blk', handler: 'blockio', path: '/dev/nexus-no-such-device' }] } })
          .then(() => undefined, (e: { code: number }) => e);
        expect(gone?.code).to.be.a('number');
        expect(await config()).to.equal(before);
        // A portal already taken (EADDRINUSE) in the middle of a change of several steps.
        await new Promise<void>(r => holder.listen(0, '127.0.0.1', () => r()));
        const port = (holder.address() as net.AddressInfo).port;
        const doc = JSON.parse(before);
        doc.devices.push({ name: 'ram5', handler: 'ram', size: '1MiB' });
        doc.targets[0].luns.push({ lun: 5, device: 'ram5' });
        doc.targets[0].portals.push(`127.0.0.1:${port}`);
        const taken = await callOnce(sock, 'config.apply', { topology: doc }).then(() => undefined, (e: { code: number; message: string; data: { transaction?: { undone: number; undoFailures: unknown[] } } }) => e);
        expect(taken?.message).to.match(/EADDRINUSE/);
        expect(taken?.data.transaction?.undoFailures).to.deep.equal([]);
        expect(taken?.data.transaction?.undone).to.be.greaterThan(0);
        expect(await config()).to.equal(before);
        expect(await capacity(5, 'iqn.2026-11.example:probe')).to.equal(undefined);
        expect(await capacity(0, 'iqn.2026-11.example:probe')).to.equal(16 << 20);
      } finally {
        holder.close();
        await work.stop();
      }
      expect(work.errors, work.errors.join('\n')).to.deep.equal([]);
      expect(work.verifiedReads).to.be.greaterThan(0);
    });
  });
}
