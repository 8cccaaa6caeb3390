import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { normalizeTopology, type ConfigError, type TopologyResult } from '../../../src/daemon/config/load';
import { checkStoragePaths, createStorageDirectories } from '../../../src/daemon/config/storage-paths';
import { topologyWarnings } from '../../../src/daemon/config/warnings';
import { locateStartError, START_FAILED } from '../../../src/daemon/start-failure';
import { NexusError } from '../../../src/engine/result';
import type { Topology } from '../../../src/engine/topology';

function ok(r: TopologyResult): Topology {
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.topology;
}
function errors(r: TopologyResult): ConfigError[] {
  return r.ok ? [] : r.errors;
}
const fileDevice = (p?: string): Record<string, unknown> => ({ name: 'd', handler: 'fileio', size: '1MiB', ...(p !== undefined ? { path: p } : {}) });

describe('config: storage paths', () => {
  it('refuses device paths and state directories under /proc and /sys, with their JSON paths', () => {
    expect(errors(normalizeTopology({ devices: [fileDevice('/proc/self/x.img')], targets: [] }, { cwd: '/srv' }))).to.deep.equal([
      { path: '/devices/0/path', message: '/proc/self/x.img is under /proc, a kernel filesystem that cannot hold storage' },
    ]);
    expect(errors(normalizeTopology({ devices: [{ name: 'b', handler: 'blockio', path: '/sys/block/sda' }], targets: [] }, { cwd: '/srv' }))
      .map((e) => e.path)).to.deep.equal(['/devices/0/path']);
    expect(errors(normalizeTopology({ stateDir: '/proc', devices: [], targets: [] }, { cwd: '/srv' }))).to.deep.equal([
      { path: '/stateDir', message: '/proc is under /proc, a kernel filesystem that cannot hold storage' },
    ]);
    expect(errors(normalizeTopology({ devices: [], targets: [] }, { cwd: '/', stateDir: 'sys/x' }))).to.deep.equal([
      { path: '', message: '--state-dir /sys/x is under /sys, a kernel filesystem that cannot hold storage' },
    ]);
    // Names that merely start alike are ordinary directories.
    ok(normalizeTopology({ stateDir: '/processes', devices: [fileDevice('/system/x.img')], targets: [] }, { cwd: '/srv' }));
  });

  it('a --state-dir override moves relative device paths with it; absolute ones stay', () => {
    const doc = { stateDir: '/var/lib/nexus', devices: [fileDevice('disks/a.img'), { ...fileDevice('/abs/b.img'), name: 'e' }], targets: [] };
    const over = ok(normalizeTopology(doc, { baseDir: '/etc/nexus', cwd: '/srv', stateDir: 'st' }));
    expect(over.devices.map((d) => d.path)).to.deep.equal(['/srv/st/disks/a.img', '/abs/b.img']);
    const plain = ok(normalizeTopology(doc, { baseDir: '/etc/nexus', cwd: '/srv' }));
    expect(plain.devices.map((d) => d.path)).to.deep.equal(['/etc/nexus/disks/a.img', '/abs/b.img']);
  });

  describe('on disk', () => {
    let dir: string;
    beforeEach(() => { dir = mkdtempSync(path.join(tmpdir(), 'nexus-paths-')); });
    afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

    it('checks without creating, then creates the state directory and every fileio directory', () => {
      const t = ok(normalizeTopology({ stateDir: 'st/deep', devices: [fileDevice('disks/x/a.img'), { name: 'n', handler: 'fileio', size: '1MiB' }], targets: [] },
        { baseDir: dir, cwd: dir }));
      expect(checkStoragePaths(t)).to.deep.equal([]);
      expect(existsSync(path.join(dir, 'st'))).to.equal(false);
      expect(createStorageDirectories(t)).to.deep.equal([]);
      expect(existsSync(path.join(dir, 'st', 'deep'))).to.equal(true);
      expect(existsSync(path.join(dir, 'disks', 'x'))).to.equal(true);
      expect(createStorageDirectories(t)).to.deep.equal([]); // idempotent
    });

    it('names the value whose directory cannot be created, and a fileio path that is a directory', () => {
      writeFileSync(path.join(dir, 'plain'), '');
      mkdirSync(path.join(dir, 'adir'));
      const t = ok(normalizeTopology({
        stateDir: 'plain/st',
        devices: [fileDevice('plain/a.img'), { ...fileDevice('adir'), name: 'e' }],
        targets: [],
      }, { baseDir: dir, cwd: dir }));
      const p = path.join(dir, 'plain');
      const want = [
        { path: '/stateDir', message: `cannot create ${p}/st: ${p} is not a directory` },
        { path: '/devices/0/path', message: `cannot create ${p}: ${p} is not a directory` },
        { path: '/devices/1/path', message: `${path.join(dir, 'adir')} is a directory, not a file` },
      ];
      expect(checkStoragePaths(t)).to.deep.equal(want);
      expect(createStorageDirectories(t, { stateDir: '--state-dir' })[0]).to.deep.equal({ ...want[0], path: '--state-dir' });
    });
  });
});

describe('config: warnings', () => {
  it('warns when a ram device is larger than the machine\'s memory', () => {
    const t = ok(normalizeTopology({ devices: [{ name: 'r', handler: 'ram', size: '2GiB' }, { name: 's', handler: 'ram', size: '512MiB' }], targets: [] }, { stateDir: null }));
    expect(topologyWarnings(t, 1 << 30)).to.deep.equal([
      { path: '/devices/0/size', message: 'ram device "r" (2GiB) is larger than this machine\'s memory (1.0 GiB)' },
    ]);
    expect(topologyWarnings(t, 4 * 2 ** 30)).to.deep.equal([]);
  });
});

describe('daemon: start failures name the value at fault', () => {
  const t = ok(normalizeTopology({
    devices: [{ name: 'a', handler: 'fileio', size: '1MiB', path: '/data/a.img' }, { name: 'aa', handler: 'fileio', size: '1MiB', path: '/data/a.img2' }],
    targets: [{ driver: 'iscsi', name: 'iqn.2026-11.io.nexus:t', portals: ['127.0.0.1:3260', '[::1]:3261'], luns: [{ lun: 0, device: 'a' }] }],
  }, { cwd: '/srv' }));
  const origins = { stateDir: '/stateDir' };

  it('a portal in use by its JSON path, or --listen', () => {
    const inUse = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE', syscall: 'listen', address: '::1', port: 3261 });
    const e = locateStartError(inUse, t, origins) as NexusError;
    expect(e).to.be.instanceOf(NexusError);
    expect(e.code).to.equal(START_FAILED);
    expect(e.message).to.equal('/targets/0/portals/1: cannot listen on [::1]:3261: address already in use (EADDRINUSE)');
    expect((locateStartError(inUse, t, { ...origins, listen: '--listen' }) as Error).message).to.match(/^--listen: /);
  });

  it('a device that cannot be opened by its path (the longest match), from an engine thread\'s text', () => {
    const thread = new NexusError('ERR_THREAD_START', "engine thread 1 failed to start: EACCES: permission denied, open '/data/a.img2'");
    expect((locateStartError(thread, t, origins) as Error).message)
      .to.equal("/devices/1/path: aa: EACCES: permission denied, open '/data/a.img2'");
  });

  it('passes on what the topology does not explain', () => {
    const other = new NexusError('ERR_X', 'something else');
    expect(locateStartError(other, t, origins)).to.equal(other);
  });
});
