// COMPARE AND WRITE and resize with two Nexus gateways in front of one rbd image, against a real
// Ceph cluster (test/ceph/cluster.ts, stopped by PID in after()):
//   - the backstore's compare-and-write on data objects: 4096-byte and multi-block ranges, the
//     offset of the first differing byte, a never-written object, a snapshot kept intact, a
//     clone's object copied up from its parent, object-map turned off for writing;
//   - two daemons, one image, the same LBA, many rounds of COMPARE AND WRITE sent through both at
//     once: exactly one wins each round (the loser gets MISCOMPARE), and the image holds the
//     winner's data — which fails whenever the compare and the write are not one step for both;
//   - a resize done elsewhere (the rbd tool, another librbd client through the backstore) reaches
//     both daemons: each raises CAPACITY DATA HAS CHANGED and reports the new capacity.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describeNeeds, tool } from '../helpers/prereq';
import { RunningDaemon, startDaemon } from '../helpers/daemon';
import { RbdBackstore } from '../../src/engine/backstores/rbd';
import { SteadySession, type CommandResult } from '../fuzz/client';
import type { CephCluster } from './cluster';
import { CEPH_PREREQS, markFailed, sharedCluster } from './shared-cluster';

const run = promisify(execFile);
const TARGET = 'iqn.2026-11.io.nexus:ceph-gw';

const describeCeph = describeNeeds(...CEPH_PREREQS, tool('iscsi-readcapacity16'));

const OBJECT = 4 << 20;

/** Sense key, ASC, ASCQ and INFORMATION from fixed (70h) or descriptor (72h) sense data. */
function senseOf(s: Buffer): { key: number; asc: number; ascq: number; info: number } {
  if ((s[0] & 0x7f) === 0x72) {
    // SPC-4 4.5.2.2: the information descriptor (type 00h) carries INFORMATION in bytes 4..11.
    let info = -1;
    for (let at = 8; at + 1 < s.length; at += 2 + s[at + 1]) if (s[at] === 0) info = Number(s.readBigUInt64BE(at + 4));
    return { key: s[1] & 0x0f, asc: s[2], ascq: s[3], info };
  }
  return { key: s[2] & 0x0f, asc: s[12], ascq: s[13], info: s[0] & 0x80 ? s.readUInt32BE(3) : -1 };
}

/** COMPARE AND WRITE (SBC-4 5.3): opcode 89h, LBA in bytes 2..9, NUMBER OF LOGICAL BLOCKS in 13. */
function caw(lba: number, blocks: number): number[] {
  const c = [0x89, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, blocks, 0, 0];
  for (let i = 0; i < 8; i++) c[9 - i] = Math.floor(lba / 2 ** (8 * i)) & 0xff;
  return c;
}

function read16(lba: number, blocks: number): number[] {
  const c = [0x88, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  for (let i = 0; i < 8; i++) c[9 - i] = Math.floor(lba / 2 ** (8 * i)) & 0xff;
  c[13] = blocks;
  return c;
}

/** A block image for round `round` written by gateway `who`: recognisable, different per byte. */
function token(length: number, round: number, who: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = (i * 7 + round * 13 + who * 101) & 0xff;
  b.writeUInt32BE(round, 0);
  b[4] = who;
  return b;
}

describeCeph('rbd: COMPARE AND WRITE and resize across two gateways', function () {
  this.timeout(240_000);
  let cluster: CephCluster | undefined;
  const daemons: RunningDaemon[] = [];
  let failed = false;
  const c = (): CephCluster => cluster as CephCluster;

  const device = (name: string, image: string, blockSize: number): Record<string, unknown> => ({
    name, handler: 'rbd', pool: 'rbd', image, blockSize, cephConf: c().conf, keyring: c().keyring, cephUser: 'client.admin',
  });
  const store = (image: string): Promise<RbdBackstore> =>
    RbdBackstore.open({ pool: 'rbd', image, cephConf: c().conf, keyring: c().keyring, cephUser: 'client.admin' });

  async function exported(image: string, offset: number, length: number): Promise<Buffer> {
    const file = path.join(c().dir, `${image.replace(/[/@]/g, '_')}.export`);
    rmSync(file, { force: true });
    await c().rbd('export', `rbd/${image}`, file);
    try {
      return readFileSync(file).subarray(offset, offset + length);
    } finally {
      rmSync(file, { force: true });
    }
  }

  /** A session through each gateway, its power-on unit attentions taken on every LUN. */
  async function sessions(tag: string): Promise<SteadySession[]> {
    const out: SteadySession[] = [];
    for (const [i, d] of daemons.entries()) {
      const s = await SteadySession.open(d.host, d.port, `iqn.2026-11.example:${tag}-${i}`, TARGET);
      for (const lun of [0, 1]) for (let k = 0; k < 4; k++) if ((await s.command(lun, [0, 0, 0, 0, 0, 0])).status === 0) break;
      out.push(s);
    }
    return out;
  }

  before(async function () {
    this.timeout(300_000);
    cluster = await sharedCluster();
    // gw512 / gw4k: the images both gateways export (LUN 0: 512-byte blocks, LUN 1: 4096-byte).
    await c().rbd('create', '--size', '64M', 'rbd/gw512');
    await c().rbd('create', '--size', '64M', 'rbd/gw4k');
    for (let i = 0; i < 2; i++) {
      daemons.push(await startDaemon({
        devices: [device('gw512', 'gw512', 512), device('gw4k', 'gw4k', 4096)],
        targets: [{ driver: 'iscsi', name: TARGET, portals: ['127.0.0.1:0'], luns: [{ lun: 0, device: 'gw512' }, { lun: 1, device: 'gw4k' }] }],
      }, { startTimeoutMs: 60_000 }));
    }
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });

  after(async function () {
    this.timeout(120_000);
    try {
      for (const d of daemons) {
        const code = await d.stop();
        if (failed) console.log(d.output().split('\n').slice(-40).join('\n'));
        expect(code, d.output()).to.equal(0);
      }
    } finally {
      if (failed) markFailed();
    }
  });

  it('opening an image for writing turns its object map off; the gateways report MAXIMUM COMPARE AND WRITE LENGTH 255', async () => {
    // `rbd create`'s default features include object-map and fast-diff; the gateways opened it.
    const info = JSON.parse(await c().rbd('info', '--format', 'json', 'rbd/gw4k')) as { features: string[] };
    expect(info.features).to.include('exclusive-lock');
    expect(info.features).not.to.include('object-map');
    expect(info.features).not.to.include('fast-diff');
    const [s] = await sessions('limits');
    try {
      // INQUIRY EVPD, page B0h (SBC-4 6.6.4): byte 5 MAXIMUM COMPARE AND WRITE LENGTH.
      const r = await s.command(1, [0x12, 0x01, 0xb0, 0x00, 0x40, 0x00], { readLength: 64 });
      expect(r.status).to.equal(0);
      expect(r.data[5]).to.equal(255);
      // Bytes 28..31 OPTIMAL UNMAP GRANULARITY: the image's object (4 MiB) in 4096-byte blocks.
      expect(r.data.readUInt32BE(28)).to.equal(1024);
      // VPD B2h (SBC-4 6.6.7): LBPU, LBPWS, LBPWS10 and LBPRZ 001b in byte 5, PROVISIONING TYPE
      // 010b (thin) in byte 6.
      const p = await s.command(1, [0x12, 0x01, 0xb2, 0x00, 0x40, 0x00], { readLength: 64 });
      expect(p.status).to.equal(0);
      expect([p.data[5], p.data[6] & 0x07]).to.deep.equal([0xe4, 0x02]);
    } finally {
      s.close();
    }
  });

  it('the backstore compares and writes 4096 bytes and many blocks in one object; a miscompare names the first differing byte', async () => {
    await c().rbd('create', '--size', '32M', 'rbd/probe');
    const b = await store('probe');
    try {
      // A never-written object compares as zeros (what librbd reads there).
      const zero = Buffer.alloc(4096);
      const one = token(4096, 1, 1);
      expect(await b.compareAndWrite(OBJECT + 8192, zero, one, false)).to.equal(-1);
      expect((await exported('probe', OBJECT + 8192, 4096)).equals(one)).to.equal(true);
      // 64 KiB (16 blocks of 4096, 128 of 512) at the end of the first object.
      const big = token(65536, 2, 1);
      expect(await b.compareAndWrite(OBJECT - 65536, Buffer.alloc(65536), big, true)).to.equal(-1);
      const back = Buffer.alloc(65536);
      await b.read(OBJECT - 65536, back);
      expect(back.equals(big)).to.equal(true);
      // The verify data differs from byte 40000 on: MISCOMPARE at 40000, nothing written.
      const wrong = Buffer.from(big);
      wrong[40000] ^= 0xff;
      wrong[50000] ^= 0xff;
      expect(await b.compareAndWrite(OBJECT - 65536, wrong, token(65536, 3, 1), false)).to.equal(40000);
      await b.read(OBJECT - 65536, back);
      expect(back.equals(big)).to.equal(true);
      // Byte 0 differs: offset 0 (not "no miscompare").
      const first = Buffer.from(one);
      first[0] ^= 1;
      expect(await b.compareAndWrite(OBJECT + 8192, first, zero, false)).to.equal(0);
    } finally {
      await b.close();
    }
  });

  it('a snapshot keeps the bytes a compare-and-write replaced; a clone compares with its parent\'s bytes', async () => {
    await c().rbd('create', '--size', '16M', 'rbd/snapped');
    const b = await store('snapped');
    const before = token(8192, 4, 1);
    const after = token(8192, 5, 1);
    try {
      await b.write(12288, before, false);
      await c().rbd('snap', 'create', 'rbd/snapped@s1');
      expect(await b.compareAndWrite(12288, before, after, false)).to.equal(-1);
    } finally {
      await b.close();
    }
    expect((await exported('snapped', 12288, 8192)).equals(after)).to.equal(true);
    expect((await exported('snapped@s1', 12288, 8192)).equals(before)).to.equal(true);

    // The clone's object is still the parent's: the compare sees the parent's bytes.
    await c().rbd('snap', 'protect', 'rbd/snapped@s1');
    await c().rbd('clone', 'rbd/snapped@s1', 'rbd/cloned');
    const k = await store('cloned');
    try {
      const third = token(8192, 6, 1);
      // The tokens of rounds 5 and 4 first differ at byte 3 (the round number's low byte).
      expect(await k.compareAndWrite(12288, after, third, false)).to.equal(3);
      expect(await k.compareAndWrite(12288, before, third, false)).to.equal(-1);
      const back = Buffer.alloc(16384);
      await k.read(8192, back);
      // The object was copied up whole: the bytes around the range are the parent's still.
      expect(back.subarray(4096, 12288).equals(third)).to.equal(true);
      expect(back.subarray(0, 4096).equals(Buffer.alloc(4096))).to.equal(true);
    } finally {
      await k.close();
    }
    expect((await exported('cloned', 12288, 8192)).equals(token(8192, 6, 1))).to.equal(true);
    expect((await exported('snapped@s1', 12288, 8192)).equals(before)).to.equal(true);
  });

  it('an image the backstore cannot write directly is refused for writing with the reason; a missing one is ENOENT', async () => {
    // Fancy striping: the bytes of an object's range are not where compareAndWrite would look.
    await c().rbd('create', '--size', '16M', '--stripe-unit', '65536', '--stripe-count', '4', 'rbd/striped');
    let refused: NodeJS.ErrnoException | undefined;
    await store('striped').then(b => b.close(), (e: NodeJS.ErrnoException) => { refused = e; });
    expect(refused?.code).to.equal('EOPNOTSUPP');
    expect(refused?.message).to.contain('fancy striping');
    // Read-only, it serves (nothing is written directly).
    const ro = await RbdBackstore.open({ pool: 'rbd', image: 'striped', cephConf: c().conf, keyring: c().keyring, readOnly: true });
    await ro.close();
    let missing: NodeJS.ErrnoException | undefined;
    await store('no-such-image').then(b => b.close(), (e: NodeJS.ErrnoException) => { missing = e; });
    // errno-sense.ts: ENOENT is NOT READY, MANUAL INTERVENTION REQUIRED for a unit whose image went away.
    expect(missing?.code).to.equal('ENOENT');
  });

  /**
   * Rounds of COMPARE AND WRITE through both gateways at once on one range: each compares with
   * the range's current contents and writes its own token. Exactly one may win per round.
   */
  async function race(lun: number, blockSize: number, lba: number, blocks: number, rounds: number): Promise<void> {
    const ss = await sessions(`race-${lun}-${lba}`);
    try {
      const len = blockSize * blocks;
      let current: Buffer = Buffer.alloc(len);
      // Start from a known state (a CAW against whatever is there would need a read first).
      const init = await ss[0].command(lun, read16(lba, blocks), { readLength: len });
      expect(init.status).to.equal(0);
      current = init.data;
      for (let round = 1; round <= rounds; round++) {
        const mine = [token(len, round, 0), token(len, round, 1)];
        const results: CommandResult[] = await Promise.all(ss.map((s, who) =>
          s.command(lun, caw(lba, blocks), { dataOut: Buffer.concat([current, mine[who]]), timeoutMs: 30_000 })));
        const good = results.map(r => r.status === 0);
        expect(good.filter(Boolean), `round ${round}: ${results.map(r => `${r.status} ${r.sense.toString('hex')}`).join(' | ')}`).to.have.length(1);
        const winner = good.indexOf(true);
        const loser = results[1 - winner];
        expect(loser.status).to.equal(2);
        // SBC-4 5.3: MISCOMPARE, MISCOMPARE DURING VERIFY OPERATION; INFORMATION is the offset of
        // the first differing byte: byte 0 (the tokens differ from the old contents there).
        const f = senseOf(loser.sense);
        expect([f.key, f.asc, f.ascq]).to.deep.equal([0x0e, 0x1d, 0x00]);
        current = mine[winner];
        // Both gateways read the winner's data.
        for (const s of ss) expect((await s.command(lun, read16(lba, blocks), { readLength: len })).data.equals(current), `round ${round}`).to.equal(true);
      }
    } finally {
      for (const s of ss) s.close();
    }
  }

  it('one 512-byte block, through both gateways at once on the same LBA: exactly one wins each round', async function () {
    this.timeout(180_000);
    await race(0, 512, 100, 1, 40);
  });

  it('4096-byte blocks, one and four at a time, through both gateways at once: exactly one wins each round', async function () {
    this.timeout(240_000);
    await race(1, 4096, 10, 1, 40);
    await race(1, 4096, 300, 4, 40);
  });

  it('a resize done elsewhere reaches both gateways: CAPACITY DATA HAS CHANGED and the new capacity through each', async function () {
    this.timeout(120_000);
    const ss = await sessions('resize');
    const capacity = async (d: RunningDaemon): Promise<string> => (await run('iscsi-readcapacity16', [`iscsi://${d.host}:${d.port}/${TARGET}/1`])).stdout;
    const expectAttention = async (s: SteadySession): Promise<void> => {
      let sense: Buffer = Buffer.alloc(0);
      for (let i = 0; i < 40; i++) {
        const r = await s.command(1, [0, 0, 0, 0, 0, 0]);
        if (r.status === 2) { sense = r.sense; break; }
        await new Promise(res => setTimeout(res, 250));
      }
      const f = senseOf(sense);
      // SBC-4 4.6: UNIT ATTENTION, CAPACITY DATA HAS CHANGED.
      expect([f.key, f.asc, f.ascq], sense.toString('hex')).to.deep.equal([0x6, 0x2a, 0x09]);
    };
    const expectCapacity = async (bytes: number): Promise<void> => {
      for (const d of daemons) {
        let now = '';
        for (let i = 0; i < 40 && !now.includes(`Total size:${bytes}`); i++) {
          now = await capacity(d);
          if (!now.includes(`Total size:${bytes}`)) await new Promise(r => setTimeout(r, 250));
        }
        expect(now).to.contain(`Total size:${bytes}`);
      }
    };
    try {
      // The rbd tool.
      await c().rbd('resize', '--size', '80M', 'rbd/gw4k');
      for (const s of ss) await expectAttention(s);
      await expectCapacity(80 << 20);
      // Another librbd client through the backstore's own resize (what a third gateway does).
      const b = await store('gw4k');
      try {
        await b.resize(96n << 20n);
      } finally {
        await b.close();
      }
      for (const s of ss) await expectAttention(s);
      await expectCapacity(96 << 20);
    } finally {
      for (const s of ss) s.close();
    }
  });
});
