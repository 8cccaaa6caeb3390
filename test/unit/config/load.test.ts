import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { availableParallelism } from 'node:os';
import {
  jsonPointer, loadTopologyFile, normalizeTopology, parseJsonText, type TopologyResult,
} from '../../../src/daemon/config/load';
import type { Topology } from '../../../src/engine/topology';
import { errorsOf, expectOnly } from './expect-errors';

const FIXTURES = path.join(__dirname, '../../fixtures/topologies');

/** DESIGN.md §7's example, fresh for each test so mutations do not leak. */
function demo(): any {
  return {
    devices: [
      { name: 'disk0', handler: 'fileio', path: '/var/lib/nexus/disk0.img', size: '1GiB', blockSize: 512 },
      { name: 'null0', handler: 'nullio', size: '1TiB' },
    ],
    targets: [
      {
        driver: 'iscsi',
        name: 'iqn.2026-11.io.nexus:demo',
        portals: ['127.0.0.1:3260', '[::1]:3260'],
        auth: {
          chap: { user: 'alice', secret: 'at-least-12-chars' },
          mutualChap: { user: 'target', secret: 'another-12-chars' },
        },
        luns: [{ lun: 0, device: 'disk0' }, { lun: 1, device: 'null0' }],
        groups: [
          { name: 'readers', initiators: ['iqn.2026-11.example:reader*'], luns: [{ lun: 0, device: 'disk0', readOnly: true }] },
        ],
      },
    ],
  };
}

function ok(r: TopologyResult): Topology {
  if (!r.ok) throw new Error(`expected a valid topology, got ${JSON.stringify(r.errors, null, 1)}`);
  return r.topology;
}

describe('config/load: valid documents', () => {
  it('accepts DESIGN.md §7 and normalizes it', () => {
    const t = ok(normalizeTopology(demo(), { baseDir: '/etc/nexus', cwd: '/srv' }));
    expect(t.stateDir).to.equal('/srv/nexus-state');
    expect(t.devices).to.deep.equal([
      { name: 'disk0', handler: 'fileio', path: '/var/lib/nexus/disk0.img', sizeBytes: 1073741824n, blockSize: 512,
        writeCache: 'writeback', thin: true, readOnly: false, removable: false },
      { name: 'null0', handler: 'nullio', sizeBytes: 1099511627776n, blockSize: 512,
        writeCache: 'writeback', thin: false, readOnly: false, removable: false },
    ]);
    expect(t.targets).to.deep.equal([{
      driver: 'iscsi',
      name: 'iqn.2026-11.io.nexus:demo',
      portals: ['127.0.0.1:3260', '[::1]:3260'],
      auth: {
        chap: { user: 'alice', secret: 'at-least-12-chars' },
        mutualChap: { user: 'target', secret: 'another-12-chars' },
      },
      luns: [{ lun: 0, device: 'disk0', readOnly: false }, { lun: 1, device: 'null0', readOnly: false }],
      groups: [{ name: 'readers', initiators: ['iqn.2026-11.example:reader*'], luns: [{ lun: 0, device: 'disk0', readOnly: true }] }],
    }]);
  });

  it('fills every default', () => {
    const t = ok(normalizeTopology({
      devices: [{ name: 'd', handler: 'fileio', size: 4096 }],
      targets: [{ driver: 'iscsi', name: 'iqn.2026-11.io.nexus:t', luns: [{ lun: 0, device: 'd' }] }],
    }, { cwd: '/srv' }));
    expect(t.engine).to.deep.equal({ threads: availableParallelism(), bufferPoolBytes: 268435456 });
    expect(t.iscsi).to.deep.equal({
      maxRecvDataSegmentLength: 262144, maxBurstLength: 1048576, firstBurstLength: 262144,
      initialR2T: false, immediateData: true, maxOutstandingR2T: 8,
      headerDigest: ['None', 'CRC32C'], dataDigest: ['None', 'CRC32C'],
      nopInIntervalSec: 15, nopInTimeoutSec: 10, defaultTime2Wait: 2, defaultTime2Retain: 20, queueDepth: 128,
      busyPollMicros: 50, dataOutTimeoutSec: 15, loginTimeoutSec: 15, maxLoginRequests: 64,
      maxTextRequests: 64, sendTimeoutSec: 30, maxConnectionsPerAddress: 1024, maxConnectionsPerInitiator: 64, maxSessions: 1024,
      maxLoginsPerSecond: 200, maxDataOutMiBPerSession: 256, maxDataInMiBPerSession: 256,
    });
    expect(t.stateDir).to.equal('/srv/nexus-state');
    expect(t.devices[0]).to.deep.equal({
      name: 'd', handler: 'fileio', path: '/srv/nexus-state/d.img', sizeBytes: 4096n, blockSize: 512,
      writeCache: 'writeback', thin: true, readOnly: false, removable: false,
    });
    expect(t.targets[0].portals).to.deep.equal(['127.0.0.1:3260']);
    expect(t.targets[0].groups).to.deep.equal([]);
  });

  it('loads the full fixture: every option, relative paths against the file, all name formats', () => {
    const t = ok(loadTopologyFile(path.join(FIXTURES, 'full.json'), { cwd: '/srv' }));
    expect(t.stateDir).to.equal(path.join(FIXTURES, 'state'));
    expect(t.engine).to.deep.equal({ threads: 3, bufferPoolBytes: 67108864 });
    // engine.statistics: on unless the file says false (only the benchmark's cost comparison does).
    const off = normalizeTopology({ engine: { statistics: false }, devices: [], targets: [] }, { stateDir: null });
    expect(off.ok && off.topology.engine.statistics).to.equal(false);
    const bad = normalizeTopology({ engine: { statistics: 'no' }, devices: [], targets: [] }, { stateDir: null });
    expect(bad.ok ? [] : bad.errors.map(e => e.path)).to.deep.equal(['/engine/statistics']);
    expect(t.iscsi.headerDigest).to.deep.equal(['CRC32C']);
    expect(t.iscsi.firstBurstLength).to.equal(65536);
    expect(t.iscsi.initialR2T).to.equal(true);
    const [disk0, disk1, blk0, ram0] = t.devices;
    expect(disk0).to.deep.equal({
      name: 'disk0', handler: 'fileio', path: path.join(FIXTURES, 'state', 'disk0.img'), sizeBytes: 16000000000n,
      blockSize: 4096, writeCache: 'writethrough', thin: false, readOnly: false, removable: false,
      serial: 'NX0001', vendor: 'NEXUS', product: 'VDISK', revision: '0001',
    });
    expect(disk1.path).to.equal(path.join(FIXTURES, 'images', 'disk1.img'));
    expect(disk1.physicalBlockSize).to.equal(4096);
    // blockio without a size takes the device's: 0n is "from the backing".
    expect(blk0).to.include({ handler: 'blockio', path: '/dev/nexus-test', sizeBytes: 0n, readOnly: true, thin: false });
    expect(ram0).to.include({ sizeBytes: 67108864n, thin: false });
    expect(t.targets.map((x) => x.name)).to.deep.equal([
      'iqn.2026-11.io.nexus:full', 'eui.02004567A425678D', 'naa.52004567BA64678D', 'rig',
    ]);
    expect(t.targets[0].portals).to.deep.equal(['127.0.0.1:3260', '[::1]:3261', 'localhost:0']);
    // A LUN onto a read-only device keeps the mapping's own flag: the unit refuses writes itself
    // (test/unit/engine: WRITE PROTECTED through a writable mapping of a read-only device).
    expect(t.targets[0].luns[1]).to.deep.equal({ lun: 16383, device: 'blk0', readOnly: false });
    expect(t.targets[0].groups[1]).to.deep.equal({ name: 'nobody', initiators: ['iqn.2026-11.example:blocked*'], luns: [] });
    expect(t.targets[0].discoveryAuth).to.deep.equal({ chap: { user: 'disco', secret: 'discovery-secret' } });
    expect(t.targets[3]).to.deep.equal({ driver: 'local', name: 'rig', portals: [], luns: [{ lun: 0, device: 'ram0', readOnly: false }], groups: [] });
  });

  it('loads demo.json from disk the same as the object', () => {
    const fromFile = ok(loadTopologyFile(path.join(FIXTURES, 'demo.json'), { cwd: '/srv' }));
    const fromObj = ok(normalizeTopology(demo(), { cwd: '/srv' }));
    expect(fromFile).to.deep.equal(fromObj);
  });

  it('lets a stateDir override win, resolved against cwd, and moves default fileio paths with it', () => {
    const doc = { stateDir: '/var/lib/nexus', devices: [{ name: 'd', handler: 'fileio', size: '1MiB' }], targets: [] };
    const t = ok(normalizeTopology(doc, { cwd: '/srv', stateDir: 'elsewhere' }));
    expect(t.stateDir).to.equal('/srv/elsewhere');
    expect(t.devices[0].path).to.equal('/srv/elsewhere/d.img');
  });

  it('takes removable: true for a device, false when absent', () => {
    const t = ok(normalizeTopology({
      devices: [{ name: 'r', handler: 'ram', size: 4096, removable: true }, { name: 'f', handler: 'ram', size: 4096 }],
      targets: [{ driver: 'iscsi', name: 'iqn.2026-11.io.nexus:t', luns: [{ lun: 0, device: 'r' }, { lun: 1, device: 'f' }] }],
    }, { cwd: '/srv' }));
    expect(t.devices.map((d) => d.removable)).to.deep.equal([true, false]);
  });

  it('takes a registered deviceType for a device and leaves it absent (disk) when not given', () => {
    const t = ok(normalizeTopology({
      devices: [{ name: 'd', handler: 'ram', size: 4096, deviceType: 'disk' }, { name: 'e', handler: 'ram', size: 4096 }],
      targets: [{ driver: 'iscsi', name: 'iqn.2026-11.io.nexus:t', luns: [{ lun: 0, device: 'd' }, { lun: 1, device: 'e' }] }],
    }, { cwd: '/srv' }));
    expect(t.devices.map((d) => d.deviceType)).to.deep.equal(['disk', undefined]);
  });

  it('pulls the default FirstBurstLength down to a smaller MaxBurstLength', () => {
    const t = ok(normalizeTopology({ iscsi: { maxBurstLength: 65536 }, devices: [], targets: [] }));
    expect(t.iscsi.firstBurstLength).to.equal(65536);
  });
});

describe('config/load: each error with its JSON path', () => {
  it('unknown device reference', () => {
    const d = demo(); d.targets[0].luns[1].device = 'disk9';
    expectOnly(d, '/targets/0/luns/1/device', 'device "disk9" is not defined');
  });
  it('unknown device reference inside a group', () => {
    const d = demo(); d.targets[0].groups[0].luns[0].device = 'nope';
    expectOnly(d, '/targets/0/groups/0/luns/0/device', 'device "nope" is not defined');
  });
  it('a deviceType no personality registered', () => {
    const d = demo(); d.devices[0].deviceType = 'worm';
    expectOnly(d, '/devices/0/deviceType', 'unknown device type "worm" (one of: disk');
  });
  it('duplicate device names', () => {
    const d = demo(); d.devices[1].name = 'disk0';
    // null0 vanished too, so LUN 1's reference breaks: both are reported.
    const errs = errorsOf(d);
    expect(errs.map((e) => e.path)).to.deep.equal(['/devices/1/name', '/targets/0/luns/1/device']);
    expect(errs[0].message).to.equal('device name "disk0" is already used by /devices/0');
  });
  it('duplicate LUN numbers in one map', () => {
    const d = demo(); d.targets[0].luns[1].lun = 0;
    expectOnly(d, '/targets/0/luns/1/lun', 'LUN 0 is already mapped by /targets/0/luns/0');
  });
  it('the same LUN number in the target map and a group map is fine', () => {
    ok(normalizeTopology(demo()));
  });
  it('duplicate target names, compared case-insensitively', () => {
    const d = demo(); d.targets.push({ driver: 'iscsi', name: 'IQN.2026-11.io.nexus:DEMO' });
    expectOnly(d, '/targets/1/name', 'is already defined by /targets/0');
  });
  it('the same portal shared by two targets is fine', () => {
    const d = demo(); d.targets.push({ driver: 'iscsi', name: 'iqn.2026-11.io.nexus:other', portals: ['127.0.0.1:3260'] });
    ok(normalizeTopology(d));
  });
  it('the same portal twice in one target', () => {
    const d = demo(); d.targets[0].portals.push('127.0.0.1');
    expectOnly(d, '/targets/0/portals/2', 'portal 127.0.0.1:3260 is already listed at /targets/0/portals/0');
  });
  it('removable of the wrong type', () => {
    const errs = errorsOf({
      devices: [{ name: 'r', handler: 'ram', size: 4096, removable: 'yes' }],
      targets: [{ driver: 'iscsi', name: 'iqn.2026-11.io.nexus:t', luns: [{ lun: 0, device: 'r' }] }],
    });
    expect(errs.map((e) => e.path)).to.include('/devices/0/removable');
  });

  it('bad size string', () => {
    const d = demo(); d.devices[0].size = '12 parsecs';
    expectOnly(d, '/devices/0/size', 'unknown unit "parsecs"');
  });
  it('size of the wrong type', () => {
    const d = demo(); d.devices[0].size = true;
    expectOnly(d, '/devices/0/size', 'must be a size');
  });
  it('size not a multiple of blockSize', () => {
    const d = demo(); d.devices[0].size = '1GiB'; d.devices[0].size = 1073741824 + 512; d.devices[0].blockSize = 4096;
    expectOnly(d, '/devices/0/size', 'size 1073742336 bytes is not a multiple of blockSize 4096');
  });
  it('zero size', () => {
    const d = demo(); d.devices[1].size = '0';
    expectOnly(d, '/devices/1/size', 'greater than 0');
  });
  it('nullio without a size', () => {
    const d = demo(); delete d.devices[1].size;
    expectOnly(d, '/devices/1/size', 'size is required for nullio devices');
  });
  it('blockSize other than 512 or 4096 (or 2048, for vcdrom devices only)', () => {
    const d = demo(); d.devices[0].blockSize = 1024;
    expectOnly(d, '/devices/0/blockSize', 'must be one of 512, 2048, 4096');
  });
  it('physicalBlockSize smaller than blockSize', () => {
    const d = demo(); d.devices[0].blockSize = 4096; d.devices[0].physicalBlockSize = 512;
    expectOnly(d, '/devices/0/physicalBlockSize', 'smaller than blockSize');
  });
  it('unknown handler', () => {
    const d = demo(); d.devices[1].handler = 'tape';
    expectOnly(d, '/devices/1/handler', 'must be one of "fileio", "blockio", "nullio", "ram"');
  });
  it('fileio without path and without stateDir', () => {
    const d = demo(); delete d.devices[0].path;
    const r = normalizeTopology(d, { stateDir: null });
    expect(r.ok).to.equal(false);
    if (!r.ok) expect(r.errors).to.deep.equal([{ path: '/devices/0/path', message: 'fileio device has no path and there is no stateDir to put it in' }]);
  });
  it('blockio without path', () => {
    const d = demo(); d.devices.push({ name: 'b', handler: 'blockio' });
    expectOnly(d, '/devices/2/path', 'blockio devices need the path of a block device');
  });
  it('passthrough: a path that leads to no SCSI device is refused at the path, saying why', () => {
    const doc = demo();
    doc.devices.push({ name: 'pt0', handler: 'passthrough', path: '/dev/null' });
    expectOnly(doc, '/devices/2/path', '/dev/null is not a SCSI device');
    const file = demo();
    file.devices.push({ name: 'pt0', handler: 'passthrough', path: '/etc/hostname' });
    expectOnly(file, '/devices/2/path', 'is not a device node');
  });

  it('passthrough: no path, and the settings the device itself gives, each at its own path', () => {
    const doc = demo();
    doc.devices.push({ name: 'pt0', handler: 'passthrough' });
    expectOnly(doc, '/devices/2/path', 'need the path of a SCSI device');
    const sized = demo();
    sized.devices.push({ name: 'pt0', handler: 'passthrough', path: '/dev/null', size: '1GiB', blockSize: 4096 });
    const errs = errorsOf(sized).map(e => e.path);
    expect(errs).to.include.members(['/devices/2/size', '/devices/2/blockSize', '/devices/2/path']);
    const typed = demo();
    typed.devices[1].deviceType = 'passthrough';
    expectOnly(typed, '/devices/1/handler', 'its handler is "passthrough"');
  });

  it('rbd: pool and image required, size and path refused, each at its own path', () => {
    const d = demo();
    d.devices.push({ name: 'vol0', handler: 'rbd', size: '1GiB', path: '/x' });
    const errs = errorsOf(d);
    expect(errs.map(e => e.path)).to.include.members(['/devices/2/pool', '/devices/2/image', '/devices/2/size', '/devices/2/path']);
    expect(errs.find(e => e.path === '/devices/2/pool')?.message).to.contain('needs the pool of its Ceph RBD image');
    expect(errs.find(e => e.path === '/devices/2/size')?.message).to.contain('takes its size from its image');
  });

  it('rbd: the image and cluster settings, normalized; ceph.conf and keyring relative to the file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nexus-rbd-'));
    try {
      writeFileSync(path.join(dir, 'ceph.conf'), '[global]\n');
      writeFileSync(path.join(dir, 'keyring'), '');
      const d = demo();
      d.devices.push({ name: 'vol0', handler: 'rbd', pool: 'rbd', image: 'vol0', cephConf: 'ceph.conf', keyring: 'keyring', cephUser: 'client.nexus' });
      const r = normalizeTopology(d, { baseDir: dir, cwd: '/srv' });
      if (!r.ok) throw new Error(JSON.stringify(r.errors));
      const dev = r.topology.devices[2];
      expect(dev.rbd).to.deep.equal({ pool: 'rbd', image: 'vol0', cephConf: path.join(dir, 'ceph.conf'), keyring: path.join(dir, 'keyring'), cephUser: 'client.nexus' });
      expect(dev.thin).to.equal(true);
      expect(dev.sizeBytes).to.equal(0n);
      const missing = demo();
      missing.devices.push({ name: 'vol0', handler: 'rbd', pool: 'rbd', image: 'vol0', cephConf: 'nope.conf' });
      expectOnly(missing, '/devices/2/cephConf', 'cannot read /etc/nexus/nope.conf: ENOENT');
      const user = demo();
      user.devices.push({ name: 'vol0', handler: 'rbd', pool: 'rbd', image: 'vol0', cephUser: 'nexus' });
      expect(errorsOf(user).map(e => e.path)).to.include('/devices/2/cephUser');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rbd settings on any other handler are refused at their path', () => {
    const d = demo(); d.devices[1].pool = 'rbd';
    expectOnly(d, '/devices/1/pool', 'belongs to an rbd device');
  });

  it('allowVendorCommands: a passthrough device\'s setting, refused on any other handler', () => {
    const d = demo(); d.devices[1].allowVendorCommands = true;
    expectOnly(d, '/devices/1/allowVendorCommands', 'only a passthrough device');
    const typo = demo(); typo.devices[1].allowVendorCommands = 'yes';
    expect(errorsOf(typo).map(e => e.path)).to.include('/devices/1/allowVendorCommands');
  });

  it('nullio with a path', () => {
    const d = demo(); d.devices[1].path = '/tmp/x';
    expectOnly(d, '/devices/1/path', 'nullio devices have no backing path');
  });
  it('mutualChap without chap', () => {
    const d = demo(); delete d.targets[0].auth.chap;
    expectOnly(d, '/targets/0/auth/mutualChap', 'mutualChap needs chap');
  });
  it('mutual secret equal to the initiator secret (RFC 7143 9.2.1)', () => {
    const d = demo(); d.targets[0].auth.mutualChap.secret = 'at-least-12-chars';
    expectOnly(d, '/targets/0/auth/mutualChap/secret', 'must differ from the initiator\'s CHAP secret');
  });
  it('a mutual secret reused as an initiator secret elsewhere in the file', () => {
    const d = demo();
    d.targets[0].groups[0].auth = { chap: { user: 'bob', secret: 'another-12-chars' } };
    expectOnly(d, '/targets/0/auth/mutualChap/secret', 'also used to authenticate an initiator elsewhere');
  });
  it('CHAP secret shorter than 12 bytes, counted in UTF-8 bytes', () => {
    const d = demo(); d.targets[0].auth.chap.secret = 'short';
    expectOnly(d, '/targets/0/auth/chap/secret', 'CHAP secret is 5 bytes; it must be at least 12');
    const e = demo(); e.targets[0].auth.chap.secret = 'ééééééé'; // 7 characters, 14 bytes
    ok(normalizeTopology(e));
  });
  it('discoveryAuth secrets are checked too', () => {
    const d = demo(); d.targets[0].discoveryAuth = { chap: { user: 'd', secret: 'x' } };
    expectOnly(d, '/targets/0/discoveryAuth/chap/secret', 'at least 12');
  });
  it('bad portal syntax', () => {
    const d = demo(); d.targets[0].portals[1] = '::1:3260';
    expectOnly(d, '/targets/0/portals/1', 'write IPv6 addresses in brackets');
    const e = demo(); e.targets[0].portals[0] = 'not a host:3260';
    expectOnly(e, '/targets/0/portals/0', 'is not an IPv4 address or host name');
    const f = demo(); f.targets[0].portals[0] = '127.0.0.1:port';
    expectOnly(f, '/targets/0/portals/0', 'bad port "port"');
    const g = demo(); g.targets[0].portals[1] = '[::1';
    expectOnly(g, '/targets/0/portals/1', 'never closes');
    const h = demo(); h.targets[0].portals[1] = '[127.0.0.1]:3260';
    expectOnly(h, '/targets/0/portals/1', 'is not an IPv6 address');
  });
  it('port out of range', () => {
    const d = demo(); d.targets[0].portals[0] = '127.0.0.1:65536';
    expectOnly(d, '/targets/0/portals/0', 'port 65536 is out of range');
  });
  it('bad iSCSI names, one message per format', () => {
    const names: Array<[string, string]> = [
      ['demo', 'must start with "iqn.", "eui." or "naa."'],
      ['iqn.2026-13.io.nexus:x', 'month 13'],
      ['iqn.26-11.io.nexus', 'not a valid iqn name'],
      ['iqn.2026-11.-bad.domain', 'not a valid iqn name'],
      ['eui.0200', 'not a valid eui name'],
      ['naa.52004567BA64678', 'not a valid naa name'],
      ['iqn.2026-11.io.nexus:' + 'x'.repeat(210), 'longer than 223 bytes'],
    ];
    for (const [name, says] of names) {
      const d = demo(); d.targets[0].name = name;
      const errs = errorsOf(d);
      expect(errs.map((e) => e.path), name).to.include('/targets/0/name');
      expect(errs.find((e) => e.path === '/targets/0/name')!.message, name).to.contain(says);
    }
  });
  it('local targets take any name but no portals', () => {
    const d = demo(); d.targets.push({ driver: 'local', name: 'rig', portals: ['127.0.0.1:3260'] });
    expectOnly(d, '/targets/1/portals', 'local targets are reached in-process and have no portals');
  });
  it('LUN out of the 14-bit range', () => {
    const d = demo(); d.targets[0].luns[1].lun = 16384;
    expectOnly(d, '/targets/0/luns/1/lun', 'must be at most 16383');
  });
  it('unknown property, with a suggestion', () => {
    const d = demo(); d.devices[0].blocksize = 4096;
    expectOnly(d, '/devices/0/blocksize', 'unknown property "blocksize" (did you mean "blockSize"?)');
  });
  it('unknown property at the top level and in auth', () => {
    const d = demo(); d.portals = []; d.targets[0].auth.chap.password = 'x';
    const errs = errorsOf(d);
    expect(errs.map((e) => e.path)).to.deep.equal(['/portals', '/targets/0/auth/chap/password']);
  });
  it('missing required keys point at the key', () => {
    const d = demo(); delete d.devices[0].handler; delete d.targets;
    const errs = errorsOf(d);
    expect(errs).to.deep.include({ path: '/devices/0/handler', message: '"handler" is required' });
    expect(errs).to.deep.include({ path: '/targets', message: '"targets" is required' });
  });
  it('duplicate group names and an initiator pattern in two groups', () => {
    const d = demo();
    d.targets[0].groups.push({ name: 'readers', initiators: ['IQN.2026-11.example:reader*'] });
    const errs = errorsOf(d);
    expect(errs.map((e) => e.path)).to.deep.equal(['/targets/0/groups/1/initiators/0', '/targets/0/groups/1/name']);
  });
  it('FirstBurstLength above MaxBurstLength (RFC 7143 13.14)', () => {
    const d = demo(); d.iscsi = { maxBurstLength: 65536, firstBurstLength: 131072 };
    expectOnly(d, '/iscsi/firstBurstLength', 'exceeds maxBurstLength');
  });
  it('iSCSI key out of its RFC range', () => {
    const d = demo(); d.iscsi = { maxRecvDataSegmentLength: 256 };
    expectOnly(d, '/iscsi/maxRecvDataSegmentLength', 'must be at least 512');
  });
  it('busy-poll window out of range', () => {
    const d = demo(); d.iscsi = { busyPollMicros: -1 };
    expectOnly(d, '/iscsi/busyPollMicros', 'must be at least 0');
  });
  it('limits out of range: a Data-Out timeout of 0, too few Login Requests', () => {
    const d = demo(); d.iscsi = { dataOutTimeoutSec: 0 };
    expectOnly(d, '/iscsi/dataOutTimeoutSec', 'must be at least 1');
    const e = demo(); e.iscsi = { maxLoginRequests: 2 };
    expectOnly(e, '/iscsi/maxLoginRequests', 'must be at least 4');
  });
  it('bad engine buffer pool size', () => {
    const d = demo(); d.engine = { bufferPool: 'lots' };
    expectOnly(d, '/engine/bufferPool', '"lots" is not a size');
  });
  it('a document that is not an object', () => {
    expect(errorsOf([1, 2])).to.deep.equal([{ path: '', message: 'must be an object' }]);
  });
  it('escapes "/" and "~" in JSON Pointer tokens (RFC 6901)', () => {
    expect(jsonPointer('a/b', 'c~d', 0)).to.equal('/a~1b/c~0d/0');
    const d = demo(); d['x/y'] = 1;
    expectOnly(d, '/x~1y', 'unknown property');
  });
});

describe('config/load: many errors at once', () => {
  it('reports every problem of many-errors.json, in document order', () => {
    const r = loadTopologyFile(path.join(FIXTURES, 'many-errors.json'), { cwd: '/srv' });
    expect(r.ok).to.equal(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.path)).to.deep.equal([
      '/devices/0/size',
      '/devices/1/name',
      '/devices/1/size',
      '/devices/2/blocksize',
      '/devices/2/size',
      '/targets/0/auth/mutualChap',
      '/targets/0/auth/mutualChap/secret',
      '/targets/0/luns/1/device',
      '/targets/0/luns/1/lun',
      '/targets/0/portals/0',
      '/targets/0/portals/1',
      '/targets/1/name',
    ]);
  });
});

describe('config/load: JSON text', () => {
  it('reports invalid JSON with line and column', () => {
    const r = loadTopologyFile(path.join(FIXTURES, 'bad-json.json'));
    expect(r).to.deep.equal({
      ok: false,
      errors: [{ path: '', message: 'invalid JSON at line 4, column 60: expected a double-quoted property name but found "}"' }],
    });
  });
  const texts: Array<[string, number, number]> = [
    ['{"a": 1,\n}', 2, 1],
    ['{"a" 1}', 1, 6],
    ['{"a": tru}', 1, 7],
    ['[1, 2', 1, 6],
    ['', 1, 1],
    ['{"a": "x\n"}', 1, 9],
    ['{}\n\n  x', 3, 3],
  ];
  for (const [text, line, column] of texts) {
    it(`locates the error in ${JSON.stringify(text)} at ${line}:${column}`, () => {
      const r = parseJsonText(text);
      expect(r.ok).to.equal(false);
      if (!r.ok) expect(r.errors[0].message).to.match(new RegExp(`^invalid JSON at line ${line}, column ${column}: `));
    });
  }
  it('tolerates a byte order mark', () => {
    expect(parseJsonText('\ufeff{"a": 1}')).to.deep.equal({ ok: true, value: { a: 1 } });
  });
  it('reports a missing file without throwing', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nexus-cfg-'));
    try {
      const r = loadTopologyFile(path.join(dir, 'absent.json'));
      expect(r.ok).to.equal(false);
      if (!r.ok) expect(r.errors[0].message).to.contain('ENOENT');
      writeFileSync(path.join(dir, 't.json'), JSON.stringify({ stateDir: 'st', devices: [], targets: [] }));
      expect(ok(loadTopologyFile(path.join(dir, 't.json'))).stateDir).to.equal(path.join(dir, 'st'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
