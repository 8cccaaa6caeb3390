import { expect } from 'chai';
import { ResvClass, ReadyClass } from '../../../../src/engine/cdb/dsl';
import { reservationConflict, Spc2Reservation } from '../../../../src/engine/reserve';
import { DISK } from '../../../../src/engine/devices/disk';
import { Op } from '../../../../src/engine/spec/opcodes';

/** A persistent reservation state that blocks writes (and, with `exclusiveAccess`, reads) from others. */
function prState(registered: boolean, exclusiveAccess = false) {
  return {
    hasRegistrations: registered,
    conflicts: (itKey: string, access: 'read' | 'write') => registered && itKey !== 'holder' && (access === 'write' || exclusiveAccess),
  };
}

function held(by?: string): Spc2Reservation {
  const r = new Spc2Reservation();
  if (by) r.reserve(by);
  return r;
}

describe('reservation classes of the CDB rows (SPC-2 5.5.1, SPC-4 5.13 table 66)', () => {
  const none = prState(false);
  it('ALLOWED never conflicts', () => {
    expect(reservationConflict(held('other'), prState(true, true), 'me', ResvClass.ALLOWED)).to.equal(false);
  });

  it('CONFLICTS and READ: another nexus\'s RESERVE blocks both; a persistent reservation blocks READ only under Exclusive Access', () => {
    for (const cls of [ResvClass.CONFLICTS, ResvClass.READ]) {
      expect(reservationConflict(held('other'), none, 'me', cls)).to.equal(true);
      expect(reservationConflict(held('me'), none, 'me', cls)).to.equal(false);
    }
    expect(reservationConflict(held(), prState(true), 'me', ResvClass.CONFLICTS)).to.equal(true);
    expect(reservationConflict(held(), prState(true), 'me', ResvClass.READ)).to.equal(false);
    expect(reservationConflict(held(), prState(true, true), 'me', ResvClass.READ)).to.equal(true);
    expect(reservationConflict(held(), prState(true, true), 'holder', ResvClass.CONFLICTS)).to.equal(false);
  });

  it('SPC2_ONLY (TEST UNIT READY) conflicts with another RESERVE and passes every persistent reservation', () => {
    expect(reservationConflict(held('other'), none, 'me', ResvClass.SPC2_ONLY)).to.equal(true);
    expect(reservationConflict(held(), prState(true, true), 'me', ResvClass.SPC2_ONLY)).to.equal(false);
  });

  it('PERSISTENT_RESERVE conflicts while any RESERVE is in effect, the sender\'s own included', () => {
    expect(reservationConflict(held('me'), none, 'me', ResvClass.PERSISTENT_RESERVE)).to.equal(true);
    expect(reservationConflict(held(), prState(true, true), 'me', ResvClass.PERSISTENT_RESERVE)).to.equal(false);
  });

  it('RESERVE and RELEASE conflict while any I_T nexus is registered; RELEASE passes another\'s RESERVE', () => {
    expect(reservationConflict(held(), prState(true), 'holder', ResvClass.RESERVE)).to.equal(true);
    expect(reservationConflict(held(), prState(true), 'holder', ResvClass.RELEASE)).to.equal(true);
    expect(reservationConflict(held('other'), none, 'me', ResvClass.RESERVE)).to.equal(true);
    expect(reservationConflict(held('other'), none, 'me', ResvClass.RELEASE)).to.equal(false);
  });

  it('the disk rows carry the classes the standard gives them', () => {
    const cls = (op: number, sa?: number) => DISK.table.lookup(op, sa)!.resv;
    expect(cls(Op.TEST_UNIT_READY)).to.equal(ResvClass.SPC2_ONLY);
    expect(cls(Op.RESERVE_6)).to.equal(ResvClass.RESERVE);
    expect(cls(Op.RELEASE_10)).to.equal(ResvClass.RELEASE);
    expect(cls(Op.PERSISTENT_RESERVE_IN, 0)).to.equal(ResvClass.PERSISTENT_RESERVE);
    expect(cls(Op.READ_10)).to.equal(ResvClass.READ);
    expect(cls(Op.WRITE_10)).to.equal(ResvClass.CONFLICTS);
    expect(cls(Op.INQUIRY)).to.equal(ResvClass.ALLOWED);
  });
});

describe('readiness classes of the CDB rows (SPC-4 5.11, SBC-4 4.11.2)', () => {
  it('only INQUIRY, REPORT LUNS and REQUEST SENSE are served while sanitizing; READ CAPACITY needs a medium, not a started unit', () => {
    const sanitizing = DISK.table.all().filter(d => d.ready === ReadyClass.SANITIZING).map(d => d.op).sort((a, b) => a - b);
    expect(sanitizing).to.deep.equal([Op.REQUEST_SENSE, Op.INQUIRY, Op.REPORT_LUNS].sort((a, b) => a - b));
    expect(DISK.table.lookup(Op.READ_CAPACITY_10)!.ready).to.equal(ReadyClass.STOPPED);
    expect(DISK.table.lookup(Op.READ_10)!.ready ?? ReadyClass.MEDIUM).to.equal(ReadyClass.MEDIUM);
  });
});
