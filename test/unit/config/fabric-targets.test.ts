// Fabric targets in the topology (driver loopback, fc, fcoe, srp; kernel-shim/): each fabric's
// WWN and initiator names are checked as its kernel module checks them, errors naming the JSON
// path, and the normalized target carries its port, TPG and ACLs.
import { expect } from 'chai';
import { normalizeTopology } from '../../../src/daemon/config/load';
import type { Topology } from '../../../src/engine/topology';
import { errorsOf, expectOnly } from './expect-errors';

function doc(target: Record<string, unknown>): unknown {
  return {
    devices: [{ name: 'disk0', handler: 'ram', size: '64MiB' }],
    targets: [{ name: 'shim', luns: [{ lun: 0, device: 'disk0' }], ...target }],
  };
}

function ok(d: unknown): Topology {
  const r = normalizeTopology(d, { baseDir: '/etc/nexus', cwd: '/srv' });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.topology;
}

describe('config: fabric targets (loopback, fc, fcoe, srp)', () => {
  it('a loopback target: its SAS address, tpgt 1 by default, no portals', () => {
    const t = ok(doc({ driver: 'loopback', wwn: 'naa.5001405000000001' })).targets[0];
    expect(t.driver).to.equal('loopback');
    expect(t.portals).to.deep.equal([]);
    expect(t.fabric).to.deep.equal({ wwn: 'naa.5001405000000001', tpgt: 1, acls: [] });
  });

  it('an FC target with node ACLs, one read-only', () => {
    const t = ok(doc({
      driver: 'fc', wwn: '21:00:00:24:ff:31:4c:48',
      acls: [{ initiator: '21:00:00:24:ff:31:4c:49' }, { initiator: '21:00:00:24:ff:31:4c:4a', readOnly: true }],
    })).targets[0];
    expect(t.fabric!.acls).to.deep.equal([
      { initiator: '21:00:00:24:ff:31:4c:49', readOnly: false }, { initiator: '21:00:00:24:ff:31:4c:4a', readOnly: true },
    ]);
  });

  it('an SRP target on a port GID with initiators by port id, GUID and IP address', () => {
    const t = ok(doc({
      driver: 'srp', wwn: '0xfe800000000000000002c90300a1b2c3', tpgt: 2,
      acls: [{ initiator: '0x0000000000000000505400fffe4a0b7b' }, { initiator: '5054:00ff:fe4a:0b7b' }, { initiator: '192.168.122.76' }],
    })).targets[0];
    expect(t.fabric!.tpgt).to.equal(2);
    expect(t.fabric!.acls.map(a => a.initiator)).to.have.length(3);
  });

  it('a WWN in the wrong format names the path and the format (each fabric)', () => {
    expectOnly(doc({ driver: 'loopback', wwn: 'naa.50014' }), '/targets/0/wwn', 'naa. followed by 16 hex digits');
    expectOnly(doc({ driver: 'fc', wwn: '21:00:00:24:FF:31:4C:48', acls: [{ initiator: '21:00:00:24:ff:31:4c:49' }] }),
      '/targets/0/wwn', 'lowercase hex bytes joined by colons');
    expectOnly(doc({ driver: 'fcoe', wwn: '2100002f', acls: [{ initiator: '21:00:00:24:ff:31:4c:49' }] }), '/targets/0/wwn', 'FCoE target WWPN');
    expectOnly(doc({ driver: 'srp', wwn: 'fe80::1', acls: [{ initiator: '0x00' }] }), '/targets/0/wwn', 'GUID');
  });

  it('a bad initiator name in an ACL names its path', () => {
    expectOnly(doc({ driver: 'fc', wwn: '21:00:00:24:ff:31:4c:48', acls: [{ initiator: 'iqn.2026-11.x:y' }] }),
      '/targets/0/acls/0/initiator', 'FC initiator WWPN');
    expectOnly(doc({ driver: 'srp', wwn: '0xfe800000000000000002c90300a1b2c3', acls: [{ initiator: '0x123' }] }),
      '/targets/0/acls/0/initiator', 'even number');
  });

  it('a second ACL for the same initiator is refused', () => {
    expectOnly(doc({
      driver: 'fcoe', wwn: '20:00:00:0c:29:aa:bb:cc',
      acls: [{ initiator: '20:00:00:0c:29:aa:bb:01' }, { initiator: '20:00:00:0c:29:aa:bb:01', readOnly: true }],
    }), '/targets/0/acls/1/initiator', 'already has an ACL');
  });

  it('fabrics whose module lets in only initiators with ACLs need at least one', () => {
    expectOnly(doc({ driver: 'srp', wwn: 'fe80:0000:0000:0001' }), '/targets/0/acls', 'ib_srpt');
  });

  it('tcm_qla2xxx and tcm_fc take tpgt 1 only', () => {
    expectOnly(doc({ driver: 'fc', wwn: '21:00:00:24:ff:31:4c:48', tpgt: 2, acls: [{ initiator: '21:00:00:24:ff:31:4c:49' }] }),
      '/targets/0/tpgt', 'tcm_qla2xxx takes only tpgt 1');
  });

  it('a loopback target may name its initiator port; other fabrics may not', () => {
    const t = ok(doc({ driver: 'loopback', wwn: 'naa.5001405000000001', initiator: 'naa.500140500000000f' })).targets[0];
    expect(t.fabric!.initiator).to.equal('naa.500140500000000f');
    expectOnly(doc({ driver: 'fcoe', wwn: '20:00:00:0c:29:aa:bb:cc', initiator: 'x', acls: [{ initiator: '20:00:00:0c:29:aa:bb:01' }] }),
      '/targets/0/initiator', 'only loopback targets');
  });

  it('fabric targets have no portals, groups or auth; other targets no wwn or acls', () => {
    expectOnly(doc({ driver: 'loopback', wwn: 'naa.5001405000000001', portals: ['127.0.0.1:3260'] }), '/targets/0/portals', 'HBA port');
    expectOnly(doc({ driver: 'loopback', wwn: 'naa.5001405000000001', groups: [{ name: 'g', initiators: ['x'], luns: [] }] }),
      '/targets/0/groups', 'acls');
    const errs = errorsOf(doc({ driver: 'iscsi', name: 'iqn.2026-11.io.nexus:x', wwn: 'naa.5001405000000001' }));
    expect(errs.map(e => e.path)).to.include('/targets/0/wwn');
  });

  it('a fabric target without wwn says what the fabric expects', () => {
    expectOnly(doc({ driver: 'fcoe', acls: [{ initiator: '20:00:00:0c:29:aa:bb:01' }] }), '/targets/0/wwn', 'needs "wwn"');
  });
});
