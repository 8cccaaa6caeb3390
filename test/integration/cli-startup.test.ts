// What a new user meets when `nexus serve` cannot start, on SIGHUP, and where state goes: the CLI
// in a child process, as it is run. Every failure is one line on stderr naming the object by its
// JSON path (or option) and the cause, with a non-zero exit and no stack trace.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startDaemon } from '../helpers/daemon';

const ROOT = path.resolve(__dirname, '..', '..');
const TARGET = 'iqn.2026-11.io.nexus:startup';
/** tsx by file URL: the CLI runs in a temporary directory, where `--import tsx` would not resolve. */
const TSX = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const CLI = ['--import', TSX, path.join(ROOT, 'src/cli/main.ts')];
/** Worker threads preload tsx/cjs by name; from elsewhere they find it through NODE_PATH, as bin/nexus sets it. */
const ENV = { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') };

interface Run { code: number | null; stdout: string; stderr: string }

/** Run the CLI to completion, killed after `timeoutMs` (a start-up that hangs is a failure). */
function runNexus(args: string[], cwd: string, timeoutMs = 30000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, ...args],
      { cwd, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`nexus ${args.join(' ')} did not finish in ${timeoutMs} ms:\n${stdout}${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

/** The human line of stderr (JSON log lines start with "{"). */
function humanLines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
}

function topology(devices: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    engine: { threads: 0 },
    devices,
    targets: [{ driver: 'iscsi', name: TARGET, portals: ['127.0.0.1:0'], luns: devices.map((_, i) => ({ lun: i, device: `d${i}` })) }],
    ...extra,
  };
}

describe('cli start-up (child process)', function () {
  this.timeout(60000);
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(path.join(tmpdir(), 'nexus-startup-')); });
  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

  function write(doc: Record<string, unknown>): string {
    const file = path.join(dir, 'topology.json');
    writeFileSync(file, JSON.stringify(doc));
    return file;
  }

  it('refuses a device path under /proc at once, naming its JSON path (serve and validate)', async () => {
    const file = write(topology([{ name: 'd0', handler: 'fileio', size: '1MiB', path: '/proc/self/nexus/d0.img' }], { stateDir: path.join(dir, 'st') }));
    for (const cmd of ['serve', 'validate']) {
      const r = await runNexus([cmd, file], dir);
      expect(r.code, cmd).to.equal(2);
      expect(r.stderr, cmd).to.contain('/devices/0/path: /proc/self/nexus/d0.img is under /proc, a kernel filesystem that cannot hold storage');
      expect(r.stderr, cmd).to.not.match(/\n\s+at /);
    }
  });

  it('refuses a state directory under /sys, and a --state-dir under /proc', async () => {
    const file = write(topology([{ name: 'd0', handler: 'nullio', size: '1MiB' }], { stateDir: '/sys/kernel/nexus' }));
    const r = await runNexus(['serve', file], dir);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain('/stateDir: /sys/kernel/nexus is under /sys');
    const o = await runNexus(['serve', '--state-dir', '/proc/1/nexus', '--listen', '127.0.0.1:0'], dir);
    expect(o.code).to.equal(2);
    expect(o.stderr).to.contain('--state-dir /proc/1/nexus is under /proc');
  });

  it('names the JSON path of a device path that cannot be created (serve: exit 1, validate: exit 2)', async () => {
    const file = write(topology([{ name: 'd0', handler: 'fileio', size: '1MiB', path: '/etc/passwd/x/d0.img' }], { stateDir: path.join(dir, 'st') }));
    const r = await runNexus(['serve', file], dir);
    expect(r.code).to.equal(1);
    expect(humanLines(r.stderr)).to.deep.equal(['nexus: cannot start: /devices/0/path: cannot create /etc/passwd/x: /etc/passwd is not a directory']);
    expect(r.stderr).to.not.match(/\n\s+at /);
    const v = await runNexus(['validate', file], dir);
    expect(v.code).to.equal(2);
    expect(v.stderr).to.contain('  /devices/0/path: cannot create /etc/passwd/x: /etc/passwd is not a directory');
  });

  it('names the portal\'s JSON path when its address is in use (EADDRINUSE), or --listen', async () => {
    const busy: Server = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as { port: number }).port;
    try {
      const doc = topology([{ name: 'd0', handler: 'nullio', size: '1MiB' }], { stateDir: path.join(dir, 'st') });
      (doc.targets as Array<{ portals: string[] }>)[0].portals = ['127.0.0.1:0', `127.0.0.1:${port}`];
      const file = write(doc);
      const r = await runNexus(['serve', file], dir);
      expect(r.code).to.equal(1);
      expect(humanLines(r.stderr)).to.deep.equal([`nexus: cannot start: /targets/0/portals/1: cannot listen on 127.0.0.1:${port}: address already in use (EADDRINUSE)`]);
      expect(r.stderr).to.not.contain('"stack"');
      const o = await runNexus(['serve', file, '--listen', `127.0.0.1:${port}`], dir);
      expect(o.code).to.equal(1);
      expect(humanLines(o.stderr)).to.deep.equal([`nexus: cannot start: --listen: cannot listen on 127.0.0.1:${port}: address already in use (EADDRINUSE)`]);
    } finally {
      busy.close();
    }
  });

  it('--state-dir takes relative device paths with it and the banner\'s state directory exists', async () => {
    const file = write(topology([{ name: 'd0', handler: 'fileio', size: '1MiB', path: 'disks/d0.img' }], { stateDir: 'ignored' }));
    const child = spawn(process.execPath, [...CLI, 'serve', file, '--state-dir', 'state', '--log-level', 'warn'],
      { cwd: dir, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    const deadline = Date.now() + 30000;
    while (!out.includes('stop with Ctrl-C') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    try {
      expect(out).to.contain(`(state in ${path.join(dir, 'state')})`);
      expect(existsSync(path.join(dir, 'state', 'disks', 'd0.img')), out).to.equal(true);
      expect(existsSync(path.join(dir, 'ignored'))).to.equal(false);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited, out).to.equal(0);
  });

  it('warns at validate when a ram device is larger than this machine\'s memory', async () => {
    const file = write(topology([{ name: 'd0', handler: 'ram', size: '64EiB' }]));
    const r = await runNexus(['validate', file], dir);
    expect(r.code).to.equal(0);
    expect(r.stderr).to.match(/warning: \/devices\/0\/size: ram device "d0" \(\d+EiB\) is larger than this machine's memory/);
  });
});

describe('SIGHUP (child process)', function () {
  this.timeout(60000);

  it('re-reads the topology file, applies it or logs every error, and keeps serving', async () => {
    const d = await startDaemon(topology([{ name: 'd0', handler: 'nullio', size: '1MiB' }]), { threads: 0, logLevel: 'info' });
    try {
      process.kill(d.pid, 'SIGHUP');
      await waitFor(() => d.output().includes('valid; nothing changed'));
      expect(d.output()).to.contain(`SIGHUP: re-read ${path.join(d.dir, 'topology.json')}: valid; nothing changed`);

      writeFileSync(path.join(d.dir, 'topology.json'), JSON.stringify({ devices: [{ name: 'd0', handler: 'nullio' }], targets: [] }));
      process.kill(d.pid, 'SIGHUP');
      await waitFor(() => d.output().includes('1 error: the topology is not valid; nothing changed'));
      expect(d.output()).to.contain('/devices/0/size');
      expect(d.output()).to.contain('size is required for nullio devices');

      // A valid change is applied as one transaction.
      writeFileSync(path.join(d.dir, 'topology.json'), JSON.stringify({
        stateDir: path.join(d.dir, 'state'), engine: { threads: 0 },
        devices: [{ name: 'd0', handler: 'nullio', size: '1MiB' }, { name: 'd1', handler: 'nullio', size: '2MiB' }],
        targets: [{ driver: 'iscsi', name: TARGET, portals: ['127.0.0.1:0'], luns: [{ lun: 0, device: 'd0' }, { lun: 1, device: 'd1' }] }],
      }));
      process.kill(d.pid, 'SIGHUP');
      await waitFor(() => d.output().includes('applied 2 steps'));
      expect(d.output()).to.contain('add device d1 (nullio, 2097152 bytes)');

      // Still serving: a TCP connection to the portal is accepted.
      await new Promise<void>((resolve, reject) => {
        const s = require('node:net').connect(d.port, d.host, () => { s.destroy(); resolve(); }) as import('node:net').Socket;
        s.on('error', reject);
      });
    } finally {
      expect(await d.stop()).to.equal(0);
    }
  });
});

async function waitFor(cond: () => boolean, ms = 15000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
