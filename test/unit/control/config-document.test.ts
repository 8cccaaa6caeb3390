import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { normalizeTopology } from '../../../src/daemon/config/load';
import { createLogger } from '../../../src/daemon/log';
import { ConfigTransactions, type LiveApplier } from '../../../src/daemon/control/config-apply';
import { configMethods } from '../../../src/daemon/control/config-methods';
import { UNKNOWN_CALLER } from '../../../src/daemon/control/methods';
import { topologyDocument } from '../../../src/daemon/control/config-document';
import { describeStep, type Step } from '../../../src/daemon/control/topology-diff';
import { Cartridge } from '../../../src/engine/backstores/tape-cartridge';

/**
 * config.get's document of devices whose size comes from their medium (a CD/DVD-ROM's image, a
 * tape drive's cartridge) and of a changer (its library) loads again as it is: every change
 * method starts from it, so `nexus device medium` on such a daemon depends on it.
 */
describe('control: the configuration document of removable-medium devices and libraries', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(path.join(tmpdir(), 'nexus-doc-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function doc(): Promise<unknown> {
    writeFileSync(path.join(dir, 'a.iso'), Buffer.alloc(16 * 2048, 1));
    writeFileSync(path.join(dir, 'b.iso'), Buffer.alloc(24 * 2048, 2));
    for (const n of [1, 2, 3]) await Cartridge.create(path.join(dir, `NXS00${n}L6.tape`), { barcode: `NXS00${n}L6`, capacityBytes: 1 << 20 });
    return {
      stateDir: dir,
      devices: [
        { name: 'cd0', handler: 'vcdrom', path: 'a.iso' },
        { name: 'st0', handler: 'vtape', path: 'NXS003L6.tape' },
        { name: 'lib0', handler: 'changer', drives: ['lt0', 'lt1'], slots: 4, mailSlots: 1,
          cartridges: [1, 2].map(n => ({ barcode: `NXS00${n}L6`, path: `NXS00${n}L6.tape`, slot: n })) },
        { name: 'lt0', handler: 'vtape' },
        { name: 'lt1', handler: 'vtape' },
      ],
      targets: [{
        driver: 'iscsi', name: 'iqn.2026-11.io.nexus:vtl', portals: ['127.0.0.1:3260'],
        luns: ['cd0', 'st0', 'lib0', 'lt0', 'lt1'].map((device, lun) => ({ lun, device })),
      }],
    };
  }

  it('normalizes again to the same document, the library with its drives, slots, cartridges and state file', async () => {
    const first = normalizeTopology(await doc(), { cwd: dir, baseDir: dir });
    if (!first.ok) throw new Error(JSON.stringify(first.errors));
    const written = topologyDocument(first.topology, { secrets: true });
    const again = normalizeTopology(written, { cwd: dir, baseDir: dir });
    expect(again.ok ? [] : again.errors).to.deep.equal([]);
    if (!again.ok) return;
    expect(topologyDocument(again.topology, { secrets: true })).to.deep.equal(written);
    const devices = written.devices as Array<Record<string, unknown>>;
    expect(devices[0]).to.not.have.any.keys('size', 'physicalBlockSize');
    expect(devices[1]).to.not.have.any.keys('size', 'blockSize', 'physicalBlockSize');
    expect(devices[2]).to.not.have.any.keys('path', 'size', 'blockSize', 'readOnly', 'removable', 'thin', 'writeCache');
    expect(devices[2]).to.deep.include({
      drives: ['lt0', 'lt1'], slots: 4, mailSlots: 1, state: path.join(dir, 'lib0.library.json'),
      cartridges: [1, 2].map(n => ({ barcode: `NXS00${n}L6`, path: path.join(dir, `NXS00${n}L6.tape`), slot: n })),
    });
  });

  it('device.medium on that daemon is one medium step for the CD/DVD-ROM and for the tape drive', async () => {
    const normalize = (d: unknown) => normalizeTopology(d, { cwd: dir, baseDir: dir });
    const r = normalize(await doc());
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const ran: string[] = [];
    const live: LiveApplier = { refuses: () => undefined, run: async (s: Step) => { ran.push(describeStep(s)); } };
    const tx = new ConfigTransactions(r.topology, normalize, live, createLogger({ level: 'silent' }));
    const methods = new Map(configMethods({ tx, file: undefined }).map(m => [m.name, m]));
    const call = (params: unknown): Promise<{ steps: Array<{ op: string }> }> => methods.get('device.medium')!.invoke(params, UNKNOWN_CALLER) as never;
    expect((await call({ name: 'cd0', path: path.join(dir, 'b.iso') })).steps.map(s => s.op)).to.deep.equal(['device.medium']);
    expect((await call({ name: 'cd0' })).steps.map(s => s.op)).to.deep.equal(['device.medium']);
    expect((await call({ name: 'st0' })).steps.map(s => s.op)).to.deep.equal(['device.medium']);
    expect(ran).to.have.length(3);
    expect(topologyDocument(tx.running, { secrets: false }).devices).to.satisfy((ds: Array<{ name: string; path?: string }>) =>
      ds.find(d => d.name === 'cd0')?.path === undefined && ds.find(d => d.name === 'st0')?.path === undefined);
  });
});
