import { expect } from 'chai';
import { normalizeTopology } from '../../../src/daemon/config/load';
import { topologyDocument } from '../../../src/daemon/control/config-document';
import { diffTopology } from '../../../src/daemon/control/topology-diff';
import { portalGroupTagOf, portGroupsOf, targetPortOf, type Topology } from '../../../src/engine/topology';
import { errorsOf, expectOnly } from './expect-errors';

// Target port groups and per-device access states in the topology (SPC-4 5.16.2.1).

function twoGroups(): any {
  return {
    devices: [
      { name: 'disk0', handler: 'nullio', size: '1MiB',
        alua: { tpgs: 'explicit', transitionMs: 2000, states: { 1: 'active/optimized', 2: 'standby' } } },
    ],
    targets: [{
      driver: 'iscsi', name: 'iqn.2026-11.io.nexus:mp',
      portals: ['127.0.0.1:3260', '127.0.0.1:3261'],
      portGroups: [{ id: 1, portals: ['127.0.0.1:3260'] }, { id: 2, portals: ['127.0.0.1:3261'] }],
      luns: [{ lun: 0, device: 'disk0' }],
    }],
  };
}

function ok(doc: unknown): Topology {
  const r = normalizeTopology(doc, { baseDir: '/etc/nexus', cwd: '/srv' });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.topology;
}

describe('config: target port groups and ALUA states', () => {
  it('normalizes two groups and a device\'s states', () => {
    const t = ok(twoGroups());
    expect(t.targets[0].portGroups).to.deep.equal([{ id: 1, portals: ['127.0.0.1:3260'] }, { id: 2, portals: ['127.0.0.1:3261'] }]);
    expect(t.devices[0].alua).to.deep.equal({ tpgs: 'explicit', transitionMs: 2000, states: { 1: 'active/optimized', 2: 'standby' } });
  });

  it('leaves a topology without them unchanged: one group of every portal, id 1', () => {
    const doc = twoGroups();
    delete doc.targets[0].portGroups;
    delete doc.devices[0].alua;
    const t = ok(doc);
    expect(t.targets[0]).to.not.have.property('portGroups');
    expect(t.devices[0]).to.not.have.property('alua');
    expect(portGroupsOf(t.targets[0])).to.deep.equal([{ id: 1, portals: ['127.0.0.1:3260', '127.0.0.1:3261'] }]);
  });

  it('defaults the TPGS mode to both and the transition time to 0', () => {
    const doc = twoGroups();
    doc.devices[0].alua = { states: { 2: 'standby' } };
    expect(ok(doc).devices[0].alua).to.deep.equal({ tpgs: 'both', transitionMs: 0, states: { 2: 'standby' } });
  });

  it('makes each port group one target port: its id is the TPGT and the relative target port identifier', () => {
    const t = ok(twoGroups()).targets[0];
    expect(targetPortOf(t, '127.0.0.1:3260')).to.deep.equal({ relativeTargetPortId: 1, targetPortGroupId: 1 });
    expect(targetPortOf(t, '127.0.0.1:3261')).to.deep.equal({ relativeTargetPortId: 2, targetPortGroupId: 2 });
    expect(targetPortOf(t, undefined)).to.deep.equal({ relativeTargetPortId: 1, targetPortGroupId: 1 });
    expect([portalGroupTagOf(t, '127.0.0.1:3260'), portalGroupTagOf(t, '127.0.0.1:3261')]).to.deep.equal([1, 2]);
    // Group ids need not follow the portal order; two portals of one group are one target port.
    const g = { portals: ['127.0.0.1:3260', '127.0.0.1:3261', '127.0.0.1:3262'], portGroups: [{ id: 7, portals: ['127.0.0.1:3262'] }, { id: 3, portals: ['127.0.0.1:3260', '127.0.0.1:3261'] }] };
    expect(targetPortOf(g, '127.0.0.1:3261')).to.deep.equal({ relativeTargetPortId: 3, targetPortGroupId: 3 });
    expect(targetPortOf(g, '127.0.0.1:3262')).to.deep.equal({ relativeTargetPortId: 7, targetPortGroupId: 7 });
    expect(portalGroupTagOf(g, '127.0.0.1:3260')).to.equal(3);
    // No groups: one group (id 1) of every portal, TPGT 1.
    expect(portalGroupTagOf({ portals: ['127.0.0.1:3260', '127.0.0.1:3261'] }, '127.0.0.1:3261')).to.equal(1);
  });

  it('refuses a state for a group no exporting target has', () => {
    const doc = twoGroups();
    doc.devices[0].alua.states[3] = 'standby';
    expectOnly(doc, '/devices/0/alua/states/3', 'target port group 3 is not a port group');
  });

  it('refuses a portal in two groups', () => {
    const doc = twoGroups();
    doc.targets[0].portGroups[1].portals.push('127.0.0.1:3260');
    expectOnly(doc, '/targets/0/portGroups/1/portals/1', 'already in the target port group at /targets/0/portGroups/0');
  });

  it('refuses a portal the target does not list, and a listed portal in no group', () => {
    const doc = twoGroups();
    doc.targets[0].portGroups[1].portals = ['127.0.0.1:3262'];
    const errs = errorsOf(doc);
    expect(errs.map(e => e.path)).to.have.members(['/targets/0/portGroups/1/portals/0', '/targets/0/portGroups']);
    expect(errs.map(e => e.message).join('\n')).to.contain('not one of the target\'s portals').and.contain('portal 127.0.0.1:3261 is in no target port group');
  });

  it('refuses a group id twice', () => {
    const doc = twoGroups();
    doc.targets[0].portGroups[1].id = 1;
    doc.devices[0].alua.states = { 1: 'standby' };
    expectOnly(doc, '/targets/0/portGroups/1/id', 'target port group 1 is already defined by /targets/0/portGroups/0');
  });

  it('refuses an unknown state and an unknown TPGS mode with their paths', () => {
    const doc = twoGroups();
    doc.devices[0].alua.states[2] = 'sleeping';
    doc.devices[0].alua.tpgs = 'sometimes';
    const errs = errorsOf(doc);
    expect(errs.map(e => e.path)).to.include.members(['/devices/0/alua/states/2', '/devices/0/alua/tpgs']);
  });
});

describe('config: ALUA settings in the running topology', () => {
  it('config.get writes them back as the file had them (the document normalizes to the same topology)', () => {
    const t = ok(twoGroups());
    const again = ok(topologyDocument(t, { secrets: true }));
    expect(again.targets[0].portGroups).to.deep.equal(t.targets[0].portGroups);
    expect(again.devices[0].alua).to.deep.equal(t.devices[0].alua);
  });

  it('a live change of port groups or of a device\'s ALUA settings is refused with its path', () => {
    const t = ok(twoGroups());
    const doc = twoGroups();
    doc.devices[0].alua.states[2] = 'unavailable';
    doc.targets[0].portGroups = [{ id: 2, portals: ['127.0.0.1:3260'] }, { id: 1, portals: ['127.0.0.1:3261'] }];
    const r = diffTopology(t, ok(doc));
    expect(r.ok).to.equal(false);
    if (r.ok) return;
    expect(r.errors.map(e => e.path)).to.have.members(['/devices/0/alua', '/targets/0/portGroups']);
  });
});
