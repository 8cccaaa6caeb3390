import { CdbTable } from '../../../../src/engine/cdb/registry';
import { Outcome } from '../../../../src/engine/result';
import { buildSense, SenseFormat } from '../../../../src/engine/sense';
import { SenseCondition } from '../../../../src/engine/spec/asc';
import { PeripheralType, Status } from '../../../../src/engine/spec/status';
import { spcBindings } from '../../../../src/engine/spc';
import { ModePages, SBC_MODE_PAGES, SPC_MODE_PAGES } from '../../../../src/engine/mode-page-store';
import { LuStatistics } from '../../../../src/engine/lu-statistics';
import { Backstore, ExecContext, LuView, NexusView } from '../../../../src/engine/types';
import { unitState } from '../sbc/fixture';
import { SBC_VPD_PAGES, SPC_VPD_PAGES } from '../../../../src/engine/vpd';
import { DeviceConfig } from '../../../../src/engine/topology';

/** A logical unit for the SPC handlers: plain data, with the UAs it raises recorded. */
export interface TestLu extends LuView {
  readonly backstore: Backstore;
  readonly raised: Array<{ cond: SenseCondition; exceptNexus?: number }>;
  statistics?: LuStatistics;
}

export interface LuOptions {
  type?: PeripheralType;
  removable?: boolean;
  blockSize?: number;
  blocks?: bigint;
  physicalExponent?: number;
  thin?: boolean;
  writeBack?: boolean;
  statistics?: boolean;
}

/** A backstore that only carries the properties the SPC commands read; no I/O happens here. */
function backstoreOf(o: Required<Pick<LuOptions, 'blockSize' | 'blocks' | 'thin' | 'writeBack'>>): Backstore {
  const noIo = (): Promise<never> => Promise.reject(Object.assign(new Error('no I/O in SPC tests'), { code: 'EIO' }));
  return {
    kind: 'memory', sizeBytes: o.blocks * BigInt(o.blockSize), readOnly: false, thin: o.thin, writeBack: o.writeBack,
    read: noIo, write: noIo, flush: noIo, unmap: noIo, mapStatus: noIo, resize: noIo, close: noIo,
  };
}

export const NAA = Buffer.from('6001405112233445566778899aabbccd', 'hex');

export function makeLu(o: LuOptions = {}): TestLu {
  const blockSize = o.blockSize ?? 512;
  const blocks = o.blocks ?? 2048n;
  const thin = o.thin ?? false;
  const writeBack = o.writeBack ?? true;
  const config: DeviceConfig = {
    name: 'disk0', handler: 'ram', sizeBytes: blocks * BigInt(blockSize), blockSize: blockSize as 512 | 4096,
    writeCache: writeBack ? 'writeback' : 'writethrough', thin, readOnly: false,
  };
  const raised: TestLu['raised'] = [];
  const disk = (o.type ?? PeripheralType.DISK) === PeripheralType.DISK;
  return {
    name: 'disk0',
    type: o.type ?? PeripheralType.DISK,
    config,
    backstore: backstoreOf({ blockSize, blocks, thin, writeBack }),
    identity: { vendor: 'NEXUS', product: 'TestDisk', revision: '0.1', serial: 'SN12345', naa: NAA, t10Id: 'disk0:SN12345' },
    blockSize,
    blocks,
    capacityBlocks: Number(blocks),
    physicalExponent: o.physicalExponent ?? 0,
    modes: new ModePages({ pages: disk ? [...SBC_MODE_PAGES, ...SPC_MODE_PAGES] : SPC_MODE_PAGES, writeBack }),
    table: new CdbTable(spcBindings.map(b => b.def)),
    // A disk offers the SBC-4 block device VPD and mode pages besides the SPC-4 ones.
    vpdPages: disk ? [...SPC_VPD_PAGES, ...SBC_VPD_PAGES] : SPC_VPD_PAGES,
    removable: o.removable ?? false,
    preventRemoval: new Set(),
    stopped: false,
    mediumPresent: true, sanitizing: false, sanitizeProgress: 0,
    raiseUa(cond, exceptNexus) { raised.push({ cond, exceptNexus }); },
    raised,
    statistics: o.statistics ? new LuStatistics() : undefined,
    ...unitState(),
  };
}

export function makeNexus(id = 7): NexusView {
  return {
    id,
    initiatorName: 'iqn.2026-11.example:host1',
    initiatorPort: 'iqn.2026-11.example:host1,i,0x23d000000001',
    itKey: 'iqn.2026-11.example:host1,i,0x23d000000001|iqn.2026-11.io.nexus:t1,t,0x0001',
    targetName: 'iqn.2026-11.io.nexus:t1',
    targetPort: 'iqn.2026-11.io.nexus:t1,t,0x0001',
    relativeTargetPortId: 3,
    targetPortGroupId: 2,
    portGroups: [{ id: 2, relativeTargetPortIds: [3] }],
    targetPorts: [{ relativeTargetPortId: 3, name: 'iqn.2026-11.io.nexus:t1,t,0x0001' }],
    nexusKeyAt: (port: string, rtpi: number) => (rtpi === 3 ? `${port}|iqn.2026-11.io.nexus:t1,t,0x0001` : undefined),
    luns: () => [0],
  };
}

/** The SPC rows as a device table would hold them. */
export const table = new CdbTable(spcBindings.map(b => b.def));
const execs = new Map(spcBindings.map(b => [b.def, b.exec]));

export interface RunOptions { lu?: TestLu; nexus?: NexusView; readOnly?: boolean; dataOut?: Uint8Array }

/** Decode `cdb` through the table, then execute it as the pipeline would. */
export async function run(cdb: number[], o: RunOptions = {}): Promise<Outcome> {
  const bytes = Uint8Array.from(cdb);
  const d = table.decode(bytes);
  if (!d.ok) return d.outcome;
  const lu = o.lu ?? makeLu();
  const xferBytes = d.def.xferBytes(d.f, lu.blockSize);
  const dataOut = o.dataOut ?? (d.def.dir === 2 ? new Uint8Array(xferBytes) : undefined);
  const ctx: ExecContext = {
    cdb: bytes, def: d.def, f: d.f, lu, nexus: o.nexus ?? makeNexus(), lun: 0,
    readOnly: o.readOnly ?? false, dataOut, xferBytes,
  };
  return execs.get(d.def)!(ctx);
}

/** The data of a GOOD outcome as a Buffer (fails the test otherwise). */
export function dataOf(out: Outcome): Buffer {
  if (out.status !== Status.GOOD || !out.data) {
    throw new Error(`expected GOOD with data, got status ${out.status} ${out.sense?.cond.name ?? ''}`);
  }
  return Buffer.from(out.data);
}

/** Fixed-format sense of a CHECK CONDITION: key, ASC, ASCQ and the sense-key-specific bytes 15..17. */
export function senseOf(out: Outcome): { key: number; asc: number; ascq: number; sks: number[] } {
  if (out.status !== Status.CHECK_CONDITION || !out.sense) throw new Error(`expected CHECK CONDITION, got ${out.status}`);
  const s = buildSense(out.sense, SenseFormat.FIXED);
  return { key: s[2] & 0x0f, asc: s[12], ascq: s[13], sks: [s[15], s[16], s[17]] };
}
