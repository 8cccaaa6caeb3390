// The rbd backstore against a real Ceph cluster (test/ceph/cluster.ts: one monitor, manager and
// OSD on loopback, under a temporary directory, stopped by PID in after()): a Nexus daemon exports
// rbd images over iSCSI and real initiators use them.
//   - libiscsi iscsi-test-cu: the SBC families that reach the store (see CONFORMANCE_SUITES),
//     judged by test/conformance/run.sh against the same expected-failures list as the fileio LUN;
//   - qemu-io data round trips (aligned, unaligned, 32 MiB, UNMAP then zeros), each checked
//     against `rbd export` of the image, i.e. what the cluster holds;
//   - a resize with the rbd tool: READ CAPACITY follows and initiators get CAPACITY DATA HAS
//     CHANGED;
//   - the OSD stopped for a few seconds under a write workload and started again: the I/O
//     stalls, then completes without an error, and the data is in the image;
//   - the gateway's session to one image blocklisted: that unit reports the failure as sense,
//     reconnects and serves again; the other unit never notices.
import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describeNeeds, tool } from '../helpers/prereq';
import { RunningDaemon, startDaemon } from '../helpers/daemon';
import { SteadySession } from '../fuzz/client';
import type { CephCluster } from './cluster';
import { CEPH_PREREQS, markFailed, sharedCluster } from './shared-cluster';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
const TARGET = 'iqn.2026-11.io.nexus:ceph';


/**
 * The SBC families whose commands reach the store, on a fresh image. The families of commands the
 * engine answers without the store (INQUIRY, MODE SENSE, PR, ...) are the fileio run's (npm run
 * test:conformance) and do not depend on the backstore. MultipathIO (two sessions to one gateway)
 * is left to the fileio run too: its 1024 COMPARE AND WRITEs take minutes on a busy machine.
 */
const CONFORMANCE_SUITES = [
  'SCSI.Read16', 'SCSI.Write16', 'SCSI.WriteSame16', 'SCSI.Unmap', 'SCSI.GetLBAStatus', 'SCSI.CompareAndWrite', 'SCSI.ReadCapacity16',
];

const describeCeph = describeNeeds(...CEPH_PREREQS, tool('qemu-io'), tool('iscsi-test-cu'), tool('iscsi-readcapacity16'));

function url(d: RunningDaemon, lun: number): string { return `iscsi://${d.host}:${d.port}/${TARGET}/${lun}`; }

async function qemuIo(u: string, ...commands: string[]): Promise<string> {
  const args = ['-f', 'raw', ...commands.flatMap(c => ['-c', c]), u];
  const r = await run('qemu-io', args, { timeout: 120_000, maxBuffer: 16 << 20 });
  // qemu-io reports a failed command on stdout and still exits 0.
  if (/(failed|error|Pattern verification)/i.test(r.stdout + r.stderr)) throw new Error(`qemu-io ${commands.join('; ')}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

describeCeph('rbd backstore against a Ceph cluster', function () {
  this.timeout(240_000);
  let cluster: CephCluster | undefined;
  let daemon: RunningDaemon | undefined;
  let failed = false;

  const c = (): CephCluster => cluster as CephCluster;
  const d = (): RunningDaemon => daemon as RunningDaemon;

  /** The image as the cluster holds it (rbd export), `length` bytes from `offset`. */
  async function exported(image: string, offset: number, length: number): Promise<Buffer> {
    const file = path.join(c().dir, `${image}.export`);
    rmSync(file, { force: true });
    await c().rbd('export', `rbd/${image}`, file);
    try {
      return readFileSync(file).subarray(offset, offset + length);
    } finally {
      rmSync(file, { force: true });
    }
  }

  before(async function () {
    this.timeout(300_000);
    cluster = await sharedCluster();
    // vol0: conformance (64 MiB: the families that sweep the whole LUN stay short); vol1: data.
    await c().rbd('create', '--size', '64M', 'rbd/vol0');
    await c().rbd('create', '--size', '96M', 'rbd/vol1');
    const image = (name: string): Record<string, unknown> => ({
      name, handler: 'rbd', pool: 'rbd', image: name, cephConf: c().conf, keyring: c().keyring, cephUser: 'client.admin',
    });
    daemon = await startDaemon({
      devices: [image('vol0'), image('vol1')],
      targets: [{ driver: 'iscsi', name: TARGET, portals: ['127.0.0.1:0'], luns: [{ lun: 0, device: 'vol0' }, { lun: 1, device: 'vol1' }] }],
    }, { startTimeoutMs: 60_000 });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });

  after(async function () {
    this.timeout(120_000);
    try {
      if (daemon) {
        const code = await daemon.stop();
        if (failed) console.log(daemon.output().split('\n').slice(-40).join('\n'));
        // A clean exit: every image closed (librbd's session shut down) before the process ends.
        expect(code, daemon.output()).to.equal(0);
      }
    } finally {
      // The cluster is shared by the run's suites (shared-cluster.ts stops it): its logs stay in
      // its directory when something failed (the data is removed either way).
      if (failed) markFailed();
    }
  });

  it('passes libiscsi iscsi-test-cu\'s SBC families on an rbd LUN, as the fileio LUN does', async function () {
    // About 2 minutes on an idle 2-core machine (SCSI.Unmap alone 76 s: 768 round trips); the
    // bounds leave room for a busy one, where Unmap took over 150 s.
    this.timeout(500_000);
    const out = path.join(c().dir, 'conformance');
    const r = await new Promise<{ code: number | null; text: string }>(resolve => {
      const child = spawn('bash', [path.join(ROOT, 'test/conformance/run.sh')], {
        env: { ...process.env, NEXUS_CONF_URL: url(d(), 0), NEXUS_CONF_SUITES: CONFORMANCE_SUITES.join(' '), NEXUS_CONF_OUT: out, NEXUS_CONF_SUITE_TIMEOUT: '300', NEXUS_CONF_TOTAL_TIMEOUT: '480' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      child.stdout.on('data', (b: Buffer) => (text += b.toString()));
      child.stderr.on('data', (b: Buffer) => (text += b.toString()));
      child.on('exit', code => resolve({ code, text }));
    });
    const last = r.text.trim().split('\n').pop() ?? '';
    expect(last, r.text).to.match(/^\d+ passed, 0 failed, 0 skipped$/);
    expect(Number(last.split(' ')[0]), r.text).to.be.at.least(33);
    expect(r.code, r.text).to.equal(0);
  });

  it('qemu-io round trips: aligned, unaligned, 32 MiB, UNMAP then zeros, as rbd export sees them', async () => {
    const u = url(d(), 1);
    // Aligned: 64 KiB at 1 MiB.
    await qemuIo(u, 'write -P 0x5a 1048576 65536', 'read -P 0x5a 1048576 65536');
    expect((await exported('vol1', 1048576, 65536)).every(b => b === 0x5a)).to.equal(true);
    // Unaligned: 3000 bytes at byte 12345 (the initiator reads, merges and writes whole blocks).
    await qemuIo(u, 'write -P 0x11 12345 3000', 'read -P 0x11 12345 3000');
    const around = await exported('vol1', 12344, 3002);
    expect(around[0]).to.equal(0);
    expect(around.subarray(1, 3001).every(b => b === 0x11)).to.equal(true);
    expect(around[3001]).to.equal(0);
    // 32 MiB at 8 MiB: several objects, requests of the initiator's maximum size in flight.
    await qemuIo(u, 'write -P 0xa7 8M 32M', 'read -P 0xa7 8M 32M');
    const big = await exported('vol1', 8 << 20, 32 << 20);
    expect(big.length).to.equal(32 << 20);
    expect(big.every(b => b === 0xa7)).to.equal(true);
    // UNMAP (qemu's discard) of whole objects and of part of one: reads and the image give zeros.
    await qemuIo(u, 'discard 8M 4M', 'discard 13M 512k', 'read -P 0 8M 4M', 'read -P 0 13M 512k', 'read -P 0xa7 12M 1M');
    const after = await exported('vol1', 8 << 20, 6 << 20);
    expect(after.subarray(0, 4 << 20).every(b => b === 0)).to.equal(true);
    expect(after.subarray(4 << 20, 5 << 20).every(b => b === 0xa7)).to.equal(true);
    expect(after.subarray(5 << 20, (5 << 20) + (512 << 10)).every(b => b === 0)).to.equal(true);
  });

  it('an image resized with the rbd tool: READ CAPACITY follows and the initiator is told', async () => {
    const before = await run('iscsi-readcapacity16', [url(d(), 1)]);
    expect(before.stdout).to.contain(`Total size:${96 << 20}`);
    // Thin provisioning on: UNMAP deallocates, deallocated blocks read as zeros (LBPRZ).
    expect(before.stdout).to.contain('LBPME:1 LBPRZ:1');
    // An initiator logged in before the resize, its unit attentions (power on) taken.
    const s = await SteadySession.open(d().host, d().port, 'iqn.2026-11.example:ceph-resize', TARGET);
    try {
      let ready = false;
      for (let i = 0; i < 4 && !ready; i++) ready = (await s.command(1, [0, 0, 0, 0, 0, 0])).status === 0;
      expect(ready).to.equal(true);
      await c().rbd('resize', '--size', '112M', 'rbd/vol1');
      // SBC-4 4.6: its next command gets CAPACITY DATA HAS CHANGED (06h 2Ah/09h) once the gateway
      // has seen the new size (librbd's header watch: within moments).
      let sense: Buffer = Buffer.alloc(0);
      for (let i = 0; i < 40; i++) {
        const r = await s.command(1, [0, 0, 0, 0, 0, 0]);
        if (r.status === 2) { sense = r.sense; break; }
        await new Promise(res => setTimeout(res, 250));
      }
      // Fixed (70h) or descriptor (72h) format: key, ASC, ASCQ where each format keeps them.
      const [key, asc, ascq] = (sense[0] & 0x7f) === 0x72 ? [sense[1] & 0x0f, sense[2], sense[3]] : [sense[2] & 0x0f, sense[12], sense[13]];
      expect([key, asc, ascq], sense.toString('hex')).to.deep.equal([0x6, 0x2a, 0x09]);
    } finally {
      s.close();
    }
    // librbd's header watch brings the new size within moments.
    let now = '';
    for (let i = 0; i < 40 && !now.includes(`Total size:${112 << 20}`); i++) {
      await new Promise(r => setTimeout(r, 250));
      now = (await run('iscsi-readcapacity16', [url(d(), 1)])).stdout;
    }
    expect(now).to.contain(`Total size:${112 << 20}`);
    expect(d().output()).not.to.contain('"level":50');
  });

  it('the OSD stopped for a few seconds under writes: I/O stalls, resumes, no error, the data is there', async function () {
    this.timeout(180_000);
    const u = url(d(), 1);
    const writes = Array.from({ length: 24 }, (_, i) => `write -P ${0x30 + i} ${(64 + i) << 20} 1M`);
    const t0 = Date.now();
    const workload = run('qemu-io', ['-f', 'raw', ...writes.flatMap(w => ['-c', w]), u], { timeout: 150_000 });
    await new Promise(r => setTimeout(r, 300));
    await c().stopOsd();
    await new Promise(r => setTimeout(r, 5000));
    await c().startOsd();
    const r = await workload;
    expect(r.stdout + r.stderr).not.to.match(/failed|error/i);
    expect(r.stdout.match(/^wrote 1048576\/1048576 bytes/gm) ?? []).to.have.length(24);
    expect(Date.now() - t0).to.be.greaterThan(5000);
    await c().waitClean();
    const image = await exported('vol1', 64 << 20, 24 << 20);
    for (let i = 0; i < 24; i++) {
      const part = image.subarray(i << 20, (i + 1) << 20);
      expect(part.every(b => b === 0x30 + i), `MiB ${64 + i}`).to.equal(true);
    }
    // The daemon is still there and serving.
    await qemuIo(u, 'read -P 0x30 64M 1M');
  });

  it('a blocklisted session: sense for that unit only, then it reconnects and serves again', async function () {
    this.timeout(120_000);
    // The daemon's client of vol1, as the image's watchers list it ("watcher=ADDR client.N ...").
    const status = await c().rbd('status', 'rbd/vol1');
    const addr = /watcher=(\S+)/.exec(status)?.[1];
    expect(addr, status).to.be.a('string');
    const s = await SteadySession.open(d().host, d().port, 'iqn.2026-11.example:ceph-blocklist', TARGET);
    try {
      for (const lun of [0, 1]) for (let i = 0; i < 4; i++) if ((await s.command(lun, [0, 0, 0, 0, 0, 0])).status === 0) break;
      await c().ceph('osd', 'blocklist', 'add', addr as string);
      const block = Buffer.alloc(512, 0x42);
      const write10 = (lba: number): number[] => [0x2a, 0, (lba >>> 24) & 0xff, (lba >>> 16) & 0xff, (lba >>> 8) & 0xff, lba & 0xff, 0, 0, 1, 0];
      // SPC-4 4.5: the failed command and those during the reconnection get CHECK CONDITION with
      // ABORTED COMMAND, LOGICAL UNIT COMMUNICATION FAILURE or NOT READY, BECOMING READY; then GOOD.
      const seen = new Set<string>();
      let good = false;
      const end = Date.now() + 90_000;
      while (!good && Date.now() < end) {
        const r = await s.command(1, write10(2048), { dataOut: block, timeoutMs: 60_000 });
        if (r.status === 0 && seen.size > 0) good = true;
        else if (r.status === 2) {
          const f = (r.sense[0] & 0x7f) === 0x72 ? [r.sense[1] & 0x0f, r.sense[2], r.sense[3]] : [r.sense[2] & 0x0f, r.sense[12], r.sense[13]];
          seen.add(f.map(x => x.toString(16)).join('/'));
        }
        // Meanwhile the other image's unit serves as before.
        expect((await s.command(0, [0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0], { readLength: 512 })).status).to.equal(0);
        if (!good) await new Promise(res => setTimeout(res, 200));
      }
      expect(good, [...seen].join(', ')).to.equal(true);
      for (const f of seen) expect(['b/8/0', '2/4/1', 'b/8/1']).to.include(f);
      const back = await s.command(1, [0x28, 0, 0, 0, 0x08, 0, 0, 0, 1, 0], { readLength: 512 });
      expect(back.status).to.equal(0);
      expect(back.data.equals(block)).to.equal(true);
    } finally {
      s.close();
      await c().ceph('osd', 'blocklist', 'rm', addr as string).catch(() => undefined);
    }
  });
});
