// The daemon from a topology file on 127.0.0.1 (ephemeral port) against initiators nobody here
// wrote: libiscsi's tools and qemu's iSCSI block driver.
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ENGINE_THREADS, RunningDaemon, startDaemon } from '../helpers/daemon';
import { describeNeeds, NATIVE_ADDON, requirePrereq, tool } from '../helpers/prereq';
import { run } from '../helpers/run';

const TARGET = 'iqn.2026-11.io.nexus:it';
const CHAP_TARGET = 'iqn.2026-11.io.nexus:chap';
const READER = 'iqn.2026-11.example:reader1';


function needs(ctx: Mocha.Context, ...tools: string[]): void {
  requirePrereq(ctx, ...tools.map(tool));
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

for (const threads of ENGINE_THREADS) {
  (threads > 0 ? describeNeeds(NATIVE_ADDON) : describe)(`iSCSI daemon with real initiators (engine threads: ${threads})`, function () {
    this.timeout(120000);
    let d: RunningDaemon;
    let url: string;

    before(async () => {
      d = await startDaemon({
        iscsi: { queueDepth: 32, initialR2T: false, immediateData: true, maxOutstandingR2T: 4, firstBurstLength: 65536, maxBurstLength: 262144 },
        devices: [
          { name: 'ram0', handler: 'ram', size: '48MiB', blockSize: 512 },
          { name: 'null0', handler: 'nullio', size: '1GiB' },
          { name: 'ram1', handler: 'ram', size: '4MiB', blockSize: 4096 },
        ],
        targets: [
          {
            driver: 'iscsi', name: CHAP_TARGET, portals: ['127.0.0.1:0'],
            auth: { chap: { user: 'alice', secret: 'alice-secret-123' } },
            luns: [{ lun: 0, device: 'ram1' }],
          },
          {
            driver: 'iscsi', name: TARGET, portals: ['127.0.0.1:0'],
            luns: [{ lun: 0, device: 'ram0' }, { lun: 1, device: 'null0' }],
            groups: [{ name: 'readers', initiators: ['iqn.2026-11.example:reader*'], luns: [{ lun: 0, device: 'ram0', readOnly: true }] }],
          },
        ],
      }, { threads });
      url = `iscsi://127.0.0.1:${d.port}`;
    });

    after(async () => {
      if (d) {
        const code = await d.stop();
        expect(code, d.output()).to.equal(0);
      }
    });

    it('iscsi-ls discovers both targets with their portal and LUNs', async function () {
      needs(this, 'iscsi-ls');
      const all = await run('iscsi-ls', ['--url', url]);
      expect(all.code, all.stderr).to.equal(0);
      expect(all.stdout).to.contain(`${url}/${TARGET}`);
      expect(all.stdout).to.contain(`${url}/${CHAP_TARGET}`);
      // -s logs in to every target to list LUNs; the CHAP target refuses it (no secret given),
      // and iscsi-ls lists targets in reverse, so the open target's LUNs come first.
      const r = await run('iscsi-ls', ['-s', url]);
      expect(r.stdout).to.contain(`Target:${TARGET} Portal:127.0.0.1:${d.port},1`);
      expect(r.stdout + r.stderr).to.contain('Authentication failure');
      expect(r.stdout).to.match(/Lun:0\s+Type:DIRECT_ACCESS \(Size:47M\)/);
      expect(r.stdout).to.match(/Lun:1\s+Type:DIRECT_ACCESS/);
    });

    it('a group initiator sees only its LUNs', async function () {
      needs(this, 'iscsi-ls', 'iscsi-inq');
      const ls = await run('iscsi-ls', ['-s', '-i', READER, url]);
      const ours = ls.stdout.split(`Target:${TARGET}`)[1] ?? '';
      expect(ours).to.match(/Lun:0\s/);
      expect(ours).not.to.match(/Lun:1\s/);
      const inq = await run('iscsi-inq', ['-i', READER, `${url}/${TARGET}/1`]);
      expect(inq.code).not.to.equal(0);
      expect(inq.stdout + inq.stderr).to.contain('LOGICAL_UNIT_NOT_SUPPORTED');
    });

    it('iscsi-inq reports a direct-access device', async function () {
      needs(this, 'iscsi-inq');
      const r = await run('iscsi-inq', [`${url}/${TARGET}/0`]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.contain('Peripheral Device Type:DIRECT_ACCESS');
      expect(r.stdout).to.match(/Product:ram0/);
    });

    it('iscsi-readcapacity16 reports the size and block size', async function () {
      needs(this, 'iscsi-readcapacity16');
      const r = await run('iscsi-readcapacity16', [`${url}/${TARGET}/0`]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.contain('RETURNED LOGICAL BLOCK ADDRESS:98303'); // 48 MiB / 512 - 1
      expect(r.stdout).to.contain('LOGICAL BLOCK LENGTH IN BYTES:512');
    });

    it('qemu-img convert round trip of 32 MiB keeps every byte', async function () {
      needs(this, 'qemu-img');
      const src = path.join(d.dir, 'src.bin');
      const back = path.join(d.dir, 'back.bin');
      const data = randomBytes(32 << 20);
      writeFileSync(src, data);
      const w = await run('qemu-img', ['convert', '-n', '-f', 'raw', '-O', 'raw', src, `${url}/${TARGET}/0`]);
      expect(w.code, w.stderr).to.equal(0);
      const r = await run('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', `${url}/${TARGET}/0`, back]);
      expect(r.code, r.stderr).to.equal(0);
      expect(sha256(readFileSync(back).subarray(0, data.length))).to.equal(sha256(data));
    });

    it('qemu-io writes and reads back patterns at unaligned offsets', async function () {
      needs(this, 'qemu-io');
      const r = await run('qemu-io', [
        '-f', 'raw',
        '-c', 'write -P 0xab 4097 10000', '-c', 'read -P 0xab 4097 10000',
        '-c', 'write -P 0x5c 1048575 300000', '-c', 'read -P 0x5c 1048575 300000',
        '-c', 'read -P 0xab 4097 10000',
        `${url}/${TARGET}/0`,
      ]);
      expect(r.code, r.stdout + r.stderr).to.equal(0);
      expect(r.stdout).not.to.contain('Pattern verification failed');
      expect(r.stdout.match(/^read /gm)).to.have.length(3);
    });

    it('CHAP with the right secret logs in', async function () {
      needs(this, 'iscsi-inq');
      const r = await run('iscsi-inq', [`iscsi://alice%25alice-secret-123@127.0.0.1:${d.port}/${CHAP_TARGET}/0`.replace('%25', '%')]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.contain('Peripheral Device Type:DIRECT_ACCESS');
    });

    it('CHAP with a wrong secret, or none, is refused', async function () {
      needs(this, 'iscsi-inq');
      const wrong = await run('iscsi-inq', [`iscsi://alice%wrong-secret-99@127.0.0.1:${d.port}/${CHAP_TARGET}/0`]);
      expect(wrong.code).not.to.equal(0);
      expect(wrong.stdout).not.to.contain('DIRECT_ACCESS');
      const none = await run('iscsi-inq', [`${url}/${CHAP_TARGET}/0`]);
      expect(none.code).not.to.equal(0);
    });

    it('a read-only mapping refuses writes (write protected)', async function () {
      needs(this, 'qemu-io');
      const opts = `driver=iscsi,transport=tcp,portal=127.0.0.1:${d.port},target=${TARGET},lun=0,initiator-name=${READER}`;
      const rd = await run('qemu-io', ['--image-opts', '-r', '-c', 'read 0 4096', opts]);
      expect(rd.code, rd.stderr).to.equal(0);
      // qemu reads the WP bit from MODE SENSE and refuses to open the LUN for writing.
      const wr = await run('qemu-io', ['--image-opts', '-c', 'write -P 0x11 0 4096', opts]);
      expect(wr.code).not.to.equal(0);
      expect(wr.stdout + wr.stderr).to.match(/write protected/i);
    });

    it('keeps serving after a client vanishes in the middle of a transfer', async function () {
      needs(this, 'iscsi-inq');
      const net = await import('node:net');
      // A raw connection that sends half a BHS and disappears.
      await new Promise<void>((resolve) => {
        const s = net.connect(d.port, '127.0.0.1', () => {
          s.write(Buffer.alloc(20, 0x43));
          s.destroy();
          resolve();
        });
        s.on('error', () => resolve());
      });
      const r = await run('iscsi-inq', [`${url}/${TARGET}/0`]);
      expect(r.code, r.stderr).to.equal(0);
    });
  });

  (threads > 0 ? describeNeeds(NATIVE_ADDON) : describe)(`iSCSI daemon on an IPv6 loopback portal (engine threads: ${threads})`, function () {
    this.timeout(120000);
    const V6_TARGET = 'iqn.2026-11.io.nexus:v6';
    let d: RunningDaemon;

    before(async () => {
      d = await startDaemon({
        devices: [{ name: 'ram0', handler: 'ram', size: '8MiB', blockSize: 512 }],
        targets: [{ driver: 'iscsi', name: V6_TARGET, portals: ['[::1]:0', '127.0.0.1:0'], luns: [{ lun: 0, device: 'ram0' }] }],
      }, { threads });
    });

    after(async () => {
      if (d) {
        const code = await d.stop();
        expect(code, d.output()).to.equal(0);
      }
    });

    it('iscsi-inq logs in over iscsi://[::1]:port', async function () {
      needs(this, 'iscsi-inq');
      expect(d.host).to.equal('::1');
      const r = await run('iscsi-inq', [`iscsi://[::1]:${d.port}/${V6_TARGET}/0`]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.contain('Peripheral Device Type:DIRECT_ACCESS');
    });

    it('SendTargets over IPv6 lists both portals, the IPv6 one in brackets (RFC 7143 13.8)', async function () {
      needs(this, 'iscsi-ls');
      const v4 = /portal 127\.0\.0\.1:(\d+)/.exec(d.output());
      expect(v4, d.output()).to.not.equal(null);
      const r = await run('iscsi-ls', [`iscsi://[::1]:${d.port}`]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.contain(`Target:${V6_TARGET} Portal:[::1]:${d.port},1`);
      expect(r.stdout).to.contain(`Target:${V6_TARGET} Portal:127.0.0.1:${v4![1]},1`);
    });
  });
}
