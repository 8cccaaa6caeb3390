import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { JSONRPCErrorException } from 'json-rpc-2.0';
import { normalizeTopology } from '../../../src/daemon/config/load';
import { createLogger } from '../../../src/daemon/log';
import { ConfigTransactions, type LiveApplier } from '../../../src/daemon/control/config-apply';
import { configMethods } from '../../../src/daemon/control/config-methods';
import { topologyDocument } from '../../../src/daemon/control/config-document';
import { UNKNOWN_CALLER, type ControlMethod } from '../../../src/daemon/control/methods';
import { ControlErrorCode } from '../../../src/daemon/control/protocol';
import { describeStep, type Step } from '../../../src/daemon/control/topology-diff';
import { NexusError } from '../../../src/engine/result';

const T = 'iqn.2026-11.io.nexus:demo';
const SECRET = 'at-least-12-chars';

function doc(dir: string): any {
  return {
    stateDir: dir,
    engine: { threads: 1 },
    devices: [
      { name: 'disk0', handler: 'fileio', path: 'disk0.img', size: '4MiB' },
      { name: 'null0', handler: 'nullio', size: '1GiB' },
    ],
    targets: [{
      driver: 'iscsi', name: T, portals: ['127.0.0.1:3260'],
      auth: { chap: { user: 'alice', secret: SECRET } },
      luns: [{ lun: 0, device: 'disk0' }, { lun: 1, device: 'null0' }],
      groups: [],
    }],
  };
}

/** A live applier that records the steps and fails where told. */
class FakeLive implements LiveApplier {
  ran: string[] = [];
  failAt = Infinity;
  failUndoOf: Step['op'] | undefined;
  refuse: Step['op'] | undefined;
  private calls = 0;
  refuses(s: Step): string | undefined { return s.op === this.refuse ? 'not on this daemon' : undefined; }
  run = async (s: Step): Promise<void> => {
    this.calls++;
    if (this.calls === this.failAt) throw new NexusError('ERR_INJECTED', 'injected');
    if (this.calls > this.failAt && this.failUndoOf !== undefined && s.op === this.failUndoOf) throw new Error('undo injected');
    this.ran.push(describeStep(s));
  };
}

describe('control: configuration methods', () => {
  let dir: string;
  let lines: string[];
  let live: FakeLive;
  let tx: ConfigTransactions;
  let methods: Map<string, ControlMethod>;
  const file = (): string => path.join(dir, 'nexus.json');

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nexus-cfg-'));
    writeFileSync(file(), JSON.stringify(doc(dir)), { mode: 0o640 });
    const normalize = (d: unknown) => normalizeTopology(d, { cwd: dir, baseDir: dir });
    const r = normalize(doc(dir));
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    lines = [];
    const sink = new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } });
    live = new FakeLive();
    tx = new ConfigTransactions(r.topology, normalize, live, createLogger({ level: 'info', destination: sink }));
    methods = new Map(configMethods({ tx, file: file() }).map(m => [m.name, m]));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const call = (name: string, params: unknown): Promise<any> => methods.get(name)!.invoke(params, UNKNOWN_CALLER);
  const running = (): string => JSON.stringify(topologyDocument(tx.running, { secrets: true }));
  async function rejects(p: Promise<unknown>): Promise<JSONRPCErrorException> {
    try { await p; } catch (e) { return e as JSONRPCErrorException; }
    throw new Error('expected a rejection');
  }

  it('config.apply with dryRun returns the steps and changes nothing', async () => {
    const d = doc(dir);
    d.devices.push({ name: 'ram0', handler: 'ram', size: '1MiB' });
    d.targets[0].luns.push({ lun: 2, device: 'ram0' });
    const before = running();
    const r = await call('config.apply', { topology: d, dryRun: true });
    expect(r.applied).to.equal(false);
    expect(r.steps.map((s: any) => s.op)).to.deep.equal(['device.add', 'lun.map']);
    expect(live.ran).to.deep.equal([]);
    expect(running()).to.equal(before);
  });

  it('config.apply commits: the running topology is the applied one', async () => {
    const d = doc(dir);
    d.devices[0].size = '8MiB';
    const r = await call('config.apply', { topology: d });
    expect(r).to.deep.include({ applied: true });
    expect(live.ran).to.deep.equal([`resize device disk0 from ${4 << 20} to ${8 << 20} bytes`]);
    expect(tx.running.devices[0].sizeBytes).to.equal(8n << 20n);
    expect(lines.join('')).to.match(/"who":"control socket".*configuration step done/);
    expect(lines.join('')).to.match(/"result":"applied"/);
  });

  it('progress: true sends a progress notification as each step is done; without it, none', async () => {
    const d = doc(dir);
    d.devices.push({ name: 'ram0', handler: 'ram', size: '1MiB' });
    d.targets[0].luns.push({ lun: 2, device: 'ram0' });
    const sent: unknown[] = [];
    const caller = { notify: (method: string, params: { readonly [k: string]: unknown }) => { sent.push({ method, ...params }); } };
    await methods.get('config.apply')!.invoke({ topology: d, progress: true }, caller);
    expect(sent).to.deep.equal([
      { method: 'progress', done: 1, steps: 2, description: 'add device ram0 (ram, 1048576 bytes)' },
      { method: 'progress', done: 2, steps: 2, description: `target ${T}: map LUN 2 to device ram0` },
    ]);
    sent.length = 0;
    await methods.get('device.resize')!.invoke({ name: 'ram0', size: '2MiB' }, caller);
    expect(sent).to.deep.equal([]);
    await methods.get('device.resize')!.invoke({ name: 'ram0', size: '4MiB', progress: true }, caller);
    expect(sent).to.have.length(1);
    expect(lines.join('')).to.match(/"done":1,"steps":1,.*configuration step done/);
  });

  it('an invalid topology is refused with the loader\'s messages under /params/topology', async () => {
    const d = doc(dir);
    d.targets[0].luns.push({ lun: 5, device: 'nope' });
    const e = await rejects(call('config.apply', { topology: d }));
    expect(e.code).to.equal(ControlErrorCode.INVALID_PARAMS);
    expect(e.data.errors).to.deep.include({ path: '/params/topology/targets/0/luns/2/device', message: 'device "nope" is not defined' });
  });

  it('a change that cannot be made live is refused with its path, nothing run', async () => {
    const d = doc(dir);
    d.devices[1].blockSize = 4096;
    d.devices[0].size = '8MiB';
    const e = await rejects(call('config.apply', { topology: d }));
    expect(e.code).to.equal(ControlErrorCode.NOT_LIVE);
    expect(e.data.path).to.equal('/params/topology/devices/1/blockSize');
    expect(live.ran).to.deep.equal([]);
  });

  it('a step the daemon cannot carry out is refused before any step runs', async () => {
    live.refuse = 'lun.map';
    const d = doc(dir);
    d.devices[0].size = '8MiB';
    d.targets[0].luns.push({ lun: 7, device: 'null0' });
    const e = await rejects(call('config.apply', { topology: d }));
    expect(e.code).to.equal(ControlErrorCode.NOT_LIVE);
    expect(e.data.errors[0].message).to.match(/map LUN 7.*not on this daemon/);
    expect(live.ran).to.deep.equal([]);
  });

  /** A change of five steps. */
  function fiveSteps(): any {
    const d = doc(dir);
    d.devices[0].size = '8MiB';
    d.devices.push({ name: 'ram0', handler: 'ram', size: '1MiB' });
    d.targets[0].luns = [{ lun: 0, device: 'disk0' }, { lun: 2, device: 'ram0' }];
    d.targets[0].portals.push('127.0.0.1:3261');
    return d;
  }

  for (let k = 1; k <= 5; k++) {
    it(`a failure at step ${k} of 5 leaves config.get byte-identical`, async () => {
      const before = running();
      const beforeRedacted = JSON.stringify(topologyDocument(tx.running, { secrets: false }));
      live.failAt = k;
      const e = await rejects(call('config.apply', { topology: fiveSteps() }));
      expect(e.code).to.equal(ControlErrorCode.TRANSACTION_FAILED);
      expect(e.data.transaction.failed.index).to.equal(k - 1);
      expect(e.data.transaction.undone).to.equal(k - 1);
      expect(e.data.transaction.undoFailures).to.deep.equal([]);
      expect(running()).to.equal(before);
      expect(JSON.stringify(topologyDocument(tx.running, { secrets: false }))).to.equal(beforeRedacted);
      expect(live.ran).to.have.length(2 * (k - 1));
    });
  }

  it('a failed undo is in the error, logged, and config.get says what still runs', async () => {
    live.failAt = 5;
    live.failUndoOf = 'lun.map'; // the undo of the first step (unmap LUN 1) fails
    const e = await rejects(call('config.apply', { topology: fiveSteps() }));
    expect(e.code).to.equal(ControlErrorCode.TRANSACTION_FAILED);
    expect(e.data.transaction.undoFailures).to.have.length(1);
    expect(e.data.transaction.undoFailures[0]).to.deep.include({ index: 0, error: 'undo injected' });
    // LUN 1 stayed unmapped; everything else is back.
    expect(tx.running.targets[0].luns.map(m => m.lun)).to.deep.equal([0]);
    expect(tx.running.devices.map(d => d.name)).to.deep.equal(['disk0', 'null0']);
    expect(tx.running.devices[0].sizeBytes).to.equal(4n << 20n);
    expect(lines.join('')).to.match(/"level":50.*UNDO FAILED/);
  });

  it('the per-object methods are one-step config.applies', async () => {
    await call('device.add', { device: { name: 'ram0', handler: 'ram', size: '1MiB' } });
    await call('lun.map', { target: T, lun: 3, device: 'ram0', readOnly: true });
    await call('device.resize', { name: 'ram0', size: '2MiB' });
    await call('device.set', { name: 'disk0', writeCache: 'writethrough' });
    await call('group.add', { target: T, group: { name: 'g', initiators: ['iqn.x:*'], luns: [{ lun: 0, device: 'ram0' }] } });
    await call('group.set', { target: T, name: 'g', initiators: ['iqn.y:*'] });
    await call('auth.set', { target: T, group: 'g', auth: { chap: { user: 'g', secret: 'group-secret-123' } } });
    await call('iscsi.set', { settings: { queueDepth: 64 } });
    await call('target.add', { target: { driver: 'iscsi', name: `${T}2`, portals: ['127.0.0.1:3262'], luns: [{ lun: 0, device: 'null0' }] } });
    await call('target.disable', { name: `${T}2` });
    expect(tx.running.targets[1].enabled).to.equal(false);
    expect(JSON.stringify(topologyDocument(tx.running, { secrets: false }))).to.contain('"enabled":false');
    await call('target.enable', { name: `${T}2` });
    expect(tx.running.targets[1].enabled).to.equal(undefined);
    expect(live.ran).to.deep.equal([
      'add device ram0 (ram, 1048576 bytes)',
      `target ${T}: map LUN 3 to device ram0 read-only`,
      'resize device ram0 from 1048576 to 2097152 bytes',
      'device disk0 write cache writeback -> writethrough',
      `target ${T}: add group g for iqn.x:*`,
      `target ${T} group g: map LUN 0 to device ram0`,
      `target ${T} group g: initiators iqn.x:* -> iqn.y:*`,
      `target ${T} group g: CHAP none -> user g`,
      'iscsi queueDepth 128 -> 64',
      `add target ${T}2`,
      `target ${T}2: map LUN 0 to device null0`,
      `disable target ${T}2`,
      `enable target ${T}2`,
    ]);
    const e = await rejects(call('device.remove', { name: 'ram0' }));
    expect(e.code).to.equal(ControlErrorCode.INVALID_PARAMS);
    expect(e.data.errors[0].message).to.match(/still mapped at \/targets\/0\/luns/);
    await call('group.remove', { target: T, name: 'g' });
    await call('lun.unmap', { target: T, lun: 3 });
    await call('device.remove', { name: 'ram0' });
    await call('target.remove', { name: `${T}2` });
    expect(JSON.stringify(topologyDocument(tx.running, { secrets: true }))).to.not.contain('ram0');
    const nf = await rejects(call('lun.unmap', { target: T, lun: 9 }));
    expect(nf.code).to.equal(ControlErrorCode.NOT_FOUND);
    expect(nf.data.path).to.equal('/params/lun');
    const bad = await rejects(call('lun.map', { target: T, lun: 'x', device: 'disk0' }));
    expect(bad.code).to.equal(ControlErrorCode.INVALID_PARAMS);
    expect(bad.data.path).to.equal('/params/lun');
  });

  it('never logs a CHAP secret given through the control socket', async () => {
    await call('auth.set', { target: T, auth: { chap: { user: 'bob', secret: 'brand-new-secret-42' } } });
    expect(lines.join('')).to.contain('user bob');
    expect(lines.join('')).to.not.contain('brand-new-secret-42').and.not.contain(SECRET);
  });

  it('config.save writes the running topology atomically, keeping the previous file as .bak', async () => {
    const previous = readFileSync(file(), 'utf8');
    await call('device.resize', { name: 'disk0', size: '8MiB' });
    const r = await call('config.save', {});
    expect(r.file).to.equal(file());
    expect(readFileSync(`${file()}.bak`, 'utf8')).to.equal(previous);
    const saved = JSON.parse(readFileSync(file(), 'utf8'));
    expect(saved.devices[0].size).to.equal(8 << 20);
    // Secrets kept as given, the mode of the previous file kept, no temporary file left.
    expect(saved.targets[0].auth.chap.secret).to.equal(SECRET);
    expect(statSync(file()).mode & 0o777).to.equal(0o640);
    expect(readdirSync(dir).filter(f => f.endsWith('.tmp'))).to.deep.equal([]);
    // What was saved loads to the running topology again.
    const again = normalizeTopology(saved, { cwd: dir, baseDir: dir });
    expect(again.ok && JSON.stringify(topologyDocument(again.topology, { secrets: true }))).to.equal(running());
  });

  it('a CHAP secret by reference (secretFile) is read for logins, and config.get and config.save keep the reference', async () => {
    writeFileSync(path.join(dir, 'mutual.chap'), 'mutual-secret-1234\n', { mode: 0o600 });
    await call('auth.set', { target: T, auth: { chap: { user: 'alice', secret: SECRET }, mutualChap: { user: 'tgt', secretFile: 'mutual.chap' } } });
    expect(tx.running.targets[0].auth?.mutualChap).to.deep.equal({ user: 'tgt', secret: 'mutual-secret-1234', secretFile: path.join(dir, 'mutual.chap') });
    const shown = topologyDocument(tx.running, { secrets: true }) as any;
    expect(shown.targets[0].auth.mutualChap).to.deep.equal({ user: 'tgt', secretFile: path.join(dir, 'mutual.chap') });
    await call('config.save', {});
    const text = readFileSync(file(), 'utf8');
    expect(text).to.contain('"secretFile"');
    expect(text).to.not.contain('mutual-secret-1234');
    // Neither, both, or a file that cannot be read: refused with the JSON path.
    const bad = async (c: object): Promise<string[]> => {
      const e = await rejects(call('auth.set', { target: T, auth: { chap: { user: 'alice', secret: SECRET }, mutualChap: c } }));
      return (e.data as { errors: { path: string; message: string }[] }).errors.map(x => `${x.path}: ${x.message}`);
    };
    expect(await bad({ user: 'tgt' })).to.deep.equal(['/params/targets/0/auth/mutualChap: give the CHAP secret as "secret" or by reference as "secretFile"']);
    expect((await bad({ user: 'tgt', secret: 'another-secret-12', secretFile: 'mutual.chap' }))[0]).to.match(/\/mutualChap\/secretFile: .*not both/);
    expect((await bad({ user: 'tgt', secretFile: 'missing.chap' }))[0]).to.match(/\/mutualChap\/secretFile: cannot read .*missing\.chap: ENOENT/);
  });

  it('config.save without a topology file says so', async () => {
    const m = new Map(configMethods({ tx, file: undefined }).map(x => [x.name, x]));
    const e = await rejects(m.get('config.save')!.invoke({}, UNKNOWN_CALLER));
    expect(e.code).to.equal(ControlErrorCode.SAVE_FAILED);
  });

  it('changes run one at a time, in the order they arrived', async () => {
    const a = call('device.resize', { name: 'disk0', size: '8MiB' });
    const b = call('device.resize', { name: 'disk0', size: '16MiB' });
    await Promise.all([a, b]);
    expect(live.ran).to.deep.equal([
      `resize device disk0 from ${4 << 20} to ${8 << 20} bytes`,
      `resize device disk0 from ${8 << 20} to ${16 << 20} bytes`,
    ]);
  });
});
