// Supervision end to end (DESIGN.md §3): an engine thread of the daemon dies (the test hook
// terminates it, as a crash would) while qemu-io sessions run on both threads. The sessions on the
// dead thread lose their connection and can log in again (on the replacement), the session on
// the other thread keeps working, and a write acknowledged before the death reads back after it.
import { expect } from 'chai';
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RunningDaemon, startDaemon } from '../helpers/daemon';
import { describeNeeds, NATIVE_ADDON, requirePrereq, tool } from '../helpers/prereq';

const T0 = 'iqn.2026-11.io.nexus:sup0';
const T1 = 'iqn.2026-11.io.nexus:sup1';

interface Run { code: number | null; out: string }

function run(tool: string, args: string[], timeoutMs = 60000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(tool, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, out: String(stdout) + String(stderr) });
    });
  });
}

/** A qemu-io that stays logged in: it reads, sleeps, reads again (bounded by its own sleep). */
function longSession(url: string, pattern: string, sleepMs: number): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn('qemu-io', ['-f', 'raw', '-c', `read -P ${pattern} 0 65536`, '-c', `sleep ${sleepMs}`, '-c', `read -P ${pattern} 0 65536`, url], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), sleepMs + 60000);
  const done = new Promise<Run>((resolve) => child.once('exit', (code) => {
    clearTimeout(killer);
    resolve({ code, out });
  }));
  return { child, done };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describeNeeds(NATIVE_ADDON)('daemon engine thread supervision (engine threads: 2)', function () {
  this.timeout(180000);
  let d: RunningDaemon;
  // File-backed units: an acknowledged write is in the file's page cache, which the replacement
  // thread's fresh descriptor reads (a ram unit would start empty on the replacement).
  const files = mkdtempSync(path.join(tmpdir(), 'nexus-sup-'));

  before(async function () {
    requirePrereq(this, tool('qemu-io'), tool('iscsi-inq'));
    // One device per target: each target's unit group gets its own thread (placement.ts), so T0's
    // session goes to thread 0 and T1's to thread 1.
    d = await startDaemon({
      devices: [
        { name: 'd0', handler: 'fileio', path: path.join(files, 'd0.img'), size: '8MiB', blockSize: 512 },
        { name: 'd1', handler: 'fileio', path: path.join(files, 'd1.img'), size: '8MiB', blockSize: 512 },
      ],
      targets: [
        { driver: 'iscsi', name: T0, portals: ['127.0.0.1:0'], luns: [{ lun: 0, device: 'd0' }] },
        { driver: 'iscsi', name: T1, portals: ['127.0.0.1:0'], luns: [{ lun: 0, device: 'd1' }] },
      ],
    }, { threads: 2, logLevel: 'info', env: { NEXUS_TEST_HOOKS: '1' } });
  });

  after(async () => {
    if (d) {
      const code = await d.stop();
      expect(code, d.output()).to.equal(0);
    }
    rmSync(files, { recursive: true, force: true });
  });

  it('a killed engine thread drops only its sessions; they log in again and acknowledged writes survive', async () => {
    const u0 = `iscsi://127.0.0.1:${d.port}/${T0}/0`;
    const u1 = `iscsi://127.0.0.1:${d.port}/${T1}/0`;
    // Acknowledged writes on both threads' units before anything dies.
    for (const [u, p] of [[u0, '0x5a'], [u1, '0x3c']]) {
      const w = await run('qemu-io', ['-f', 'raw', '-c', `write -P ${p} 0 65536`, u]);
      expect(w.code, w.out).to.equal(0);
      expect(w.out).to.contain('wrote 65536/65536 bytes');
    }
    const onThreads = (): number => d.output().split('session on engine thread').length - 1;
    const before = onThreads();
    const s0 = longSession(u0, '0x5a', 4000);
    const s1 = longSession(u1, '0x3c', 4000);
    // Both sessions run on their threads (the hand-off was accepted there), then thread 0 dies.
    for (let i = 0; i < 100 && onThreads() < before + 2; i++) await sleep(100);
    expect(onThreads(), d.output()).to.equal(before + 2);
    process.kill(d.pid, 'SIGUSR2');
    for (let i = 0; i < 50 && !d.output().includes('test hook: terminating engine thread 0'); i++) await sleep(100);
    expect(d.output()).to.contain('test hook: terminating engine thread 0 (1 sessions)');
    const [r0, r1] = await Promise.all([s0.done, s1.done]);
    // Thread 1's session never noticed: both reads verified, clean exit.
    expect(r1.code, r1.out).to.equal(0);
    expect(r1.out.match(/^read 65536\/65536 bytes/gm), r1.out).to.have.length(2);
    expect(r1.out).not.to.contain('Pattern verification failed');
    // Thread 0's session lost its connection; whatever qemu-io made of that, it ended, and never
    // saw wrong data.
    expect(r0.code, r0.out).to.not.equal(null);
    expect(r0.out).not.to.contain('Pattern verification failed');
    // The initiator logs in again (the replacement thread serves) and reads what was acknowledged.
    let again: Run = { code: -1, out: '' };
    for (let i = 0; i < 50 && again.code !== 0; i++) {
      again = await run('qemu-io', ['-f', 'raw', '-c', 'read -P 0x5a 0 65536', u0]);
      if (again.code !== 0) await sleep(200);
    }
    expect(again.code, again.out + d.output()).to.equal(0);
    expect(again.out).to.contain('read 65536/65536 bytes');
    expect(again.out).not.to.contain('Pattern verification failed');
    const inq = await run('iscsi-inq', [u1]);
    expect(inq.code, inq.out).to.equal(0);
    expect(inq.out).to.contain('Product:d1');
  });
});
