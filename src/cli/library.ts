/**
 * The admin commands of a medium changer's library (docs/control.md, library.* methods):
 *
 *   nexus library ls <changer> [--json]                          elements, addresses, cartridges
 *   nexus library import <changer> <barcode> <file> [--mail-slot N]  put a cartridge in a mail slot
 *   nexus library export <changer> <barcode>                     take one out of its mail slot
 *
 * Exit status as every admin command's (admin.ts).
 */

import * as path from 'node:path';
import type { Command } from 'commander';
import type { LibraryElementView } from '../engine/device-registry';
import { AdminDeps, ControlOption, controlSocketOption, EXIT_OK, EXIT_USAGE, json, withDaemon } from './admin';

const hex = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0') + 'h';

/** One line per element: what it is, its SMC-3 address, its cartridge and where that came from. */
export function formatInventory(inv: readonly LibraryElementView[]): string {
  const rows = [['ELEMENT', 'ADDRESS', 'BARCODE', 'FROM', 'CARTRIDGE FILE / DRIVE']];
  for (const e of inv) {
    const name = e.element === 'transport' ? 'transport' : `${e.element} ${e.number}`;
    const what = [e.path ?? '', e.device ? `(${e.device})` : ''].filter(x => x !== '').join(' ');
    rows.push([name, hex(e.address), e.barcode ?? '-', e.source !== undefined ? hex(e.source) : e.imported ? 'operator' : '', what]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map(r => r[i].length)));
  return rows.map(r => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n';
}

export function registerLibraryCommands(program: Command, deps: AdminDeps, done: (r: Promise<number>) => void): void {
  const controlOption = controlSocketOption;
  const library = program.command('library').description('a medium changer\'s library: list it, put cartridges into and take them out of its mail slots');
  library.command('ls')
    .description('list the elements of a changer\'s library with their addresses and cartridges')
    .argument('<changer>', 'device name of the changer')
    .option('--json', 'print library.list as JSON')
    .addOption(controlOption())
    .action((device: string, o: ControlOption & { json?: boolean }) => {
      done(withDaemon(o, deps, async (c) => {
        const inv = (await c.call('library.list', { device })) as LibraryElementView[];
        deps.io.stdout(o.json ? json(inv) : formatInventory(inv));
        return EXIT_OK;
      }));
    });
  library.command('import')
    .description('put a cartridge (a medium file with a bar code) into a mail slot; initiators see IMPORT OR EXPORT ELEMENT ACCESSED')
    .argument('<changer>', 'device name of the changer')
    .argument('<barcode>', 'the cartridge\'s bar code (1 to 32 printable characters, no spaces)')
    .argument('<file>', 'the cartridge\'s medium file')
    .option('--mail-slot <n>', 'the mail slot, from 1 (default: the first empty one)')
    .addOption(controlOption())
    .action((device: string, barcode: string, file: string, o: ControlOption & { mailSlot?: string }) => {
      const mailSlot = o.mailSlot === undefined ? undefined : Number(o.mailSlot);
      if (mailSlot !== undefined && !(Number.isInteger(mailSlot) && mailSlot > 0)) {
        deps.io.stderr('nexus: --mail-slot must be a positive integer\n');
        done(Promise.resolve(EXIT_USAGE));
        return;
      }
      done(withDaemon(o, deps, async (c) => {
        const params = { device, barcode, path: path.resolve(deps.cwd, file), ...(mailSlot !== undefined ? { mailSlot } : {}) };
        const r = (await c.call('library.import', params)) as { address: number };
        deps.io.stdout(`${barcode} is in the mail slot at ${hex(r.address)} of ${device}\n`);
        return EXIT_OK;
      }));
    });
  library.command('export')
    .description('take the cartridge with a bar code out of its mail slot (move it there first)')
    .argument('<changer>', 'device name of the changer')
    .argument('<barcode>', 'the cartridge\'s bar code')
    .addOption(controlOption())
    .action((device: string, barcode: string, o: ControlOption) => {
      done(withDaemon(o, deps, async (c) => {
        const r = (await c.call('library.export', { device, barcode })) as { path: string };
        deps.io.stdout(`${barcode} is out of ${device} (${r.path})\n`);
        return EXIT_OK;
      }));
    });
}
