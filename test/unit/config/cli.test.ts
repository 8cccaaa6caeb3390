import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import * as path from 'node:path';
import { describeServing, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, iscsiUrl, runCli, type CliIo, type DaemonHandle } from '../../../src/cli/main';
import { defaultTopology, defaultTopologyDocument } from '../../../src/daemon/config/default-topology';
import { normalizeTopology } from '../../../src/daemon/config/load';
import { createLogger, SecretRegistry } from '../../../src/daemon/log';
import type { Topology } from '../../../src/engine/topology';

const ROOT = path.join(__dirname, '../../..');
const FIXTURES = path.join(ROOT, 'test/fixtures/topologies');

function io(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => { out.push(t); }, stderr: (t) => { err.push(t); } };
}

const quietLog = createLogger({
  level: 'silent', secrets: new SecretRegistry(),
  destination: new Writable({ write(_c, _e, cb) { cb(); } }),
});

describe('cli: validate and default-topology', () => {
  it('validate prints OK for a good file and exits 0', async () => {
    const t = io();
    expect(await runCli(['validate', path.join(FIXTURES, 'demo.json')], { io: t })).to.equal(EXIT_OK);
    expect(t.out.join('')).to.match(/^OK: .*demo\.json: 2 devices, 1 target\n$/);
    expect(t.err).to.deep.equal([]);
  });

  it('validate prints every error with its JSON path and exits 2', async () => {
    const t = io();
    const file = path.join(FIXTURES, 'many-errors.json');
    expect(await runCli(['validate', file], { io: t })).to.equal(EXIT_USAGE);
    const lines = t.err.join('').split('\n');
    expect(lines[0]).to.equal(`${file}: 12 errors`);
    expect(lines).to.include('  /targets/0/luns/1/device: device "disk9" is not defined');
    expect(lines).to.include('  /devices/1/name: device name "disk0" is already used by /devices/0');
    expect(lines.filter((l) => l.startsWith('  /'))).to.have.length(12);
  });

  it('validate reports invalid JSON with its position', async () => {
    const t = io();
    expect(await runCli(['validate', path.join(FIXTURES, 'bad-json.json')], { io: t })).to.equal(EXIT_USAGE);
    expect(t.err.join('')).to.contain('(document): invalid JSON at line 4, column 60');
  });

  it('validate without a file is a usage error', async () => {
    const t = io();
    expect(await runCli(['validate'], { io: t })).to.equal(EXIT_USAGE);
    expect(t.err.join('')).to.contain("missing required argument 'topology'");
  });

  it('an unknown command is a usage error', async () => {
    expect(await runCli(['frobnicate'], { io: io() })).to.equal(EXIT_USAGE);
  });

  it('default-topology prints the built-in default as JSON', async () => {
    const t = io();
    expect(await runCli(['default-topology'], { io: t })).to.equal(EXIT_OK);
    const doc = JSON.parse(t.out.join('')) as unknown;
    expect(doc).to.deep.equal(defaultTopologyDocument());
  });

  it('the built-in default is the documented one', () => {
    const topo = defaultTopology({ cwd: '/srv' });
    expect(topo.stateDir).to.equal('/srv/nexus-state');
    expect(topo.devices).to.deep.equal([
      { name: 'disk0', handler: 'fileio', path: '/srv/nexus-state/disk0.img', sizeBytes: 1073741824n, blockSize: 512,
        writeCache: 'writeback', thin: true, readOnly: false, removable: false },
      { name: 'null0', handler: 'nullio', sizeBytes: 1099511627776n, blockSize: 512,
        writeCache: 'writeback', thin: false, readOnly: false, removable: false },
    ]);
    expect(topo.targets).to.deep.equal([{
      driver: 'iscsi', name: 'iqn.2026-11.io.nexus:default', portals: ['127.0.0.1:3260'],
      luns: [{ lun: 0, device: 'disk0', readOnly: false }, { lun: 1, device: 'null0', readOnly: false }], groups: [],
    }]);
  });

  it('runs as a child process (tsx entry) and exits 2 on a bad file', function () {
    this.timeout(30000);
    const r = spawnSync(path.join(ROOT, 'node_modules/.bin/tsx'),
      [path.join(ROOT, 'src/cli/main.ts'), 'validate', path.join(FIXTURES, 'many-errors.json')],
      { encoding: 'utf8', timeout: 25000 });
    expect(r.status).to.equal(2);
    expect(r.stderr).to.contain('/targets/0/portals/0: portal "127.0.0.1:99999": port 99999 is out of range');
  });
});

describe('cli: serve', () => {
  it('exits 2 on a bad topology file, before starting anything', async () => {
    const t = io();
    expect(await runCli(['serve', path.join(FIXTURES, 'many-errors.json')], { io: t, log: quietLog })).to.equal(EXIT_USAGE);
    expect(t.err.join('')).to.contain('/devices/0/size');
    expect(t.out).to.deep.equal([]);
  });

  it('exits 2 on a bad --listen portal', async () => {
    const t = io();
    expect(await runCli(['serve', '--listen', '::1:3261'], { io: t, log: quietLog })).to.equal(EXIT_USAGE);
    expect(t.err.join('')).to.contain('--listen: portal "::1:3261": write IPv6 addresses in brackets');
  });

  it('rejects an unknown --log-level', async () => {
    expect(await runCli(['serve', '--log-level', 'loud'], { io: io(), log: quietLog })).to.equal(EXIT_USAGE);
  });

  /** Records what serve asks of the daemon; the daemon itself lives in src/daemon/daemon.ts. */
  function recordingDaemon(listening: DaemonHandle['listening']) {
    const calls = { started: [] as Topology[], stops: 0, origins: [] as unknown[] };
    const start = async (topology: Topology, opts: { origins?: unknown }): Promise<DaemonHandle> => {
      calls.started.push(topology);
      calls.origins.push(opts.origins);
      return { listening, stop: async () => { calls.stops++; } };
    };
    return { calls, start };
  }

  it('starts with --listen and --state-dir applied, prints URLs, stops on SIGTERM and exits 0', async () => {
    const t = io();
    const signals = new EventEmitter();
    const d = recordingDaemon([{ host: '127.0.0.1', port: 40123 }]);
    const running = runCli(['serve', '--listen', '127.0.0.1:0', '--state-dir', 'st'],
      { io: t, signals, startDaemon: d.start, cwd: '/srv', log: quietLog, exit: () => { throw new Error('no forced exit expected'); } });
    // Let serve reach its wait for a signal.
    for (let i = 0; i < 50 && t.out.length === 0; i++) await new Promise((r) => setImmediate(r));
    expect(d.calls.started).to.have.length(1);
    const topo = d.calls.started[0];
    expect(topo.targets[0].portals).to.deep.equal(['127.0.0.1:0']);
    expect(topo.stateDir).to.equal('/srv/st');
    expect(topo.devices[0].path).to.equal('/srv/st/disk0.img');
    const banner = t.out.join('');
    expect(banner).to.contain('iscsi://127.0.0.1:40123/iqn.2026-11.io.nexus:default/0');
    expect(banner).to.contain('iscsi://127.0.0.1:40123/iqn.2026-11.io.nexus:default/1');
    expect(banner).to.contain('iscsi-ls -s iscsi://127.0.0.1:40123');
    expect(banner).to.contain('iscsi-inq iscsi://127.0.0.1:40123/iqn.2026-11.io.nexus:default/0');
    expect(signals.listenerCount('SIGTERM')).to.equal(1);
    // SIGHUP re-reads (here: no file, the default) and stops nothing.
    expect(signals.listenerCount('SIGHUP')).to.equal(1);
    signals.emit('SIGHUP', 'SIGHUP');
    expect(d.calls.stops).to.equal(0);
    signals.emit('SIGTERM', 'SIGTERM');
    expect(await running).to.equal(EXIT_OK);
    expect(d.calls.stops).to.equal(1);
    expect(signals.listenerCount('SIGTERM')).to.equal(0);
    expect(signals.listenerCount('SIGHUP')).to.equal(0);
    expect(d.calls.origins).to.deep.equal([{ stateDir: '--state-dir', listen: '--listen' }]);
  });

  it('a second signal exits 1 at once', async () => {
    const signals = new EventEmitter();
    const exits: number[] = [];
    let release: () => void = () => undefined;
    const start = async (): Promise<DaemonHandle> => ({
      listening: [], stop: () => new Promise<void>((r) => { release = r; }),
    });
    const t = io();
    const running = runCli(['serve'], { io: t, signals, startDaemon: start, cwd: '/srv', log: quietLog, exit: (c) => { exits.push(c); } });
    for (let i = 0; i < 50 && t.out.length === 0; i++) await new Promise((r) => setImmediate(r));
    signals.emit('SIGINT', 'SIGINT');
    expect(exits).to.deep.equal([]);
    signals.emit('SIGINT', 'SIGINT');
    expect(exits).to.deep.equal([EXIT_FAILURE]);
    release();
    expect(await running).to.equal(EXIT_OK);
  });

  it('exits 1 when the daemon cannot start', async () => {
    const t = io();
    const start = async (): Promise<DaemonHandle> => { throw Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' }); };
    const signals = new EventEmitter();
    let hangupsDuringStart = -1;
    const watched = async (): Promise<DaemonHandle> => { hangupsDuringStart = signals.listenerCount('SIGHUP'); return start(); };
    expect(await runCli(['serve'], { io: t, startDaemon: watched, signals, cwd: '/srv', log: quietLog })).to.equal(EXIT_FAILURE);
    expect(t.err.join('')).to.equal('nexus: cannot start: EADDRINUSE: listen EADDRINUSE\n');
    // SIGHUP during start-up re-checks instead of killing; the handler goes with the failed start.
    expect(hangupsDuringStart).to.equal(1);
    expect(signals.listenerCount('SIGHUP')).to.equal(0);
  });

  it('names the CHAP user but never the secret in the banner, and brackets IPv6', () => {
    const r = normalizeTopology({
      devices: [{ name: 'd', handler: 'nullio', size: '1GiB' }],
      targets: [{ driver: 'iscsi', name: 'iqn.2026-11.io.nexus:v6', portals: ['[::1]:3260'],
        auth: { chap: { user: 'alice', secret: 'at-least-12-chars' } }, luns: [{ lun: 3, device: 'd' }] }],
    });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const banner = describeServing(r.topology, [{ host: '::1', port: 3260 }]);
    expect(banner).to.contain('iscsi://alice%<secret>@[::1]:3260/iqn.2026-11.io.nexus:v6/3');
    expect(banner).to.not.contain('at-least-12-chars');
    expect(iscsiUrl('127.0.0.1', 3260, 'iqn.x', 0)).to.equal('iscsi://127.0.0.1:3260/iqn.x/0');
  });
});
