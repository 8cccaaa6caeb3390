import { expect } from 'chai';
import { PersistentReservations, PrSnapshot, PrType } from '../../../../src/engine/pr';
import { at, req } from './fixture';
import { parsePrOut, PrOutRequest } from '../../../../src/engine/pr-out-parameters';
import { iscsiTransportId } from '../../../../src/engine/transport-id';
import { PrOutSa } from '../../../../src/engine/spec/opcodes';
import { Status } from '../../../../src/engine/spec/status';

const A = at('iqn.a,i,0x000000000001', 1, 'A');
const B = at('iqn.b', 2, 'B');

/** The 24-byte basic parameter list written out by hand. */
function list(rk: number, sark: number, byte20 = 0, len = 24): Uint8Array {
  const b = new Uint8Array(len);
  b[7] = rk; b[15] = sark; b[20] = byte20;
  return b;
}

describe('engine/pr state (SPC-4 5.12, 6.15)', () => {
  it('READ KEYS: PRGENERATION, ADDITIONAL LENGTH and the keys in registration order', () => {
    const pr = new PersistentReservations();
    pr.out(A, req(PrOutSa.REGISTER, 0n, 0x1122n));
    pr.out(B, req(PrOutSa.REGISTER_AND_IGNORE_EXISTING_KEY, 0n, 0x33n));
    expect([...pr.readKeys()]).to.deep.equal([
      0, 0, 0, 2, 0, 0, 0, 16,
      0, 0, 0, 0, 0, 0, 0x11, 0x22,
      0, 0, 0, 0, 0, 0, 0, 0x33,
    ]);
  });

  it('READ RESERVATION: 8 bytes without a reservation, 24 with key, scope and type', () => {
    const pr = new PersistentReservations();
    expect([...pr.readReservation()]).to.deep.equal([0, 0, 0, 0, 0, 0, 0, 0]);
    pr.out(A, req(PrOutSa.REGISTER, 0n, 0xabn));
    pr.out(A, req(PrOutSa.RESERVE, 0xabn, 0n, PrType.EXCLUSIVE_ACCESS));
    expect([...pr.readReservation()]).to.deep.equal([
      0, 0, 0, 1, 0, 0, 0, 16,
      0, 0, 0, 0, 0, 0, 0, 0xab,
      0, 0, 0, 0, 0, 0x03, 0, 0,
    ]);
  });

  it('READ RESERVATION of an all-registrants reservation reports key zero', () => {
    const pr = new PersistentReservations();
    pr.out(A, req(PrOutSa.REGISTER, 0n, 0xabn));
    pr.out(A, req(PrOutSa.RESERVE, 0xabn, 0n, PrType.WRITE_EXCLUSIVE_ALL_REGISTRANTS));
    const d = pr.readReservation();
    expect([...d.subarray(8, 16)]).to.deep.equal([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(d[21]).to.equal(0x07);
  });

  it('REPORT CAPABILITIES: SIP_C, ATP_C, TMV, ALLOW COMMANDS 001b, all six types; no PTPL_C', () => {
    expect([...new PersistentReservations().reportCapabilities()]).to.deep.equal([0x00, 0x08, 0x0c, 0x90, 0xea, 0x01, 0x00, 0x00]);
  });

  it('REPORT CAPABILITIES sets PTPL_C with a persistence hook, PTPL_A once APTPL is set', async () => {
    const saved: PrSnapshot[] = [];
    const pr = new PersistentReservations({ persist: async s => { saved.push(s); } });
    expect(pr.reportCapabilities()[2]).to.equal(0x0d);
    await pr.commit(A, req(PrOutSa.REGISTER, 0n, 5n, 0, { aptpl: true }));
    expect(pr.reportCapabilities()[3]).to.equal(0x91);
    expect(saved).to.have.length(1);
    expect(saved[0].aptpl).to.equal(true);
    expect(saved[0].registrations[0].key).to.equal(5n);
    const again = new PersistentReservations();
    again.restore(saved[0]);
    expect(again.isRegistered('A')).to.equal(true);
    // SPC-4 6.15.2: a power on sets PRgeneration to zero, whatever APTPL says.
    expect(again.generation).to.equal(0);
  });

  it('READ FULL STATUS: descriptor with R_HOLDER, type, relative port and the iSCSI TransportID', () => {
    const pr = new PersistentReservations();
    pr.out(A, req(PrOutSa.REGISTER, 0n, 7n));
    pr.out(A, req(PrOutSa.RESERVE, 7n, 0n, PrType.WRITE_EXCLUSIVE));
    const d = pr.readFullStatus();
    const port = 'iqn.a,i,0x000000000001'; // 22 chars + NUL -> padded to 24
    const tid = [0x45, 0, 0, 24, ...Buffer.from(port), 0, 0];
    expect([...d]).to.deep.equal([
      0, 0, 0, 1, 0, 0, 0, 24 + tid.length,
      0, 0, 0, 0, 0, 0, 0, 7, // RESERVATION KEY
      0, 0, 0, 0, 0x01, 0x01, 0, 0, // R_HOLDER; SCOPE 0 TYPE 1
      0, 0, 0, 1, // RELATIVE TARGET PORT IDENTIFIER 1
      0, 0, 0, tid.length,
      ...tid,
    ]);
  });

  it('iSCSI TransportID without an ISID is format 00b, ADDITIONAL LENGTH at least 20', () => {
    expect([...iscsiTransportId('iqn.b')]).to.deep.equal([0x05, 0, 0, 20, 0x69, 0x71, 0x6e, 0x2e, 0x62, ...new Array(15).fill(0)]);
  });

  it('parameter list: exactly 24 bytes unless SPEC_I_PT', () => {
    for (const len of [0, 23, 25, 32]) {
      const o = parsePrOut(PrOutSa.REGISTER, 0, 0, list(0, 1, 0, len));
      expect(o, `length ${len}`).to.have.property('status', Status.CHECK_CONDITION);
      expect((o as { sense: { cond: { asc: number } } }).sense.cond.asc).to.equal(0x1a);
    }
    // SPEC_I_PT: bytes 24..27 TRANSPORTID PARAMETER DATA LENGTH (here zero) follow.
    const ok = parsePrOut(PrOutSa.REGISTER, 0, 0, list(0x12, 0x34, 0x0d, 28)) as PrOutRequest;
    expect(ok).to.include({ reservationKey: 0x12n, serviceActionReservationKey: 0x34n, specIPt: true, allTgPt: true, aptpl: true });
    expect(ok.transportIds).to.deep.equal([]);
  });

  it('PRgeneration counts REGISTER, CLEAR and PREEMPT, not RESERVE nor RELEASE', () => {
    const pr = new PersistentReservations();
    pr.out(A, req(PrOutSa.REGISTER, 0n, 1n));
    pr.out(B, req(PrOutSa.REGISTER, 0n, 2n));
    expect(pr.generation).to.equal(2);
    pr.out(A, req(PrOutSa.RESERVE, 1n, 0n, PrType.WRITE_EXCLUSIVE));
    pr.out(A, req(PrOutSa.RELEASE, 1n, 0n, PrType.WRITE_EXCLUSIVE));
    expect(pr.generation).to.equal(2);
    pr.out(A, req(PrOutSa.PREEMPT, 1n, 2n));
    expect(pr.generation).to.equal(3);
    pr.out(A, req(PrOutSa.CLEAR, 1n, 0n));
    expect(pr.generation).to.equal(4);
    // an unregistered nexus registering key zero changes nothing
    pr.out(B, req(PrOutSa.REGISTER, 0n, 0n));
    expect(pr.generation).to.equal(4);
  });

  it('access: holder, registrant and non-registrant against each type', () => {
    // [type, registrant read, registrant write, other read, other write] (true = conflict)
    const table: Array<[PrType, boolean, boolean, boolean, boolean]> = [
      [PrType.WRITE_EXCLUSIVE, false, true, false, true],
      [PrType.EXCLUSIVE_ACCESS, true, true, true, true],
      [PrType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY, false, false, false, true],
      [PrType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY, false, false, true, true],
      [PrType.WRITE_EXCLUSIVE_ALL_REGISTRANTS, false, false, false, true],
      [PrType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS, false, false, true, true],
    ];
    for (const [type, rr, rw, or, ow] of table) {
      const pr = new PersistentReservations();
      pr.out(A, req(PrOutSa.REGISTER, 0n, 1n));
      pr.out(B, req(PrOutSa.REGISTER, 0n, 2n));
      expect(pr.out(A, req(PrOutSa.RESERVE, 1n, 0n, type)).outcome.status).to.equal(Status.GOOD);
      expect([pr.conflicts('A', 'read'), pr.conflicts('A', 'write')], `holder ${type}`).to.deep.equal([false, false]);
      expect([pr.conflicts('B', 'read'), pr.conflicts('B', 'write')], `registrant ${type}`).to.deep.equal([rr, rw]);
      expect([pr.conflicts('C', 'read'), pr.conflicts('C', 'write')], `other ${type}`).to.deep.equal([or, ow]);
    }
  });
});
