/**
 * The admin commands that change the running configuration, each one control method
 * (docs/control.md), all of them transactions of config.apply in the daemon:
 *
 *   nexus device add NAME --handler H [--size S] [--path P] [--block-size N] [--read-only]
 *   nexus device rm NAME                     nexus device resize NAME SIZE
 *   nexus device medium NAME [PATH]          (PATH: load that medium; none: eject)
 *   nexus device set NAME [--read-only|--read-write] [--write-cache MODE] [--vendor V] [--product P]
 *                         [--revision R] [--serial S]
 *   nexus target add NAME [--portal H:P ...] nexus target rm|enable|disable NAME
 *   nexus lun map TARGET LUN DEVICE [--group G] [--read-only]
 *   nexus lun unmap TARGET LUN [--group G]
 *   nexus group add TARGET NAME --initiator PATTERN ... [--lun LUN=DEVICE[:ro] ...]
 *   nexus group rm TARGET NAME
 *   nexus config apply FILE [--dry-run] [--yes]   nexus config save
 *
 * Every change takes --dry-run (print the steps, change nothing). `config apply` prints the steps
 * and asks before applying them on a terminal; without a terminal it needs --yes. Exit status:
 * 0 done (or nothing to do); 1 the daemon refused or the change failed and was undone; 2 the
 * command line is wrong or FILE cannot be read; 3 no daemon answers; 4 not confirmed.
 */

import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Command, Option } from 'commander';
import type { ControlClient } from '../daemon/control/client';
import type { ApplyResult } from '../daemon/control/config-apply';
import { parseJsonText } from '../daemon/config/load';
import { EXIT_OK, EXIT_USAGE, withDaemon, type AdminDeps, type ControlOption } from './admin-client';

/** `nexus config apply` was answered no, or could not ask (no terminal, no --yes). */
export const EXIT_NOT_CONFIRMED = 4;

interface DryRun { dryRun?: boolean }

/** A dry run's steps. */
function printSteps(deps: AdminDeps, r: ApplyResult): void {
  if (r.steps.length === 0) {
    deps.io.stdout('nothing to change\n');
    return;
  }
  for (const s of r.steps) deps.io.stdout(`  ${s.description}\n`);
  deps.io.stdout(`${r.steps.length} step(s); dry run, nothing changed\n`);
}

/** ECMA-48: carriage return and EL 2 (erase the line), to redraw the progress line in place. */
const REDRAW_LINE = '\r\x1b[2K';

/**
 * Prints a change's progress from the daemon's `progress` notifications: on a terminal one line
 * redrawn in place ("[2/5 40%] add device ram0"), otherwise one plain line per step done.
 * `finish` ends it: the terminal line is erased.
 */
export function progressPrinter(deps: Pick<AdminDeps, 'io' | 'tty'>): { readonly notified: (method: string, p: { [k: string]: unknown }) => void; finish(): void; readonly printed: () => boolean } {
  let lines = 0;
  let live = false;
  return {
    notified: (method, p) => {
      if (method !== 'progress' || typeof p.done !== 'number' || typeof p.steps !== 'number') return;
      const text = `[${p.done}/${p.steps} ${Math.floor((100 * p.done) / Math.max(1, p.steps))}%] ${String(p.description)}`;
      lines++;
      if (deps.tty) { deps.io.stdout(REDRAW_LINE + text); live = true; } else deps.io.stdout(`${text}\n`);
    },
    finish: () => { if (live) deps.io.stdout(REDRAW_LINE); live = false; },
    printed: () => lines > 0 && !deps.tty,
  };
}

/** Applies with progress; prints the steps (unless plain progress lines named them already) and the count. */
async function applyWithProgress(deps: AdminDeps, c: ControlClient, method: string, params: Record<string, unknown>): Promise<void> {
  const p = progressPrinter(deps);
  let r: ApplyResult;
  try {
    r = (await c.call(method, { ...params, progress: true }, p.notified)) as ApplyResult;
  } finally {
    p.finish();
  }
  if (r.steps.length === 0) { deps.io.stdout('nothing to change\n'); return; }
  if (!p.printed()) for (const s of r.steps) deps.io.stdout(`  ${s.description}\n`);
  deps.io.stdout(`${r.steps.length} step(s) applied\n`);
}

/** One change method: call it (as a dry run when asked), print its steps. */
function change(deps: AdminDeps, o: ControlOption & DryRun, method: string, params: Record<string, unknown>): Promise<number> {
  return withDaemon(o, deps, async (c: ControlClient) => {
    if (o.dryRun) {
      printSteps(deps, (await c.call(method, { ...params, dryRun: true })) as ApplyResult);
      return EXIT_OK;
    }
    await applyWithProgress(deps, c, method, params);
    return EXIT_OK;
  });
}

/** A size as the topology writes it: bytes, or a number with a unit ("512MiB"). */
function sizeArg(text: string): string | number {
  return /^\d+$/.test(text) ? Number(text) : text;
}

export function registerChangeCommands(
  program: Command, config: Command, controlOption: () => Option, deps: AdminDeps, done: (r: Promise<number>) => void,
): void {
  const usage = (message: string): void => {
    deps.io.stderr(`nexus: ${message}\n`);
    done(Promise.resolve(EXIT_USAGE));
  };
  const dry = (c: Command): Command => c.option('--dry-run', 'print the steps the change takes; change nothing').addOption(controlOption());

  const device = program.command('device').description('add, remove or resize a device of the running daemon, or change its medium');
  dry(device.command('add')
    .description('add a device (handler fileio, blockio, nullio, ram or vcdrom)')
    .argument('<name>', 'device name')
    .requiredOption('--handler <handler>', 'fileio, blockio, nullio, ram or vcdrom')
    .option('--size <size>', 'capacity: bytes or with a unit (64MiB)')
    .option('--path <path>', 'backing file or block device (an ISO image for vcdrom)')
    .option('--block-size <bytes>', 'logical block size: 512 or 4096 (2048 for vcdrom)')
    .option('--device-type <type>', 'device personality (default disk)')
    .option('--read-only', 'export it read-only'))
    .action((name: string, o: ControlOption & DryRun & { handler: string; size?: string; path?: string; blockSize?: string; deviceType?: string; readOnly?: boolean }) => {
      const dev: Record<string, unknown> = { name, handler: o.handler };
      if (o.size !== undefined) dev.size = sizeArg(o.size);
      if (o.path !== undefined) dev.path = path.resolve(deps.cwd, o.path);
      if (o.blockSize !== undefined) dev.blockSize = Number(o.blockSize);
      if (o.deviceType !== undefined) dev.deviceType = o.deviceType;
      if (o.readOnly) dev.readOnly = true;
      done(change(deps, o, 'device.add', { device: dev }));
    });
  dry(device.command('rm').description('remove a device no LUN maps').argument('<name>', 'device name'))
    .action((name: string, o: ControlOption & DryRun) => done(change(deps, o, 'device.remove', { name })));
  dry(device.command('resize').description('change the capacity of a device (initiators get CAPACITY DATA HAS CHANGED)')
    .argument('<name>', 'device name').argument('<size>', 'new capacity: bytes or with a unit (128MiB)'))
    .action((name: string, size: string, o: ControlOption & DryRun) => done(change(deps, o, 'device.resize', { name, size: sizeArg(size) })));

  // SPC-4 5.14: initiators get MODE PARAMETERS CHANGED (write cache, read-only: the WP bit) or
  // INQUIRY DATA HAS CHANGED (the INQUIRY fields), at once as an iSCSI Async Message too.
  dry(device.command('set').description('change a device live: read-only, write cache, INQUIRY vendor/product/revision/serial')
    .argument('<name>', 'device name')
    .option('--read-only', 'refuse writes from now on (DATA PROTECT); commands already accepted finish')
    .option('--read-write', 'take writes again (a device opened read-only cannot)')
    .option('--write-cache <mode>', 'writeback or writethrough')
    .option('--vendor <text>', 'T10 vendor identification (up to 8 ASCII characters)')
    .option('--product <text>', 'product identification (up to 16)')
    .option('--revision <text>', 'product revision level (up to 4)')
    .option('--serial <text>', 'unit serial number (VPD 80h; also changes the device identifiers)'))
    .action((name: string, o: ControlOption & DryRun & { readOnly?: boolean; readWrite?: boolean; writeCache?: string; vendor?: string; product?: string; revision?: string; serial?: string }) => {
      if (o.readOnly && o.readWrite) { usage('--read-only and --read-write together'); return; }
      const p: Record<string, unknown> = { name };
      if (o.readOnly) p.readOnly = true;
      if (o.readWrite) p.readOnly = false;
      for (const k of ['writeCache', 'vendor', 'product', 'revision', 'serial'] as const) if (o[k] !== undefined) p[k] = o[k];
      if (Object.keys(p).length === 1) { usage('device set: nothing to change (see --help)'); return; }
      done(change(deps, o, 'device.set', p));
    });

  // A removable device's medium from the host's side (the operator at the drive): the initiators
  // get the media events and unit attentions of the change (MMC-6, SPC-4 5.14), and a tray an
  // initiator has locked (PREVENT ALLOW MEDIUM REMOVAL) refuses it.
  dry(device.command('medium').description('load a medium (an ISO image, a tape cartridge) into a removable device, or eject it (no path)')
    .argument('<name>', 'device name').argument('[path]', 'the medium file; none: eject'))
    .action((name: string, file: string | undefined, o: ControlOption & DryRun) => {
      done(change(deps, o, 'device.medium', { name, ...(file !== undefined ? { path: path.resolve(deps.cwd, file) } : {}) }));
    });

  const target = program.command('target').description('add or remove a target of the running daemon');
  dry(target.command('add').description('add an iSCSI target (map LUNs with `nexus lun map`)')
    .argument('<name>', 'iSCSI name (iqn.…)')
    .option('--portal <host:port...>', 'where it listens (default: the built-in portal)'))
    .action((name: string, o: ControlOption & DryRun & { portal?: string[] }) => {
      done(change(deps, o, 'target.add', { target: { driver: 'iscsi', name, ...(o.portal ? { portals: o.portal } : {}) } }));
    });
  dry(target.command('rm').description('remove a target: its sessions are asked to log out').argument('<name>', 'iSCSI name'))
    .action((name: string, o: ControlOption & DryRun) => done(change(deps, o, 'target.remove', { name })));
  dry(target.command('disable').description('refuse new logins to a target; its sessions are asked to log out').argument('<name>', 'iSCSI name'))
    .action((name: string, o: ControlOption & DryRun) => done(change(deps, o, 'target.disable', { name })));
  dry(target.command('enable').description('take new logins to a disabled target again').argument('<name>', 'iSCSI name'))
    .action((name: string, o: ControlOption & DryRun) => done(change(deps, o, 'target.enable', { name })));

  const lun = program.command('lun').description('map or unmap LUNs of the running daemon');
  dry(lun.command('map').description('map a device at a LUN (initiators get REPORTED LUNS DATA HAS CHANGED)')
    .argument('<target>', 'iSCSI name').argument('<lun>', 'LUN number').argument('<device>', 'device name')
    .option('--group <name>', "the group's LUN map rather than the target's")
    .option('--read-only', 'export it read-only at this LUN'))
    .action((t: string, lunText: string, dev: string, o: ControlOption & DryRun & { group?: string; readOnly?: boolean }) => {
      const n = Number(lunText);
      if (!Number.isInteger(n)) { usage('LUN must be an integer'); return; }
      done(change(deps, o, 'lun.map', { target: t, lun: n, device: dev, ...(o.group ? { group: o.group } : {}), ...(o.readOnly ? { readOnly: true } : {}) }));
    });
  dry(lun.command('unmap').description('unmap a LUN (in-flight commands finish; initiators get REPORTED LUNS DATA HAS CHANGED)')
    .argument('<target>', 'iSCSI name').argument('<lun>', 'LUN number')
    .option('--group <name>', "the group's LUN map rather than the target's"))
    .action((t: string, lunText: string, o: ControlOption & DryRun & { group?: string }) => {
      const n = Number(lunText);
      if (!Number.isInteger(n)) { usage('LUN must be an integer'); return; }
      done(change(deps, o, 'lun.unmap', { target: t, lun: n, ...(o.group ? { group: o.group } : {}) }));
    });

  const group = program.command('group').description('add or remove groups (initiator patterns with their own LUN map)');
  dry(group.command('add').description('add a group to a target')
    .argument('<target>', 'iSCSI name').argument('<name>', 'group name')
    .requiredOption('--initiator <pattern...>', 'initiator names, * and ? wildcards')
    .option('--lun <mapping...>', 'LUN mappings of the group: LUN=DEVICE, or LUN=DEVICE:ro for read-only'))
    .action((t: string, name: string, o: ControlOption & DryRun & { initiator: string[]; lun?: string[] }) => {
      const luns: Record<string, unknown>[] = [];
      for (const spec of o.lun ?? []) {
        const m = /^(\d+)=([^:]+)(:ro)?$/.exec(spec);
        if (!m) { usage(`--lun ${spec}: expected LUN=DEVICE or LUN=DEVICE:ro`); return; }
        luns.push({ lun: Number(m[1]), device: m[2], ...(m[3] ? { readOnly: true } : {}) });
      }
      done(change(deps, o, 'group.add', { target: t, group: { name, initiators: o.initiator, luns } }));
    });
  dry(group.command('rm').description("remove a group; its initiators' sessions are asked to log out")
    .argument('<target>', 'iSCSI name').argument('<name>', 'group name'))
    .action((t: string, name: string, o: ControlOption & DryRun) => done(change(deps, o, 'group.remove', { target: t, name })));

  config.command('apply')
    .description('apply a topology file to the running daemon as one transaction (shows the steps, asks first)')
    .argument('<file>', 'topology file')
    .option('--dry-run', 'only show the steps')
    .option('--yes', 'apply without asking')
    .addOption(controlOption())
    .action((file: string, o: ControlOption & DryRun & { yes?: boolean }) => {
      let text: string;
      try {
        text = readFileSync(path.resolve(deps.cwd, file), 'utf8');
      } catch (e) {
        usage(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        return;
      }
      const parsed = parseJsonText(text);
      if (!parsed.ok) { usage(`${file}: ${parsed.errors[0].message}`); return; }
      // Relative paths in the file are relative to the file, as at start-up.
      const topology = withAbsolutePaths(parsed.value, path.dirname(path.resolve(deps.cwd, file)));
      done(withDaemon(o, deps, async (c) => {
        const plan = (await c.call('config.apply', { topology, dryRun: true })) as ApplyResult;
        if (o.dryRun || plan.steps.length === 0) {
          printSteps(deps, plan);
          return EXIT_OK;
        }
        for (const s of plan.steps) deps.io.stdout(`  ${s.description}\n`);
        if (!o.yes) {
          if (!deps.confirm) {
            deps.io.stderr('nexus: not a terminal: pass --yes to apply, or --dry-run to only show the steps\n');
            return EXIT_NOT_CONFIRMED;
          }
          if (!(await deps.confirm(`apply these ${plan.steps.length} step(s)? [y/N] `))) {
            deps.io.stderr('nexus: not applied\n');
            return EXIT_NOT_CONFIRMED;
          }
        }
        await applyWithProgress(deps, c, 'config.apply', { topology });
        return EXIT_OK;
      }));
    });

  config.command('save')
    .description('write the running topology to the topology file (atomically; the previous one kept as FILE.bak)')
    .addOption(controlOption())
    .action((o: ControlOption) => {
      done(withDaemon(o, deps, async (c) => {
        const r = (await c.call('config.save')) as { file: string; backup: string; bytes: number };
        deps.io.stdout(`saved ${r.file} (${r.bytes} bytes; previous file kept as ${r.backup})\n`);
        return EXIT_OK;
      }));
    });
}

/**
 * The document with its relative paths (devices' `path`, `stateDir`, `control.socket`) made
 * absolute against the file's directory: the daemon resolves against its own file's directory.
 */
function withAbsolutePaths(doc: unknown, dir: string): unknown {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return doc;
  const d = { ...(doc as Record<string, unknown>) };
  const abs = (v: unknown): unknown => (typeof v === 'string' && !path.isAbsolute(v) ? path.resolve(dir, v) : v);
  if (d.stateDir !== undefined) d.stateDir = abs(d.stateDir);
  if (Array.isArray(d.devices)) {
    d.devices = d.devices.map((x: unknown) => (typeof x === 'object' && x !== null && 'path' in x ? { ...x, path: abs((x as { path: unknown }).path) } : x));
  }
  if (typeof d.control === 'object' && d.control !== null && 'socket' in d.control) d.control = { ...d.control, socket: abs((d.control as { socket: unknown }).socket) };
  return d;
}
