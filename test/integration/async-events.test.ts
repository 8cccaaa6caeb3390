// RFC 7143 11.9.1 AsyncEvent 0 end to end: a session logged in to the daemon hears of changes made
// through the control socket without sending a command: a LUN mapped (REPORTED LUNS DATA HAS
// CHANGED, which the Linux initiator answers with a rescan) and a resize (CAPACITY DATA HAS
// CHANGED), a read-only change (MODE PARAMETERS CHANGED, then writes get DATA PROTECT) and new
// INQUIRY fields (INQUIRY DATA HAS CHANGED) of a unit homed on another engine thread than the
// session's, carried between the threads by the runtime's rings. The unit attention is still owed
// to the next command.
import { expect } from 'chai';
import path from 'node:path';
import { ENGINE_THREADS, RunningDaemon, startDaemon } from '../helpers/daemon';
import { describeNeeds, NATIVE_ADDON } from '../helpers/prereq';
import { callOnce } from '../../src/daemon/control/client';
import type { SessionInfo } from '../../src/daemon/control/daemon-methods';
import { Wire, login } from '../fuzz/client';
import { Op, type TargetPdu, scsiCommand } from '../fuzz/wire';
import { run } from '../helpers/run';

const ROOT = path.resolve(__dirname, '..', '..');

const TARGET = 'iqn.2026-11.io.nexus:events';
const OTHER = 'iqn.2026-11.io.nexus:events-other';
const INITIATOR = 'iqn.2026-11.example:listener';

/** AsyncEvent, LUN and the sense's key/ASC/ASCQ of an Async Message (RFC 7143 11.9.4), read by hand. */
function scsiEvent(p: TargetPdu): { event: number; lun: number; senseLength: number; key: number; asc: number; ascq: number } {
  const senseLength = p.data.readUInt16BE(0);
  const sense = p.data.subarray(2, 2 + senseLength);
  // Single level LUN addressing (SAM-5 4.6.7): byte 1 of the LUN field for LUNs below 256.
  return { event: p.header[36], lun: p.header[9], senseLength, key: sense[2] & 0x0f, asc: sense[12], ascq: sense[13] };
}

for (const threads of ENGINE_THREADS) {
  (threads > 0 ? describeNeeds(NATIVE_ADDON) : describe)(`SCSI asynchronous events over iSCSI (engine threads: ${threads})`, function () {
    this.timeout(60000);
    let d: RunningDaemon;
    let sock: string;

    before(async () => {
      // Two targets, so the default placement homes d0 and d1 on different engine threads.
      d = await startDaemon({
        devices: [
          { name: 'd0', handler: 'ram', size: '4MiB' },
          { name: 'd1', handler: 'ram', size: '4MiB' },
        ],
        targets: [
          { driver: 'iscsi', name: TARGET, portals: ['127.0.0.1:0'], luns: [{ lun: 0, device: 'd0' }] },
          { driver: 'iscsi', name: OTHER, portals: ['127.0.0.1:0'], luns: [{ lun: 0, device: 'd1' }] },
        ],
      }, { threads });
      sock = path.join(d.dir, 'state', 'control.sock');
    });
    after(async () => { if (d) await d.stop(); });

    it('a LUN mapped and a resize reach a logged-in session as Async Messages, before any command', async () => {
      const w = await Wire.connect(d.host, d.port);
      try {
        const r = await login(w, { initiator: INITIATOR, target: TARGET, isid: Buffer.from('400001370001', 'hex') });
        expect(r.ok, `login: ${String(r.status)}`).to.equal(true);
        const sessions = (await callOnce(sock, 'sessions.list')) as SessionInfo[];
        const s = sessions.find(x => x.initiatorName === INITIATOR)!;
        const luns = (await callOnce(sock, 'luns.list')) as { device: string; thread: number | null }[];
        const d1Thread = luns.find(l => l.device === 'd1')!.thread;
        if (threads > 1) expect(d1Thread, 'd1 is homed on another engine thread than the session').to.not.equal(s.thread);

        await callOnce(sock, 'lun.map', { target: TARGET, lun: 1, device: 'd1' });
        const mapped = await w.waitFor(p => p.op === Op.ASYNC_MSG, 10000);
        expect(mapped, 'Async Message after lun.map').to.not.be.oneOf(['closed', 'timeout']);
        expect(scsiEvent(mapped as TargetPdu)).to.deep.equal({ event: 0, lun: 0, senseLength: 18, key: 0x6, asc: 0x3f, ascq: 0x0e });

        await callOnce(sock, 'device.resize', { name: 'd1', size: '8MiB' });
        const resized = await w.waitFor(p => p.op === Op.ASYNC_MSG, 10000);
        expect(resized, 'Async Message after device.resize').to.not.be.oneOf(['closed', 'timeout']);
        expect(scsiEvent(resized as TargetPdu)).to.deep.equal({ event: 0, lun: 1, senseLength: 18, key: 0x6, asc: 0x2a, ascq: 0x09 });
        // RFC 7143 11.9: the Async Message carries status sequencing: StatSN follows the login's.
        expect((resized as TargetPdu).statSN).to.equal(((mapped as TargetPdu).statSN + 1) >>> 0);

        // SAM-5 5.14: the condition is still owed to the next command on LUN 1 (after POWER ON).
        const asc: number[] = [];
        for (let i = 0; i < 3; i++) {
          w.send(scsiCommand({ itt: 0x100 + i, lun: 1, cmdSN: r.cmdSN + i, expStatSN: ((resized as TargetPdu).statSN + 1 + i) >>> 0, edtl: 0, cdb: Buffer.from([0, 0, 0, 0, 0, 0]) }));
          const rsp = await w.waitFor(p => p.op === Op.SCSI_RESPONSE && p.itt === 0x100 + i, 10000);
          expect(rsp).to.not.be.oneOf(['closed', 'timeout']);
          const data = (rsp as TargetPdu).data;
          asc.push(data.length > 2 ? data[2 + 12] : 0);
        }
        expect(asc).to.deep.equal([0x29, 0x2a, 0]);
        let cmdSN = r.cmdSN + 3;
        let expStatSN = ((resized as TargetPdu).statSN + 4) >>> 0;
        const command = async (lun: number, cdb: number[], edtl = 0, data?: Buffer): Promise<TargetPdu> => {
          const itt = 0x200 + cmdSN;
          w.send(scsiCommand({ itt, lun, cmdSN, expStatSN, edtl, cdb, write: data !== undefined, read: data === undefined && edtl > 0, data, final: true }));
          cmdSN++;
          const rsp = await w.waitFor(p => p.op === Op.SCSI_RESPONSE && p.itt === itt, 10000);
          expect(rsp).to.not.be.oneOf(['closed', 'timeout']);
          expStatSN = ((rsp as TargetPdu).statSN + 1) >>> 0;
          return rsp as TargetPdu;
        };
        const nextEvent = async (what: string): Promise<ReturnType<typeof scsiEvent>> => {
          const p = await w.waitFor(x => x.op === Op.ASYNC_MSG, 10000);
          expect(p, what).to.not.be.oneOf(['closed', 'timeout']);
          expStatSN = ((p as TargetPdu).statSN + 1) >>> 0;
          return scsiEvent(p as TargetPdu);
        };

        // Read-only, live: the write-protect bit is in the mode parameter header (SBC-4 6.5.1).
        await callOnce(sock, 'device.set', { name: 'd1', readOnly: true });
        expect(await nextEvent('after readOnly')).to.deep.equal({ event: 0, lun: 1, senseLength: 18, key: 0x6, asc: 0x2a, ascq: 0x01 });
        expect((await command(1, [0, 0, 0, 0, 0, 0])).data[2 + 12], 'MODE PARAMETERS CHANGED owed').to.equal(0x2a);
        const write = [0x2a, 0, 0, 0, 0, 8, 0, 0, 1, 0];
        const refused = (await command(1, write, 512, Buffer.alloc(512, 0x5a))).data.subarray(2);
        expect([refused[2] & 0x0f, refused[12], refused[13]], 'DATA PROTECT, WRITE PROTECTED').to.deep.equal([0x7, 0x27, 0x00]);
        await callOnce(sock, 'device.set', { name: 'd1', readOnly: false });
        expect((await nextEvent('after readOnly false')).asc).to.equal(0x2a);
        await command(1, [0, 0, 0, 0, 0, 0]);
        expect((await command(1, write, 512, Buffer.alloc(512, 0x5a))).header[3], 'GOOD again').to.equal(0);

        // INQUIRY fields, live: INQUIRY DATA HAS CHANGED (SPC-4 5.14).
        const cli = await run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'),
          'device', 'set', 'd1', '--vendor', 'ACME', '--product', 'Roadrunner', '--control', sock]);
        expect(cli.code, cli.stderr).to.equal(0);
        expect(cli.stdout).to.contain('device d1 INQUIRY (defaults) -> vendor "ACME", product "Roadrunner"');
        expect(await nextEvent('after INQUIRY fields')).to.deep.equal({ event: 0, lun: 1, senseLength: 18, key: 0x6, asc: 0x3f, ascq: 0x03 });
        const cfg = (await callOnce(sock, 'config.get')) as { devices: { name: string; vendor?: string; product?: string }[] };
        expect(cfg.devices.find(x => x.name === 'd1')).to.include({ vendor: 'ACME', product: 'Roadrunner' });
      } finally {
        w.destroy();
      }
    });
  });
}
