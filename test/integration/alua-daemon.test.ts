// ALUA through the daemon: one target with two portals in two target port groups, an iSCSI
// initiator on each portal (the hand-written client of the fuzz tests), each portal its own iSCSI
// target portal group (TPGT in the login and in SendTargets, the target port's designators), the
// states reported by REPORT TARGET PORT GROUPS and enforced per portal, changed through the
// control socket and kept across a restart.
import { expect } from 'chai';
import net from 'node:net';
import { ENGINE_THREADS, RunningDaemon, startDaemon } from '../helpers/daemon';
import { callOnce } from '../../src/daemon/control/client';
import { SteadySession, CommandResult } from '../fuzz/client';
import { requirePrereq, tool } from '../helpers/prereq';
import { run } from '../helpers/run';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

const TARGET = 'iqn.2026-11.io.nexus:mp';
const INITIATOR = 'iqn.2026-11.example:mp-host';

/** A loopback port free now (the daemon needs two fixed ones: port 0 would name one portal twice). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function topology(stateDir: string, p1: number, p2: number): Record<string, unknown> {
  const a = `127.0.0.1:${p1}`, b = `127.0.0.1:${p2}`;
  return {
    stateDir,
    devices: [{ name: 'disk0', handler: 'ram', size: '1MiB', alua: { states: { 2: 'standby' } } }],
    targets: [{
      driver: 'iscsi', name: TARGET, portals: [a, b],
      portGroups: [{ id: 1, portals: [a] }, { id: 2, portals: [b] }],
      luns: [{ lun: 0, device: 'disk0' }],
    }],
  };
}

// SPC-4 6.37 / 6.46 CDBs, by hand.
const RTPG = [0xa3, 0x0a, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0];
const TUR = [0, 0, 0, 0, 0, 0];
const READ_10 = [0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0];
const VPD_83 = [0x12, 0x01, 0x83, 0x01, 0x00, 0x00];
const VPD_88 = [0x12, 0x01, 0x88, 0x01, 0x00, 0x00];
/** Fixed-format sense: key, ASC, ASCQ. */
const kcq = (r: CommandResult): number[] => (r.sense.length >= 14 ? [r.sense[2] & 0x0f, r.sense[12], r.sense[13]] : []);

async function settle(s: SteadySession): Promise<void> {
  for (let i = 0; i < 4; i++) if ((await s.command(0, RTPG, { readLength: 256 })).status === 0) return;
  throw new Error('unit attentions did not clear');
}

for (const threads of ENGINE_THREADS) {
  describe(`ALUA in the daemon: two portals in two target port groups (engine threads: ${threads})`, function () {
    this.timeout(120000);
    let d: RunningDaemon | undefined;
    const sessions: SteadySession[] = [];
    afterEach(async () => {
      for (const s of sessions.splice(0)) s.close();
      await d?.stop();
      d = undefined;
    });

    it('reports and enforces each portal\'s state; alua.set changes it with a unit attention; a restart keeps it', async () => {
      const [p1, p2] = [await freePort(), await freePort()];
      // One state directory for both runs: the states are kept there.
      const state = mkdtempSync(path.join(tmpdir(), 'nexus-alua-state-'));
      d = await startDaemon(topology(state, p1, p2), { threads });
      const a = await SteadySession.open('127.0.0.1', p1, INITIATOR, TARGET);
      // RFC 7143 4.4.1: each target port group is its own target portal group, so the same
      // initiator port (same ISID) opens a second I_T nexus through the other portal.
      const b = await SteadySession.open('127.0.0.1', p2, INITIATOR, TARGET);
      sessions.push(a, b);
      expect([a.portalGroupTag, b.portalGroupTag]).to.deep.equal([1, 2]);
      expect(await a.ping()).to.equal(true);
      await settle(a);
      await settle(b);
      const rtpg = (await a.command(0, RTPG, { readLength: 256 })).data;
      expect(rtpg.toString('hex')).to.equal('00000018' + '00cf0001000000010000' + '0001' + '02cf0002000000010000' + '0002');
      // SPC-4 7.8.6.7 / 7.8.6.8 / 7.8.6.11: through portal 2, relative target port 2, target port
      // group 2, and the target port name with TPGT 2.
      const vpd = (await b.command(0, VPD_83, { readLength: 256 })).data;
      expect(vpd.toString('hex')).to.contain('5194000400000002' + '5195000400000002');
      expect(vpd.toString('latin1')).to.contain(`${TARGET},t,0x0002\0`);
      // SPC-4 7.8.10: both target ports of the unit, whichever path asks.
      // Per port: RELATIVE PORT IDENTIFIER, no TransportID, 40 bytes of target port descriptor (the
      // 32-byte name null-terminated and padded to 36).
      const ports = (id: number): string => `0000000${id}` + '00000000' + '00000028' + '53980024' + Buffer.from(`${TARGET},t,0x000${id}\0\0\0\0`).toString('hex');
      const scsiPorts = (await a.command(0, VPD_88, { readLength: 256 })).data.toString('hex');
      expect(scsiPorts).to.equal('00880068' + ports(1) + ports(2));
      expect((await b.command(0, VPD_88, { readLength: 256 })).data.toString('hex')).to.equal(scsiPorts);
      expect((await a.command(0, READ_10, { readLength: 512 })).status).to.equal(0);
      expect(kcq(await b.command(0, READ_10, { readLength: 512 }))).to.deep.equal([0x02, 0x04, 0x0b]);

      const sock = path.join(state, 'control.sock');
      const after = await callOnce(sock, 'alua.set', { device: 'disk0', states: { 1: 'standby', 2: 'active/optimized' } });
      expect(after).to.deep.equal({ device: 'disk0', tpgs: 'both', transitionMs: 0, states: { 1: 'standby', 2: 'active/optimized' } });
      expect(kcq(await a.command(0, TUR))).to.deep.equal([0x06, 0x2a, 0x06]);
      expect(kcq(await b.command(0, TUR))).to.deep.equal([0x06, 0x2a, 0x06]);
      expect((await b.command(0, READ_10, { readLength: 512 })).status).to.equal(0);
      expect(kcq(await a.command(0, READ_10, { readLength: 512 }))).to.deep.equal([0x02, 0x04, 0x0b]);
      for (const s of sessions.splice(0)) s.close();
      await d.stop();

      d = await startDaemon(topology(state, p1, p2), { threads });
      const again = await callOnce(path.join(state, 'control.sock'), 'alua.get', { device: 'disk0' });
      expect(again).to.deep.include({ states: { 1: 'standby', 2: 'active/optimized' } });
      await d.stop();
      d = undefined;
      rmSync(state, { recursive: true, force: true });
    });

    it('SendTargets lists each portal with its target portal group tag (RFC 7143 12.3)', async function () {
      requirePrereq(this, tool('iscsi-ls'));
      const [p1, p2] = [await freePort(), await freePort()];
      const state = mkdtempSync(path.join(tmpdir(), 'nexus-alua-state-'));
      try {
        d = await startDaemon(topology(state, p1, p2), { threads });
        // iscsi-ls (libiscsi) prints the tag of each TargetAddress as it is given.
        const r = await run('iscsi-ls', [`iscsi://127.0.0.1:${p2}`]);
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stdout).to.contain(`Target:${TARGET} Portal:127.0.0.1:${p1},1`);
        expect(r.stdout).to.contain(`Target:${TARGET} Portal:127.0.0.1:${p2},2`);
      } finally {
        await d?.stop();
        d = undefined;
        rmSync(state, { recursive: true, force: true });
      }
    });
  });
}
