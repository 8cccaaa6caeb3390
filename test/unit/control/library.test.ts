import { expect } from 'chai';
import * as path from 'node:path';
import { createLogger } from '../../../src/daemon/log';
import { ControlServer } from '../../../src/daemon/control/server';
import { ControlCallError, ControlClient } from '../../../src/daemon/control/client';
import { ControlErrorCode } from '../../../src/daemon/control/protocol';
import type { DaemonControl } from '../../../src/daemon/control/daemon-methods';
import { libraryMethods } from '../../../src/daemon/control/library-methods';
import { cartridgeFile, cdb, kcq, library, MAIL, SLOT, start, workDir } from '../engine/smc/fixture';

/**
 * The control socket's library.list / library.import / library.export (docs/control.md), carried
 * out on the engine thread that homes the changer (Supervisor.unit and the unitRequest
 * message) or on the calling thread, with the refusals as JSON-RPC errors.
 */

const log = createLogger({ level: 'silent' });

describe('control socket: library methods', () => {
  for (const threads of [0, 1]) {
    it(`list, import and export through the socket (${threads === 0 ? 'calling thread' : 'engine thread'}), with the unit attention and the refusals`, async function () {
      this.timeout(30000);
      const dir = workDir();
      const t = await start(library(dir), { threads });
      const d = { unit: (device, op, args) => t.runtime.unit(device, op, args) } as Pick<DaemonControl, 'unit'> as DaemonControl;
      const sock = path.join(dir, 'control.sock');
      const server = await ControlServer.start({ socketPath: sock, methods: libraryMethods(d), log });
      const c = await ControlClient.connect(sock);
      const err = (p: Promise<unknown>) => p.then(() => undefined, (e: ControlCallError) => e);
      try {
        const s = t.session('iqn.2026-11.example:h');
        for (let i = 0; i < 3 && (await s.execute(0, cdb.tur())).senseKey === 0x06; i++);
        const inv = await c.call('library.list', { device: 'lib0' }) as Array<{ element: string; barcode?: string; address: number }>;
        expect(inv.length).to.equal(10);
        expect(inv.filter(e => e.barcode).map(e => e.barcode)).to.deep.equal(['NXS001L6', 'NXS002L6', 'NXS003L6', 'NXS004L6', 'NXS005L6', 'NXS006L6']);
        const file = cartridgeFile(dir, 0xc1);
        expect(await c.call('library.import', { device: 'lib0', barcode: 'NEW001L6', path: file })).to.deep.equal({ device: 'lib0', barcode: 'NEW001L6', address: MAIL(0) });
        expect(kcq(await s.execute(0, cdb.tur()))).to.deep.equal([0x06, 0x28, 0x01]);
        // A full mail slot, then a lock: refused with the library's code.
        const full = await err(c.call('library.import', { device: 'lib0', barcode: 'NEW002L6', path: file }));
        expect([full?.code, (full?.data?.errors[0] as { code?: string }).code]).to.deep.equal([ControlErrorCode.REFUSED, 'ERR_LIBRARY']);
        expect(kcq(await s.execute(0, cdb.moveMedium(MAIL(0), SLOT(1))))).to.deep.equal([0x05, 0x3b, 0x0d]);
        await s.execute(0, cdb.prevent(true));
        const locked = await err(c.call('library.export', { device: 'lib0', barcode: 'NEW001L6' }));
        expect([locked?.code, (locked?.data?.errors[0] as { code?: string }).code]).to.deep.equal([ControlErrorCode.REFUSED, 'ERR_MEDIUM_REMOVAL_PREVENTED']);
        await s.execute(0, cdb.prevent(false));
        expect(await c.call('library.export', { device: 'lib0', barcode: 'NEW001L6' })).to.deep.equal({ device: 'lib0', barcode: 'NEW001L6', path: file });
        // Unknown device, a drive that is no changer, a relative or missing path, a bad bar code.
        expect((await err(c.call('library.list', { device: 'nope' })))?.code).to.equal(ControlErrorCode.NOT_FOUND);
        expect((await err(c.call('library.list', { device: 'tape0' })))?.code).to.equal(ControlErrorCode.NOT_FOUND);
        const rel = await err(c.call('library.import', { device: 'lib0', barcode: 'X1', path: 'rel.iso' }));
        expect([rel?.code, rel?.data?.path]).to.deep.equal([ControlErrorCode.INVALID_PARAMS, '/params/path']);
        expect((await err(c.call('library.import', { device: 'lib0', barcode: 'X1', path: `${dir}/missing.iso` })))?.data?.path).to.equal('/params/path');
        expect((await err(c.call('library.import', { device: 'lib0', barcode: 'has space', path: file })))?.code).to.equal(ControlErrorCode.INVALID_PARAMS);
      } finally {
        c.close();
        await server.close();
        await t.stop();
      }
    });
  }
});
