import { expect } from 'chai';
import { Engine } from '../../../../src/engine/engine';
import type { Completion } from '../../../../src/engine/command';
import type { ItNexus } from '../../../../src/engine/nexus';
import { Status, TaskAttr } from '../../../../src/engine/spec/status';
import type { DeviceConfig } from '../../../../src/engine/topology';

/** EXTENDED COPY through the whole pipeline, between two units of one Engine (Engine.unitByNaa). */

const T = 'iqn.2026-11.io.nexus:xcopy';

function dev(name: string): DeviceConfig {
  return { name, handler: 'ram', sizeBytes: 1024n * 512n, blockSize: 512, writeCache: 'writeback', thin: true, readOnly: false };
}

let tag = 1;
function exec(n: ItNexus, lun: number, cdb: number[], dataOut?: Uint8Array, expectedLength = dataOut?.length ?? 0): Promise<Completion> {
  return new Promise(resolve => n.execute({ lun, cdb: Uint8Array.from(cdb), tag: tag++, attr: TaskAttr.SIMPLE, expectedLength, dataOut }, resolve));
}

const be32 = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];

function target(naa: Buffer): number[] {
  // E4h, block device; designation descriptor: binary, LU, NAA, 16 bytes; DISK BLOCK LENGTH 512
  return [0xe4, 0, 0, 0, 0x01, 0x03, 0x00, 0x10, ...naa, 0, 0, 0, 0, 0, 0x00, 0x02, 0x00];
}

describe('EXTENDED COPY through the engine', () => {
  let e: Engine;
  beforeEach(async () => {
    e = await Engine.create({
      devices: [dev('a'), dev('b')],
      targets: [{ driver: 'iscsi', name: T, portals: [], luns: [{ lun: 0, device: 'a', readOnly: false }, { lun: 1, device: 'b', readOnly: false }], groups: [] }],
    });
  });
  afterEach(() => e.close());

  it('finds units by NAA designator', () => {
    const a = e.units.get('a')!, b = e.units.get('b')!;
    expect(e.unitByNaa(b.identity.naa)).to.equal(b);
    expect(a.copyTargets?.(a.identity.naa)).to.equal(a);
    expect(e.unitByNaa(Buffer.alloc(16))).to.equal(undefined);
  });

  it('copies 8 blocks from LUN 0 to LUN 1, sent to LUN 0', async () => {
    const n = e.openNexus({ targetName: T, initiatorName: 'iqn.test:x', isid: '000000000001' })!;
    // the first command of a new nexus reports its power-on unit attention
    await exec(n, 0, [0x00, 0, 0, 0, 0, 0]);
    await exec(n, 1, [0x00, 0, 0, 0, 0, 0]);
    const data = Buffer.alloc(8 * 512, 0x77);
    expect((await exec(n, 0, [0x2a, 0, 0, 0, 0, 4, 0, 0, 8, 0], data)).status).to.equal(Status.GOOD);
    const tl = [...target(e.units.get('a')!.identity.naa), ...target(e.units.get('b')!.identity.naa)];
    // segment: 02h, length 0018h, source 0, destination 1, 8 blocks, LBA 4 → LBA 100
    const seg = [0x02, 0, 0, 0x18, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 100];
    const pl = Uint8Array.from([9, 0x10, 0, tl.length, 0, 0, 0, 0, ...be32(seg.length), 0, 0, 0, 0, ...tl, ...seg]);
    const c = await exec(n, 0, [0x83, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...be32(pl.length), 0, 0], pl);
    expect(c.status).to.equal(Status.GOOD);
    const r = await exec(n, 1, [0x28, 0, 0, 0, 0, 100, 0, 0, 8, 0], undefined, 8 * 512);
    expect(Buffer.from(r.data!).equals(data)).to.equal(true);
    await n.close('logout');
  });
});
