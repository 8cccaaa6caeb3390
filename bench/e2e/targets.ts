/**
 * The two targets under test, started identically on loopback: Nexus (this project's daemon)
 * and tgtd (Linux SCSI target framework, Debian package `tgt`) as the peer.
 *
 * Both export the same two LUNs and the same login keys, so a client negotiates the same
 * session with either:
 *   LUN 1  the shared 1 GiB backing file, buffered I/O (page cache)
 *   LUN 2  a null device of 1 TiB (tgt's bs_null size is fixed at 1 TiB; Nexus's is set to match)
 *   LUN 3  with --rbd only: one Ceph RBD image (Nexus's rbd handler, tgtd's bs_rbd from tgt-rbd)
 * Every wait is bounded; only the PIDs started here are signalled.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { alive, exeOf } from './procstat';

export type TargetName = 'nexus' | 'tgt';

export interface TargetOptions {
  port: number;
  workdir: string;
  /** Backing file of LUN 1 (already created and filled). */
  file: string;
  /** HeaderDigest=CRC32C required; DataDigest offered as None,CRC32C (libiscsi only does None). */
  digests: boolean;
  /** CPU list for taskset, e.g. '1'; undefined = not pinned. */
  cpus?: string;
  /** Nexus engine threads (topology engine.threads). */
  threads: number;
  /** false: Nexus with the data-path statistics off (engine.statistics), for the counters' cost. */
  statistics?: boolean;
  /** LUN 3: a Ceph RBD image, reached as client.admin through `conf` (which names the keyring). */
  rbd?: { pool: string; image: string; conf: string; keyring: string };
}

export interface RunningTarget {
  name: TargetName;
  pid: number;
  iqn: string;
  port: number;
  /** iscsi:// URL of a LUN, with the digest choice the run asked for. */
  url(lun: number): string;
  /** The same LUN as a qemu block spec (json: pseudo-file, so header-digest can be set). */
  qemuSpec(lun: number): string;
  stop(): Promise<void>;
}

/** Login keys both targets are set to (Nexus's defaults; tgt's own defaults are smaller). */
export const LOGIN_KEYS = {
  MaxRecvDataSegmentLength: 262144,
  MaxBurstLength: 1048576,
  FirstBurstLength: 262144,
  InitialR2T: 'No',
  ImmediateData: 'Yes',
} as const;

export const LUN_FILE = 1;
export const LUN_NULL = 2;
export const LUN_RBD = 3;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      srv.close(() => res(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => { s.destroy(); res(ok); };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(1000, () => done(false));
  });
}

/** A real SCSI command answered: INQUIRY through libiscsi. */
export function inquiryOk(url: string): { ok: boolean; output: string } {
  const r = spawnSync('iscsi-inq', [url], { encoding: 'utf8', timeout: 10_000 });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

function urlFor(port: number, iqn: string, lun: number, digests: boolean): string {
  return `iscsi://127.0.0.1:${port}/${iqn}/${lun}${digests ? '?header_digest=crc32c' : ''}`;
}

function qemuSpecFor(port: number, iqn: string, lun: number, digests: boolean): string {
  // qemu's iscsi driver overrides any URL digest argument with its own option (default
  // none-crc32c), so the digest must be given as a block option.
  return 'json:' + JSON.stringify({
    driver: 'raw',
    file: { driver: 'iscsi', transport: 'tcp', portal: `127.0.0.1:${port}`, target: iqn, lun,
      'header-digest': digests ? 'crc32c' : 'none' },
  });
}

function withCpus(cpus: string | undefined, cmd: string, args: string[]): [string, string[]] {
  return cpus === undefined ? [cmd, args] : ['taskset', ['-c', cpus, cmd, ...args]];
}

async function waitExit(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!alive(pid)) return true;
    await sleep(100);
  }
  return !alive(pid);
}

// ---------------------------------------------------------------------------------------- tgtd

export async function startTgt(o: TargetOptions): Promise<RunningTarget> {
  const iqn = 'iqn.2026-11.io.nexus.bench:tgt';
  // tgtd -C: suffix of /var/run/tgtd/socket.N (not a TCP port), at most 32767.
  let ctrlN = 20000 + (o.port % 10000);
  for (let i = 0; i < 100 && existsSync(`/var/run/tgtd/socket.${ctrlN}`); i++) ctrlN = 20000 + ((ctrlN + 7) % 10000);
  const ctrl = String(ctrlN);
  mkdirSync(o.workdir, { recursive: true });
  const log = createWriteStream(join(o.workdir, 'tgtd.log'));
  const [cmd, args] = withCpus(o.cpus, 'tgtd', ['-f', '-C', ctrl, '--iscsi', `portal=127.0.0.1:${o.port}`]);
  const child: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const pid = child.pid;
  if (pid === undefined) throw new Error('tgtd: spawn failed');
  const adm = (...a: string[]): void => {
    const r = spawnSync('tgtadm', ['-C', ctrl, '--lld', 'iscsi', ...a], { encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0) throw new Error(`tgtadm ${a.join(' ')}: ${r.stderr || r.stdout || r.error?.message}`);
  };
  const stop = async (): Promise<void> => {
    if (!alive(pid)) return;
    // tgtd ignores SIGTERM: delete the target, then the system; tgtd then exits by itself.
    spawnSync('tgtadm', ['-C', ctrl, '--lld', 'iscsi', '--mode', 'target', '--op', 'delete', '--force', '--tid', '1'], { timeout: 10_000 });
    spawnSync('tgtadm', ['-C', ctrl, '--lld', 'iscsi', '--mode', 'system', '--op', 'delete'], { timeout: 10_000 });
    if (!(await waitExit(pid, 5000))) {
      // Still the process spawned here (its exe has not changed): kill it by PID.
      if (exeOf(pid)?.endsWith('/tgtd') === true) process.kill(pid, 'SIGKILL');
      await waitExit(pid, 5000);
    }
  };
  try {
    let ready = false;
    for (let i = 0; i < 100 && !ready; i++) {
      if (!alive(pid)) throw new Error(`tgtd exited during startup (see ${join(o.workdir, 'tgtd.log')})`);
      const r = spawnSync('tgtadm', ['-C', ctrl, '--lld', 'iscsi', '--mode', 'system', '--op', 'show'], { timeout: 5000 });
      ready = r.status === 0 && (await canConnect(o.port));
      if (!ready) await sleep(100);
    }
    if (!ready) throw new Error('tgtd did not become ready in 10 s');
    adm('--mode', 'target', '--op', 'new', '--tid', '1', '--targetname', iqn);
    adm('--mode', 'logicalunit', '--op', 'new', '--tid', '1', '--lun', String(LUN_FILE), '--bstype', 'rdwr', '--backing-store', resolve(o.file));
    // bs_null ignores the path but tgtadm requires one.
    adm('--mode', 'logicalunit', '--op', 'new', '--tid', '1', '--lun', String(LUN_NULL), '--bstype', 'null', '--backing-store', 'null');
    // bs_rbd (Debian tgt-rbd): synchronous librbd calls on tgtd's worker threads.
    if (o.rbd) {
      adm('--mode', 'logicalunit', '--op', 'new', '--tid', '1', '--lun', String(LUN_RBD), '--bstype', 'rbd',
        '--backing-store', `${o.rbd.pool}/${o.rbd.image}`, '--bsopts', `conf=${o.rbd.conf};id=admin`);
    }
    adm('--mode', 'target', '--op', 'bind', '--tid', '1', '--initiator-address', 'ALL');
    for (const [k, v] of Object.entries(LOGIN_KEYS)) adm('--mode', 'target', '--op', 'update', '--tid', '1', '--name', k, '--value', String(v));
    adm('--mode', 'target', '--op', 'update', '--tid', '1', '--name', 'HeaderDigest', '--value', o.digests ? 'CRC32C' : 'None');
    adm('--mode', 'target', '--op', 'update', '--tid', '1', '--name', 'DataDigest', '--value', o.digests ? 'None,CRC32C' : 'None');
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    name: 'tgt', pid, iqn, port: o.port,
    url: (lun) => urlFor(o.port, iqn, lun, o.digests),
    qemuSpec: (lun) => qemuSpecFor(o.port, iqn, lun, o.digests),
    stop,
  };
}

// --------------------------------------------------------------------------------------- Nexus

export function nexusTopology(o: TargetOptions, iqn: string): object {
  return {
    stateDir: join(resolve(o.workdir), 'nexus-state'),
    engine: { threads: o.threads, ...(o.statistics === false ? { statistics: false } : {}) },
    iscsi: {
      maxRecvDataSegmentLength: LOGIN_KEYS.MaxRecvDataSegmentLength,
      maxBurstLength: LOGIN_KEYS.MaxBurstLength,
      firstBurstLength: LOGIN_KEYS.FirstBurstLength,
      initialR2T: false,
      immediateData: true,
      headerDigest: o.digests ? ['CRC32C'] : ['None'],
      dataDigest: o.digests ? ['None', 'CRC32C'] : ['None'],
      // tgtd sends no NOP-In unless told to; neither does Nexus here.
      nopInIntervalSec: 0,
    },
    devices: [
      { name: 'file0', handler: 'fileio', path: resolve(o.file), size: '1GiB', blockSize: 512 },
      { name: 'null0', handler: 'nullio', size: '1TiB', blockSize: 512 },
      ...(o.rbd ? [{ name: 'rbd0', handler: 'rbd', pool: o.rbd.pool, image: o.rbd.image, cephConf: o.rbd.conf, keyring: o.rbd.keyring, cephUser: 'client.admin', blockSize: 512 }] : []),
    ],
    targets: [{
      driver: 'iscsi', name: iqn, portals: [`127.0.0.1:${o.port}`],
      luns: [{ lun: LUN_FILE, device: 'file0' }, { lun: LUN_NULL, device: 'null0' }, ...(o.rbd ? [{ lun: LUN_RBD, device: 'rbd0' }] : [])],
    }],
  };
}

/**
 * How to run the CLI: NEXUS_CMD when set (split on white space, as scripts/lib/target.sh does),
 * else the compiled build (`bin/nexus` runs dist/ when it exists), which is what a user runs after
 * `npm ci`; NEXUS_BENCH_TSX=1 runs the sources through tsx instead. tsx is no stand-in for the
 * build: its CommonJS interop reads every imported binding (const enums included) through a
 * getter, which cost about a fifth more target CPU per command (null 4 KiB writes QD8: 21.6 against
 * 17.5 µs per command, measured interleaved in one run).
 */
export function nexusCommand(root: string): [string, string[]] {
  const override = process.env.NEXUS_CMD?.trim().split(/\s+/);
  if (override !== undefined && override[0] !== '') return [override[0], override.slice(1)];
  if (process.env.NEXUS_BENCH_TSX !== '1') return [process.execPath, [join(root, 'bin/nexus')]];
  // `node --import tsx` keeps the daemon in this one process (the tsx CLI would fork a child).
  return [process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts')]];
}

/** Newest modification time (ms) of the files under `dir` whose names end in `ext`. */
function newestMtime(dir: string, ext: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p, ext));
    else if (e.name.endsWith(ext)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * What the Nexus under test is, made current first: unless NEXUS_CMD or NEXUS_BENCH_TSX chose
 * otherwise, a missing build, or one older than any source under src/, is rebuilt
 * (`npm run build`), so the run never measures a stale dist/ nor tsx by accident.
 */
export function prepareNexusBuild(root: string): string {
  if (process.env.NEXUS_CMD?.trim()) return `NEXUS_CMD=${process.env.NEXUS_CMD.trim()}`;
  if (process.env.NEXUS_BENCH_TSX === '1') return 'sources through tsx (NEXUS_BENCH_TSX=1)';
  const main = join(root, 'dist/src/cli/main.js');
  const built = existsSync(main) ? statSync(main).mtimeMs : 0;
  if (built < newestMtime(join(root, 'src'), '.ts')) {
    process.stderr.write(built === 0 ? 'building Nexus (no dist/ yet)\n' : 'rebuilding Nexus (dist/ is older than src/)\n');
    const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], timeout: 600_000 });
    if (r.status !== 0) throw new Error(`npm run build failed (${r.error?.message ?? `exit ${r.status}`})`);
  }
  return 'compiled (dist/)';
}

export async function startNexus(o: TargetOptions, root: string): Promise<RunningTarget> {
  const iqn = 'iqn.2026-11.io.nexus.bench:nexus';
  mkdirSync(o.workdir, { recursive: true });
  const topo = join(o.workdir, 'nexus-topology.json');
  writeFileSync(topo, JSON.stringify(nexusTopology(o, iqn), null, 2));
  const [node, pre] = nexusCommand(root);
  const v = spawnSync(node, [...pre, 'validate', topo], { encoding: 'utf8', timeout: 30_000, cwd: root });
  if (v.status !== 0) throw new Error(`nexus validate ${topo}: ${v.stdout}${v.stderr}`);
  const logPath = join(o.workdir, 'nexus.log');
  const log = createWriteStream(logPath);
  const [cmd, args] = withCpus(o.cpus, node, [...pre, 'serve', topo, '--log-level', 'warn']);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: root, detached: true });
  let banner = '';
  child.stdout?.on('data', (d: Buffer) => { banner += d.toString(); });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const pid = child.pid;
  if (pid === undefined) throw new Error('nexus: spawn failed');
  const stop = async (): Promise<void> => {
    if (!alive(pid)) return;
    process.kill(pid, 'SIGTERM');
    if (!(await waitExit(pid, 8000))) {
      process.kill(pid, 'SIGKILL');
      await waitExit(pid, 5000);
    }
  };
  const t: RunningTarget = {
    name: 'nexus', pid, iqn, port: o.port,
    url: (lun) => urlFor(o.port, iqn, lun, o.digests),
    qemuSpec: (lun) => qemuSpecFor(o.port, iqn, lun, o.digests),
    stop,
  };
  let ready = false;
  for (let i = 0; i < 300 && !ready; i++) { // 30 s: tsx compiles on first start
    if (!alive(pid)) break;
    ready = banner.includes('nexus: serving') || (await canConnect(o.port));
    if (!ready) await sleep(100);
  }
  if (!ready) {
    await stop();
    throw new Error(`nexus did not start listening on 127.0.0.1:${o.port} (see ${logPath})`);
  }
  const inq = inquiryOk(t.url(LUN_NULL));
  if (!inq.ok) {
    await stop();
    throw new Error(`nexus listens but iscsi-inq failed: ${inq.output.split('\n').slice(0, 3).join(' | ')} (see ${logPath})`);
  }
  return t;
}

export async function startTarget(name: TargetName, o: TargetOptions, root: string): Promise<RunningTarget> {
  return name === 'nexus' ? startNexus(o, root) : startTgt(o);
}
