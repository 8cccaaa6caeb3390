import { EmbeddedTarget } from '../../../../src/embedded';
import { LibraryConfig } from '../../../../src/engine/topology';
import { topology } from './fixture';

/**
 * The process persistence.test.ts kills with SIGKILL: it moves cartridge NXS001L6 between slot 1
 * and drive 0 without end and prints "moved k" after the k-th MOVE MEDIUM completed with GOOD.
 */
async function main(): Promise<void> {
  const lib = JSON.parse(process.argv[2]) as LibraryConfig;
  const t = await EmbeddedTarget.start(topology(lib));
  const s = t.session('iqn.2026-11.example:crash');
  const move = (from: number, to: number) => [0xa5, 0, 0, 0, from >> 8, from & 0xff, to >> 8, to & 0xff, 0, 0, 0, 0];
  for (let k = 1; ; k++) {
    let r = await s.execute(0, k % 2 === 1 ? move(0x2000, 0x0100) : move(0x0100, 0x2000));
    while (r.senseKey === 0x06) r = await s.execute(0, k % 2 === 1 ? move(0x2000, 0x0100) : move(0x0100, 0x2000));
    if (r.status !== 0) throw new Error(`move ${k}: status ${r.status} sense ${r.senseKey}/${r.asc}/${r.ascq}`);
    process.stdout.write(`moved ${k}\n`);
  }
}

void main().catch(e => { process.stderr.write(`${(e as Error).stack}\n`); process.exit(1); });
