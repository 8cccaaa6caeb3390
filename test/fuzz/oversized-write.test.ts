// Regression test for a defect the fuzz found: a one-block WRITE announcing an Expected Data
// Transfer Length of 4 GiB made the target reserve that much memory per 48-byte PDU.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { RunningDaemon, startDaemon } from '../helpers/daemon';
import { describeNeeds, NATIVE_ADDON } from '../helpers/prereq';
import { Wire, login } from './client';
import { Op, nopOut, scsiCommand } from './wire';

const TARGET = 'iqn.2026-11.io.nexus:known-bugs';

/** Virtual memory size of a process in bytes (Linux /proc/<pid>/status VmSize). */
function vmSize(pid: number): number {
  const m = /VmSize:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

describeNeeds(NATIVE_ADDON)('fuzz regression: oversized Expected Data Transfer Length', function () {
  this.timeout(60000);
  let d: RunningDaemon | undefined;

  before(async () => {
    d = await startDaemon({
      iscsi: { maxRecvDataSegmentLength: 8192, queueDepth: 32, nopInIntervalSec: 0, initialR2T: false, immediateData: true },
      devices: [{ name: 'r0', handler: 'ram', size: '8MiB', blockSize: 512 }],
      targets: [{ driver: 'iscsi', name: TARGET, portals: ['127.0.0.1:0'], luns: [{ lun: 0, device: 'r0' }] }],
    }, { logLevel: 'error' });
  });

  after(async () => {
    if (d) await d.stop();
  });

  // RFC 7143 11.3.1 / SBC-4: a WRITE(10) of ONE block whose Expected Data Transfer Length says
  // 4 GiB. The target sizes its Data-Out buffer from the EDTL before the engine has looked at the
  // CDB (DataOutCollector: Buffer.alloc(expectedLength)), so every such 48-byte PDU reserves
  // 4 GiB and stalls the event loop while it is mapped. The buffer should be bounded by the
  // CDB's transfer length or the maximum transfer length (8 MiB), or taken per burst.
  it('a 48-byte WRITE with EDTL 0xffffffff does not reserve 4 GiB per command', async () => {
    const daemon = d as RunningDaemon;
    const w = await Wire.connect(daemon.host, daemon.port);
    const o = await login(w, { initiator: 'iqn.2026-11.example:edtl', target: TARGET, isid: Buffer.from([0x80, 0, 0, 0, 0, 1]) });
    expect(o.ok, String(o.status)).to.equal(true);
    const before = vmSize(daemon.pid);
    let cmdSN = o.cmdSN;
    for (let i = 0; i < 30; i++) {
      // Opcode 01h, F+W, ATTR SIMPLE, LUN 0, EDTL ffffffff, CDB 2a 00 00000000 00 0001 00.
      w.send(scsiCommand({ lun: 0, itt: i + 1, write: true, edtl: 0xffffffff, cmdSN: cmdSN++, expStatSN: o.expStatSN, cdb: [0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0] }));
    }
    w.send(nopOut({ itt: 0x999, cmdSN, expStatSN: o.expStatSN }));
    const r = await w.waitFor((p) => p.itt === 0x999 && p.op === Op.NOP_IN, 30000);
    const growth = vmSize(daemon.pid) - before;
    w.destroy();
    expect(r, 'ping after the writes').to.not.be.a('string');
    // 30 commands x 4 GiB today (~120 GiB of address space); a bounded buffer stays far below one.
    expect(growth, `VmSize grew by ${(growth / 2 ** 30).toFixed(1)} GiB`).to.be.below(2 ** 32);
  });
});
