import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createLogger } from '../../../src/daemon/log';
import { ControlServer } from '../../../src/daemon/control/server';
import { ControlCallError, ControlClient } from '../../../src/daemon/control/client';
import { ControlErrorCode } from '../../../src/daemon/control/protocol';
import type { DaemonControl } from '../../../src/daemon/control/daemon-methods';
import { aluaMethods } from '../../../src/daemon/control/alua-methods';
import { EmbeddedTarget } from '../../../src/embedded';
import type { TargetConfig } from '../../../src/engine/topology';
import { INIT_A, ram } from '../engine/embedded/fixture';

/**
 * The control socket's alua.get / alua.set (docs/control.md), carried out on the engine thread
 * that homes the unit (Supervisor.unit and the unitRequest message) or on the calling thread:
 * the change reaches the unit's sessions as a unit attention and lands in the state directory.
 */

const log = createLogger({ level: 'silent' });
const TARGET = 'iqn.2026-11.io.nexus:mp';

function mpTarget(): TargetConfig {
  return {
    driver: 'iscsi', name: TARGET, portals: ['127.0.0.1:3260', '127.0.0.1:3261'], groups: [],
    portGroups: [{ id: 1, portals: ['127.0.0.1:3260'] }, { id: 2, portals: ['127.0.0.1:3261'] }],
    luns: [{ lun: 0, device: 'disk0', readOnly: false }],
  };
}

const tur = [0, 0, 0, 0, 0, 0];

describe('control socket: alua methods', () => {
  for (const threads of [0, 1]) {
    it(`get and set through the socket (${threads === 0 ? 'calling thread' : 'engine thread'}), with the unit attention and the saved states`, async function () {
      this.timeout(30000);
      const dir = mkdtempSync(path.join(tmpdir(), 'nexus-alua-control-'));
      const d0 = ram('disk0');
      d0.alua = { tpgs: 'both', transitionMs: 0, states: { 2: 'standby' } };
      const t = await EmbeddedTarget.start({ stateDir: dir, devices: [d0], targets: [mpTarget()] }, { threads });
      const d = { unit: (device, op, args) => t.runtime.unit(device, op, args) } as Pick<DaemonControl, 'unit'> as DaemonControl;
      const sock = path.join(dir, 'control.sock');
      const server = await ControlServer.start({ socketPath: sock, methods: aluaMethods(d), log });
      const c = await ControlClient.connect(sock);
      const err = (p: Promise<unknown>) => p.then(() => undefined, (e: ControlCallError) => e);
      try {
        const s = t.session(INIT_A, { portal: '127.0.0.1:3261' });
        for (let i = 0; i < 3 && (await s.execute(0, tur)).senseKey === 0x06; i++);
        expect(await c.call('alua.get', { device: 'disk0' }))
          .to.deep.equal({ device: 'disk0', tpgs: 'both', transitionMs: 0, states: { 2: 'standby' } });
        const r = await s.execute(0, tur);
        expect([r.senseKey, r.asc, r.ascq]).to.deep.equal([0x02, 0x04, 0x0b]);
        expect(await c.call('alua.set', { device: 'disk0', states: { 2: 'active/non-optimized' } }))
          .to.deep.equal({ device: 'disk0', tpgs: 'both', transitionMs: 0, states: { 2: 'active/non-optimized' } });
        const ua = await s.execute(0, tur);
        expect([ua.senseKey, ua.asc, ua.ascq]).to.deep.equal([0x06, 0x2a, 0x06]);
        expect((await s.execute(0, tur)).status).to.equal(0);
        expect(JSON.parse(readFileSync(path.join(dir, 'alua', 'disk0.json'), 'utf8'))).to.deep.equal({ 2: 'active/non-optimized' });
        // Unknown device; a state no one may ask for; a group id that is not one.
        expect((await err(c.call('alua.get', { device: 'nope' })))?.code).to.equal(ControlErrorCode.NOT_FOUND);
        expect((await err(c.call('alua.set', { device: 'disk0', states: { 2: 'transitioning' } })))?.code).to.equal(ControlErrorCode.INVALID_PARAMS);
        expect((await err(c.call('alua.set', { device: 'disk0', states: { x: 'standby' } })))?.code).to.equal(ControlErrorCode.INVALID_PARAMS);
      } finally {
        c.close();
        await server.close();
        await t.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
