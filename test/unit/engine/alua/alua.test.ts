import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedTarget } from '../../../../src/embedded';
import type { AluaConfig, DeviceConfig, TargetConfig } from '../../../../src/engine/topology';
import { INIT_A, INIT_B, cdb, ram } from '../embedded/fixture';

// Asymmetric logical unit access (SPC-4 5.16) through the embedded engine: one target with two
// portals in two target port groups, one unit whose state differs per group.

const TARGET = 'iqn.2026-11.io.nexus:mp';
const PORTAL_1 = '127.0.0.1:3260';
const PORTAL_2 = '127.0.0.1:3261';

function mpTarget(): TargetConfig {
  return {
    driver: 'iscsi', name: TARGET, portals: [PORTAL_1, PORTAL_2], groups: [],
    portGroups: [{ id: 1, portals: [PORTAL_1] }, { id: 2, portals: [PORTAL_2] }],
    luns: [{ lun: 0, device: 'disk0', readOnly: false }],
  };
}

function disk(alua?: Partial<AluaConfig>): DeviceConfig {
  const d = ram('disk0');
  if (alua) d.alua = { tpgs: 'both', transitionMs: 0, states: {}, ...alua };
  return d;
}

async function start(alua?: Partial<AluaConfig>, stateDir?: string): Promise<EmbeddedTarget> {
  return EmbeddedTarget.start({ devices: [disk(alua)], targets: [mpTarget()], ...(stateDir ? { stateDir } : {}) });
}

/** Hand-written CDBs of the target port group commands (SPC-4 6.37, 6.46). */
const rtpg = (format = 0, alloc = 256): number[] =>
  [0xa3, (format << 5) | 0x0a, 0, 0, 0, 0, alloc >>> 24, (alloc >> 16) & 0xff, (alloc >> 8) & 0xff, alloc & 0xff, 0, 0];
const stpg = (len: number): number[] => [0xa4, 0x0a, 0, 0, 0, 0, 0, 0, len >> 8, len & 0xff, 0, 0];
const modeSense6 = (): number[] => [0x1a, 0, 0x3f, 0, 0xff, 0];
const inquiryVpd = (page: number): number[] => [0x12, 1, page, 0, 0xff, 0];

/** SPC-4 6.46 table 322: the parameter list of SET TARGET PORT GROUPS. */
function stpgList(...d: Array<[state: number, group: number]>): Uint8Array {
  const b = Buffer.alloc(4 + 4 * d.length);
  d.forEach(([state, group], k) => { b[4 + 4 * k] = state; b.writeUInt16BE(group, 4 + 4 * k + 2); });
  return b;
}

function senseOf(r: { senseKey?: number; asc?: number; ascq?: number }): [number | undefined, number | undefined, number | undefined] {
  return [r.senseKey, r.asc, r.ascq];
}

/**
 * Clear the unit attentions a new I_T_L nexus starts with, by REPORT TARGET PORT GROUPS: it
 * reports them (SPC-4 5.14) and is served in every access state, where TEST UNIT READY is not.
 */
async function clearUa(s: { execute: (lun: number, c: number[]) => Promise<{ status: number }> }): Promise<void> {
  for (let i = 0; i < 8; i++) if ((await s.execute(0, rtpg())).status === 0) return;
  throw new Error('unit attentions did not clear');
}

const NOT_READY = 0x2;
const ILLEGAL_REQUEST = 0x5;
const UNIT_ATTENTION = 0x6;

describe('ALUA: INQUIRY and VPD 83h (SPC-4 6.6.2, 7.8.6)', () => {
  it('reports the TPGS mode of each device in byte 5 bits 5..4', async () => {
    for (const [tpgs, bits] of [['implicit', 0x10], ['explicit', 0x20], ['both', 0x30]] as const) {
      const t = await start({ tpgs });
      try {
        const r = await t.session(INIT_A, { portal: PORTAL_1 }).execute(0, cdb.inquiry(36));
        expect(r.data[5] & 0x30, tpgs).to.equal(bits);
      } finally { await t.stop(); }
    }
  });

  it('names the relative target port and target port group of the portal the nexus came in on', async () => {
    const t = await start();
    try {
      for (const [portal, port] of [[PORTAL_1, 1], [PORTAL_2, 2]] as const) {
        const d = (await t.session(INIT_A, { portal }).execute(0, inquiryVpd(0x83))).data;
        // SPC-4 7.8.6.7: PIV 1, association 01b (target port), type 4, length 4, identifier in bytes 2..3
        const rel = d.indexOf(Buffer.from([0x51, 0x94, 0x00, 0x04]));
        expect(rel, 'relative target port designator').to.be.greaterThan(0);
        expect(d.readUInt16BE(rel + 6)).to.equal(port);
        // SPC-4 7.8.6.8: type 5, the target port group
        const tpg = d.indexOf(Buffer.from([0x51, 0x95, 0x00, 0x04]));
        expect(tpg, 'target port group designator').to.be.greaterThan(0);
        expect(d.readUInt16BE(tpg + 6)).to.equal(port);
      }
    } finally { await t.stop(); }
  });
});

describe('ALUA: REPORT TARGET PORT GROUPS (SPC-4 6.37)', () => {
  it('length-only format: both groups, their states and ports, byte for byte', async () => {
    const t = await start({ states: { 2: 'standby' } });
    try {
      const s = t.session(INIT_A, { portal: PORTAL_2 });
      await clearUa(s);
      const r = await s.execute(0, rtpg(0));
      expect(r.status).to.equal(0);
      expect(r.data.toString('hex')).to.equal([
        '00000018', // RETURN DATA LENGTH: two 12-byte descriptors
        '00', 'cf', '0001', '00', '00', '00', '01', '0000' + '0001', // AO, T/O/U/S/AN/AO_SUP, group 1, port 1
        '02', 'cf', '0002', '00', '00', '00', '01', '0000' + '0002', // standby, group 2, port 2
      ].join(''));
    } finally { await t.stop(); }
  });

  it('extended format: format type 001b and the implicit transition time in seconds', async () => {
    const t = await start({ transitionMs: 1500 });
    try {
      const s = t.session(INIT_A, { portal: PORTAL_1 });
      await clearUa(s);
      const r = await s.execute(0, rtpg(1));
      expect(r.data.subarray(0, 8).toString('hex')).to.equal('0000001c' + '10' + '02' + '0000');
      expect(r.data.length).to.equal(8 + 24);
    } finally { await t.stop(); }
  });

  it('a reserved parameter data format is INVALID FIELD IN CDB at byte 1 bit 7', async () => {
    const t = await start();
    try {
      const s = t.session(INIT_A, { portal: PORTAL_1 });
      await clearUa(s);
      const r = await s.execute(0, rtpg(2));
      expect(senseOf(r)).to.deep.equal([ILLEGAL_REQUEST, 0x24, 0x00]);
    } finally { await t.stop(); }
  });
});

describe('ALUA: commands allowed in each access state (SPC-4 5.16.2.4)', () => {
  /** The status and sense of `c` through portal 2, whose group is in `state`, once UAs are clear. */
  async function through(state: 'standby' | 'unavailable' | 'offline' | 'transitioning', c: number[], dataOut?: Uint8Array) {
    const t = await start({ states: { 2: state } });
    try {
      const s = t.session(INIT_A, { portal: PORTAL_2 });
      await clearUa(s);
      return await s.execute(0, c, dataOut ? { dataOut } : {});
    } finally { await t.stop(); }
  }

  it('standby: a medium access command is NOT READY, TARGET PORT IN STANDBY STATE; MODE SENSE and PR IN run', async () => {
    expect(senseOf(await through('standby', cdb.read10(0, 1)))).to.deep.equal([NOT_READY, 0x04, 0x0b]);
    expect(senseOf(await through('standby', cdb.tur()))).to.deep.equal([NOT_READY, 0x04, 0x0b]);
    expect((await through('standby', modeSense6())).status).to.equal(0);
    expect((await through('standby', [0x5e, 0, 0, 0, 0, 0, 0, 0, 0xff, 0])).status).to.equal(0);
  });

  it('unavailable: MODE SENSE is NOT READY, TARGET PORT IN UNAVAILABLE STATE; INQUIRY, REPORT LUNS, RTPG, STPG run', async () => {
    expect(senseOf(await through('unavailable', modeSense6()))).to.deep.equal([NOT_READY, 0x04, 0x0c]);
    expect(senseOf(await through('unavailable', cdb.write10(0, 1), Buffer.alloc(512)))).to.deep.equal([NOT_READY, 0x04, 0x0c]);
    expect((await through('unavailable', cdb.inquiry())).status).to.equal(0);
    expect((await through('unavailable', cdb.reportLuns())).status).to.equal(0);
    expect((await through('unavailable', rtpg())).status).to.equal(0);
    expect((await through('unavailable', stpg(8), stpgList([0x0, 2]))).status).to.equal(0);
  });

  it('offline: NOT READY, LOGICAL UNIT NOT READY, OFFLINE for the rest', async () => {
    expect(senseOf(await through('offline', cdb.read10(0, 1)))).to.deep.equal([NOT_READY, 0x04, 0x12]);
    expect((await through('offline', cdb.requestSense())).status).to.equal(0);
  });

  it('transitioning: SET TARGET PORT GROUPS too is NOT READY, ASYMMETRIC ACCESS STATE TRANSITION; RTPG runs', async () => {
    expect(senseOf(await through('transitioning', stpg(8), stpgList([0x0, 2])))).to.deep.equal([NOT_READY, 0x04, 0x0a]);
    expect(senseOf(await through('transitioning', cdb.read10(0, 1)))).to.deep.equal([NOT_READY, 0x04, 0x0a]);
    expect((await through('transitioning', rtpg())).status).to.equal(0);
  });

  it('the other group, active/optimized, serves everything', async () => {
    const t = await start({ states: { 2: 'standby' } });
    try {
      const s = t.session(INIT_A, { portal: PORTAL_1 });
      await clearUa(s);
      expect((await s.execute(0, cdb.read10(0, 1))).status).to.equal(0);
    } finally { await t.stop(); }
  });
});

describe('ALUA: SET TARGET PORT GROUPS (SPC-4 6.46)', () => {
  it('changes the states, reports them altered by STPG, and tells every other I_T nexus', async () => {
    const t = await start({ states: { 2: 'standby' } });
    try {
      const a = t.session(INIT_A, { portal: PORTAL_1 });
      const b = t.session(INIT_B, { portal: PORTAL_2 });
      await clearUa(a);
      await clearUa(b);
      const r = await a.execute(0, stpg(12), { dataOut: stpgList([0x2, 1], [0x0, 2]) });
      expect(r.status).to.equal(0);
      const d = (await a.execute(0, rtpg())).data;
      // group 1 standby, STATUS CODE 01h; group 2 active/optimized, 01h
      expect([d[4], d[9], d[16], d[21]]).to.deep.equal([0x02, 0x01, 0x00, 0x01]);
      // SPC-4 6.46: the sender's nexus gets no unit attention, every other one does.
      expect(senseOf(await b.execute(0, cdb.tur()))).to.deep.equal([UNIT_ATTENTION, 0x2a, 0x06]);
      expect(senseOf(await a.execute(0, cdb.tur()))).to.deep.equal([NOT_READY, 0x04, 0x0b]);
      expect(t.accessStates('disk0').states).to.deep.equal({ 1: 'standby', 2: 'active/optimized' });
    } finally { await t.stop(); }
  });

  it('refuses transitioning, reserved states, unknown and repeated groups, all or nothing', async () => {
    const t = await start();
    try {
      const a = t.session(INIT_A, { portal: PORTAL_1 });
      await clearUa(a);
      const bad = async (list: Uint8Array): Promise<unknown> => {
        const r = await a.execute(0, stpg(list.length), { dataOut: list });
        return [...senseOf(r), r.sense?.subarray(15, 18).toString('hex')];
      };
      // SENSE-KEY SPECIFIC: SKSV, C/D 0 (parameter list), BPV and bit, then the byte
      expect(await bad(stpgList([0x2, 1], [0xf, 2]))).to.deep.equal([ILLEGAL_REQUEST, 0x26, 0x00, '8b0008']);
      expect(await bad(stpgList([0x5, 1]))).to.deep.equal([ILLEGAL_REQUEST, 0x26, 0x00, '8b0004']);
      expect(await bad(stpgList([0x2, 3]))).to.deep.equal([ILLEGAL_REQUEST, 0x26, 0x00, '800006']);
      expect(await bad(stpgList([0x2, 1], [0x1, 1]))).to.deep.equal([ILLEGAL_REQUEST, 0x26, 0x00, '80000a']);
      expect(t.accessStates('disk0').states).to.deep.equal({});
      const r = await a.execute(0, stpg(6), { dataOut: Buffer.alloc(6) });
      expect(senseOf(r)).to.deep.equal([ILLEGAL_REQUEST, 0x1a, 0x00]);
      expect((await a.execute(0, stpg(0))).status).to.equal(0);
    } finally { await t.stop(); }
  });

  it('is not supported on a unit with implicit access management only', async () => {
    const t = await start({ tpgs: 'implicit' });
    try {
      const a = t.session(INIT_A, { portal: PORTAL_1 });
      await clearUa(a);
      const r = await a.execute(0, stpg(8), { dataOut: stpgList([0x2, 2]) });
      expect(senseOf(r)).to.deep.equal([ILLEGAL_REQUEST, 0x24, 0x00]);
      expect(t.accessStates('disk0').states).to.deep.equal({});
    } finally { await t.stop(); }
  });
});

describe('ALUA: implicit changes (engine API)', () => {
  it('queues ASYMMETRIC ACCESS STATE CHANGED for every I_T nexus of the unit', async () => {
    const t = await start();
    try {
      const a = t.session(INIT_A, { portal: PORTAL_1 });
      const b = t.session(INIT_B, { portal: PORTAL_2 });
      await clearUa(a);
      await clearUa(b);
      await t.setAccessStates('disk0', { 2: 'unavailable' });
      expect(senseOf(await a.execute(0, cdb.tur()))).to.deep.equal([UNIT_ATTENTION, 0x2a, 0x06]);
      expect(senseOf(await b.execute(0, cdb.tur()))).to.deep.equal([UNIT_ATTENTION, 0x2a, 0x06]);
      expect((await a.execute(0, cdb.tur())).status).to.equal(0);
      expect(senseOf(await b.execute(0, cdb.tur()))).to.deep.equal([NOT_READY, 0x04, 0x0c]);
      const d = (await a.execute(0, rtpg())).data;
      expect([d[16], d[21]]).to.deep.equal([0x03, 0x02]); // unavailable, altered by implicit behaviour
    } finally { await t.stop(); }
  });

  it('passes through transitioning for the transition time, with a unit attention at each change', async () => {
    const t = await start({ transitionMs: 200 });
    try {
      const b = t.session(INIT_B, { portal: PORTAL_2 });
      await clearUa(b);
      const done = t.setAccessStates('disk0', { 2: 'standby' });
      expect(senseOf(await b.execute(0, cdb.tur()))).to.deep.equal([UNIT_ATTENTION, 0x2a, 0x06]);
      expect(senseOf(await b.execute(0, cdb.tur()))).to.deep.equal([NOT_READY, 0x04, 0x0a]);
      expect((await b.execute(0, rtpg())).data[16]).to.equal(0x0f);
      await done;
      expect(senseOf(await b.execute(0, cdb.tur()))).to.deep.equal([UNIT_ATTENTION, 0x2a, 0x06]);
      expect(senseOf(await b.execute(0, cdb.tur()))).to.deep.equal([NOT_READY, 0x04, 0x0b]);
    } finally { await t.stop(); }
  });
});

describe('ALUA: states persist in the state directory', () => {
  it('a restart comes back in the states set by the engine API and by SET TARGET PORT GROUPS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nexus-alua-'));
    try {
      let t = await start({ states: { 2: 'standby' } }, dir);
      await t.setAccessStates('disk0', { 2: 'unavailable' });
      await t.stop();
      expect(JSON.parse(readFileSync(join(dir, 'alua', 'disk0.json'), 'utf8'))).to.deep.equal({ 2: 'unavailable' });
      t = await start({ states: { 2: 'standby' } }, dir);
      expect(t.accessStates('disk0').states).to.deep.equal({ 2: 'unavailable' });
      const a = t.session(INIT_A, { portal: PORTAL_1 });
      await clearUa(a);
      expect((await a.execute(0, stpg(8), { dataOut: stpgList([0x1, 1]) })).status).to.equal(0);
      await t.stop();
      t = await start({ states: { 2: 'standby' } }, dir);
      expect(t.accessStates('disk0').states).to.deep.equal({ 1: 'active/non-optimized', 2: 'unavailable' });
      await t.stop();
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});
