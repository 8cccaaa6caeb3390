import { expect } from 'chai';
import { CdbTable } from '../../../../src/engine/cdb/registry';
import { MemoryBackstore } from '../../../../src/engine/backstores/memory';
import { Outcome } from '../../../../src/engine/result';
import { sbcBindings } from '../../../../src/engine/sbc';
import { SenseCondition } from '../../../../src/engine/spec/asc';
import { PeripheralType, Status } from '../../../../src/engine/spec/status';
import { DeviceConfig } from '../../../../src/engine/topology';
import { Backstore, Exec, LuView, NexusView } from '../../../../src/engine/types';
import { AsymmetricAccess } from '../../../../src/engine/alua';
import { UaTable } from '../../../../src/engine/ua';
import { SBC_VPD_PAGES, SPC_VPD_PAGES } from '../../../../src/engine/vpd';
import { ModePages, SBC_MODE_PAGES, SPC_MODE_PAGES } from '../../../../src/engine/mode-page-store';
import { Spc2Reservation } from '../../../../src/engine/reserve';
import { PersistentReservations } from '../../../../src/engine/pr';
import { TaskSet } from '../../../../src/engine/task-set';

/**
 * Test fixture for the SBC handlers: a LuView over a backstore, a NexusView, and `run`, which
 * decodes a hand-built CDB with a table of sbcBindings only and runs the row's exec, as the
 * pipeline would after its checks (Data-Out must be exactly the row's transfer length).
 */

export const table = new CdbTable(sbcBindings.map(b => b.def));
const execs = new Map(sbcBindings.map(b => [b.def, b.exec] as const));

export interface LuOptions {
  blocks?: bigint;
  blockSize?: 512 | 4096;
  thin?: boolean;
  backstore?: Backstore;
  removable?: boolean;
  physicalExponent?: number;
}

/** The unit state every logical unit has (unit attentions, reservations, task set), fresh. */
export function unitState(): Pick<LuView, 'ua' | 'reservation' | 'pr' | 'tasks' | 'access'> {
  return {
    ua: new UaTable(), reservation: new Spc2Reservation(), pr: new PersistentReservations(), tasks: new TaskSet(),
    access: new AsymmetricAccess(undefined, { raise: () => undefined }),
  };
}

export function makeLu(o: LuOptions = {}): LuView {
  const blockSize = o.blockSize ?? 512;
  const blocks = o.blocks ?? 2048n;
  const thin = o.thin ?? true;
  const backstore = o.backstore ?? new MemoryBackstore({ sizeBytes: blocks * BigInt(blockSize), thin });
  const config: DeviceConfig = {
    name: 'lu0', handler: 'ram', sizeBytes: blocks * BigInt(blockSize), blockSize, writeCache: 'writeback',
    thin, readOnly: false,
  };
  return {
    name: 'lu0', type: PeripheralType.DISK, config, backstore,
    identity: { vendor: 'NEXUS', product: 'TEST', revision: '0001', serial: 's0', naa: Buffer.alloc(16), t10Id: 't' },
    blockSize, blocks, capacityBlocks: Number(blocks), physicalExponent: o.physicalExponent ?? 0,
    modes: new ModePages({ pages: [...SBC_MODE_PAGES, ...SPC_MODE_PAGES], writeBack: true }),
    table, vpdPages: [...SPC_VPD_PAGES, ...SBC_VPD_PAGES], removable: o.removable ?? false, preventRemoval: new Set<number>(), stopped: false, mediumPresent: true, sanitizing: false, sanitizeProgress: 0,
    raiseUa: () => undefined,
    ...unitState(),
  };
}

export function makeNexus(id = 1): NexusView {
  return {
    id, itKey: `iqn.test:i${id},i,0x1|iqn.test:t,t,0x0001`,
    initiatorName: `iqn.test:i${id}`, initiatorPort: `iqn.test:i${id},i,0x1`, targetName: 'iqn.test:t',
    targetPort: 'iqn.test:t,t,0x1', relativeTargetPortId: 1, targetPortGroupId: 1,
    portGroups: [{ id: 1, relativeTargetPortIds: [1] }], targetPorts: [{ relativeTargetPortId: 1, name: 'iqn.test:t,t,0x0001' }], luns: () => [0],
    nexusKeyAt: (port: string, rtpi: number) => (rtpi === 1 ? `${port}|iqn.test:t,t,0x0001` : undefined),
  };
}

export async function run(lu: LuView, cdbBytes: readonly number[], dataOut?: Uint8Array, nexus = makeNexus()): Promise<Outcome> {
  const cdb = Uint8Array.from(cdbBytes);
  const dec = table.decode(cdb);
  if (!dec.ok) return dec.outcome;
  const xferBytes = dec.def.xferBytes(dec.f, lu.blockSize);
  if (dec.def.dir === 2 /* OUT */) expect(dataOut?.length ?? 0, 'Data-Out length the test supplies').to.equal(xferBytes);
  const exec = execs.get(dec.def) as Exec;
  return exec({ cdb, def: dec.def, f: dec.f, lu, nexus, lun: 0, readOnly: false, dataOut, xferBytes });
}

/** Big-endian bytes of a number, written out here so tests never use the code under test. */
export function be(value: number | bigint, bytes: number): number[] {
  let v = BigInt(value);
  const out: number[] = new Array(bytes).fill(0);
  for (let i = bytes - 1; i >= 0; i--) { out[i] = Number(v & 0xffn); v >>= 8n; }
  return out;
}

export function expectGood(o: Outcome): void {
  expect(o.status, o.sense ? `sense ${o.sense.cond.name}` : 'status').to.equal(Status.GOOD);
}

export function expectCheck(o: Outcome, cond: SenseCondition, extra?: { information?: bigint; byte?: number; bit?: number; cd?: boolean }): void {
  expect(o.status).to.equal(Status.CHECK_CONDITION);
  expect(o.sense?.cond.name).to.equal(cond.name);
  if (extra?.information !== undefined) expect(o.sense?.information).to.equal(extra.information);
  if (extra?.byte !== undefined) expect(o.sense?.fieldPointer?.byte).to.equal(extra.byte);
  if (extra?.bit !== undefined) expect(o.sense?.fieldPointer?.bit).to.equal(extra.bit);
  if (extra?.cd !== undefined) expect(o.sense?.fieldPointer?.cd).to.equal(extra.cd);
}

/** A block filled with `byte`, or a sequence of blocks each filled with its own byte. */
export function blocksOf(blockSize: number, ...bytes: number[]): Buffer {
  const b = Buffer.alloc(blockSize * bytes.length);
  bytes.forEach((v, i) => b.fill(v, i * blockSize, (i + 1) * blockSize));
  return b;
}

/** A backstore wrapper that records every call (and its FUA flag) before delegating. */
export class RecordingBackstore implements Backstore {
  readonly calls: string[] = [];
  constructor(readonly inner: Backstore, private readonly gate?: (op: string) => Promise<void>) {}
  get kind() { return this.inner.kind; }
  get sizeBytes() { return this.inner.sizeBytes; }
  get readOnly() { return this.inner.readOnly; }
  get thin() { return this.inner.thin; }
  get writeBack() { return this.inner.writeBack; }
  set writeBack(v: boolean) { this.inner.writeBack = v; }
  async read(offset: number, into: Uint8Array): Promise<void> {
    this.calls.push(`read ${offset}+${into.length}`);
    await this.gate?.('read');
    return this.inner.read(offset, into);
  }
  async write(offset: number, data: Uint8Array, fua: boolean): Promise<void> {
    this.calls.push(`write ${offset}+${data.length}${fua ? ' fua' : ''}`);
    await this.gate?.('write');
    return this.inner.write(offset, data, fua);
  }
  async flush(): Promise<void> { this.calls.push('flush'); return this.inner.flush(); }
  async unmap(offset: number, length: number): Promise<void> { this.calls.push(`unmap ${offset}+${length}`); return this.inner.unmap(offset, length); }
  mapStatus(offset: number) { return this.inner.mapStatus(offset); }
  resize(size: bigint) { return this.inner.resize(size); }
  close() { return this.inner.close(); }
}

/** A backstore whose every I/O rejects with an errno code. */
export class FailingBackstore implements Backstore {
  readonly kind = 'memory' as const;
  readonly readOnly = false;
  readonly thin = true;
  writeBack = true;
  constructor(readonly sizeBytes: bigint, private readonly code: string) {}
  private fail(): Promise<never> {
    const e: NodeJS.ErrnoException = new Error(this.code);
    e.code = this.code;
    return Promise.reject(e);
  }
  read() { return this.fail(); }
  write() { return this.fail(); }
  flush() { return this.fail(); }
  unmap() { return this.fail(); }
  mapStatus() { return this.fail(); }
  async resize() {}
  async close() {}
}
