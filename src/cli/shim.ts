import * as path from 'node:path';
import type { EventEmitter } from 'node:events';
import { Command, Option } from 'commander';
import { loadTopologyFile } from '../daemon/config/load';
import { createLogger, LOG_LEVELS, resolveLogLevel } from '../daemon/log';
import type { Topology } from '../engine/topology';
import { DEFAULT_SHIM_SETTINGS, formatOp, nodeFs, planShim, shimTopologyErrors, undoOps } from '../../kernel-shim/configfs';
import type { ShimSettings } from '../../kernel-shim/configfs';
import { isFabricDriver } from '../../kernel-shim/fabrics';

/**
 * `nexus shim <topology.json> [--dry-run] [--configfs DIR] [--hba N] [--max-data-area-mb N] [--cmd-time-out S]`:
 * wires the topology's fabric targets (loopback, fc, fcoe, srp) to Nexus through LIO's TCMU
 * (DESIGN.md §8, kernel-shim/) and serves them until SIGTERM or SIGINT, then removes what it
 * made. --dry-run prints the configfs operations and their undoing, and changes nothing.
 * Exit status 0 done, 1 the kernel refused (a module missing, a configfs step failed), 2 a wrong
 * argument or topology.
 */

export interface ShimIo { stdout(text: string): void; stderr(text: string): void }

interface ShimOptions { dryRun?: boolean; configfs: string; hba: string; maxDataAreaMb: string; cmdTimeOut: string; logLevel?: string }

function settingsOf(o: ShimOptions, io: ShimIo): ShimSettings | undefined {
  const hba = Number(o.hba);
  const mb = Number(o.maxDataAreaMb);
  const timeout = Number(o.cmdTimeOut);
  if (!Number.isInteger(hba) || hba < 0) { io.stderr(`nexus shim: --hba: "${o.hba}" is not a non-negative integer\n`); return undefined; }
  if (!Number.isInteger(mb) || mb < 1) { io.stderr(`nexus shim: --max-data-area-mb: "${o.maxDataAreaMb}" is not a positive integer\n`); return undefined; }
  if (!Number.isInteger(timeout) || timeout < 0) { io.stderr(`nexus shim: --cmd-time-out: "${o.cmdTimeOut}" is not a non-negative integer\n`); return undefined; }
  return { ...DEFAULT_SHIM_SETTINGS, root: o.configfs, hba, maxDataAreaMb: mb, cmdTimeOutSec: timeout };
}

function load(file: string, cwd: string, io: ShimIo): Topology | undefined {
  const r = loadTopologyFile(file, { cwd });
  if (!r.ok) {
    io.stderr(`${file}: ${r.errors.length} error${r.errors.length === 1 ? '' : 's'}\n`);
    for (const e of r.errors) io.stderr(`  ${e.path === '' ? '(document)' : e.path}: ${e.message}\n`);
    return undefined;
  }
  if (!r.topology.targets.some(t => isFabricDriver(t.driver))) {
    io.stderr(`${file}: no fabric target (driver loopback, fc, fcoe or srp) to wire\n`);
    return undefined;
  }
  const errors = shimTopologyErrors(r.topology);
  if (errors.length > 0) {
    io.stderr(`${file}: ${errors.length} error${errors.length === 1 ? '' : 's'}\n`);
    for (const e of errors) io.stderr(`  ${e}\n`);
    return undefined;
  }
  return r.topology;
}

function dryRun(topology: Topology, settings: ShimSettings, io: ShimIo): number {
  const plan = planShim(topology, nodeFs, settings);
  io.stdout(`# nexus shim: ${plan.up.length} operations to wire, in order\n`);
  for (const o of plan.up) io.stdout(formatOp(o) + '\n');
  io.stdout('# and on stop, to leave configfs as it was found:\n');
  for (const o of undoOps(plan.up)) io.stdout(formatOp(o) + '\n');
  return 0;
}

async function run(topology: Topology, settings: ShimSettings, o: ShimOptions, io: ShimIo, signals: EventEmitter): Promise<number> {
  const log = createLogger({ level: resolveLogLevel(o.logLevel) });
  // Loaded here only, as `serve` loads the daemon: --dry-run, `validate` and the other commands
  // start without compiling or loading the engine.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { Shim } = require('../../kernel-shim/shim') as typeof import('../../kernel-shim/shim');
  const stateFile = path.join(topology.stateDir, 'shim-ops.json');
  const shim = await Shim.start(topology, { settings, log, stateFile });
  if (!(shim instanceof Shim)) {
    for (const e of shim.errors) io.stderr(`nexus shim: ${e}\n`);
    return 1;
  }
  const fabric = topology.targets.filter(t => isFabricDriver(t.driver));
  io.stdout(`nexus shim: serving ${fabric.map(t => `${t.driver} ${t.fabric!.wwn}`).join(', ')}; stop with Ctrl-C or SIGTERM\n`);
  await new Promise<void>(resolve => {
    const onSignal = (): void => {
      signals.removeListener('SIGTERM', onSignal);
      signals.removeListener('SIGINT', onSignal);
      resolve();
    };
    signals.on('SIGTERM', onSignal);
    signals.on('SIGINT', onSignal);
  });
  const failures = await shim.stop();
  for (const f of failures) io.stderr(`nexus shim: while removing: ${f}\n`);
  return failures.length === 0 ? 0 : 1;
}

export function registerShimCommands(program: Command, deps: { io: ShimIo; cwd: string; signals: EventEmitter }, set: (r: Promise<number> | number) => void): void {
  program.command('shim')
    .description('wire the topology\'s fabric targets (loopback, fc, fcoe, srp) to Nexus through LIO\'s TCMU and serve them')
    .argument('<topology>', 'topology JSON file')
    .option('--dry-run', 'print the configfs operations (and their undoing) and change nothing')
    .option('--configfs <dir>', 'configfs mount point', DEFAULT_SHIM_SETTINGS.root)
    .option('--hba <n>', 'TCMU HBA index (core/user_<n>)', String(DEFAULT_SHIM_SETTINGS.hba))
    .option('--max-data-area-mb <n>', 'TCMU data area per device, MiB', String(DEFAULT_SHIM_SETTINGS.maxDataAreaMb))
    .option('--cmd-time-out <seconds>', 'seconds LIO gives a command in the ring before failing it (0: never)', String(DEFAULT_SHIM_SETTINGS.cmdTimeOutSec))
    .addOption(new Option('--log-level <level>', 'log level (default: $NEXUS_LOG_LEVEL or info)').choices([...LOG_LEVELS]))
    .action((file: string, o: ShimOptions) => {
      const settings = settingsOf(o, deps.io);
      const topology = settings ? load(file, deps.cwd, deps.io) : undefined;
      if (!settings || !topology) { set(2); return; }
      set(o.dryRun ? dryRun(topology, settings, deps.io) : run(topology, settings, o, deps.io, deps.signals));
    });
}
