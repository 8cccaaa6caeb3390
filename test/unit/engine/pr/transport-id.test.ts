import { expect } from 'chai';
import { decodeIscsiTransportId } from '../../../../src/engine/transport-id';
import { parsePrOut, PrOutRequest } from '../../../../src/engine/pr-out-parameters';
import { PrOutSa } from '../../../../src/engine/spec/opcodes';
import { Status } from '../../../../src/engine/spec/status';
import { tid } from './fixture';

const PORT = 'iqn.2026-11.example:host-b,i,0x400000000002';

function outcome(o: unknown): number[] {
  const x = o as { status: number; sense?: { cond: { key: number; asc: number; ascq: number }; fieldPointer?: { byte: number; bit?: number } } };
  return [x.status, x.sense?.cond.asc ?? 0, x.sense?.fieldPointer?.byte ?? -1];
}

describe('engine/transport-id: the iSCSI TransportID (SPC-4 7.6.4.6)', () => {
  it('format 01b: name, ",i,0x" and the ISID, read back in lower case', () => {
    const b = Buffer.from([0xff, ...tid('iqn.2026-11.example:host-b,i,0x40000000000A')]);
    expect(decodeIscsiTransportId(b, 1)).to.deep.equal({ initiatorPort: 'iqn.2026-11.example:host-b,i,0x40000000000a', lengthBytes: 4 + 44 });
  });

  it('format 00b: the name alone, ADDITIONAL LENGTH 20 at least', () => {
    expect(decodeIscsiTransportId(Buffer.from(tid('iqn.b', 0b00)), 0)).to.deep.equal({ initiatorPort: 'iqn.b', lengthBytes: 24 });
  });

  it('refused: another protocol, format 10b, an ADDITIONAL LENGTH under 20 or not a multiple of 4, no NUL, a bad ISID', () => {
    expect(decodeIscsiTransportId(Buffer.from(tid(PORT, 0b01, 48, 0x0)), 0)).to.deep.equal({ truncated: false, byte: 0 });
    expect(decodeIscsiTransportId(Buffer.from(tid(PORT, 0b10)), 0)).to.deep.equal({ truncated: false, byte: 0 });
    expect(decodeIscsiTransportId(Buffer.from(tid('iqn.b', 0b00, 16)), 0)).to.deep.equal({ truncated: false, byte: 2 });
    expect(decodeIscsiTransportId(Buffer.from(tid('iqn.b', 0b00, 22)), 0)).to.deep.equal({ truncated: false, byte: 2 });
    expect(decodeIscsiTransportId(Buffer.from(tid('iqn.bbbbbbbbbbbbbbbbbbbb', 0b00, 20)), 0)).to.deep.equal({ truncated: false, byte: 4 });
    expect(decodeIscsiTransportId(Buffer.from(tid('iqn.b,i,0x4000', 0b01)), 0)).to.deep.equal({ truncated: false, byte: 4 });
    expect(decodeIscsiTransportId(Buffer.from(tid('iqn.b', 0b01)), 0)).to.deep.equal({ truncated: false, byte: 4 });
    // format 00b names a device: an ISID in it is a contradiction
    expect(decodeIscsiTransportId(Buffer.from(tid(PORT, 0b00)), 0)).to.deep.equal({ truncated: false, byte: 0 });
  });

  it('a TransportID running past the buffer is truncated', () => {
    expect(decodeIscsiTransportId(Buffer.from(tid(PORT)).subarray(0, 40), 0)).to.deep.equal({ truncated: true });
    expect(decodeIscsiTransportId(Buffer.from([0x45, 0]), 0)).to.deep.equal({ truncated: true });
  });
});

describe('engine/pr-out-parameters: SPEC_I_PT and REGISTER AND MOVE lists (SPC-4 6.16.3, 6.16.4)', () => {
  /** REGISTER with SPEC_I_PT: the 24-byte basic list, TRANSPORTID PARAMETER DATA LENGTH, TransportIDs. */
  function specList(ids: number[][], tpdl = ids.flat().length, byte20 = 0x08): Uint8Array {
    const head = new Array<number>(28).fill(0);
    head[15] = 0x22; head[20] = byte20;
    head[24] = tpdl >>> 24; head[25] = (tpdl >> 16) & 0xff; head[26] = (tpdl >> 8) & 0xff; head[27] = tpdl & 0xff;
    return Uint8Array.from([...head, ...ids.flat()]);
  }
  /** REGISTER AND MOVE (table 201): keys, UNREG/APTPL, RELATIVE TARGET PORT IDENTIFIER, the TransportID. */
  function moveList(id: number[], rtpi = 2, byte17 = 0x02, tidLength = id.length): Uint8Array {
    const head = new Array<number>(24).fill(0);
    head[7] = 0x11; head[15] = 0x33; head[17] = byte17; head[18] = rtpi >> 8; head[19] = rtpi & 0xff;
    head[20] = tidLength >>> 24; head[21] = (tidLength >> 16) & 0xff; head[22] = (tidLength >> 8) & 0xff; head[23] = tidLength & 0xff;
    return Uint8Array.from([...head, ...id]);
  }

  it('SPEC_I_PT: each TransportID with its offset', () => {
    const r = parsePrOut(PrOutSa.REGISTER, 0, 0, specList([tid(PORT), tid('iqn.c', 0b00)])) as PrOutRequest;
    expect(r.transportIds).to.deep.equal([{ initiatorPort: PORT, offset: 28 }, { initiatorPort: 'iqn.c', offset: 28 + 48 }]);
    expect(r).to.include({ specIPt: true, serviceActionReservationKey: 0x22n });
  });

  it('SPEC_I_PT: a data length that is not the rest of the list, or a cut TransportID, is PARAMETER LIST LENGTH ERROR', () => {
    expect(outcome(parsePrOut(PrOutSa.REGISTER, 0, 0, specList([tid(PORT)], 40)))).to.deep.equal([Status.CHECK_CONDITION, 0x1a, -1]);
    const cut = specList([tid(PORT).slice(0, 30)]);
    expect(outcome(parsePrOut(PrOutSa.REGISTER, 0, 0, cut))).to.deep.equal([Status.CHECK_CONDITION, 0x1a, -1]);
  });

  it('SPEC_I_PT: a TransportID of another protocol is INVALID FIELD IN PARAMETER LIST at its first byte', () => {
    const l = specList([tid(PORT), tid(PORT, 0b01, 48, 0x0)]);
    expect(outcome(parsePrOut(PrOutSa.REGISTER, 0, 0, l))).to.deep.equal([Status.CHECK_CONDITION, 0x26, 28 + 48]);
  });

  it('SPEC_I_PT on REGISTER AND IGNORE EXISTING KEY is INVALID FIELD IN PARAMETER LIST, byte 20 bit 3', () => {
    const o = parsePrOut(PrOutSa.REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0, specList([])) as { sense: { fieldPointer: { byte: number; bit: number } } };
    expect(outcome(o)).to.deep.equal([Status.CHECK_CONDITION, 0x26, 20]);
    expect(o.sense.fieldPointer.bit).to.equal(3);
  });

  it('REGISTER AND MOVE: UNREG, APTPL, the relative target port and the destination', () => {
    const r = parsePrOut(PrOutSa.REGISTER_AND_MOVE, 0, 0, moveList(tid(PORT), 0x0102, 0x03)) as PrOutRequest;
    expect(r).to.include({ reservationKey: 0x11n, serviceActionReservationKey: 0x33n, unreg: true, aptpl: true, relativeTargetPortId: 0x0102 });
    expect(r.transportIds).to.deep.equal([{ initiatorPort: PORT, offset: 24 }]);
  });

  it('REGISTER AND MOVE: a list length other than 24 + the TransportID length is PARAMETER LIST LENGTH ERROR', () => {
    expect(outcome(parsePrOut(PrOutSa.REGISTER_AND_MOVE, 0, 0, moveList(tid(PORT), 2, 0, 100)))).to.deep.equal([Status.CHECK_CONDITION, 0x1a, -1]);
    expect(outcome(parsePrOut(PrOutSa.REGISTER_AND_MOVE, 0, 0, moveList([], 2, 0, 0)))).to.deep.equal([Status.CHECK_CONDITION, 0x26, 20]);
    expect(outcome(parsePrOut(PrOutSa.REGISTER_AND_MOVE, 0, 0, moveList([...tid(PORT), ...tid('iqn.c', 0)])))).to.deep.equal([Status.CHECK_CONDITION, 0x26, 20]);
  });
});
