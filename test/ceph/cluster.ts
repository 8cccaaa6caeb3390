/**
 * A throw-away single-node Ceph cluster on 127.0.0.1 for the rbd tests: one monitor, one manager,
 * one BlueStore OSD on a sparse file, pool size 1, cephx on. Everything lives under one temporary
 * directory; the daemons run in the foreground of their own process groups and are stopped by
 * PID (SIGTERM, then SIGKILL after a bound) in stop(), which the suites call from after() so that
 * a failed test leaves nothing running. Start is bounded: the cluster is ready when the manager is
 * available and every placement group is active+clean, or start() fails with the daemons' logs.
 *
 * No systemd, no containers, no root-owned paths: the monitor's ports are taken free from the
 * kernel, the OSD and manager bind in a port range just above them, and every admin socket, log
 * and key stays in the directory.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CephCluster {
  /** The cluster's configuration file (CEPH_CONF for the command-line tools). */
  readonly conf: string;
  /** client.admin's keyring. */
  readonly keyring: string;
  readonly dir: string;
  /** `ceph ...` as client.admin; resolves with stdout. */
  ceph(...args: string[]): Promise<string>;
  /** `rbd ...` as client.admin. */
  rbd(...args: string[]): Promise<string>;
  /** Stop the OSD (SIGTERM, wait) and start it again after `pauseMs`; resolves once it is up. */
  stopOsd(): Promise<void>;
  startOsd(): Promise<void>;
  /** Wait until every PG is active+clean (bounded). */
  waitClean(timeoutMs?: number): Promise<void>;
  /** Stop every daemon by PID and delete the directory (logs kept on failure when asked). */
  stop(keepLogs?: boolean): Promise<void>;
}

export interface ClusterOptions {
  /** Bound on the whole start, ms (default 150 s: the machine may be shared). */
  startTimeoutMs?: number;
  /** OSD block file size in bytes (sparse; default 4 GiB). */
  osdBytes?: number;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> { return new Promise(r => setTimeout(r, ms)); }

interface Daemon { name: string; child: ChildProcess; exited: Promise<void>; alive: boolean }

export async function startCluster(opts: ClusterOptions = {}): Promise<CephCluster> {
  const deadline = Date.now() + (opts.startTimeoutMs ?? 150_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'nexus-ceph-'));
  const data = path.join(dir, 'data'), runDir = path.join(dir, 'run'), logs = path.join(dir, 'log');
  for (const d of [path.join(data, 'mon.a'), path.join(data, 'mgr.x'), path.join(data, 'osd.0'), runDir, logs]) mkdirSync(d, { recursive: true });
  const conf = path.join(dir, 'ceph.conf');
  const keyring = path.join(dir, 'ceph.client.admin.keyring');
  const v2 = await freePort();
  const v1 = await freePort();
  // Manager and OSD ports: a window of 100 above a free port (the kernel picks high ports).
  const base = 20000 + (v2 % 20000);
  const fsid = readFileSync('/proc/sys/kernel/random/uuid', 'utf8').trim();
  const monAddr = `[v2:127.0.0.1:${v2},v1:127.0.0.1:${v1}]`;
  writeFileSync(conf, [
    '[global]',
    `fsid = ${fsid}`,
    `mon host = ${monAddr}`,
    'mon initial members = a',
    'public addr = 127.0.0.1',
    'cluster addr = 127.0.0.1',
    'public network = 127.0.0.0/8',
    'ms bind ipv6 = false',
    `ms bind port min = ${base}`,
    `ms bind port max = ${base + 100}`,
    'auth cluster required = cephx',
    'auth service required = cephx',
    'auth client required = cephx',
    'auth allow insecure global id reclaim = false',
    `keyring = ${keyring}`,
    `run dir = ${runDir}`,
    `admin socket = ${runDir}/$cluster-$name.asok`,
    `log file = ${logs}/$name.log`,
    `crash dir = ${dir}/crash`,
    'osd pool default size = 1',
    'osd pool default min size = 1',
    'osd pool default pg autoscale mode = off',
    'osd pool default pg num = 8',
    'osd pool default pgp num = 8',
    'osd crush chooseleaf type = 0',
    'mon allow pool size one = true',
    'mon allow pool delete = true',
    'mon warn on pool no redundancy = false',
    'mon data avail warn = 2',
    'mon data avail crit = 1',
    'mgr stats period = 1',
    'mgr tick period = 1',
    'osd mon report interval = 1',
    '[client]',
    // Several librbd clients at once (the daemons under test, rbd, qemu): one socket and log each.
    `admin socket = ${runDir}/$cluster-$name.$pid.asok`,
    `log file = ${logs}/$name.$pid.log`,
    '[mon]',
    `mon data = ${data}/mon.$id`,
    `keyring = ${data}/mon.$id/keyring`,
    '[mgr]',
    `mgr data = ${data}/mgr.$id`,
    `keyring = ${data}/mgr.$id/keyring`,
    '[osd]',
    `osd data = ${data}/osd.$id`,
    `keyring = ${data}/osd.$id/keyring`,
    'osd objectstore = bluestore',
    'osd memory target = 1073741824',
    `bluestore block path = ${data}/osd.$id/block.file`,
    'bluestore block create = true',
    `bluestore block size = ${opts.osdBytes ?? 4 * 1024 * 1024 * 1024}`,
    '',
  ].join('\n'));
  const env = { ...process.env, CEPH_CONF: conf };
  const daemons = new Map<string, Daemon>();
  const left = (): number => Math.max(1000, deadline - Date.now());
  const tool = async (cmd: string, args: string[], timeoutMs = left()): Promise<string> => {
    const r = await run(cmd, args, { env, timeout: timeoutMs, maxBuffer: 64 << 20 });
    return r.stdout;
  };
  const ceph = (...args: string[]): Promise<string> => tool('ceph', ['--connect-timeout', '10', ...args], 60_000);
  const start = (name: string, cmd: string, args: string[]): void => {
    const child = spawn(cmd, [...args, '-c', conf, '-f'], { env, stdio: ['ignore', 'ignore', 'ignore'], detached: true });
    const d: Daemon = { name, child, alive: true, exited: Promise.resolve() };
    d.exited = new Promise<void>(r => child.once('exit', () => { d.alive = false; r(); }));
    daemons.set(name, d);
  };
  const stopDaemon = async (name: string): Promise<void> => {
    const d = daemons.get(name);
    if (!d || !d.alive || d.child.pid === undefined) return;
    try { process.kill(d.child.pid, 'SIGTERM'); } catch { /* already gone */ }
    const t = setTimeout(() => { if (d.alive && d.child.pid !== undefined) process.kill(d.child.pid, 'SIGKILL'); }, 15_000);
    await d.exited;
    clearTimeout(t);
  };
  const until = async (what: string, test: () => Promise<boolean>, timeoutMs = left()): Promise<void> => {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      try { if (await test()) return; } catch { /* not yet */ }
      await sleep(500);
    }
    throw new Error(`ceph: ${what} not reached in ${Math.round(timeoutMs / 1000)} s`);
  };
  const waitClean = (timeoutMs = 120_000): Promise<void> => until('every PG active+clean', async () => {
    const s = JSON.parse(await ceph('pg', 'stat', '-f', 'json')) as { pg_summary: { num_pgs: number; num_pg_by_state: Array<{ name: string; num: number }> } };
    const n = s.pg_summary.num_pgs;
    const clean = s.pg_summary.num_pg_by_state.find(x => x.name === 'active+clean')?.num ?? 0;
    return n > 0 && clean === n;
  }, timeoutMs);
  const osdUp = (): Promise<void> => until('osd.0 up', async () => (await ceph('osd', 'stat', '-f', 'json')).includes('"num_up_osds":1'), 90_000);

  const stopAll = async (keepLogs = false): Promise<void> => {
    for (const n of ['osd.0', 'mgr.x', 'mon.a']) await stopDaemon(n);
    if (!keepLogs) rmSync(dir, { recursive: true, force: true });
    else rmSync(data, { recursive: true, force: true });
  };

  try {
    const monKeyring = path.join(data, 'mon.keyring');
    await tool('ceph-authtool', ['--create-keyring', monKeyring, '--gen-key', '-n', 'mon.', '--cap', 'mon', 'allow *']);
    await tool('ceph-authtool', ['--create-keyring', keyring, '--gen-key', '-n', 'client.admin',
      '--cap', 'mon', 'allow *', '--cap', 'osd', 'allow *', '--cap', 'mds', 'allow *', '--cap', 'mgr', 'allow *']);
    await tool('ceph-authtool', [monKeyring, '--import-keyring', keyring]);
    await tool('monmaptool', ['--create', '--fsid', fsid, '--addv', 'a', monAddr, path.join(data, 'monmap')]);
    await tool('ceph-mon', ['-c', conf, '--mkfs', '-i', 'a', '--monmap', path.join(data, 'monmap'), '--keyring', monKeyring]);
    start('mon.a', 'ceph-mon', ['-i', 'a']);
    await until('monitor quorum', async () => { await ceph('mon', 'stat'); return true; }, 60_000);
    await ceph('auth', 'get-or-create', 'mgr.x', 'mon', 'allow profile mgr', 'osd', 'allow *', 'mds', 'allow *', '-o', path.join(data, 'mgr.x', 'keyring'));
    start('mgr.x', 'ceph-mgr', ['-i', 'x']);
    const osdUuid = readFileSync('/proc/sys/kernel/random/uuid', 'utf8').trim();
    const osdKey = (await tool('ceph-authtool', ['--gen-print-key'])).trim();
    const secretFile = path.join(dir, 'osd-secret.json');
    writeFileSync(secretFile, JSON.stringify({ cephx_secret: osdKey }));
    const id = (await ceph('osd', 'new', osdUuid, '-i', secretFile)).trim();
    if (id !== '0') throw new Error(`ceph: unexpected osd id ${id}`);
    await tool('ceph-authtool', ['--create-keyring', path.join(data, 'osd.0', 'keyring'), '--name', 'osd.0', '--add-key', osdKey]);
    await tool('ceph-osd', ['-c', conf, '-i', '0', '--mkfs', '--osd-uuid', osdUuid]);
    start('osd.0', 'ceph-osd', ['-i', '0']);
    await osdUp();
    await until('manager available', async () => (await ceph('mgr', 'stat', '-f', 'json')).includes('"available":true'));
    await ceph('osd', 'pool', 'create', 'rbd', '8', '8');
    await tool('rbd', ['pool', 'init', 'rbd']);
    await waitClean(left());
  } catch (e) {
    const tail = ['mon.a', 'mgr.x', 'osd.0'].map(n => {
      const f = path.join(logs, `${n}.log`);
      return existsSync(f) ? `--- ${n}.log\n${readFileSync(f, 'utf8').split('\n').slice(-15).join('\n')}` : '';
    }).join('\n');
    await stopAll();
    throw new Error(`${(e as Error).message}\n${tail}`);
  }

  return {
    conf, keyring, dir,
    ceph,
    rbd: (...args: string[]) => tool('rbd', args, 120_000),
    stopOsd: () => stopDaemon('osd.0'),
    startOsd: async () => { start('osd.0', 'ceph-osd', ['-i', '0']); await osdUp(); },
    waitClean,
    stop: stopAll,
  };
}
