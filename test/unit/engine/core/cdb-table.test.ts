import { expect } from 'chai';
import { CdbTable, cdbLengthForOpcode } from '../../../../src/engine/cdb/registry';
import { CORE_ROWS } from '../../../../src/engine/cdb/defs/core';
import { CdbDef, cdb } from '../../../../src/engine/cdb/dsl';
import { NexusError } from '../../../../src/engine/result';
import { DISK } from '../../../../src/engine/devices/disk';
import { buildSense, SenseFormat } from '../../../../src/engine/sense';
import { Status } from '../../../../src/engine/spec/status';

const table = new CdbTable(CORE_ROWS as unknown as CdbDef[]);

function senseOf(cdb: number[]): Buffer {
  const r = table.decode(Uint8Array.from(cdb));
  if (r.ok) throw new Error('expected a rejection');
  expect(r.outcome.status).to.equal(Status.CHECK_CONDITION);
  return buildSense(r.outcome.sense!, SenseFormat.FIXED);
}

describe('CDB table decoding (SPC-4 4.2, 4.5.2.4.2)', () => {
  it('decodes REPORT LUNS fields', () => {
    const r = table.decode(Uint8Array.from([0xa0, 0, 0x02, 0, 0, 0, 0x00, 0x01, 0x00, 0x10, 0, 0]));
    expect(r.ok).to.equal(true);
    if (r.ok) expect(r.f).to.deep.equal({ selectReport: 2, allocationLength: 0x10010 });
  });

  it('unknown opcode → INVALID COMMAND OPERATION CODE (20h/00h)', () => {
    const s = senseOf([0xc5, 0, 0, 0, 0, 0]);
    expect([s[2], s[12], s[13]]).to.deep.equal([0x05, 0x20, 0x00]);
  });

  it('a reserved bit → INVALID FIELD IN CDB with byte and bit pointer', () => {
    // TEST UNIT READY byte 1 bit 5 set (reserved)
    const s = senseOf([0x00, 0x20, 0, 0, 0, 0]);
    expect([s[12], s[13]]).to.deep.equal([0x24, 0x00]);
    expect([...s.subarray(15, 18)]).to.deep.equal([0xc8 | 5, 0x00, 0x01]);
  });

  it('NACA in the control byte is refused (no ACA support)', () => {
    const s = senseOf([0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0x04]);
    expect([...s.subarray(15, 18)]).to.deep.equal([0xc8 | 2, 0x00, 11]);
  });

  it('REQUEST SENSE accepts DESC (byte 1 bit 0) and rejects byte 1 bit 1', () => {
    expect(table.decode(Uint8Array.from([0x03, 0x01, 0, 0, 252, 0])).ok).to.equal(true);
    const s = senseOf([0x03, 0x02, 0, 0, 252, 0]);
    expect([...s.subarray(15, 18)]).to.deep.equal([0xc8 | 1, 0x00, 0x01]);
  });

  it('a CDB shorter than the row → INVALID FIELD IN CDB', () => {
    const s = senseOf([0xa0, 0, 0]);
    expect(s[12]).to.equal(0x24);
  });

  it('group codes give CDB lengths', () => {
    expect([0x00, 0x28, 0x5a, 0x88, 0xa8, 0xc0].map(cdbLengthForOpcode)).to.deep.equal([6, 10, 10, 16, 12, 0]);
  });
});

describe('CDB rows state where their fields are (SPC-4 6.35.3 usage data)', () => {
  it('every field of every disk row lies in bits the row\'s usage data says the device server examines', () => {
    for (const def of DISK.table.all()) {
      for (const [name, field] of Object.entries(def.fields)) {
        const mask = field.bit === undefined ? 0xff : 1 << field.bit;
        expect(def.usage[field.byte] & mask, `${def.name} ${name} at byte ${field.byte}`).to.not.equal(0);
      }
    }
  });

  it('READ(6) and WRITE(6) TRANSFER LENGTH 0 decodes as 256 blocks; other lengths as they are', () => {
    for (const op of [0x08, 0x0a]) {
      const def = DISK.table.lookup(op)!;
      expect(def.decode(Uint8Array.from([op, 0, 0, 0, 0, 0]))).to.include({ blocks: 256 });
      expect(def.decode(Uint8Array.from([op, 0, 0, 0, 7, 0]))).to.include({ blocks: 7 });
      expect(def.xferBytes(def.decode(Uint8Array.from([op, 0, 0, 0, 0, 0])), 512)).to.equal(256 * 512);
    }
  });
});

describe('lba64: a 64-bit LBA as a number while it is below 2^53', () => {
  it('decodes READ(16) LBAs below 2^53 as numbers and from 2^53 on as bigints, exactly', () => {
    const def = DISK.table.lookup(0x88)!;
    const at = (lba: bigint) => {
      const c = new Uint8Array(16);
      c[0] = 0x88;
      for (let i = 0; i < 8; i++) c[2 + i] = Number((lba >> BigInt(8 * (7 - i))) & 0xffn);
      return (def.decode(c) as { lba: number | bigint }).lba;
    };
    expect(at(0x12345678n)).to.equal(0x12345678);
    expect(at((1n << 53n) - 1n)).to.equal(Number.MAX_SAFE_INTEGER);
    expect(at(1n << 53n)).to.equal(1n << 53n);
    expect(at((1n << 64n) - 1n)).to.equal((1n << 64n) - 1n);
  });
});

describe('CDB table misuse is a NexusError with a stable code', () => {
  it('a duplicate row, a service-action opcode without its action and a short usage mask are ERR_CDB_TABLE', () => {
    const t = new CdbTable(CORE_ROWS as unknown as CdbDef[]);
    expect(() => t.add(CORE_ROWS[0] as unknown as CdbDef)).to.throw(NexusError).with.property('code', 'ERR_CDB_TABLE');
    const noSa = { ...DISK.table.lookup(0x9e, 0x10)!, sa: undefined };
    expect(() => new CdbTable([noSa])).to.throw(NexusError).with.property('code', 'ERR_CDB_TABLE');
    expect(() => cdb({ op: 0, name: 'X', size: 6, dir: 0, types: 1, usage: [0], fields: {}, resv: 0 }))
      .to.throw(NexusError).with.property('code', 'ERR_CDB_TABLE');
  });
});
