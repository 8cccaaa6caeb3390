// A removable device's medium changed from the host while the daemon runs: `nexus device medium`
// (the control method device.medium) loads another ISO image into a CD/DVD-ROM drive or ejects
// it; an initiator sees the new capacity, then NOT READY; a device without a removable medium
// refuses. (The locked tray, PREVENT ALLOW MEDIUM REMOVAL, is refused the same way: the kernel
// VM test holds a disc mounted while the host ejects; test/unit/engine/mmc/medium.test.ts drives
// it byte-exactly.)
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ENGINE_THREADS, RunningDaemon, startDaemon } from '../helpers/daemon';
import { requirePrereq, tool } from '../helpers/prereq';
import { callOnce } from '../../src/daemon/control/client';
import { nexusCli, run, type Run } from '../helpers/run';

const ROOT = path.resolve(__dirname, '..', '..');
const TARGET = 'iqn.2026-11.io.nexus:medium';

const nexus = nexusCli;

/** An image of `blocks` 2048-byte blocks (the drive reads its size as the medium's capacity). */
function image(dir: string, name: string, blocks: number): string {
  const p = path.join(dir, name);
  writeFileSync(p, Buffer.alloc(blocks * 2048, blocks & 0xff));
  return p;
}

interface DeviceDoc { name: string; path?: string }
const deviceIn = async (sock: string, name: string): Promise<DeviceDoc | undefined> =>
  ((await callOnce(sock, 'config.get', {})) as { devices: DeviceDoc[] }).devices.find(d => d.name === name);

for (const threads of ENGINE_THREADS) {
  describe(`nexus device medium (engine threads: ${threads})`, function () {
    this.timeout(120000);
    let d: RunningDaemon | undefined;
    afterEach(async () => { await d?.stop(); d = undefined; });

    it('loads another image, ejects it, and is refused for a device without a removable medium', async function () {
      requirePrereq(this, tool('qemu-io'));
      const dir = mkdtempSync(path.join(tmpdir(), 'nexus-medium-'));
      const a = image(dir, 'a.iso', 64);
      const b = image(dir, 'b.iso', 96);
      d = await startDaemon({
        devices: [
          { name: 'cd0', handler: 'vcdrom', path: a },
          { name: 'ram0', handler: 'ram', size: '1MiB' },
        ],
        targets: [{ driver: 'iscsi', name: TARGET, portals: ['127.0.0.1:0'], luns: [{ lun: 0, device: 'cd0' }, { lun: 1, device: 'ram0' }] }],
      }, { threads });
      const sock = path.join(d.dir, 'state', 'control.sock');
      // qemu's iSCSI driver reads a CD/DVD-ROM's capacity with READ CAPACITY(10) (read-only);
      // qemu-io's length is the medium's size in bytes.
      const capacity = (): Promise<Run> => run('qemu-io', ['-r', '--image-opts',
        `driver=iscsi,transport=tcp,portal=${d!.host}:${d!.port},target=${TARGET},lun=0,initiator-name=iqn.2026-11.example:cap`, '-c', 'length']);
      expect((await capacity()).stdout).to.match(/^128 KiB$/m);

      const dry = await nexus('device', 'medium', 'cd0', b, '--dry-run', '--control', sock);
      expect(dry.code, dry.stderr).to.equal(0);
      expect(dry.stdout).to.contain('dry run, nothing changed');
      expect((await deviceIn(sock, 'cd0'))?.path).to.equal(a);

      const load = await nexus('device', 'medium', 'cd0', b, '--control', sock);
      expect(load.code, load.stderr).to.equal(0);
      expect(load.stdout).to.contain('1 step(s) applied');
      expect((await deviceIn(sock, 'cd0'))?.path).to.equal(b);
      expect((await capacity()).stdout).to.match(/^192 KiB$/m);

      const eject = await nexus('device', 'medium', 'cd0', '--control', sock);
      expect(eject.code, eject.stderr).to.equal(0);
      expect((await deviceIn(sock, 'cd0'))?.path).to.equal(undefined);
      const empty = await capacity();
      expect(empty.code).to.not.equal(0);

      const disk = await nexus('device', 'medium', 'ram0', b, '--control', sock);
      expect(disk.code).to.equal(1);
      expect(disk.stderr).to.contain('ram devices have no backing path');
      expect((await deviceIn(sock, 'ram0'))?.path).to.equal(undefined);
    });
  });
}
