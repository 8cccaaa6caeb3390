import { mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Cartridge, HEADER_BYTES, RECORD_HEADER_BYTES, RecordType } from '../../../../src/engine/backstores/tape-cartridge';

/**
 * The cartridge file (docs/tape-format.md): header, records, the index built at open, and what
 * an interrupted write leaves (a record cut anywhere is dropped, an append continues after the
 * last whole one).
 */

function tmp(): string { return join(mkdtempSync(join(tmpdir(), 'nexus-tape-')), 'c.tape'); }
const MiB = 1024 * 1024;
const block = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);

describe('engine/ssc cartridge format', () => {
  it('a new cartridge: 512-byte header with magic, version 1, capacity, early warning, barcode; no records', async () => {
    const p = tmp();
    await Cartridge.create(p, { barcode: 'NEX001L8', capacityBytes: 8 * MiB, earlyWarningBytes: 256 * 1024 });
    const b = readFileSync(p);
    expect(b.length).to.equal(HEADER_BYTES);
    expect(b.toString('latin1', 0, 8)).to.equal('NEXUSTAP');
    expect(b.readUInt16BE(8)).to.equal(1);
    expect(b.readUInt16BE(10)).to.equal(512);
    expect(b.readUInt32BE(12)).to.equal(0);
    expect(Number(b.readBigUInt64BE(16))).to.equal(8 * MiB);
    expect(Number(b.readBigUInt64BE(24))).to.equal(256 * 1024);
    expect(b.toString('latin1', 32, 64)).to.equal('NEX001L8'.padEnd(32));
    const c = await Cartridge.open(p);
    expect(c.objects).to.equal(0);
    expect(c.label).to.deep.equal({ barcode: 'NEX001L8', capacityBytes: 8 * MiB, earlyWarningBytes: 256 * 1024, writeProtected: false });
    await c.close();
  });

  it('refuses to overwrite a file, bad barcodes and tiny capacities', async () => {
    const p = tmp();
    await Cartridge.create(p, { barcode: 'A', capacityBytes: MiB });
    await Cartridge.create(p, { barcode: 'A', capacityBytes: MiB }).then(() => expect.fail(), e => expect(e.code).to.equal('EEXIST'));
    await Cartridge.create(tmp(), { barcode: 'bad\n', capacityBytes: MiB }).then(() => expect.fail(), e => expect(e.code).to.equal('ERR_TAPE_FORMAT'));
    await Cartridge.create(tmp(), { barcode: 'A', capacityBytes: 1000 }).then(() => expect.fail(), e => expect(e.code).to.equal('ERR_TAPE_FORMAT'));
  });

  it('a file that is not a cartridge, or of another version, is refused at open', async () => {
    const p = tmp();
    writeFileSync(p, Buffer.alloc(1024));
    await Cartridge.open(p).then(() => expect.fail(), e => expect(e.code).to.equal('ERR_TAPE_FORMAT'));
    const q = tmp();
    await Cartridge.create(q, { barcode: 'A', capacityBytes: MiB });
    const b = readFileSync(q); b[9] = 2; writeFileSync(q, b);
    await Cartridge.open(q).then(() => expect.fail(), e => expect(e.code).to.equal('ERR_TAPE_FORMAT'));
  });

  it('records: 32-byte headers, index and filemark lookup survive a reopen', async () => {
    const p = tmp();
    await Cartridge.create(p, { barcode: 'A', capacityBytes: 8 * MiB });
    let c = await Cartridge.open(p);
    await c.append([{ type: RecordType.DATA, data: block(100, 1) }, { type: RecordType.DATA, data: block(10, 2) }, { type: RecordType.FILEMARK }]);
    await c.append([{ type: RecordType.DATA, data: block(7, 3) }, { type: RecordType.FILEMARK }]);
    await c.close();
    const b = readFileSync(p);
    expect(b.length).to.equal(HEADER_BYTES + 5 * RECORD_HEADER_BYTES + 117);
    expect(b.toString('latin1', HEADER_BYTES, HEADER_BYTES + 4)).to.equal('NXRC');
    expect(b[HEADER_BYTES + 4]).to.equal(1);
    expect(b.readUInt32BE(HEADER_BYTES + 8)).to.equal(100);
    c = await Cartridge.open(p);
    expect(c.objects).to.equal(5);
    expect([0, 1, 2, 3, 4].map(i => c.typeAt(i))).to.deep.equal([1, 1, 2, 1, 2]);
    expect([0, 1, 3].map(i => c.lengthAt(i))).to.deep.equal([100, 10, 7]);
    expect([0, 2, 3, 4, 5].map(i => c.filemarksBefore(i))).to.deep.equal([0, 0, 1, 1, 2]);
    expect([c.filemark(0), c.filemark(1), c.filemark(2)]).to.deep.equal([2, 4, undefined]);
    const d = new Uint8Array(7);
    await c.read(3, d);
    expect([...d]).to.deep.equal([3, 3, 3, 3, 3, 3, 3]);
    expect(c.usedBytes).to.equal(5 * RECORD_HEADER_BYTES + 117);
    await c.close();
  });

  it('truncate makes a position end-of-data; an append continues there', async () => {
    const p = tmp();
    await Cartridge.create(p, { barcode: 'A', capacityBytes: 8 * MiB });
    const c = await Cartridge.open(p);
    await c.append([{ type: RecordType.DATA, data: block(10, 1) }, { type: RecordType.FILEMARK }, { type: RecordType.DATA, data: block(10, 2) }]);
    await c.truncate(1);
    expect(c.objects).to.equal(1);
    expect(c.filemark(0)).to.equal(undefined);
    await c.append([{ type: RecordType.DATA, data: block(5, 9) }]);
    await c.close();
    const r = await Cartridge.open(p);
    expect(r.objects).to.equal(2);
    expect(r.lengthAt(1)).to.equal(5);
    expect(statSync(p).size).to.equal(HEADER_BYTES + 2 * RECORD_HEADER_BYTES + 15);
    await r.close();
  });

  for (const cut of [1, RECORD_HEADER_BYTES - 1, RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + 3]) {
    it(`a last record cut ${cut} bytes into it is dropped at open and the next append follows the last whole one`, async () => {
      const p = tmp();
      await Cartridge.create(p, { barcode: 'A', capacityBytes: 8 * MiB });
      let c = await Cartridge.open(p);
      await c.append([{ type: RecordType.DATA, data: block(64, 1) }, { type: RecordType.FILEMARK }]);
      const whole = statSync(p).size;
      await c.append([{ type: RecordType.DATA, data: block(64, 2) }]);
      await c.close();
      truncateSync(p, whole + cut);
      c = await Cartridge.open(p);
      expect(c.objects).to.equal(2);
      expect(statSync(p).size).to.equal(whole);
      await c.append([{ type: RecordType.DATA, data: block(8, 3) }]);
      await c.close();
      c = await Cartridge.open(p);
      expect(c.objects).to.equal(3);
      const d = new Uint8Array(8);
      await c.read(2, d);
      expect(d[0]).to.equal(3);
      await c.close();
    });
  }

  it('a last record whose data was torn (checksum) is dropped', async () => {
    const p = tmp();
    await Cartridge.create(p, { barcode: 'A', capacityBytes: 8 * MiB });
    const c = await Cartridge.open(p);
    await c.append([{ type: RecordType.DATA, data: block(64, 1) }, { type: RecordType.DATA, data: block(64, 2) }]);
    await c.close();
    const b = readFileSync(p);
    b[b.length - 1] = 0; // the data is all there but not what was written
    writeFileSync(p, b);
    const r = await Cartridge.open(p);
    expect(r.objects).to.equal(1);
    await r.close();
  });

  it('a write-protected cartridge opens read-only and refuses appends with EROFS, keeping its tail', async () => {
    const p = tmp();
    await Cartridge.create(p, { barcode: 'A', capacityBytes: MiB, writeProtected: true });
    const c = await Cartridge.open(p);
    expect(c.readOnly).to.equal(true);
    await c.append([{ type: RecordType.FILEMARK }]).then(() => expect.fail(), e => expect(e.code).to.equal('EROFS'));
    await c.close();
  });
});
