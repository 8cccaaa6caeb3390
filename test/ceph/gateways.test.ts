// Several Nexus gateways, one target (README "Scaling out with Ceph"), against the run's Ceph
// cluster (shared-cluster.ts): two daemons export one rbd image under one target name, each
// gateway one target port group of the target (the topology's `gateway` and the groups'
// `gateway`), gateway A's group active/optimized, B's active/non-optimized.
//   - the unit's identifiers (VPD 80h, and 83h's logical unit designators) are equal through both
//     gateways, each gateway's target port designators its own;
//   - REPORT TARGET PORT GROUPS through either gateway lists both groups with their states;
//   - SendTargets through one gateway lists both gateways' portals;
//   - data written through one gateway reads back through the other;
//   - persistent reservations shared through the cluster: REGISTER + RESERVE through A, another
//     initiator's WRITE through B gets RESERVATION CONFLICT, RELEASE through A lets B write;
//     PREEMPT through B gives A's initiator REGISTRATIONS PREEMPTED; SPC-2 RESERVE likewise;
//   - libiscsi's MultipathIO family with one URL per gateway;
//   - failover: gateway A SIGKILLed during a verified write workload through A and through B;
//     A's unfinished writes go to B (as a multipath initiator retries them), B's finish, the next
//     reservation change through B fences A (its clients blocklisted, so nothing it sent late can
//     land) which also frees the image's exclusive lock, every acknowledged block reads back, the
//     registrations made through A are still enforced, and A restarted rejoins and serves.
import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describeNeeds, tool } from '../helpers/prereq';
import { RunningDaemon, startDaemon } from '../helpers/daemon';
import { SteadySession } from '../fuzz/client';
import { freePort, type CephCluster } from './cluster';
import { CEPH_PREREQS, markFailed, sharedCluster } from './shared-cluster';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
const TARGET = 'iqn.2026-11.io.nexus:gateways';
const IMAGE = 'gw0';

/**
 * libiscsi's MultipathIO family, one URL per gateway: MultipathIO.Reset's LOGICAL UNIT RESET
 * through one gateway owes the other gateway's I_T nexus a unit attention (told through the
 * cluster, shared-reservations.ts).
 */
const MULTIPATH_TESTS = ['SCSI.MultipathIO'];
const MULTIPATH_TEST_COUNT = 4;

const describeCeph = describeNeeds(...CEPH_PREREQS, tool('iscsi-test-cu'), tool('iscsi-ls'), tool('rados'));

/** One gateway's topology: the same target, device and groups; only `gateway` differs. */
function gatewayTopology(c: CephCluster, self: 'gw-a' | 'gw-b', ports: { a: number; b: number }, image = IMAGE): Record<string, unknown> {
  const a = `127.0.0.1:${ports.a}`, b = `127.0.0.1:${ports.b}`;
  return {
    gateway: self,
    devices: [{
      name: 'shared', handler: 'rbd', pool: 'rbd', image, cephConf: c.conf, keyring: c.keyring, cephUser: 'client.admin',
      alua: { tpgs: 'both', states: { 1: 'active/optimized', 2: 'active/non-optimized' } },
    }],
    targets: [{
      driver: 'iscsi', name: TARGET, portals: [a, b],
      portGroups: [{ id: 1, gateway: 'gw-a', portals: [a] }, { id: 2, gateway: 'gw-b', portals: [b] }],
      luns: [{ lun: 0, device: 'shared' }],
    }],
  };
}

/** SPC-4 7.8.6: the designation descriptors of a VPD 83h page, with their association. */
function designators(page: Buffer): Array<{ association: number; type: number; bytes: string }> {
  const out: Array<{ association: number; type: number; bytes: string }> = [];
  const end = 4 + page.readUInt16BE(2);
  for (let at = 4; at + 4 <= end;) {
    const len = page[at + 3];
    out.push({ association: (page[at + 1] >> 4) & 0x3, type: page[at + 1] & 0x0f, bytes: page.subarray(at, at + 4 + len).toString('hex') });
    at += 4 + len;
  }
  return out;
}

/** SPC-4 6.16: PERSISTENT RESERVE OUT with the 24-byte basic parameter list. */
function prOut(sa: number, type: number, key: bigint, sark: bigint): { cdb: number[]; dataOut: Buffer } {
  const p = Buffer.alloc(24);
  p.writeBigUInt64BE(key, 0);
  p.writeBigUInt64BE(sark, 8);
  return { cdb: [0x5f, sa, type & 0x0f, 0, 0, 0, 0, 0, 24, 0], dataOut: p };
}
const PR = { REGISTER: 0, RESERVE: 1, RELEASE: 2, CLEAR: 3, PREEMPT: 4 } as const;
const WRITE_EXCLUSIVE = 1;
const RESERVATION_CONFLICT = 0x18;
const write10 = (lba: number): number[] => [0x2a, 0, 0, 0, (lba >> 8) & 0xff, lba & 0xff, 0, 0, 1, 0];
const read10 = (lba: number): number[] => [0x28, 0, 0, 0, (lba >> 8) & 0xff, lba & 0xff, 0, 0, 1, 0];

/** Sense key, ASC, ASCQ of a CHECK CONDITION, fixed or descriptor format. */
function senseOf(sense: Buffer): number[] {
  return (sense[0] & 0x7f) === 0x72 ? [sense[1] & 0x0f, sense[2], sense[3]] : [sense[2] & 0x0f, sense[12], sense[13]];
}

async function ready(s: SteadySession): Promise<void> {
  // The first commands after login report POWER ON, RESET (and whatever else is pending).
  for (let i = 0; i < 6; i++) if ((await s.command(0, [0, 0, 0, 0, 0, 0])).status === 0) return;
  throw new Error('unit not ready');
}

describeCeph('several gateways, one target (rbd)', function () {
  this.timeout(240_000);
  let cluster: CephCluster | undefined;
  const gw: { a?: RunningDaemon; b?: RunningDaemon } = {};
  let ports = { a: 0, b: 0 };
  let failed = false;
  const c = (): CephCluster => cluster as CephCluster;
  const A = (): RunningDaemon => gw.a as RunningDaemon;
  const B = (): RunningDaemon => gw.b as RunningDaemon;
  const url = (d: RunningDaemon): string => `iscsi://${d.host}:${d.port}/${TARGET}/0`;

  before(async function () {
    this.timeout(300_000);
    cluster = await sharedCluster();
    await c().rbd('create', '--size', '64M', `rbd/${IMAGE}`);
    ports = { a: await freePort(), b: await freePort() };
    gw.a = await startDaemon(gatewayTopology(c(), 'gw-a', ports), { startTimeoutMs: 60_000 });
    gw.b = await startDaemon(gatewayTopology(c(), 'gw-b', ports), { startTimeoutMs: 60_000 });
    expect(A().port).to.equal(ports.a);
    expect(B().port).to.equal(ports.b);
  });

  /** The member gateways of the image's reservation object (backstores/rbd-reservations.ts). */
  async function membersOfImage(): Promise<Array<{ gid: string; addrs: string[] }>> {
    const info = await c().rbd('info', `rbd/${IMAGE}`, '--format', 'json');
    const id = (JSON.parse(info) as { id: string }).id;
    const file = path.join(c().dir, 'members.json');
    await run('rados', ['-p', 'rbd', 'get', `nexus_reservations.${id}`, file], { env: { ...process.env, CEPH_CONF: c().conf }, timeout: 60_000 });
    return (JSON.parse(readFileSync(file, 'utf8')) as { gateways: Array<{ gid: string; addrs: string[] }> }).gateways;
  }

  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });

  after(async function () {
    this.timeout(60_000);
    for (const d of [gw.a, gw.b]) {
      if (!d) continue;
      const code = await d.stop();
      if (failed) console.log(d.output().split('\n').slice(-30).join('\n'));
      expect(code, d.output()).to.equal(0);
    }
    if (failed) markFailed();
  });

  it('reports the same unit identifiers through both gateways, each its own target port', async () => {
    const seen: Array<{ serial: string; lu: string[]; port: string[]; tpg: number }> = [];
    for (const d of [A(), B()]) {
      const s = await SteadySession.open(d.host, d.port, 'iqn.2026-11.example:gw-ids', TARGET);
      try {
        await ready(s);
        const v80 = await s.command(0, [0x12, 1, 0x80, 0, 255, 0], { readLength: 255 });
        const v83 = await s.command(0, [0x12, 1, 0x83, 1, 0, 0], { readLength: 256 });
        expect(v80.status).to.equal(0);
        expect(v83.status).to.equal(0);
        const ds = designators(v83.data);
        // SPC-4 7.8.6.1: association 0 (the logical unit), 1 (the target port the command came through).
        const tpgDesc = ds.find(x => x.association === 1 && x.type === 0x5);
        seen.push({
          serial: v80.data.subarray(4, 4 + v80.data.readUInt16BE(2)).toString('latin1'),
          lu: ds.filter(x => x.association === 0).map(x => x.bytes),
          port: ds.filter(x => x.association === 1).map(x => x.bytes),
          tpg: tpgDesc ? Buffer.from(tpgDesc.bytes, 'hex').readUInt16BE(4 + 2) : -1,
        });
      } finally {
        s.close();
      }
    }
    expect(seen[0].serial).to.have.length.greaterThan(0);
    expect(seen[1].serial).to.equal(seen[0].serial);
    expect(seen[0].lu).to.have.length.at.least(2); // NAA and T10 vendor ID based
    expect(seen[1].lu).to.deep.equal(seen[0].lu);
    expect(seen[1].port).not.to.deep.equal(seen[0].port);
    expect([seen[0].tpg, seen[1].tpg]).to.deep.equal([1, 2]);
  });

  it('lists both target port groups with their states through either gateway (REPORT TARGET PORT GROUPS)', async () => {
    for (const d of [A(), B()]) {
      const s = await SteadySession.open(d.host, d.port, 'iqn.2026-11.example:gw-rtpg', TARGET);
      try {
        await ready(s);
        // SPC-4 6.37: MAINTENANCE IN, REPORT TARGET PORT GROUPS (0Ah), extended format.
        const r = await s.command(0, [0xa3, 0x2a, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0], { readLength: 1024 });
        expect(r.status).to.equal(0);
        const groups: Array<{ id: number; state: number; ports: number[] }> = [];
        for (let at = 8; at < 4 + r.data.readUInt32BE(0);) {
          const n = r.data[at + 7];
          groups.push({
            id: r.data.readUInt16BE(at + 2), state: r.data[at] & 0x0f,
            ports: Array.from({ length: n }, (_, k) => r.data.readUInt16BE(at + 8 + 4 * k + 2)),
          });
          at += 8 + 4 * n;
        }
        // SPC-4 6.37 table 271: 0h active/optimized, 1h active/non-optimized.
        expect(groups).to.deep.equal([{ id: 1, state: 0, ports: [1] }, { id: 2, state: 1, ports: [2] }]);
      } finally {
        s.close();
      }
    }
  });

  it('SendTargets through one gateway lists both gateways\' portals, each with its group tag', async () => {
    const r = await run('iscsi-ls', ['-s', `iscsi://${A().host}:${A().port}`], { timeout: 30_000 });
    expect(r.stdout).to.contain(`${A().host}:${A().port},1`);
    expect(r.stdout).to.contain(`${B().host}:${B().port},2`);
  });

  it('data written through one gateway reads back through the other', async () => {
    const a = await SteadySession.open(A().host, A().port, 'iqn.2026-11.example:gw-data', TARGET);
    const b = await SteadySession.open(B().host, B().port, 'iqn.2026-11.example:gw-data', TARGET);
    try {
      await ready(a);
      await ready(b);
      for (let i = 0; i < 8; i++) {
        const block = Buffer.alloc(512, 0x40 + i);
        const lba = 100 + i;
        const [w, rd] = i % 2 === 0 ? [a, b] : [b, a];
        expect((await w.command(0, [0x2a, 0, 0, 0, 0, lba, 0, 0, 1, 0], { dataOut: block })).status).to.equal(0);
        const back = await rd.command(0, [0x28, 0, 0, 0, 0, lba, 0, 0, 1, 0], { readLength: 512 });
        expect(back.status).to.equal(0);
        expect(back.data.equals(block), `LBA ${lba}`).to.equal(true);
      }
    } finally {
      a.close();
      b.close();
    }
  });

  it('shares persistent reservations: RESERVE through A conflicts a WRITE through B until RELEASE through A', async () => {
    const a = await SteadySession.open(A().host, A().port, 'iqn.2026-11.example:pr-host-a', TARGET);
    const b = await SteadySession.open(B().host, B().port, 'iqn.2026-11.example:pr-host-b', TARGET);
    try {
      await ready(a);
      await ready(b);
      const key = 0xa1a1n;
      const reg = prOut(PR.REGISTER, 0, 0n, key);
      expect((await a.command(0, reg.cdb, { dataOut: reg.dataOut })).status).to.equal(0);
      const res = prOut(PR.RESERVE, WRITE_EXCLUSIVE, key, 0n);
      expect((await a.command(0, res.cdb, { dataOut: res.dataOut })).status).to.equal(0);
      // SPC-4 5.13 table 66: Write Exclusive refuses another initiator's write, lets it read.
      const block = Buffer.alloc(512, 0x5b);
      expect((await b.command(0, write10(300), { dataOut: block })).status).to.equal(RESERVATION_CONFLICT);
      expect((await b.command(0, read10(300), { readLength: 512 })).status).to.equal(0);
      // READ RESERVATION through B: the holder's key and type, the generation A's commands made.
      const rr = await b.command(0, [0x5e, 0x01, 0, 0, 0, 0, 0, 0, 24, 0], { readLength: 24 });
      expect(rr.status).to.equal(0);
      expect(rr.data.readBigUInt64BE(8)).to.equal(key);
      expect(rr.data[21] & 0x0f).to.equal(WRITE_EXCLUSIVE);
      const rka = await a.command(0, [0x5e, 0x00, 0, 0, 0, 0, 0, 0, 64, 0], { readLength: 64 });
      expect(rr.data.readUInt32BE(0)).to.equal(rka.data.readUInt32BE(0));
      // The holder writes.
      expect((await a.command(0, write10(301), { dataOut: block })).status).to.equal(0);
      const rel = prOut(PR.RELEASE, WRITE_EXCLUSIVE, key, 0n);
      expect((await a.command(0, rel.cdb, { dataOut: rel.dataOut })).status).to.equal(0);
      expect((await b.command(0, write10(300), { dataOut: block })).status).to.equal(0);
      const unreg = prOut(PR.REGISTER, 0, key, 0n);
      expect((await a.command(0, unreg.cdb, { dataOut: unreg.dataOut })).status).to.equal(0);
    } finally {
      a.close();
      b.close();
    }
  });

  it('PREEMPT through B: A\'s initiator gets REGISTRATIONS PREEMPTED and loses the reservation', async () => {
    const a = await SteadySession.open(A().host, A().port, 'iqn.2026-11.example:pr-host-a', TARGET);
    const b = await SteadySession.open(B().host, B().port, 'iqn.2026-11.example:pr-host-b', TARGET);
    try {
      await ready(a);
      await ready(b);
      const ka = 0xaaaan, kb = 0xbbbbn;
      for (const [s, k] of [[a, ka], [b, kb]] as const) {
        const reg = prOut(PR.REGISTER, 0, 0n, k);
        expect((await s.command(0, reg.cdb, { dataOut: reg.dataOut })).status).to.equal(0);
      }
      const res = prOut(PR.RESERVE, WRITE_EXCLUSIVE, ka, 0n);
      expect((await a.command(0, res.cdb, { dataOut: res.dataOut })).status).to.equal(0);
      const pre = prOut(PR.PREEMPT, WRITE_EXCLUSIVE, kb, ka);
      expect((await b.command(0, pre.cdb, { dataOut: pre.dataOut })).status).to.equal(0);
      // SPC-4 5.12.11.4: the preempted I_T nexus (through gateway A) gets 06h 2Ah/05h.
      const tur = await a.command(0, [0, 0, 0, 0, 0, 0]);
      expect(tur.status).to.equal(2);
      expect(senseOf(tur.sense)).to.deep.equal([0x6, 0x2a, 0x05]);
      const block = Buffer.alloc(512, 0x6c);
      expect((await a.command(0, write10(310), { dataOut: block })).status).to.equal(RESERVATION_CONFLICT);
      expect((await b.command(0, write10(310), { dataOut: block })).status).to.equal(0);
      // READ KEYS through A: only B's key is left.
      const rk = await a.command(0, [0x5e, 0x00, 0, 0, 0, 0, 0, 0, 64, 0], { readLength: 64 });
      expect(rk.data.readUInt32BE(4)).to.equal(8);
      expect(rk.data.readBigUInt64BE(8)).to.equal(kb);
      const clear = prOut(PR.CLEAR, 0, kb, 0n);
      expect((await b.command(0, clear.cdb, { dataOut: clear.dataOut })).status).to.equal(0);
    } finally {
      a.close();
      b.close();
    }
  });

  it('shares SPC-2 RESERVE: a reservation through A conflicts commands through B until RELEASE', async () => {
    const a = await SteadySession.open(A().host, A().port, 'iqn.2026-11.example:spc2-a', TARGET);
    const b = await SteadySession.open(B().host, B().port, 'iqn.2026-11.example:spc2-b', TARGET);
    try {
      await ready(a);
      await ready(b);
      expect((await a.command(0, [0x16, 0, 0, 0, 0, 0])).status).to.equal(0); // RESERVE(6)
      expect((await b.command(0, read10(320), { readLength: 512 })).status).to.equal(RESERVATION_CONFLICT);
      expect((await b.command(0, [0x16, 0, 0, 0, 0, 0])).status).to.equal(RESERVATION_CONFLICT);
      expect((await a.command(0, [0x17, 0, 0, 0, 0, 0])).status).to.equal(0); // RELEASE(6)
      expect((await b.command(0, read10(320), { readLength: 512 })).status).to.equal(0);
    } finally {
      a.close();
      b.close();
    }
  });

  it('failover: A killed during writes through A and B; B finishes, A is fenced, the data verifies, A rejoins', async function () {
    this.timeout(300_000);
    const block = (lba: number): Buffer => { const b = Buffer.alloc(512); b.writeUInt32BE(lba, 0); b.fill(lba & 0xff, 4); return b; };
    const lbas = { a: Array.from({ length: 120 }, (_, i) => 2000 + i), b: Array.from({ length: 120 }, (_, i) => 3000 + i) };
    // A registration through A (it must outlive A's death) and a reservation through B that lets
    // registrants write (Write Exclusive, Registrants Only).
    const regA = await SteadySession.open(A().host, A().port, 'iqn.2026-11.example:fo-registered', TARGET);
    await ready(regA);
    const ra = prOut(PR.REGISTER, 0, 0n, 0x1111n);
    expect((await regA.command(0, ra.cdb, { dataOut: ra.dataOut })).status).to.equal(0);
    regA.close();
    const writerB = await SteadySession.open(B().host, B().port, 'iqn.2026-11.example:fo-writer', TARGET);
    await ready(writerB);
    const rb = prOut(PR.REGISTER, 0, 0n, 0x2222n);
    expect((await writerB.command(0, rb.cdb, { dataOut: rb.dataOut })).status).to.equal(0);
    const WE_RO = 5;
    const resv = prOut(PR.RESERVE, WE_RO, 0x2222n, 0n);
    expect((await writerB.command(0, resv.cdb, { dataOut: resv.dataOut })).status).to.equal(0);
    // The same initiator through A (the other path of the writer): registered there too.
    const writerA = await SteadySession.open(A().host, A().port, 'iqn.2026-11.example:fo-writer', TARGET);
    await ready(writerA);
    const rwa = prOut(PR.REGISTER, 0, 0n, 0x2222n);
    expect((await writerA.command(0, rwa.cdb, { dataOut: rwa.dataOut })).status).to.equal(0);
    // A's clients as the members list has them: what fencing must blocklist.
    const members = await membersOfImage();
    expect(members).to.have.length(2);

    const acked = new Set<number>();
    const leftForB: number[] = [];
    const through = async (s: SteadySession, list: number[], onFail?: (rest: number[]) => void): Promise<void> => {
      for (let i = 0; i < list.length; i++) {
        try {
          const w = await s.command(0, write10(list[i]), { dataOut: block(list[i]), timeoutMs: 120_000 });
          expect(w.status, `write ${list[i]}`).to.equal(0);
          acked.add(list[i]);
        } catch (e) {
          if (!onFail) throw e;
          onFail(list.slice(i));
          return;
        }
      }
    };
    const killed = (async () => {
      while (acked.size < 40) await new Promise(r => setTimeout(r, 20));
      process.kill(A().pid, 'SIGKILL');
    })();
    // The path through A fails with the process; its writes not acknowledged go through B.
    const pathA = through(writerA, lbas.a, rest => leftForB.push(...rest));
    const pathB = through(writerB, lbas.b);
    await killed;
    await pathA;
    writerA.close();
    // The killed process is gone (null: no exit code); its temporary directory goes with it.
    expect(await A().stop()).to.equal(null);
    // A reservation change through B: A does not acknowledge; B fences it before completing.
    const t0 = Date.now();
    const z = prOut(PR.REGISTER, 0, 0n, 0x3333n);
    const zs = await SteadySession.open(B().host, B().port, 'iqn.2026-11.example:fo-late', TARGET);
    await ready(zs);
    expect((await zs.command(0, z.cdb, { dataOut: z.dataOut, timeoutMs: 60_000 })).status).to.equal(0);
    zs.close();
    expect(Date.now() - t0).to.be.lessThan(45_000);
    const blocklist = await c().ceph('osd', 'blocklist', 'ls');
    // Exactly one member fenced (A), and dropped from the members; B stays.
    const fenced = members.filter(m => m.addrs.some(x => blocklist.includes(x)));
    expect(fenced, `${JSON.stringify(members)}\n${blocklist}`).to.have.length(1);
    expect((await membersOfImage()).map(m => m.gid)).to.deep.equal(members.filter(m => m !== fenced[0]).map(m => m.gid));
    await through(writerB, leftForB);
    await pathB;
    expect(acked.size).to.equal(lbas.a.length + lbas.b.length);
    for (const lba of [...lbas.a, ...lbas.b]) {
      const r = await writerB.command(0, read10(lba), { readLength: 512 });
      expect(r.status).to.equal(0);
      expect(r.data.equals(block(lba)), `LBA ${lba}`).to.equal(true);
    }
    writerB.close();
    // A restarted on its port rejoins: the reservation made through B holds through it, the
    // registration made through A before the kill is still there.
    gw.a = await startDaemon(gatewayTopology(c(), 'gw-a', ports), { startTimeoutMs: 60_000 });
    const back = await SteadySession.open(A().host, A().port, 'iqn.2026-11.example:fo-registered', TARGET);
    const stranger = await SteadySession.open(A().host, A().port, 'iqn.2026-11.example:fo-stranger', TARGET);
    try {
      await ready(back);
      await ready(stranger);
      expect((await back.command(0, write10(2000), { dataOut: block(2000) })).status).to.equal(0);
      expect((await stranger.command(0, write10(2000), { dataOut: block(2000) })).status).to.equal(RESERVATION_CONFLICT);
      const r = await stranger.command(0, read10(3001), { readLength: 512 });
      expect(r.status).to.equal(0);
      expect(r.data.equals(block(3001))).to.equal(true);
      expect((await membersOfImage()).length).to.equal(2);
      const clear = prOut(PR.CLEAR, 0, 0x1111n, 0n);
      expect((await back.command(0, clear.cdb, { dataOut: clear.dataOut })).status).to.equal(0);
    } finally {
      back.close();
      stranger.close();
    }
  });

  it('passes libiscsi\'s MultipathIO tests with one URL per gateway', async function () {
    this.timeout(400_000);
    const out = path.join(c().dir, 'conformance-gateways');
    const r = await new Promise<{ code: number | null; text: string }>(resolve => {
      const child = spawn('bash', [path.join(ROOT, 'test/conformance/run.sh')], {
        env: {
          ...process.env, NEXUS_CONF_URL: url(A()), NEXUS_CONF_URL2: url(B()), NEXUS_CONF_SUITES: MULTIPATH_TESTS.join(' '),
          NEXUS_CONF_OUT: out, NEXUS_CONF_SUITE_TIMEOUT: '360', NEXUS_CONF_TOTAL_TIMEOUT: '380',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      child.stdout.on('data', (b: Buffer) => (text += b.toString()));
      child.stderr.on('data', (b: Buffer) => (text += b.toString()));
      child.on('exit', code => resolve({ code, text }));
    });
    const last = r.text.trim().split('\n').pop() ?? '';
    expect(last, r.text).to.match(/^\d+ passed, 0 failed, 0 skipped$/);
    expect(Number(last.split(' ')[0]), r.text).to.equal(MULTIPATH_TEST_COUNT);
    expect(r.code, r.text).to.equal(0);
  });
});
