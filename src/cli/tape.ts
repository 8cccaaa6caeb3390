import { Command } from 'commander';
import { Cartridge, readCartridgeLabel } from '../engine/backstores/tape-cartridge';
import { formatSize, tryParseSize } from '../daemon/config/size';

/**
 * `nexus tape create FILE --barcode X --size 512M [--early-warning SIZE] [--write-protect]`: make
 * an empty cartridge for a vtape drive (docs/tape-format.md). `nexus tape info FILE` prints its
 * label. Exit status 0 done, 1 the file could not be made or read, 2 a wrong argument.
 */

/** Where the tape commands print (the command line's stdout and stderr). */
export interface TapeIo { stdout(text: string): void; stderr(text: string): void }

interface CreateOptions { barcode: string; size: string; earlyWarning?: string; writeProtect?: boolean }

function bytes(v: string, what: string, io: TapeIo): number | undefined {
  const r = tryParseSize(v);
  if (!r.ok) { io.stderr(`nexus tape: ${what}: ${r.message}\n`); return undefined; }
  if (r.bytes > BigInt(Number.MAX_SAFE_INTEGER)) { io.stderr(`nexus tape: ${what} is too large\n`); return undefined; }
  return Number(r.bytes);
}

async function create(file: string, o: CreateOptions, io: TapeIo): Promise<number> {
  const capacityBytes = bytes(o.size, '--size', io);
  const earlyWarningBytes = o.earlyWarning === undefined ? undefined : bytes(o.earlyWarning, '--early-warning', io);
  if (capacityBytes === undefined || (o.earlyWarning !== undefined && earlyWarningBytes === undefined)) return 2;
  try {
    await Cartridge.create(file, { barcode: o.barcode, capacityBytes, earlyWarningBytes, writeProtected: o.writeProtect === true });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    io.stderr(`nexus tape: ${file}: ${err.message}\n`);
    return err.code === 'ERR_TAPE_FORMAT' ? 2 : 1;
  }
  return info(file, io);
}

function info(file: string, io: TapeIo): number {
  try {
    const l = readCartridgeLabel(file);
    io.stdout(`${file}: barcode ${l.barcode}, capacity ${formatSize(BigInt(l.capacityBytes))}, early warning ${formatSize(BigInt(l.earlyWarningBytes))} before the end${l.writeProtected ? ', write-protected' : ''}\n`);
    return 0;
  } catch (e) {
    io.stderr(`nexus tape: ${(e as Error).message}\n`);
    return 1;
  }
}

export function registerTapeCommands(program: Command, io: TapeIo, done: (r: Promise<number> | number) => void): void {
  const tape = program.command('tape').description('tape cartridges for vtape drives');
  tape.command('create')
    .description('make an empty cartridge file')
    .argument('<file>', 'the cartridge file to make (must not exist)')
    .requiredOption('--barcode <tag>', 'volume tag (barcode), up to 32 printable ASCII characters')
    .requiredOption('--size <size>', 'native capacity, e.g. 512MiB or 2GiB')
    .option('--early-warning <size>', 'early-warning zone before the end (default: 1/64 of the size, at least 64 KiB)')
    .option('--write-protect', 'set the write-protect tab')
    .action((file: string, o: CreateOptions) => { done(create(file, o, io)); });
  tape.command('info')
    .description('print a cartridge\'s label')
    .argument('<file>', 'cartridge file')
    .action((file: string) => { done(info(file, io)); });
}
