// Embedded mode: a Nexus engine in-process, driven by a test rig as two initiators.
import { EmbeddedTarget, normalizeTopology, Status, TmfFunction, TmfResponse } from '../src';

async function main(): Promise<void> {
  // The same topology shape as the daemon's JSON file; sizes take units.
  const topo = normalizeTopology({
    devices: [{ name: 'ram0', handler: 'ram', size: '64MiB', blockSize: 512 }],
    targets: [{ driver: 'local', name: 'iqn.2026-11.io.nexus:rig', luns: [{ lun: 0, device: 'ram0' }] }],
  }, { stateDir: null });
  if (!topo.ok) throw new Error(topo.errors.map(e => `${e.path}: ${e.message}`).join('\n'));
  const target = await EmbeddedTarget.start(topo.topology);
  const a = target.session('iqn.2026-11.example:host-a');
  const b = target.session('iqn.2026-11.example:host-b');

  // A new I_T_L nexus first reports POWER ON, RESET (06h/29h/00h); TEST UNIT READY clears it.
  const ua = await a.execute(0, [0x00, 0, 0, 0, 0, 0]);
  console.log('first TUR:', ua.status === Status.CHECK_CONDITION ? `sense ${ua.senseKey}/${ua.asc?.toString(16)}h` : 'GOOD');

  // WRITE(10) of one block at LBA 8, then READ(10) it back.
  const block = Buffer.alloc(512, 0x5a);
  const w = await a.execute(0, [0x2a, 0, 0, 0, 0, 8, 0, 0, 1, 0], { dataOut: block });
  const r = await a.execute(0, [0x28, 0, 0, 0, 0, 8, 0, 0, 1, 0]);
  console.log('write:', Status[w.status], 'read back equal:', r.data.equals(block));

  // Resize: every I_T nexus gets CAPACITY DATA HAS CHANGED (06h/2Ah/09h).
  await b.execute(0, [0x00, 0, 0, 0, 0, 0]);
  await target.resize('ram0', 128n << 20n);
  const cap = await b.execute(0, [0x00, 0, 0, 0, 0, 0]);
  console.log('after resize:', `asc ${cap.asc?.toString(16)}h ascq ${cap.ascq?.toString(16).padStart(2, '0')}h`);

  // Task management: a LOGICAL UNIT RESET from host B.
  console.log('LUN reset:', TmfResponse[await b.taskManagement(TmfFunction.LOGICAL_UNIT_RESET, 0)]);
  await target.stop();
}

main().catch(err => { console.error(err); process.exit(1); });
