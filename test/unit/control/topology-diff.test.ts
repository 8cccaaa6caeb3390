import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { normalizeTopology } from '../../../src/daemon/config/load';
import type { Topology } from '../../../src/engine/topology';
import { describeStep, diffTopology, inverseOf, type Step } from '../../../src/daemon/control/topology-diff';
import { applyStepToTopology } from '../../../src/daemon/control/topology-steps';

const T = 'iqn.2026-11.io.nexus:demo';
const T2 = 'iqn.2026-11.io.nexus:other';

let dir = '';
let isoA = '';
let isoB = '';
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'nexus-diff-'));
  isoA = path.join(dir, 'a.iso');
  isoB = path.join(dir, 'b.iso');
  writeFileSync(isoA, Buffer.alloc(16 * 2048));
  writeFileSync(isoB, Buffer.alloc(32 * 2048));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A topology document; each test edits its own copy. */
function doc(): any {
  return {
    stateDir: '/var/lib/nexus',
    engine: { threads: 2 },
    devices: [
      { name: 'disk0', handler: 'fileio', path: 'disk0.img', size: '64MiB' },
      { name: 'null0', handler: 'nullio', size: '1GiB' },
      { name: 'cd0', handler: 'vcdrom', deviceType: 'cdrom', path: isoA, blockSize: 2048 },
    ],
    targets: [{
      driver: 'iscsi', name: T, portals: ['127.0.0.1:3260'],
      auth: { chap: { user: 'alice', secret: 'at-least-12-chars' } },
      luns: [{ lun: 0, device: 'disk0' }, { lun: 1, device: 'null0' }],
      groups: [{ name: 'readers', initiators: ['iqn.2026-11.example:r*'], luns: [{ lun: 0, device: 'disk0', readOnly: true }] }],
    }],
  };
}

function norm(d: unknown): Topology {
  const r = normalizeTopology(d, { cwd: '/work', baseDir: '/work' });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.topology;
}

function diff(a: unknown, b: unknown): Step[] {
  const r = diffTopology(norm(a), norm(b));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.steps;
}

const ops = (steps: Step[]): string[] => steps.map(s => s.op);

/** The steps applied to the model turn `a` into a topology with no difference left to `b`, and their undos back into `a`. */
function roundTrip(a: unknown, b: unknown): Step[] {
  const from = norm(a);
  const to = norm(b);
  const r = diffTopology(from, to);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  let t = from;
  for (const s of r.steps) t = applyStepToTopology(t, s);
  const left = diffTopology(t, to);
  expect(left.ok && left.steps.map(describeStep)).to.deep.equal([]);
  for (const s of [...r.steps].reverse()) t = applyStepToTopology(t, inverseOf(s));
  const back = diffTopology(t, from);
  expect(back.ok && back.steps.map(describeStep)).to.deep.equal([]);
  return r.steps;
}

describe('config.apply: topology diff', () => {
  it('finds nothing to do between equal topologies', () => {
    expect(diff(doc(), doc())).to.deep.equal([]);
  });

  it('adds a device and maps it', () => {
    const b = doc();
    b.devices.push({ name: 'ram0', handler: 'ram', size: '8MiB' });
    b.targets[0].luns.push({ lun: 2, device: 'ram0' });
    const steps = roundTrip(doc(), b);
    expect(ops(steps)).to.deep.equal(['device.add', 'lun.map']);
    expect(steps[1]).to.deep.include({ target: T, mapping: { lun: 2, device: 'ram0', readOnly: false } });
  });

  it('unmaps before removing the device the mapping named', () => {
    const b = doc();
    b.devices = b.devices.filter((d: any) => d.name !== 'null0');
    b.targets[0].luns = [{ lun: 0, device: 'disk0' }];
    expect(ops(roundTrip(doc(), b))).to.deep.equal(['lun.unmap', 'device.remove']);
  });

  it('a mapping whose device or read-only flag changed is unmapped, then mapped again', () => {
    const b = doc();
    b.targets[0].luns[1] = { lun: 1, device: 'null0', readOnly: true };
    b.targets[0].groups[0].luns[0].device = 'null0';
    const steps = roundTrip(doc(), b);
    expect(ops(steps)).to.deep.equal(['lun.unmap', 'lun.unmap', 'lun.map', 'lun.map']);
    expect(steps.filter(s => s.op === 'lun.map').map(s => (s as any).group)).to.deep.equal([undefined, 'readers']);
  });

  it('resizes, changes the write cache and the read-only flag in place', () => {
    const b = doc();
    b.devices[0].size = '128MiB';
    b.devices[0].writeCache = 'writethrough';
    b.devices[1].readOnly = true;
    const steps = roundTrip(doc(), b);
    // The mappings keep their own flag (the unit refuses writes itself): nothing is unmapped.
    expect(ops(steps)).to.deep.equal(['device.resize', 'device.writeCache', 'device.readOnly']);
    expect(steps[0]).to.deep.equal({ op: 'device.resize', device: 'disk0', from: 64n << 20n, to: 128n << 20n });
    expect(steps[2]).to.deep.equal({ op: 'device.readOnly', device: 'null0', from: false, to: true });
  });

  it('changes the INQUIRY fields in place (INQUIRY DATA HAS CHANGED)', () => {
    const b = doc();
    b.devices[0].vendor = 'ACME';
    b.devices[0].serial = 'SN-0042';
    const steps = roundTrip(doc(), b);
    expect(steps).to.deep.equal([{ op: 'device.inquiry', device: 'disk0', from: {}, to: { vendor: 'ACME', serial: 'SN-0042' } }]);
    expect(describeStep(steps[0])).to.equal('device disk0 INQUIRY (defaults) -> vendor "ACME", serial "SN-0042"');
  });

  it("changes a CD/DVD device's medium, and ejects it", () => {
    const b = doc();
    b.devices[2].path = isoB;
    expect(roundTrip(doc(), b)).to.deep.equal([{ op: 'device.medium', device: 'cd0', from: isoA, to: isoB }]);
    delete b.devices[2].path;
    expect(roundTrip(doc(), b)).to.deep.equal([{ op: 'device.medium', device: 'cd0', from: isoA, to: undefined }]);
  });

  it('refuses what a live unit cannot change, naming the JSON path in the new document', () => {
    const b = doc();
    b.devices.reverse();
    b.devices[2].handler = 'ram'; // disk0, now at index 2
    delete b.devices[2].path;
    b.devices[1].blockSize = 4096; // null0
    b.devices[1].removable = true; // null0
    b.engine.threads = 3;
    (b.engine as { statistics?: boolean }).statistics = false;
    b.stateDir = '/srv/nexus';
    const r = diffTopology(norm(doc()), norm(b));
    expect(r.ok).to.equal(false);
    const paths = r.ok ? [] : r.errors.map(e => e.path).sort();
    expect(paths).to.deep.equal(['/devices/1/blockSize', '/devices/1/removable', '/devices/2/handler', '/devices/2/path', '/devices/2/thin', '/engine/statistics', '/engine/threads', '/stateDir']);
    if (!r.ok) expect(r.errors.find(e => e.path === '/devices/2/handler')!.message).to.match(/handler of device "disk0" cannot be changed.*new name/);
  });

  it('a device replaced under a new name is a removal and an addition', () => {
    const b = doc();
    b.devices[0] = { name: 'disk1', handler: 'ram', size: '64MiB' };
    b.targets[0].luns[0].device = 'disk1';
    b.targets[0].groups[0].luns[0].device = 'disk1';
    expect(ops(roundTrip(doc(), b))).to.deep.equal(['lun.unmap', 'lun.unmap', 'device.remove', 'device.add', 'lun.map', 'lun.map']);
  });

  it('adds a target with its portals, groups and maps in dependency order', () => {
    const b = doc();
    b.targets.push({
      driver: 'iscsi', name: T2, portals: ['127.0.0.1:3261'],
      luns: [{ lun: 0, device: 'null0' }],
      groups: [{ name: 'g', initiators: ['iqn.x:*'], luns: [{ lun: 3, device: 'disk0' }] }],
    });
    const steps = roundTrip(doc(), b);
    expect(ops(steps)).to.deep.equal(['target.add', 'group.add', 'lun.map', 'lun.map']);
    expect((steps[0] as any).target).to.not.have.property('luns');
    expect((steps[0] as any).target.portals).to.deep.equal(['127.0.0.1:3261']);
  });

  it('removes a target after its maps and groups', () => {
    const b = doc();
    b.targets = [];
    expect(ops(roundTrip(doc(), b))).to.deep.equal(['lun.unmap', 'lun.unmap', 'lun.unmap', 'group.remove', 'target.remove']);
  });

  it('portals, alias, auth, discovery auth', () => {
    const b = doc();
    b.targets[0].portals = ['127.0.0.1:3262'];
    b.targets[0].alias = 'demo';
    b.targets[0].auth = { chap: { user: 'alice', secret: 'a-new-secret-of-16' } };
    b.targets[0].discoveryAuth = { chap: { user: 'disco', secret: 'discovery-secret' } };
    b.targets[0].groups[0].auth = { chap: { user: 'r', secret: 'reader-secret-12' }, mutualChap: { user: 't', secret: 'target-secret-12' } };
    const steps = roundTrip(doc(), b);
    expect(ops(steps)).to.deep.equal(['portal.remove', 'portal.add', 'target.alias', 'auth.set', 'auth.set', 'auth.set']);
    expect(steps.filter(s => s.op === 'auth.set').map(s => [(s as any).scope, (s as any).group])).to.deep.equal([
      ['auth', undefined], ['discoveryAuth', undefined], ['auth', 'readers'],
    ]);
  });

  it('a target disabled first, enabled last', () => {
    const b = doc();
    b.targets[0].enabled = false;
    b.targets[0].luns.pop();
    expect(ops(roundTrip(doc(), b))).to.deep.equal(['target.disable', 'lun.unmap']);
    const c = doc();
    c.targets[0].luns.push({ lun: 4, device: 'null0' });
    expect(ops(roundTrip(b, c))).to.deep.equal(['lun.map', 'lun.map', 'target.enable']);
  });

  it('never shows a CHAP secret in the description of a step', () => {
    const b = doc();
    b.targets[0].auth = { chap: { user: 'alice', secret: 'a-new-secret-of-16' } };
    const text = diff(doc(), b).map(describeStep).join('\n');
    expect(text).to.contain('user alice');
    expect(text).to.not.contain('a-new-secret-of-16').and.not.contain('at-least-12-chars');
  });

  it('groups: added, removed, initiator patterns changed', () => {
    const b = doc();
    b.targets[0].groups[0].initiators = ['iqn.2026-11.example:r*', 'iqn.2026-11.example:s?'];
    b.targets[0].groups.push({ name: 'w', initiators: ['iqn.w:*'], luns: [{ lun: 5, device: 'null0', readOnly: true }] });
    const steps = roundTrip(doc(), b);
    expect(ops(steps)).to.deep.equal(['group.initiators', 'group.add', 'lun.map']);
    const c = doc();
    c.targets[0].groups = [];
    expect(ops(roundTrip(doc(), c))).to.deep.equal(['lun.unmap', 'group.remove']);
  });

  it('iSCSI parameters for new sessions', () => {
    const b = doc();
    b.iscsi = { maxRecvDataSegmentLength: 65536, nopInIntervalSec: 5 };
    const steps = roundTrip(doc(), b);
    expect(steps.every(s => s.op === 'iscsi.set')).to.equal(true);
    expect(steps.map(s => (s as any).key).sort()).to.deep.equal(['maxRecvDataSegmentLength', 'nopInIntervalSec']);
    expect(steps.find(s => (s as any).key === 'nopInIntervalSec')).to.deep.include({ from: 15, to: 5 });
  });

  it('a change touching everything at once orders removals, changes, additions', () => {
    const b = doc();
    b.devices = b.devices.filter((d: any) => d.name !== 'null0');
    b.devices.push({ name: 'ram0', handler: 'ram', size: '8MiB' });
    b.devices[0].size = '96MiB';
    b.targets[0].luns = [{ lun: 0, device: 'disk0' }, { lun: 1, device: 'ram0' }];
    b.iscsi = { queueDepth: 64 };
    const steps = roundTrip(doc(), b);
    expect(ops(steps)).to.deep.equal(['lun.unmap', 'device.remove', 'device.resize', 'iscsi.set', 'device.add', 'lun.map']);
  });

  it('every inverse is an involution', () => {
    const b = doc();
    b.devices.push({ name: 'ram0', handler: 'ram', size: '8MiB' });
    b.devices[0].size = '128MiB';
    b.devices[2].path = isoB;
    b.targets[0].portals.push('127.0.0.1:3263');
    b.targets[0].groups[0].initiators = ['x:*'];
    b.targets[0].alias = 'a';
    b.iscsi = { queueDepth: 64 };
    for (const s of diff(doc(), b)) expect(inverseOf(inverseOf(s))).to.deep.equal(s);
  });
});
