import { EmbeddedTarget } from '../../../../src/embedded';
import { drive, TARGET } from './fixture';
import { recordOf } from './crash-records';

/**
 * The process crash.test.ts kills with SIGKILL: a tape drive over the cartridge at argv[2],
 * writing variable-length blocks (WRITE(6)) and, every tenth, a filemark (WRITE FILEMARKS(6),
 * IMMED 1: no flush), without end. It prints "acked k" once the k-th command completed with
 * GOOD: what the initiator was told is on the tape.
 */
async function main(): Promise<void> {
  const t = await EmbeddedTarget.start({
    devices: [drive('st0', process.argv[2])],
    targets: [{ driver: 'local', name: TARGET, portals: [], groups: [], luns: [{ lun: 0, device: 'st0', readOnly: false }] }],
  });
  const s = t.session('iqn.2026-12.example:crash');
  await s.execute(0, [0x00, 0, 0, 0, 0, 0]);
  for (let k = 0; ; k++) {
    const r = recordOf(k);
    const res = r === 'filemark'
      ? await s.execute(0, [0x10, 0x01, 0, 0, 1, 0])
      : await s.execute(0, [0x0a, 0, (r.length >> 16) & 0xff, (r.length >> 8) & 0xff, r.length & 0xff, 0], { dataOut: r });
    if (res.status !== 0) throw new Error(`command ${k}: status ${res.status} sense ${res.senseKey}/${res.asc}/${res.ascq}`);
    process.stdout.write(`acked ${k + 1}\n`);
  }
}

void main().catch(e => { process.stderr.write(`${(e as Error).stack}\n`); process.exit(1); });
