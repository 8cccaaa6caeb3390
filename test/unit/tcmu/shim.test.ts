// kernel-shim/: the configfs plan for each fabric (FC, FCoE, SRP, loopback) checked against a tree
// that behaves as LIO's does (fake-configfs.ts), the shim serving the ring of each backstore
// before its LUN is linked, removal in reverse leaving configfs as found, clear errors when the
// kernel is not ready, and a restarted shim taking over what a killed one left.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { normalizeTopology } from '../../../src/daemon/config/load';
import type { Topology } from '../../../src/engine/topology';
import { Status } from '../../../src/engine/spec/status';
import { DEFAULT_SHIM_SETTINGS, formatOp, planShim, undoOps } from '../../../kernel-shim/configfs';
import { Shim } from '../../../kernel-shim/shim';
import type { ShimDeps } from '../../../kernel-shim/shim';
import { TcmuKernelSim } from '../../../kernel-shim/simulator';
import type { UioRing } from '../../../src/native';
import { FakeConfigfs } from './fake-configfs';
import { FakeTcmuGenl } from './fake-netlink';

const C = '/sys/kernel/config/target';

function topology(targets: unknown[]): Topology {
  const r = normalizeTopology({
    engine: { threads: 0 },
    devices: [{ name: 'disk0', handler: 'ram', size: '16MiB' }, { name: 'disk1', handler: 'ram', size: '8MiB', blockSize: 4096 }],
    targets,
  }, { baseDir: '/etc/nexus', cwd: '/srv' });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.topology;
}

const LOOPBACK = { driver: 'loopback', name: 'sas0', wwn: 'naa.5001405000000001', luns: [{ lun: 0, device: 'disk0' }] };
const FC = {
  driver: 'fc', name: 'fc0', wwn: '21:00:00:24:ff:31:4c:48', luns: [{ lun: 0, device: 'disk0' }, { lun: 1, device: 'disk1' }],
  acls: [{ initiator: '21:00:00:24:ff:31:4c:49' }, { initiator: '21:00:00:24:ff:31:4c:4a', readOnly: true }],
};
const FCOE = { driver: 'fcoe', name: 'fcoe0', wwn: '20:00:00:0c:29:aa:bb:cc', luns: [{ lun: 0, device: 'disk0' }], acls: [{ initiator: '20:00:00:0c:29:aa:bb:01' }] };
const SRP = {
  driver: 'srp', name: 'srp0', wwn: '0xfe800000000000000002c90300a1b2c3', luns: [{ lun: 0, device: 'disk1' }],
  acls: [{ initiator: '0x0000000000000000505400fffe4a0b7b' }],
};

/** Simulated kernels behind the fake's uio devices, by device node path. */
function simulatedRings(): { deps: Pick<ShimDeps, 'openRing'>; sims: Map<string, TcmuKernelSim> } {
  const sims = new Map<string, TcmuKernelSim>();
  return {
    sims,
    deps: {
      openRing: (p, _size, onEvent) => {
        const sim = new TcmuKernelSim();
        sims.set(p, sim);
        sim.onInterrupt = () => onEvent(1);
        const ring: UioRing = { map: sim.map, kick: () => { sim.irqcontrol(); return undefined; }, close: () => { sim.onInterrupt = undefined; } };
        return ring;
      },
    },
  };
}

describe('kernel-shim: the configfs plan (dry run), per fabric', () => {
  it('loopback: the TCMU backstore, served before the LUN is linked, then the tcm_loop nexus and LUN', () => {
    const fake = new FakeConfigfs();
    const plan = planShim(topology([LOOPBACK]), fake);
    expect(plan.up.map(formatOp)).to.deep.equal([
      `mkdir ${C}/core/user_0`,
      `mkdir ${C}/core/user_0/disk0`,
      `echo -n 'dev_config=nexus/disk0,dev_size=16777216,hw_block_size=512,hw_max_sectors=2048,max_data_area_mb=64,nl_reply_supported=-1' > ${C}/core/user_0/disk0/control`,
      `echo -n '30' > ${C}/core/user_0/disk0/attrib/cmd_time_out`,
      `echo -n '-1' > ${C}/core/user_0/disk0/attrib/qfull_time_out`,
      `echo -n '1' > ${C}/core/user_0/disk0/attrib/tmr_notification`,
      `echo -n '1' > ${C}/core/user_0/disk0/enable`,
      `echo -n '1' > ${C}/core/user_0/disk0/attrib/nl_reply_supported`,
      '# nexus serves the TCMU ring of disk0 (uio name tcm-user/0/disk0/nexus/disk0)',
      `mkdir ${C}/loopback`,
      `mkdir ${C}/loopback/naa.5001405000000001`,
      `mkdir ${C}/loopback/naa.5001405000000001/tpgt_1`,
      `echo -n 'naa.500140500000000f' > ${C}/loopback/naa.5001405000000001/tpgt_1/nexus`,
      `mkdir ${C}/loopback/naa.5001405000000001/tpgt_1/lun/lun_0`,
      `ln -s ${C}/core/user_0/disk0 ${C}/loopback/naa.5001405000000001/tpgt_1/lun/lun_0/disk0`,
    ]);
    expect(undoOps(plan.up).map(formatOp)).to.deep.equal([
      `rm ${C}/loopback/naa.5001405000000001/tpgt_1/lun/lun_0/disk0`,
      `rmdir ${C}/loopback/naa.5001405000000001/tpgt_1/lun/lun_0`,
      `rmdir ${C}/loopback/naa.5001405000000001/tpgt_1`,
      `rmdir ${C}/loopback/naa.5001405000000001`,
      `rmdir ${C}/loopback`,
      '# nexus stops serving disk0',
      `rmdir ${C}/core/user_0/disk0`,
      `rmdir ${C}/core/user_0`,
    ]);
  });

  it('fc (tcm_qla2xxx): tpgt_1, two LUNs, ACLs with a read-only mapping, then enable', () => {
    const plan = planShim(topology([FC]), new FakeConfigfs());
    const T = `${C}/qla2xxx/21:00:00:24:ff:31:4c:48/tpgt_1`;
    const fabric = plan.up.map(formatOp).filter(l => l.includes('/qla2xxx'));
    expect(fabric).to.deep.equal([
      `mkdir ${C}/qla2xxx`,
      `mkdir ${C}/qla2xxx/21:00:00:24:ff:31:4c:48`,
      `mkdir ${T}`,
      `mkdir ${T}/lun/lun_0`,
      `ln -s ${C}/core/user_0/disk0 ${T}/lun/lun_0/disk0`,
      `mkdir ${T}/lun/lun_1`,
      `ln -s ${C}/core/user_0/disk1 ${T}/lun/lun_1/disk1`,
      `mkdir ${T}/acls/21:00:00:24:ff:31:4c:49`,
      `mkdir ${T}/acls/21:00:00:24:ff:31:4c:49/lun_0`,
      `ln -s ${T}/lun/lun_0 ${T}/acls/21:00:00:24:ff:31:4c:49/lun_0/lun`,
      `mkdir ${T}/acls/21:00:00:24:ff:31:4c:49/lun_1`,
      `ln -s ${T}/lun/lun_1 ${T}/acls/21:00:00:24:ff:31:4c:49/lun_1/lun`,
      `mkdir ${T}/acls/21:00:00:24:ff:31:4c:4a`,
      `mkdir ${T}/acls/21:00:00:24:ff:31:4c:4a/lun_0`,
      `ln -s ${T}/lun/lun_0 ${T}/acls/21:00:00:24:ff:31:4c:4a/lun_0/lun`,
      `echo -n '1' > ${T}/acls/21:00:00:24:ff:31:4c:4a/lun_0/write_protect`,
      `mkdir ${T}/acls/21:00:00:24:ff:31:4c:4a/lun_1`,
      `ln -s ${T}/lun/lun_1 ${T}/acls/21:00:00:24:ff:31:4c:4a/lun_1/lun`,
      `echo -n '1' > ${T}/acls/21:00:00:24:ff:31:4c:4a/lun_1/write_protect`,
      `echo -n '1' > ${T}/enable`,
    ]);
    // Both backstores are served before the fabric's first step.
    const lines = plan.up.map(formatOp);
    const firstFabric = lines.findIndex(l => l.includes('/qla2xxx'));
    expect(lines.slice(0, firstFabric).filter(l => l.startsWith('# nexus serves'))).to.have.length(2);
    expect(lines).to.include(`echo -n 'dev_config=nexus/disk1,dev_size=8388608,hw_block_size=4096,hw_max_sectors=2048,max_data_area_mb=64,nl_reply_supported=-1' > ${C}/core/user_0/disk1/control`);
  });

  it('fcoe (tcm_fc): configfs dir fc, no enable attribute', () => {
    const lines = planShim(topology([FCOE]), new FakeConfigfs()).up.map(formatOp).filter(l => l.includes(`${C}/fc`));
    expect(lines[0]).to.equal(`mkdir ${C}/fc`);
    expect(lines).to.include(`mkdir ${C}/fc/20:00:00:0c:29:aa:bb:cc/tpgt_1/acls/20:00:00:0c:29:aa:bb:01`);
    expect(lines.some(l => l.endsWith('/enable'))).to.equal(false);
  });

  it('srp (ib_srpt): the HCA port by GID, the initiator ACL, enable', () => {
    const lines = planShim(topology([SRP]), new FakeConfigfs()).up.map(formatOp).filter(l => l.includes(`${C}/srpt`));
    const T = `${C}/srpt/0xfe800000000000000002c90300a1b2c3/tpgt_1`;
    expect(lines).to.deep.equal([
      `mkdir ${C}/srpt`, `mkdir ${C}/srpt/0xfe800000000000000002c90300a1b2c3`, `mkdir ${T}`,
      `mkdir ${T}/lun/lun_0`, `ln -s ${C}/core/user_0/disk1 ${T}/lun/lun_0/disk1`,
      `mkdir ${T}/acls/0x0000000000000000505400fffe4a0b7b`, `mkdir ${T}/acls/0x0000000000000000505400fffe4a0b7b/lun_0`,
      `ln -s ${T}/lun/lun_0 ${T}/acls/0x0000000000000000505400fffe4a0b7b/lun_0/lun`,
      `echo -n '1' > ${T}/enable`,
    ]);
  });

  it('a device exported by two fabrics gets one backstore, and an existing HBA directory is not made again', () => {
    const fake = new FakeConfigfs();
    fake.mkdir(`${C}/core/user_0`);
    const plan = planShim(topology([LOOPBACK, FCOE]), fake);
    const lines = plan.up.map(formatOp);
    expect(lines.filter(l => l === `mkdir ${C}/core/user_0/disk0`)).to.have.length(1);
    expect(lines).to.not.include(`mkdir ${C}/core/user_0`);
    expect([...plan.backstores.keys()]).to.deep.equal(['disk0']);
  });
});

describe('kernel-shim: backstores of the other device types', () => {
  it('a tape drive, a changer and a CD/DVD-ROM drive get dev_size of at least one block, so LIO\'s own sense stays in fixed format', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nexus-shim-types-'));
    const iso = path.join(dir, 'cd.iso');
    fs.writeFileSync(iso, Buffer.alloc(2048 * 20));
    const r = normalizeTopology({
      engine: { threads: 0 }, stateDir: dir,
      devices: [
        { name: 'lib0', handler: 'changer', drives: ['lt0'], slots: 2, mailSlots: 1, cartridges: [] },
        { name: 'lt0', handler: 'vtape' },
        { name: 'cd0', handler: 'vcdrom', path: iso },
      ],
      targets: [{ driver: 'loopback', name: 'vtl0', wwn: 'naa.5001405000000002',
        luns: [{ lun: 0, device: 'lib0' }, { lun: 1, device: 'lt0' }, { lun: 2, device: 'cd0' }] }],
    }, { baseDir: dir, cwd: dir });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const controls = planShim(r.topology, new FakeConfigfs()).up.map(formatOp).filter(l => l.endsWith('/control'));
    const size = (dev: string): string => controls.find(l => l.includes(`dev_config=nexus/${dev},`))!.match(/dev_size=(\d+),hw_block_size=(\d+)/)!.slice(1).join('/');
    // tcmu_get_blocks = (dev_size - block_size) / block_size: 0 blocks past the first, not 2^64 - 1.
    expect(size('lib0')).to.equal('512/512');
    expect(size('lt0')).to.equal('512/512');
    const [cdSize, cdBlock] = size('cd0').split('/').map(Number);
    expect(cdBlock).to.equal(2048);
    expect(cdSize).to.be.at.least(2048);
  });
});

describe('kernel-shim: the shim on a configfs tree that behaves as LIO\'s', function () {
  this.timeout(20000);
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nexus-shim-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const [name, t] of [['loopback', LOOPBACK], ['fc', FC], ['fcoe', FCOE], ['srp', SRP]] as const) {
    it(`${name}: every step succeeds against the kernel's layout, the ring is served, and stop leaves configfs as found`, async () => {
      const fake = new FakeConfigfs();
      const before = fake.snapshot();
      const { deps, sims } = simulatedRings();
      const shim = await Shim.start(topology([t]), { fsys: fake, openNetlink: fake.genl.open, sysModule: '/sys/module', ...deps });
      if (!(shim instanceof Shim)) throw new Error(shim.errors.join('; '));
      expect(sims.size).to.be.greaterThan(0);
      // A command through the kernel's side of each served ring reaches Nexus.
      for (const sim of sims.values()) {
        const ua = await sim.submit({ cdb: [0, 0, 0, 0, 0, 0] }).result;
        expect(ua.status).to.equal(Status.CHECK_CONDITION);
        expect((await sim.submit({ cdb: [0, 0, 0, 0, 0, 0] }).result).status).to.equal(Status.GOOD);
      }
      expect(fake.snapshot()).to.not.deep.equal(before);
      expect(await shim.stop()).to.deep.equal([]);
      expect(fake.snapshot()).to.deep.equal(before);
    });
  }

  it('linking a LUN waits for the initiator\'s scan, which the ring already served answers', async () => {
    const fake = new FakeConfigfs();
    const { deps, sims } = simulatedRings();
    const scanned: number[] = [];
    fake.scan = async () => {
      const [sim] = sims.values();
      // SPC-4 6.6: the scan's INQUIRY, through the kernel's side of the ring.
      const r = await sim.submit({ cdb: [0x12, 0, 0, 0, 36, 0], dir: 'in', length: 36 }).result;
      scanned.push(r.status);
    };
    const shim = await Shim.start(topology([LOOPBACK]), { fsys: fake, openNetlink: fake.genl.open, ...deps });
    if (!(shim instanceof Shim)) throw new Error(shim.errors.join('; '));
    expect(scanned).to.deep.equal([Status.GOOD]);
    await shim.stop();
  });

  it('fc: the read-only ACL mapping is write-protected and the TPG enabled', async () => {
    const fake = new FakeConfigfs();
    const { deps } = simulatedRings();
    const shim = await Shim.start(topology([FC]), { fsys: fake, openNetlink: fake.genl.open, ...deps });
    if (!(shim instanceof Shim)) throw new Error(shim.errors.join('; '));
    const T = `${C}/qla2xxx/21:00:00:24:ff:31:4c:48/tpgt_1`;
    expect(fake.read(`${T}/acls/21:00:00:24:ff:31:4c:4a/lun_1/write_protect`)).to.equal('1');
    expect(fake.read(`${T}/acls/21:00:00:24:ff:31:4c:49/lun_1/write_protect`)).to.equal('0');
    expect(fake.read(`${T}/enable`)).to.equal('1');
    await shim.stop();
  });

  it('a fabric whose kernel module is not loaded: a clear error and nothing made', async () => {
    const fake = new FakeConfigfs(undefined, ['target_core_mod', 'target_core_user', 'tcm_loop']);
    const before = fake.snapshot();
    const r = await Shim.start(topology([FC]), { fsys: fake, openNetlink: fake.genl.open, ...simulatedRings().deps });
    expect(r).to.have.property('errors').that.deep.equals(['the fc fabric\'s kernel module tcm_qla2xxx is not loaded (target "fc0"): modprobe tcm_qla2xxx']);
    expect(fake.snapshot()).to.deep.equal(before);
  });

  it('configfs not mounted, or TCMU absent, is said before anything is made', async () => {
    expect(await Shim.start(topology([LOOPBACK]), { fsys: new FakeConfigfs(undefined, []), ...simulatedRings().deps }))
      .to.have.property('errors').with.length(1).that.satisfies((e: string[]) => e[0].includes('mount configfs'));
    expect(await Shim.start(topology([LOOPBACK]), { fsys: new FakeConfigfs(undefined, ['target_core_mod', 'tcm_loop']), ...simulatedRings().deps }))
      .to.have.property('errors').that.satisfies((e: string[]) => e[0].includes('modprobe target_core_user'));
  });

  it('a step that fails undoes every step before it', async () => {
    const fake = new FakeConfigfs();
    const before = fake.snapshot();
    fake.failOn = `${C}/qla2xxx/21:00:00:24:ff:31:4c:48/tpgt_1/acls/21:00:00:24:ff:31:4c:4a`;
    const r = await Shim.start(topology([FC]), { fsys: fake, openNetlink: fake.genl.open, ...simulatedRings().deps });
    expect(r).to.have.property('errors').that.satisfies((e: string[]) => e[0].startsWith(`mkdir ${fake.failOn}: EIO`));
    expect(fake.snapshot()).to.deep.equal(before);
  });

  it('a restarted shim takes over what a killed one left: its rings reset, then everything removed at stop', async () => {
    const fake = new FakeConfigfs();
    const before = fake.snapshot();
    const stateFile = path.join(dir, 'shim-ops.json');
    const first = await Shim.start(topology([LOOPBACK]), { fsys: fake, openNetlink: fake.genl.open, stateFile, ...simulatedRings().deps });
    if (!(first instanceof Shim)) throw new Error(first.errors.join('; '));
    // Killed (its runtime stopped last, below): nothing undone, the tree stays as the kernel keeps it.
    const second = simulatedRings();
    const plan = planShim(topology([LOOPBACK]), fake, DEFAULT_SHIM_SETTINGS);
    expect(plan.up.map(formatOp)).to.deep.equal([
      `echo -n '1' > ${C}/core/user_0/disk0/action/reset_ring`,
      '# nexus serves the TCMU ring of disk0 (uio name tcm-user/0/disk0/nexus/disk0)',
    ]);
    const shim = await Shim.start(topology([LOOPBACK]), { fsys: fake, openNetlink: fake.genl.open, stateFile, ...second.deps });
    if (!(shim instanceof Shim)) throw new Error(shim.errors.join('; '));
    const [sim] = second.sims.values();
    await sim.submit({ cdb: [0, 0, 0, 0, 0, 0] }).result;
    expect((await sim.submit({ cdb: [0, 0, 0, 0, 0, 0] }).result).status).to.equal(Status.GOOD);
    expect(await shim.stop()).to.deep.equal([]);
    expect(fake.snapshot()).to.deep.equal(before);
    expect(fs.existsSync(stateFile)).to.equal(false);
    await first.handOver();
  });

  it('hand-over leaves the wiring for the next run', async () => {
    const fake = new FakeConfigfs();
    const stateFile = path.join(dir, 'shim-ops.json');
    const shim = await Shim.start(topology([SRP]), { fsys: fake, openNetlink: fake.genl.open, stateFile, ...simulatedRings().deps });
    if (!(shim instanceof Shim)) throw new Error(shim.errors.join('; '));
    const wired = fake.snapshot();
    await shim.handOver();
    expect(fake.snapshot()).to.deep.equal(wired);
    expect(JSON.parse(fs.readFileSync(stateFile, 'utf8'))).to.be.an('array').that.is.not.empty;
  });
});

describe('kernel-shim: the kernel\'s TCMU events (generic netlink) while the device is linked', function () {
  this.timeout(20000);
  const B = `${C}/core/user_0/disk0`;
  const READ_CAPACITY_10 = { cdb: [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0], dir: 'in' as const, length: 8 };
  const TUR = { cdb: [0, 0, 0, 0, 0, 0] };

  async function wired(): Promise<{ shim: Shim; fake: FakeConfigfs; sim: TcmuKernelSim }> {
    const fake = new FakeConfigfs();
    const { deps, sims } = simulatedRings();
    const shim = await Shim.start(topology([LOOPBACK]), { fsys: fake, openNetlink: fake.genl.open, ...deps });
    if (!(shim instanceof Shim)) throw new Error(shim.errors.join('; '));
    const [sim] = sims.values();
    // The power-on unit attention (SPC-4 6.6 / SAM-5 5.14) is reported first.
    await sim.submit(TUR).result;
    return { shim, fake, sim };
  }

  function blocksOf(data: Uint8Array | undefined): number {
    return new DataView(data!.buffer, data!.byteOffset, 8).getUint32(0) + 1;
  }

  it('the shim announces replies and sets nl_reply_supported once the device is enabled', async () => {
    const { shim, fake } = await wired();
    expect(fake.genl.features).to.equal(1);
    expect(fake.read(`${B}/attrib/nl_reply_supported`)).to.equal('1');
    await shim.stop();
  });

  it('attrib/dev_size: the write completes once Nexus resized the unit, whose next command reports CAPACITY DATA HAS CHANGED', async () => {
    const { shim, fake, sim } = await wired();
    expect(blocksOf((await sim.submit(READ_CAPACITY_10).result).data)).to.equal(32768);
    await fake.write(`${B}/attrib/dev_size`, String(32 * 1024 * 1024));
    expect(fake.read(`${B}/attrib/dev_size`)).to.equal(String(32 * 1024 * 1024));
    const ua = await sim.submit(READ_CAPACITY_10).result;
    // SBC-4 4.6: CAPACITY DATA HAS CHANGED, 2Ah/09h.
    expect([ua.status, ua.sense![2] & 0xf, ua.sense![12], ua.sense![13]]).to.deep.equal([Status.CHECK_CONDITION, 6, 0x2a, 0x09]);
    expect(blocksOf((await sim.submit(READ_CAPACITY_10).result).data)).to.equal(65536);
    await shim.stop();
  });

  it('attrib/dev_size that is not whole blocks: the write fails with Nexus\'s EINVAL and nothing changes', async () => {
    const { shim, fake, sim } = await wired();
    let code = '';
    try { await fake.write(`${B}/attrib/dev_size`, '1000'); } catch (e) { code = (e as NodeJS.ErrnoException).code ?? ''; }
    expect(code).to.equal('EINVAL');
    expect(fake.read(`${B}/attrib/dev_size`)).to.equal('0');
    const r = await sim.submit(READ_CAPACITY_10).result;
    expect([r.status, blocksOf(r.data)]).to.deep.equal([Status.GOOD, 32768]);
    await shim.stop();
  });

  it('attrib/emulate_write_cache: the caching mode page follows (SPC-4 7.5.8, WCE)', async () => {
    const { shim, fake, sim } = await wired();
    const wce = async (): Promise<number> => {
      // MODE SENSE(6), DBD, caching page 08h: header 4 bytes, page byte 2 bit 2.
      let r = await sim.submit({ cdb: [0x1a, 0x08, 0x08, 0, 64, 0], dir: 'in', length: 64 }).result;
      if (r.status !== Status.GOOD) r = await sim.submit({ cdb: [0x1a, 0x08, 0x08, 0, 64, 0], dir: 'in', length: 64 }).result;
      return (r.data![4 + 2] >> 2) & 1;
    };
    const before = await wce();
    await fake.write(`${B}/attrib/emulate_write_cache`, before ? '0' : '1');
    expect(await wce()).to.equal(before ? 0 : 1);
    await shim.stop();
  });

  it('attrib/dev_config: the device\'s own is accepted, another refused', async () => {
    const { shim, fake } = await wired();
    await fake.write(`${B}/attrib/dev_config`, 'nexus/disk0\n');
    let code = '';
    try { await fake.write(`${B}/attrib/dev_config`, 'file//var/lib/other.img'); } catch (e) { code = (e as NodeJS.ErrnoException).code ?? ''; }
    expect(code).to.equal('EINVAL');
    await shim.stop();
  });

  it('events for another handler\'s device are left to it (no answer)', async () => {
    const { shim, fake } = await wired();
    await fake.genl.event({ id: 77, uioName: 'tcm-user/0/other/file/x', nlReply: 0 }, 3, FakeTcmuGenl.u64Attr(5, 4096n));
    await new Promise(r => setTimeout(r, 20));
    expect(fake.genl.refused).to.deep.equal([]);
    await shim.stop();
  });

  it('a backstore removed by the administrator: the ring stops being served and the rmdir completes', async () => {
    const { shim, fake } = await wired();
    const L = `${C}/loopback/naa.5001405000000001/tpgt_1/lun/lun_0`;
    await fake.unlink(`${L}/disk0`);
    await fake.rmdir(B);
    expect(shim.device('disk0')).to.equal(undefined);
    expect(fake.genl.refused).to.deep.equal([]);
    // Stop removes the rest; what is gone already is skipped.
    expect(await shim.stop()).to.deep.equal([]);
  });
});
