import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EmbeddedTarget } from '../../../../src/embedded';
import { Status } from '../../../../src/engine/spec/status';
import { clearUa, INIT_A, ram, target } from '../embedded/fixture';

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

for (const threads of [0, 2]) describe(`persistent reservations across an engine restart (APTPL), ${threads} engine threads`, () => {
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
