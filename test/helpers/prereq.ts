/**
 * Prerequisites from outside npm that some suites need: the native addon, io_uring, libiscsi's
 * tools, qemu, tgtd. One policy for every runner:
 *   - outside CI a missing prerequisite skips the test, printing what is missing and how to get it;
 *   - with CI=true it is a failure naming the prerequisite and its Debian package or build step,
 *     so that CI cannot go green by skipping (`bash .ci/run` installs every one of them).
 *
 * Mocha suites call requirePrereq (or itNeeds / describeNeeds); the shell runners call this file
 * as a command:
 *   tsx test/helpers/prereq.ts RUNNER NEED...     NEED = tool:NAME | native | liburing | io_uring
 *   exit 0: all present; 3: missing outside CI (skip); 1: missing with CI=true (fail);
 *   2: usage. The reason is printed on stdout either way.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { NexusError } from '../../src/engine/result';
import * as native from '../../src/native';

export interface Prereq {
  /** What is needed, as a reader names it ("iscsi-inq", "the native addon"). */
  readonly what: string;
  readonly available: boolean;
  /** The Debian package or build step that provides it. */
  readonly howToGet: string;
  /** Why it is unavailable, when something more is known (a load error, an errno). */
  readonly detail?: string;
}

/** CI=true (or 1): the environment `bash .ci/run` sets. */
export function inCi(): boolean {
  return process.env.CI === 'true' || process.env.CI === '1';
}

/** Debian package of each external command the tests and runners use (iscsi-*: packageOf). */
const PACKAGE_OF: Readonly<Record<string, string>> = {
  'qemu-io': 'qemu-utils qemu-block-extra',
  'qemu-img': 'qemu-utils qemu-block-extra',
  'qemu-system-x86_64': 'qemu-system-x86',
  'tgtd': 'tgt',
  'tgtadm': 'tgt',
  'tgtimg': 'tgt',
  'taskset': 'util-linux',
  'socat': 'socat',
  'cpio': 'cpio',
  'mkfs.ext4': 'e2fsprogs',
  'ip': 'iproute2',
  'python3': 'python3',
  'xorriso': 'xorriso',
  'mtx': 'mtx',
  'lsscsi': 'lsscsi',
  'sg_inq': 'sg3-utils',
  'sg_compare_and_write': 'sg3-utils',
  'mt-st': 'mt-st',
  'btape': 'bacula-sd',
  'systemd-analyze': 'systemd',
  'promtool': 'prometheus',
  // A throw-away Ceph cluster for the rbd backstore's tests (test/ceph/cluster.ts).
  'ceph-mon': 'ceph-mon',
  'ceph-mgr': 'ceph-mgr',
  'ceph-osd': 'ceph-osd',
  'monmaptool': 'ceph-base',
  'ceph-authtool': 'ceph-common',
  'ceph': 'ceph-common',
  'rbd': 'ceph-common',
  'rados': 'ceph-common',
  'multipathd': 'multipath-tools',
  'sg_rtpg': 'sg3-utils',
};

function onPath(name: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d !== '' && existsSync(path.join(d, name)));
}

/** An external command, found on PATH. */
function packageOf(name: string): string | undefined {
  // libiscsi's utilities: iscsi-inq, iscsi-ls, iscsi-readcapacity16, iscsi-perf, iscsi-test-cu, ...
  return name.startsWith('iscsi-') ? 'libiscsi-bin' : PACKAGE_OF[name];
}

export function tool(name: string): Prereq {
  const pkg = packageOf(name);
  if (pkg === undefined) throw new NexusError('ERR_PREREQ_UNKNOWN', `no Debian package recorded for ${name} in test/helpers/prereq.ts`);
  return { what: name, available: onPath(name), howToGet: `apt-get install ${pkg} (scripts/install-system-deps.sh)` };
}

/**
 * The native addon; NEXUS_NATIVE=0 hides it (src/native/index.ts), as an unbuilt addon would be.
 * A daemon with engine threads needs it too: a connection is handed to an engine thread with the
 * addon's dup() (src/workers/socket-handoff.ts).
 */
export const NATIVE_ADDON: Prereq = {
  what: 'the native addon (build/Release/nexus_native.node)',
  available: native.available,
  howToGet: 'npm ci builds it with node-gyp (apt-get install build-essential python3), or npx node-gyp rebuild --nodedir=/usr; unset NEXUS_NATIVE=0',
  detail: native.loadError?.message,
};

/** io_uring compiled into the addon: liburing's headers were there when it was built. */
export const LIBURING: Prereq = {
  what: 'io_uring support in the native addon (liburing at build time)',
  available: native.available && native.haveLiburing,
  howToGet: 'apt-get install liburing-dev, then npx node-gyp rebuild --nodedir=/usr',
  detail: native.available ? undefined : 'the native addon is not loaded',
};

let ioUringProbe: Prereq | undefined;

/**
 * Whether this kernel accepts io_uring_setup(2), probed apart from the addon (python3's ctypes,
 * one ring of one entry, closed again): containers refuse it with EPERM (seccomp) or ENOSYS,
 * and kernel.io_uring_disabled=2 refuses it everywhere. Syscall 425 is io_uring_setup on every
 * architecture since the numbers were unified (Linux 5.1).
 */
export function ioUringKernel(): Prereq {
  if (ioUringProbe !== undefined) return ioUringProbe;
  const script = [
    'import ctypes, os, sys',
    'libc = ctypes.CDLL(None, use_errno=True)',
    'params = ctypes.create_string_buffer(120)',
    'fd = libc.syscall(425, 1, params)',
    'if fd < 0:',
    '    e = ctypes.get_errno(); print(os.strerror(e)); sys.exit(1)',
    'os.close(fd)',
  ].join('\n');
  const r = spawnSync('python3', ['-c', script], { encoding: 'utf8', timeout: 10_000 });
  const base = { what: 'io_uring (the kernel accepting io_uring_setup)', howToGet: 'a kernel with io_uring enabled (sysctl kernel.io_uring_disabled=0) and no seccomp filter refusing it' };
  if (r.error !== undefined) {
    ioUringProbe = { ...base, available: false, detail: `cannot probe: python3 did not run (${r.error.message}; apt-get install python3)` };
  } else {
    ioUringProbe = { ...base, available: r.status === 0, detail: r.status === 0 ? undefined : `io_uring_setup: ${r.stdout.trim() || r.stderr.trim()}` };
  }
  return ioUringProbe;
}

function describeMissing(p: Prereq): string {
  return `${p.what} is missing${p.detail !== undefined ? ` (${p.detail})` : ''}; to get it: ${p.howToGet}`;
}

/** The missing ones of `needs`, each as one sentence. */
export function missing(...needs: Prereq[]): string[] {
  return needs.filter((p) => !p.available).map(describeMissing);
}

/**
 * A test or suite that needs `needs`: returns when all are present; otherwise skips `ctx`
 * with the reason printed, or, with CI=true, fails with the reason.
 */
export function requirePrereq(ctx: Mocha.Context, ...needs: Prereq[]): void {
  const why = missing(...needs);
  if (why.length === 0) return;
  if (inCi()) throw ciFailure(why);
  for (const w of why) console.log(`      skipped: ${w}`);
  ctx.skip();
}

/**
 * With CI=true, fail unless `needs` are present; outside CI return (for tests that still run
 * without them and assert the fallback, like the io_uring `auto` choice).
 */
export function demandInCi(...needs: Prereq[]): void {
  const why = missing(...needs);
  if (why.length > 0 && inCi()) throw ciFailure(why);
}

function ciFailure(why: string[]): NexusError {
  return new NexusError('ERR_PREREQ_MISSING', `CI=true, and a prerequisite is missing: ${why.join('; ')}`);
}

type TestFn = (this: Mocha.Context) => void | Promise<unknown>;

/** `it` for a test that needs `needs` (requirePrereq at its start). */
export function itNeeds(...needs: Prereq[]): (title: string, fn: TestFn) => Mocha.Test {
  return (title, fn) => it(title, function () {
    requirePrereq(this, ...needs);
    return fn.call(this);
  });
}

/**
 * `describe` for a suite that needs `needs`, decided when the suite is defined: present, the
 * suite as written; missing outside CI, the suite skipped (none of its hooks run) and the reason
 * printed; missing with CI=true, one failing test in its place that names what is missing.
 */
export function describeNeeds(...needs: Prereq[]): (title: string, fn: (this: Mocha.Suite) => void) => Mocha.Suite | void {
  return (title, fn) => {
    const why = missing(...needs);
    if (why.length === 0) return describe(title, fn);
    if (inCi()) return describe(title, () => { it('has its prerequisites', () => { throw ciFailure(why); }); });
    console.log(`skipped "${title}": ${why.join('; ')}`);
    return describe.skip(title, fn);
  };
}

// ------------------------------------------------------------------ the shell runners' entry

function parseNeed(arg: string): Prereq | undefined {
  if (arg.startsWith('tool:')) return tool(arg.slice(5));
  if (arg === 'native') return NATIVE_ADDON;
  if (arg === 'liburing') return LIBURING;
  if (arg === 'io_uring') return ioUringKernel();
  return undefined;
}

function main(argv: string[]): number {
  const [runner, ...args] = argv;
  const needs = args.map(parseNeed);
  if (runner === undefined || args.length === 0 || needs.some((n) => n === undefined)) {
    process.stderr.write('usage: prereq.ts RUNNER tool:NAME|native|liburing|io_uring...\n');
    return 2;
  }
  const why = missing(...(needs as Prereq[]));
  if (why.length === 0) return 0;
  const ci = inCi();
  for (const w of why) console.log(`${runner}: ${ci ? 'FAILED (CI=true)' : 'skipped'}: ${w}`);
  return ci ? 1 : 3;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
