import { expect } from 'chai';
import { buildSense, parseSense, SenseFormat } from '../../../../src/engine/sense';
import { SENSE } from '../../../../src/engine/spec/asc';

// SPC-4 4.5.3 (fixed) and 4.5.2 (descriptor) sense data formats, bytes written out by hand.
describe('sense builder (SPC-4 4.5)', () => {
  it('fixed format: INVALID FIELD IN CDB with a bit pointer', () => {
    const b = buildSense({ cond: SENSE.INVALID_FIELD_IN_CDB, fieldPointer: { cd: true, byte: 1, bit: 4 } }, SenseFormat.FIXED);
    expect([...b]).to.deep.equal([
      0x70, 0x00, 0x05, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0, 0x24, 0x00, 0x00, 0xcc, 0x00, 0x01,
    ]);
  });

  it('fixed format: parameter list pointer without a bit (C/D = 0, BPV = 0)', () => {
    const b = buildSense({ cond: SENSE.INVALID_FIELD_IN_PARAMETER_LIST, fieldPointer: { cd: false, byte: 0x102 } }, SenseFormat.FIXED);
    expect([...b.subarray(15, 18)]).to.deep.equal([0x80, 0x01, 0x02]);
    expect(b[12]).to.equal(0x26);
  });

  it('SPC-4 4.5.2.4.4 progress indication: NOT READY, SANITIZE IN PROGRESS, both formats; not for other keys', () => {
    const f = buildSense({ cond: SENSE.SANITIZE_IN_PROGRESS, progress: 0x8000 }, SenseFormat.FIXED);
    expect([...f]).to.deep.equal([0x70, 0x00, 0x02, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0, 0x04, 0x1b, 0x00, 0x80, 0x80, 0x00]);
    const d = buildSense({ cond: SENSE.SANITIZE_IN_PROGRESS, progress: 0x1234 }, SenseFormat.DESCRIPTOR);
    expect([...d]).to.deep.equal([0x72, 0x02, 0x04, 0x1b, 0, 0, 0, 8, 0x02, 0x06, 0x00, 0x00, 0x80, 0x12, 0x34, 0x00]);
    const other = buildSense({ cond: SENSE.LBA_OUT_OF_RANGE, progress: 0x1234 }, SenseFormat.FIXED);
    expect([...other.subarray(15, 18)]).to.deep.equal([0, 0, 0]);
  });

  it('fixed format: INFORMATION with VALID for a 32-bit LBA', () => {
    const b = buildSense({ cond: SENSE.LBA_OUT_OF_RANGE, information: 0x12345678n }, SenseFormat.FIXED);
    expect(b[0]).to.equal(0xf0);
    expect([...b.subarray(3, 7)]).to.deep.equal([0x12, 0x34, 0x56, 0x78]);
  });

  it('fixed format: an INFORMATION value beyond 32 bits clears VALID', () => {
    const b = buildSense({ cond: SENSE.LBA_OUT_OF_RANGE, information: 1n << 40n }, SenseFormat.FIXED);
    expect(b[0]).to.equal(0x70);
  });

  it('descriptor format: header, information descriptor and sense-key specific descriptor', () => {
    const b = buildSense({
      cond: SENSE.INVALID_FIELD_IN_CDB, information: 0x0102030405060708n, fieldPointer: { cd: true, byte: 2 },
    }, SenseFormat.DESCRIPTOR);
    expect([...b]).to.deep.equal([
      0x72, 0x05, 0x24, 0x00, 0, 0, 0, 20,
      0x00, 0x0a, 0x80, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
      0x02, 0x06, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x00,
    ]);
  });

  it('descriptor format with nothing but the condition is 8 bytes', () => {
    const b = buildSense({ cond: SENSE.POWER_ON_RESET }, SenseFormat.DESCRIPTOR);
    expect([...b]).to.deep.equal([0x72, 0x06, 0x29, 0x00, 0, 0, 0, 0]);
  });

  it('parses both formats back', () => {
    for (const fmt of [SenseFormat.FIXED, SenseFormat.DESCRIPTOR]) {
      const p = parseSense(buildSense({ cond: SENSE.MISCOMPARE_DURING_VERIFY_OPERATION, information: 7n }, fmt));
      expect(p).to.deep.equal({ key: 0x0e, asc: 0x1d, ascq: 0x00, information: 7n });
    }
  });
});
