import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EmbeddedTarget } from '../../../../src/embedded';
import { Status } from '../../../../src/engine/spec/status';
import { clearUa, INIT_A, INIT_B, ram, target } from '../embedded/fixture';
import { filePrStore } from '../../../../src/engine/pr-store';
import { PrSnapshot } from '../../../../src/engine/pr';
import { NexusError } from '../../../../src/engine/result';

// SPC-4 5.12.5: with APTPL = 1 registrations survive power loss (here: an engine restart).
const KEY = Buffer.from('1122334455667788', 'hex');
const register = (aptpl: boolean) => {
  const p = Buffer.alloc(24);
  KEY.copy(p, 8);                 // SERVICE ACTION RESERVATION KEY
  p[20] = aptpl ? 0x01 : 0x00;    // APTPL
  return p;
};
const PROUT_REGISTER = [0x5f, 0x00, 0x00, 0, 0, 0, 0, 0, 24, 0];
const PRIN_READ_KEYS = [0x5e, 0x00, 0, 0, 0, 0, 0, 0x01, 0x00, 0];

for (const threads of [0, 2]) describe(`persistent reservations across an engine restart (APTPL), ${threads} engine threads`, function () {
  // Two starts per test, each loading the sources into every engine thread: on a loaded machine
  // that alone can take most of mocha's default 20 s.
  if (threads > 0) this.timeout(90_000);
  let dir: string;
  let t: EmbeddedTarget | undefined;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nexus-pr-')); });
  afterEach(async () => { await t?.stop(); t = undefined; fs.rmSync(dir, { recursive: true, force: true }); });

  const start = () => {
    // The engine reads stateDir for its persistence store; embedded mode passes the topology through.
    const topology = { stateDir: dir, devices: [ram('disk0')], targets: [target()] };
    return EmbeddedTarget.start(topology, { threads });
  };

  async function keysAfterRestart(aptpl: boolean): Promise<Buffer> {
    t = await start();
    const a = t.session(INIT_A);
    await clearUa(a);
    expect((await a.execute(0, PROUT_REGISTER, { dataOut: register(aptpl) })).status).to.equal(Status.GOOD);
    await t.stop();
    t = await start();
    const b = t.session(INIT_A);
    await clearUa(b);
    const r = await b.execute(0, PRIN_READ_KEYS);
    expect(r.status).to.equal(Status.GOOD);
    return r.data;
  }

  it('APTPL = 1: the key is still registered after the restart, and PTPL_C is reported', async () => {
    const d = await keysAfterRestart(true);
    expect(d.readUInt32BE(4)).to.equal(8); // ADDITIONAL LENGTH: one key
    expect(d.subarray(8, 16).equals(KEY)).to.equal(true);
    expect(fs.existsSync(path.join(dir, 'pr', 'disk0.json'))).to.equal(true);
  });

  it('APTPL = 0: registrations do not survive', async () => {
    const d = await keysAfterRestart(false);
    expect(d.readUInt32BE(4)).to.equal(0);
  });
});

describe('persistent reservations of initiators not logged in since the restart (SPC-4 5.12.5)', () => {
  let dir: string;
  let t: EmbeddedTarget | undefined;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nexus-pr-')); });
  afterEach(async () => { await t?.stop(); t = undefined; fs.rmSync(dir, { recursive: true, force: true }); });

  const start = () => EmbeddedTarget.start({ stateDir: dir, devices: [ram('disk0')], targets: [target()] }, { threads: 0 });
  const prout = (sa: number, type: number, rk: number, sark: number, byte20 = 0) => {
    const p = Buffer.alloc(24);
    p[7] = rk; p[15] = sark; p[20] = byte20;
    return { cdb: [0x5f, sa, type, 0, 0, 0, 0, 0, 24, 0], dataOut: p };
  };
  const PRIN_READ_FULL_STATUS = [0x5e, 0x03, 0, 0, 0, 0, 0, 0x04, 0x00, 0];
  const EX_AC = 3;

  it('the holder\'s registration is listed and enforced before it logs in; its return starts with POWER ON, RESET', async () => {
    t = await start();
    const a = t.session(INIT_A, { isid: '400000000001' });
    const b = t.session(INIT_B, { isid: '400000000002' });
    for (const s of [a, b]) await clearUa(s);
    for (const [s, sa, type, rk, sark] of [[a, 0, 0, 0, 0x11], [b, 0, 0, 0, 0x22], [a, 1, EX_AC, 0x11, 0]] as const) {
      const p = prout(sa, type, rk, sark, 0x01);
      expect((await s.execute(0, p.cdb, { dataOut: p.dataOut })).status).to.equal(Status.GOOD);
    }
    await t.stop();
    t = await start();
    // Only B logs in again.
    const b2 = t.session(INIT_B, { isid: '400000000002' });
    await clearUa(b2);
    const fs1 = await b2.execute(0, PRIN_READ_FULL_STATUS);
    expect(fs1.data.readUInt32BE(0)).to.equal(0); // PRgeneration: zero after a power on (SPC-4 6.15.2)
    const portA = `${INIT_A},i,0x400000000001`;
    // first descriptor: A's key, R_HOLDER, EX_AC, relative port 1, A's TransportID (format 01b)
    expect([fs1.data[15], fs1.data[20], fs1.data[21], fs1.data.readUInt16BE(26), fs1.data[32]]).to.deep.equal([0x11, 0x01, EX_AC, 1, 0x45]);
    expect(fs1.data.subarray(36, 36 + portA.length).toString()).to.equal(portA);
    // the reservation of the absent holder is enforced
    expect((await b2.execute(0, [0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0])).status).to.equal(Status.RESERVATION_CONFLICT);
    // B preempts it; A, not seen since the power on, is told POWER ON, RESET, then is no registrant
    const p = prout(4, EX_AC, 0x22, 0x11, 0);
    expect((await b2.execute(0, p.cdb, { dataOut: p.dataOut })).status).to.equal(Status.GOOD);
    const a2 = t.session(INIT_A, { isid: '400000000001' });
    const first = await a2.execute(0, [0, 0, 0, 0, 0, 0]);
    expect([first.status, first.asc, first.ascq]).to.deep.equal([Status.CHECK_CONDITION, 0x29, 0x00]);
    await clearUa(a2);
    expect((await a2.execute(0, [0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0])).status).to.equal(Status.RESERVATION_CONFLICT);
  });
});

describe('the APTPL state file (crash safety)', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nexus-pr-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const state = (key: bigint): PrSnapshot => ({
    aptpl: true, registrations: [{ itKey: 'i|t', key, initiatorPort: 'i', relativeTargetPortId: 1, allTgPt: false }],
  });

  it('save replaces the file through a temporary that does not outlive it; load reads the 64-bit keys back', async () => {
    const store = filePrStore(dir);
    await store.save('disk/0', state(0xfedcba9876543210n));
    await store.save('disk/0', state(0x0123456789abcdefn));
    expect(fs.readdirSync(path.join(dir, 'pr'))).to.deep.equal(['disk%2F0.json']);
    expect(store.load('disk/0')?.registrations[0].key).to.equal(0x0123456789abcdefn);
  });

  it('a temporary left by a kill during a save is dropped; the file before it stands', async () => {
    const store = filePrStore(dir);
    await store.save('disk0', state(1n));
    fs.writeFileSync(path.join(dir, 'pr', 'disk0.json.tmp'), '{"aptpl":tr');
    expect(store.load('disk0')?.registrations[0].key).to.equal(1n);
    expect(fs.existsSync(path.join(dir, 'pr', 'disk0.json.tmp'))).to.equal(false);
  });

  it('a file that is not a state is refused (NexusError ERR_PR_STATE) rather than read as no registrations', () => {
    fs.mkdirSync(path.join(dir, 'pr'));
    fs.writeFileSync(path.join(dir, 'pr', 'disk0.json'), '');
    expect(() => filePrStore(dir).load('disk0')).to.throw(NexusError).with.property('code', 'ERR_PR_STATE');
  });
});
