import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { runCli, type CliIo } from '../../../src/cli/main';
import { readCartridgeLabel } from '../../../src/engine/backstores/tape-cartridge';

/** `nexus tape create` and `nexus tape info`: cartridges for vtape drives. */

function io(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => { out.push(t); }, stderr: (t) => { err.push(t); } };
}

describe('cli: nexus tape', () => {
  it('create makes an empty cartridge with the barcode, size and early warning asked for, and prints its label', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'nexus-cli-tape-')), 'a.tape');
    const t = io();
    expect(await runCli(['tape', 'create', file, '--barcode', 'NEX001', '--size', '512MiB', '--early-warning', '8MiB'], { io: t })).to.equal(0);
    expect(readCartridgeLabel(file)).to.deep.equal({ barcode: 'NEX001', capacityBytes: 512 * 1024 * 1024, earlyWarningBytes: 8 * 1024 * 1024, writeProtected: false });
    expect(readFileSync(file).length).to.equal(512);
    expect(t.out.join('')).to.equal(`${file}: barcode NEX001, capacity 512MiB, early warning 8MiB before the end\n`);
    const i = io();
    expect(await runCli(['tape', 'info', file], { io: i })).to.equal(0);
    expect(i.out).to.deep.equal(t.out);
  });

  it('--write-protect sets the tab; an existing file is not overwritten (1); bad arguments exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nexus-cli-tape-'));
    const file = join(dir, 'wp.tape');
    expect(await runCli(['tape', 'create', file, '--barcode', 'WP0001', '--size', '1MiB', '--write-protect'], { io: io() })).to.equal(0);
    expect(readCartridgeLabel(file).writeProtected).to.equal(true);
    const again = io();
    expect(await runCli(['tape', 'create', file, '--barcode', 'WP0001', '--size', '1MiB'], { io: again })).to.equal(1);
    expect(again.err.join('')).to.contain('EEXIST');
    expect(await runCli(['tape', 'create', join(dir, 'x.tape'), '--barcode', 'X', '--size', 'lots'], { io: io() })).to.equal(2);
    expect(await runCli(['tape', 'create', join(dir, 'y.tape'), '--barcode', 'X', '--size', '1KiB'], { io: io() })).to.equal(2);
    expect(await runCli(['tape', 'create', join(dir, 'z.tape'), '--size', '1MiB'], { io: io() })).to.equal(2);
    expect(await runCli(['tape', 'info', join(dir, 'none.tape')], { io: io() })).to.equal(1);
  });
});
