// A medium changer in the daemon: its library through the control socket and the `nexus library`
// admin commands, an initiator's INQUIRY over iSCSI, and the library state across a restart.
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ENGINE_THREADS, RunningDaemon, startDaemon } from '../helpers/daemon';
import { requirePrereq, tool } from '../helpers/prereq';
import { callOnce } from '../../src/daemon/control/client';
import type { LibraryElementView } from '../../src/engine/device-registry';
import { nexusCli, run } from '../helpers/run';

const ROOT = path.resolve(__dirname, '..', '..');
const TARGET = 'iqn.2026-11.io.nexus:vtl';

const nexus = nexusCli;

function cartridge(dir: string, n: number): string {
  const p = path.join(dir, `c${n}.iso`);
  writeFileSync(p, Buffer.alloc(8 * 2048, n));
  return p;
}

function topology(dir: string): Record<string, unknown> {
  return {
    devices: [
      {
        name: 'lib0', handler: 'changer', drives: ['tape0', 'tape1'], slots: 6, mailSlots: 1, state: path.join(dir, 'lib0.json'),
        cartridges: [1, 2, 3, 4, 5, 6].map(n => ({ barcode: `NXS00${n}L6`, path: cartridge(dir, n), slot: n })),
      },
      { name: 'tape0', handler: 'vcdrom' },
      { name: 'tape1', handler: 'vcdrom' },
    ],
    targets: [{
      driver: 'iscsi', name: TARGET, portals: ['127.0.0.1:0'],
      luns: [{ lun: 0, device: 'lib0' }, { lun: 1, device: 'tape0' }, { lun: 2, device: 'tape1' }],
    }],
  };
}

for (const threads of ENGINE_THREADS) {
  describe(`medium changer in the daemon (engine threads: ${threads})`, function () {
    this.timeout(120000);
    let d: RunningDaemon | undefined;
    afterEach(async () => { await d?.stop(); d = undefined; });

    it('nexus library ls / import / export over the control socket; the library survives a restart', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'nexus-vtl-'));
      d = await startDaemon(topology(dir), { threads });
      let sock = path.join(d.dir, 'state', 'control.sock');
      const ls = await nexus('library', 'ls', 'lib0', '--control', sock);
      expect(ls.code, ls.stderr).to.equal(0);
      expect(ls.stdout).to.match(/^slot 1\s+2000h\s+NXS001L6/m);
      expect(ls.stdout).to.match(/^drive 1\s+0101h\s+-\s+\(tape1\)$/m);
      const extra = cartridge(dir, 9);
      const imp = await nexus('library', 'import', 'lib0', 'NEW009L6', extra, '--control', sock);
      expect(imp.code, imp.stderr).to.equal(0);
      expect(imp.stdout).to.contain('NEW009L6 is in the mail slot at 1000h of lib0');
      const again = await nexus('library', 'import', 'lib0', 'NEW010L6', extra, '--control', sock);
      expect(again.code).to.equal(1);
      expect(again.stderr).to.contain('no empty mail slot');
      await d.stop();

      d = await startDaemon(topology(dir), { threads });
      sock = path.join(d.dir, 'state', 'control.sock');
      const inv = (await callOnce(sock, 'library.list', { device: 'lib0' })) as LibraryElementView[];
      expect(inv.find(e => e.element === 'mail')).to.deep.include({ barcode: 'NEW009L6', path: extra, imported: true });
      const exp = await nexus('library', 'export', 'lib0', 'NEW009L6', '--control', sock);
      expect(exp.code, exp.stderr).to.equal(0);
      expect(exp.stdout).to.contain(`NEW009L6 is out of lib0 (${extra})`);
      const json = JSON.parse((await nexus('library', 'ls', 'lib0', '--json', '--control', sock)).stdout) as LibraryElementView[];
      expect(json.filter(e => e.barcode).length).to.equal(6);
    });

    it('an initiator sees a medium changer (peripheral device type 08h) at LUN 0', async function () {
      requirePrereq(this, tool('iscsi-inq'));
      const dir = mkdtempSync(path.join(tmpdir(), 'nexus-vtl-'));
      d = await startDaemon(topology(dir), { threads });
      const r = await run('iscsi-inq', ['-i', 'iqn.2026-11.example:inq', `iscsi://${d.host}:${d.port}/${TARGET}/0`]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/^Peripheral Device Type:MEDIA_CHANGER$/m);
      expect(r.stdout).to.match(/^Removable:1$/m);
    });
  });
}
