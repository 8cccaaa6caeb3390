/**
 * The `nexus` command line.
 *
 *   nexus serve [topology.json] [--log-level L] [--state-dir DIR] [--listen HOST:PORT]
 *   nexus validate <topology.json>
 *   nexus default-topology
 *   nexus ready [topology.json] [--timeout SECONDS]
 *   nexus tape create FILE --barcode X --size SIZE | tape info FILE   (cartridges: tape.ts)
 *   nexus shim <topology.json> [--dry-run] [--configfs DIR]   (fabric targets only through LIO's TCMU: shim.ts;
 *                                                             `serve` serves them beside the iSCSI targets)
 *   nexus help [command [subcommand]] | nexus --version
 *   nexus completion bash|zsh   (a completion script from the command table: completion.ts)
 *   nexus ls | session ls|logout | stats | config get   (admin commands over the control socket: admin.ts)
 *
 * Exit status: 0 done (or stopped cleanly by SIGTERM/SIGINT), 1 the daemon failed or was killed
 * by a second signal, 2 the command line or the topology file is wrong; the admin commands: 1 the
 * daemon answered with an error, 3 no daemon answers on the control socket (admin.ts).
 */

import { EventEmitter } from 'node:events';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { Command, CommanderError, Option } from 'commander';
import { localPortalsOf, portGroupsOf, type Topology } from '../engine/topology';
import { defaultTopologyDocument, defaultTopologyResult } from '../daemon/config/default-topology';
import { registerAdminCommands } from './admin';
import { registerLibraryCommands } from './library';
import { loadTopologyFile, normalizeTopology, type ConfigError, type TopologyResult } from '../daemon/config/load';
import type { TopologySource } from '../daemon/control';
import { formatPortal, parsePortal } from '../daemon/config/portal';
import { formatSize } from '../daemon/config/size';
import { checkStoragePaths, FILE_STATE_DIR } from '../daemon/config/storage-paths';
import { topologyWarnings } from '../daemon/config/warnings';
import { createLogger, LOG_LEVELS, logSecrets, resolveLogLevel, topologySecrets, type Logger } from '../daemon/log';
import { packageVersion } from '../daemon/version';
import { START_FAILED, type StartOrigins } from '../daemon/start-failure';
import { portalsToCheck, waitForPortals } from './ready';
import { registerTapeCommands } from './tape';
import { registerShimCommands } from './shim';
import { registerCompletionCommand } from './completion';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface ListeningAddress { host: string; port: number }
export interface DaemonHandle { stop(): Promise<void>; reload?(): Promise<void>; listening: ListeningAddress[] }
export type StartDaemon = (topology: Topology, opts: { log: Logger; origins?: StartOrigins; source?: TopologySource }) => Promise<DaemonHandle>;

export interface CliIo { stdout(text: string): void; stderr(text: string): void }

/** What the command line needs from its surroundings; the process's own by default. */
export interface CliDeps {
  io?: CliIo;
  /** The daemon entry; src/daemon/daemon.ts's startDaemon when absent. */
  startDaemon?: StartDaemon;
  /** Source of SIGTERM/SIGINT/SIGHUP; `process` when absent. */
  signals?: EventEmitter;
  /** Immediate exit (second signal); process.exit when absent. */
  exit?: (code: number) => void;
  cwd?: string;
  log?: Logger;
}

const processIo: CliIo = {
  stdout: (t) => { process.stdout.write(t); },
  stderr: (t) => { process.stderr.write(t); },
};

/** A yes/no question on the terminal (`nexus config apply`). */
async function askOnTerminal(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await new Promise<string>((resolve) => rl.question(question, resolve));
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** Loaded only by `serve`, so `validate` works without the engine. */
async function loadStartDaemon(): Promise<StartDaemon> {
  const mod = await import('../daemon/daemon');
  return mod.startDaemon;
}

export function formatWarnings(source: string, warnings: readonly ConfigError[]): string {
  return warnings.map((w) => `${source}: warning: ${w.path === '' ? '(document)' : w.path}: ${w.message}\n`).join('');
}

export function formatConfigErrors(source: string, errors: readonly ConfigError[]): string {
  const lines = [`${source}: ${errors.length} error${errors.length === 1 ? '' : 's'}`];
  for (const e of errors) lines.push(`  ${e.path === '' ? '(document)' : e.path}: ${e.message}`);
  return lines.join('\n') + '\n';
}

/** libiscsi URL syntax: iscsi://[user[%password]@]host[:port]/target-iqn/lun. */
export function iscsiUrl(host: string, port: number, target: string, lun?: number, user?: string): string {
  const cred = user !== undefined ? `${encodeURIComponent(user)}%<secret>@` : '';
  return `iscsi://${cred}${formatPortal(host, port)}/${target}${lun !== undefined ? `/${lun}` : ''}`;
}

/** Where each portal of a target actually listens (port 0 in the file means "the daemon chose"). */
function resolvePortals(portals: readonly string[], listening: readonly ListeningAddress[]): ListeningAddress[] {
  const out: ListeningAddress[] = [];
  for (const text of portals) {
    const r = parsePortal(text);
    if (!r.ok) continue;
    const { host, port } = r.portal;
    const hit = listening.find((l) => l.host === host && (port === 0 || l.port === port));
    out.push(hit ?? { host, port });
  }
  return out;
}

/** The banner `serve` prints once the daemon listens: targets, LUN URLs, commands to try. */
export function describeServing(topology: Topology, listening: readonly ListeningAddress[]): string {
  const lines: string[] = [];
  const iscsiTargets = topology.targets.filter((t) => t.driver === 'iscsi');
  lines.push(`nexus: serving ${iscsiTargets.length} iSCSI target${iscsiTargets.length === 1 ? '' : 's'} (state in ${topology.stateDir})`);
  const examples: string[] = [];
  for (const t of iscsiTargets) {
    const addrs = resolvePortals(localPortalsOf(t), listening);
    const user = t.auth?.chap?.user;
    lines.push(`  ${t.name}${t.alias !== undefined ? ` (${t.alias})` : ''}${user !== undefined ? `  [CHAP user ${user}]` : ''}`);
    for (const a of addrs) lines.push(`    portal ${formatPortal(a.host, a.port)}`);
    // Several gateways, one target: the other gateways' groups, served there.
    for (const g of portGroupsOf(t).filter((x) => x.remote === true)) lines.push(`    gateway ${g.gateway ?? '?'} (target port group ${g.id}): ${g.portals.join(' ')}`);
    const first = addrs[0];
    for (const m of t.luns) {
      const dev = topology.devices.find((d) => d.name === m.device);
      const what = dev !== undefined ? `${dev.handler} ${formatSize(dev.sizeBytes)}` : '';
      const url = first !== undefined ? iscsiUrl(first.host, first.port, t.name, m.lun, user) : '';
      lines.push(`    LUN ${m.lun}  ${m.device}  ${what}${m.readOnly ? ' read-only' : ''}  ${url}`);
    }
    for (const g of t.groups) {
      lines.push(`    group ${g.name}: ${g.initiators.join(', ')} see LUN${g.luns.length === 1 ? '' : 's'} ${g.luns.map((l) => l.lun).join(', ') || '(none)'}`);
    }
    if (first !== undefined && examples.length === 0) {
      const lun = t.luns[0]?.lun ?? 0;
      examples.push(`  iscsi-ls -s ${iscsiUrl(first.host, first.port, '', undefined, t.discoveryAuth?.chap?.user).replace(/\/$/, '')}`);
      examples.push(`  iscsi-inq ${iscsiUrl(first.host, first.port, t.name, lun, user)}`);
      examples.push(`  iscsi-readcapacity16 ${iscsiUrl(first.host, first.port, t.name, lun, user)}`);
    }
  }
  if (examples.length > 0) {
    lines.push('try (libiscsi-bin):', ...examples);
  }
  lines.push('stop with Ctrl-C or SIGTERM');
  return lines.join('\n') + '\n';
}

interface ServeOptions { logLevel?: string; stateDir?: string; listen?: string; control?: string }

async function serve(file: string | undefined, o: ServeOptions, deps: CliDeps, io: CliIo): Promise<number> {
  const cwd = deps.cwd ?? process.cwd();
  const log = deps.log ?? createLogger({ level: resolveLogLevel(o.logLevel) });
  const loaded: TopologyResult = file !== undefined
    ? loadTopologyFile(file, { cwd, stateDir: o.stateDir })
    : defaultTopologyResult({ cwd, stateDir: o.stateDir });
  if (!loaded.ok) {
    io.stderr(formatConfigErrors(file ?? 'default topology', loaded.errors));
    return EXIT_USAGE;
  }
  const topology = loaded.topology;
  let listen: string | undefined;
  if (o.listen !== undefined) {
    const p = parsePortal(o.listen);
    if (!p.ok) {
      io.stderr(`--listen: ${p.message}\n`);
      return EXIT_USAGE;
    }
    listen = p.portal.text;
  }
  // The command line's overrides, on the topology served and on every one applied later (SIGHUP,
  // config.apply), so that they never show up as a difference.
  const overrides = (t: Topology): void => {
    // A quick-test override: every iSCSI target listens on this one portal instead.
    if (listen !== undefined) for (const tg of t.targets) if (tg.driver === 'iscsi') tg.portals = [listen];
    if (o.control !== undefined) t.control = { socket: path.resolve(cwd, o.control) };
  };
  overrides(topology);
  const storageOrigin = { stateDir: o.stateDir !== undefined ? '--state-dir' : FILE_STATE_DIR.stateDir };
  const checked = (r: TopologyResult): TopologyResult => {
    if (!r.ok) return r;
    overrides(r.topology);
    const errors = checkStoragePaths(r.topology, storageOrigin);
    return errors.length > 0 ? { ok: false, errors } : r;
  };
  const source: TopologySource = {
    file: file !== undefined ? path.resolve(cwd, file) : undefined,
    normalize: (doc) => checked(normalizeTopology(doc, {
      cwd, baseDir: file !== undefined ? path.dirname(path.resolve(cwd, file)) : cwd, stateDir: o.stateDir,
    })),
    reload: () => (file !== undefined ? checked(loadTopologyFile(file, { cwd, stateDir: o.stateDir })) : loaded),
  };
  logSecrets.add(...topologySecrets(topology));
  const warnings = topologyWarnings(topology);
  if (warnings.length > 0) io.stderr(formatWarnings(file ?? 'default topology', warnings));

  // SIGHUP from here on re-checks the file; during start-up too, where its default would kill.
  const signals = deps.signals ?? process;
  let running: DaemonHandle | undefined;
  const onHangup = (): void => {
    if (running?.reload) void running.reload();
    else recheck(file, o, cwd, log);
  };
  signals.on('SIGHUP', onHangup);

  let handle: DaemonHandle;
  try {
    const start = deps.startDaemon ?? (await loadStartDaemon());
    const origins: StartOrigins = {
      stateDir: o.stateDir !== undefined ? '--state-dir' : FILE_STATE_DIR.stateDir,
      ...(o.listen !== undefined ? { listen: '--listen' } : {}),
    };
    handle = await start(topology, { log, origins, source });
    running = handle;
  } catch (e) {
    // One line, no stack: the daemon names the object at fault by its JSON path when it can.
    const err = e as Error & { code?: string };
    const code = err.code !== undefined && err.code !== START_FAILED ? `${err.code}: ` : '';
    io.stderr(`nexus: cannot start: ${code}${String(err.message).split('\n')[0]}\n`);
    signals.removeListener('SIGHUP', onHangup);
    return EXIT_FAILURE;
  }
  io.stdout(describeServing(topology, handle.listening));

  const exit = deps.exit ?? ((code: number) => process.exit(code));
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        // A second signal means "now": no more waiting on a stop that hangs.
        log.warn({ signal }, 'second signal, exiting at once');
        exit(EXIT_FAILURE);
        return;
      }
      stopping = true;
      log.info({ signal }, 'stopping');
      handle.stop().then(
        () => { detach(); log.info('stopped'); resolve(EXIT_OK); },
        (e: unknown) => { detach(); log.error({ err: e }, 'stop failed'); resolve(EXIT_FAILURE); },
      );
    };
    const detach = (): void => {
      signals.removeListener('SIGTERM', onSignal);
      signals.removeListener('SIGINT', onSignal);
      signals.removeListener('SIGHUP', onHangup);
    };
    signals.on('SIGTERM', onSignal);
    signals.on('SIGINT', onSignal);
  });
}

/**
 * SIGHUP while the daemon is still starting: read the topology file again and check it as
 * `validate` does, logging the outcome; nothing is changed (the conventional SIGHUP exit would
 * drop every session without a logout). Once it serves, SIGHUP applies the file (DaemonHandle.reload).
 */
function recheck(file: string | undefined, o: ServeOptions, cwd: string, log: Logger): void {
  if (file === undefined) {
    log.info({ signal: 'SIGHUP' }, 'SIGHUP: serving the built-in default topology, there is no topology file to re-read; nothing changed');
    return;
  }
  const r = loadTopologyFile(file, { cwd, stateDir: o.stateDir });
  const errors = r.ok ? checkStoragePaths(r.topology, { stateDir: o.stateDir !== undefined ? '--state-dir' : FILE_STATE_DIR.stateDir }) : r.errors;
  if (errors.length > 0) {
    log.error({ signal: 'SIGHUP', file, errors }, `SIGHUP: re-read ${file}: ${errors.length} error${errors.length === 1 ? '' : 's'}; nothing changed`);
    return;
  }
  log.info({ signal: 'SIGHUP', file }, `SIGHUP: re-read ${file}: valid; nothing changed`);
}

function validate(file: string, io: CliIo, cwd: string): number {
  const r = loadTopologyFile(file, { cwd });
  if (!r.ok) {
    io.stderr(formatConfigErrors(file, r.errors));
    return EXIT_USAGE;
  }
  const t = r.topology;
  // What can be known without starting: directories that cannot be created.
  const paths = checkStoragePaths(t);
  if (paths.length > 0) {
    io.stderr(formatConfigErrors(file, paths));
    return EXIT_USAGE;
  }
  const warnings = topologyWarnings(t);
  if (warnings.length > 0) io.stderr(formatWarnings(file, warnings));
  io.stdout(`OK: ${file}: ${t.devices.length} device${t.devices.length === 1 ? '' : 's'}, ${t.targets.length} target${t.targets.length === 1 ? '' : 's'}\n`);
  return EXIT_OK;
}

async function ready(file: string | undefined, o: { timeout: string }, io: CliIo, cwd: string): Promise<number> {
  const loaded = file !== undefined ? loadTopologyFile(file, { cwd }) : defaultTopologyResult({ cwd });
  if (!loaded.ok) {
    io.stderr(formatConfigErrors(file ?? 'default topology', loaded.errors));
    return EXIT_USAGE;
  }
  const seconds = Number(o.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    io.stderr(`--timeout: "${o.timeout}" is not a positive number of seconds\n`);
    return EXIT_USAGE;
  }
  const late = await waitForPortals(portalsToCheck(loaded.topology), { timeoutMs: seconds * 1000 });
  if (late.length > 0) {
    io.stderr(`nexus: not ready after ${seconds} s: ${late.join(', ')} not accepting connections\n`);
    return EXIT_FAILURE;
  }
  return EXIT_OK;
}

/**
 * Run one command line. Resolves with the exit status: at once for `validate` and
 * `default-topology`, after a clean stop for `serve`.
 */
export async function runCli(argv: readonly string[], deps: CliDeps = {}): Promise<number> {
  const io = deps.io ?? processIo;
  let result: Promise<number> | number = EXIT_OK;
  const program = new Command('nexus')
    .description('Nexus: a SCSI target engine (iSCSI) in TypeScript')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError();

  program.command('serve')
    .description('start the daemon from a topology file (or the built-in default)')
    .argument('[topology]', 'topology JSON file')
    .addOption(new Option('--log-level <level>', 'log level (default: $NEXUS_LOG_LEVEL or info)').choices([...LOG_LEVELS]))
    .option('--state-dir <dir>', 'directory for file LUNs and saved state (overrides the file)')
    .option('--listen <host:port>', 'listen on this portal instead of the file\'s (e.g. 127.0.0.1:3261)')
    .option('--control <path>', 'control socket path (default: the file\'s control.socket, else <stateDir>/control.sock)')
    .action((file: string | undefined, o: ServeOptions) => { result = serve(file, o, deps, io); });

  program.command('validate')
    .description('check a topology file and print every error with its JSON path')
    .argument('<topology>', 'topology JSON file')
    .action((file: string) => { result = validate(file, io, deps.cwd ?? process.cwd()); });

  program.command('ready')
    .description('wait until every portal of the topology accepts connections (a service manager\'s start-up check)')
    .argument('[topology]', 'topology JSON file (default: the built-in default)')
    .option('--timeout <seconds>', 'give up after this many seconds', '30')
    .action((file: string | undefined, o: { timeout: string }) => { result = ready(file, o, io, deps.cwd ?? process.cwd()); });

  program.command('default-topology')
    .description('print the built-in default topology as JSON')
    .action(() => { io.stdout(JSON.stringify(defaultTopologyDocument(), null, 2) + '\n'); result = EXIT_OK; });

  registerTapeCommands(program, io, (r) => { result = r; });
  registerShimCommands(program, { io, cwd: deps.cwd ?? process.cwd(), signals: deps.signals ?? process }, (r) => { result = r; });

  const confirm = process.stdin.isTTY && deps.io === undefined ? askOnTerminal : undefined;
  const tty = process.stdout.isTTY === true && deps.io === undefined;
  const adminDeps = { io, cwd: deps.cwd ?? process.cwd(), env: process.env, signals: deps.signals ?? process, confirm, tty };
  registerAdminCommands(program, adminDeps, (r) => { result = r; });
  registerLibraryCommands(program, adminDeps, (r) => { result = r; });
  registerCompletionCommand(program, io, (r) => { result = r; });

  // `nexus help device add`: commander's help command takes one name; a longer path is that
  // command's --help.
  const args = argv[0] === 'help' && argv.length > 2 ? [...argv.slice(1), '--help'] : [...argv];

  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      const done = e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version';
      return done ? EXIT_OK : EXIT_USAGE;
    }
    throw e;
  }
  return result;
}

export function main(argv: string[]): void {
  runCli(argv).then(
    (code) => {
      // serve ends with process.exit so lingering handles cannot keep a stopped daemon alive.
      if (argv[0] === 'serve' || argv[0] === 'shim') process.exit(code);
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`nexus: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(EXIT_FAILURE);
    },
  );
}

if (require.main === module) main(process.argv.slice(2));
