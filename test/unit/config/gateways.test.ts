import { expect } from 'chai';
import { normalizeTopology } from '../../../src/daemon/config/load';
import { topologyDocument } from '../../../src/daemon/control/config-document';
import { diffTopology } from '../../../src/daemon/control/topology-diff';
import { localPortalsOf, type Topology } from '../../../src/engine/topology';
import { expectOnly } from './expect-errors';

// Several gateways, one target (README "Scaling out with Ceph"): the topology's `gateway` names
// this daemon, each target port group the gateway that serves it.

function gateways(self = 'gw-a'): any {
  return {
    gateway: self,
    devices: [{ name: 'vol0', handler: 'rbd', pool: 'rbd', image: 'vol0',
      alua: { states: { 1: 'active/optimized', 2: 'active/non-optimized' } } }],
    targets: [{
      driver: 'iscsi', name: 'iqn.2026-11.io.nexus:ceph',
      portals: ['192.0.2.10:3260', '192.0.2.11:3260'],
      portGroups: [{ id: 1, gateway: 'gw-a', portals: ['192.0.2.10:3260'] }, { id: 2, gateway: 'gw-b', portals: ['192.0.2.11:3260'] }],
      luns: [{ lun: 0, device: 'vol0' }],
    }],
  };
}

function ok(doc: unknown): Topology {
  const r = normalizeTopology(doc, { baseDir: '/etc/nexus', cwd: '/srv' });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.topology;
}

describe('config: several gateways, one target', () => {
  it('marks the other gateways\' groups remote: listed, not listened on', () => {
    const a = ok(gateways('gw-a'));
    expect(a.gateway).to.equal('gw-a');
    expect(a.targets[0].portGroups).to.deep.equal([
      { id: 1, gateway: 'gw-a', portals: ['192.0.2.10:3260'] },
      { id: 2, gateway: 'gw-b', portals: ['192.0.2.11:3260'], remote: true },
    ]);
    expect(localPortalsOf(a.targets[0])).to.deep.equal(['192.0.2.10:3260']);
    const b = ok(gateways('gw-b'));
    expect(localPortalsOf(b.targets[0])).to.deep.equal(['192.0.2.11:3260']);
    // The same file but for `gateway`: the same groups, devices and states on both.
    expect(b.devices).to.deep.equal(a.devices);
  });

  it('leaves a single daemon unchanged: no gateway, every portal listened on', () => {
    const doc = gateways();
    delete doc.gateway;
    for (const g of doc.targets[0].portGroups) delete g.gateway;
    const t = ok(doc);
    expect(t).to.not.have.property('gateway');
    expect(localPortalsOf(t.targets[0])).to.deep.equal(['192.0.2.10:3260', '192.0.2.11:3260']);
  });

  it('refuses groups naming gateways when the topology does not say which one this daemon is', () => {
    const doc = gateways();
    delete doc.gateway;
    const r = normalizeTopology(doc, { baseDir: '/etc/nexus', cwd: '/srv' });
    expect(r.ok).to.equal(false);
    if (r.ok) return;
    expect(r.errors.map(e => e.path)).to.deep.equal(['/targets/0/portGroups/0/gateway', '/targets/0/portGroups/1/gateway']);
    expect(r.errors[0].message).to.contain('needs the topology\'s "gateway"');
  });

  it('refuses a group without a gateway in a target served by several', () => {
    const doc = gateways();
    delete doc.targets[0].portGroups[1].gateway;
    expectOnly(doc, '/targets/0/portGroups/1', 'names the gateway of each of its target port groups');
  });

  it('refuses a daemon that serves no group of the target', () => {
    expectOnly(gateways('gw-c'), '/targets/0/portGroups', 'no target port group of "iqn.2026-11.io.nexus:ceph" is served by gateway "gw-c"');
  });

  it('refuses a device that is not shared between gateways behind such a target', () => {
    const doc = gateways();
    doc.devices.push({ name: 'local0', handler: 'fileio', path: '/var/lib/nexus/local0.img', size: '1GiB' });
    doc.targets[0].luns.push({ lun: 1, device: 'local0' });
    expectOnly(doc, '/targets/0/luns/1/device', 'device "local0" (handler fileio) is not shared between gateways');
  });

  it('keeps the gateways in the running configuration\'s document, and a change of `gateway` needs a restart', () => {
    const a = ok(gateways('gw-a'));
    const doc = topologyDocument(a, { secrets: true }) as any;
    expect(doc.gateway).to.equal('gw-a');
    expect(doc.targets[0].portGroups).to.deep.equal(gateways().targets[0].portGroups);
    expect(ok(doc).targets[0].portGroups).to.deep.equal(a.targets[0].portGroups);
    const d = diffTopology(a, ok(gateways('gw-b')));
    expect(d.ok).to.equal(false);
    if (!d.ok) expect(d.errors.map(e => e.path)).to.include('/gateway');
  });
});
