import { expect } from 'chai';
import { PersistentReservations, PrSnapshot, PrType } from '../../../../src/engine/pr';
import { PrOutSa } from '../../../../src/engine/spec/opcodes';
import { Status } from '../../../../src/engine/spec/status';
import { at, req, tid } from './fixture';

const PORT_A = 'iqn.a,i,0x000000000001';
const PORT_C = 'iqn.c,i,0x000000000003';
const A = at(PORT_A, 1);
const A2 = at(PORT_A, 2); // the same initiator port through the target's second port
const B = at('iqn.b,i,0x000000000002', 1);

/** One full status descriptor (SPC-4 6.15.5 table 185) written out by hand. */
function desc(key: number, flags: number, scopeType: number, rtpi: number, port: string): number[] {
  const id = tid(port);
  return [
    0, 0, 0, 0, 0, 0, 0, key, // RESERVATION KEY
    0, 0, 0, 0, // reserved
    flags, scopeType, // ALL_TG_PT | R_HOLDER; SCOPE | TYPE
    0, 0, 0, 0, // reserved
    rtpi >> 8, rtpi & 0xff, // RELATIVE TARGET PORT IDENTIFIER
    0, 0, 0, id.length, // ADDITIONAL DESCRIPTOR LENGTH
    ...id,
  ];
}

function fullStatus(generation: number, ...descs: number[][]): number[] {
  const body = descs.flat();
  return [0, 0, 0, generation, body.length >>> 24, (body.length >> 16) & 0xff, (body.length >> 8) & 0xff, body.length & 0xff, ...body];
}

const sense = (o: { status: number; sense?: { cond: { asc: number }; fieldPointer?: { byte: number; bit?: number; cd: boolean } } }) =>
  [o.status, o.sense?.cond.asc ?? 0, o.sense?.fieldPointer?.byte ?? -1];

describe('engine/pr with several target ports (SPC-4 5.12.7, 5.12.8, 6.15.5)', () => {
  it('SPEC_I_PT registers the sender and each TransportID\'s initiator port on the receiving target port', () => {
    const pr = new PersistentReservations();
    const fx = pr.out(A, req(PrOutSa.REGISTER, 0n, 0x22n, 0, { specIPt: true, transportIds: [{ initiatorPort: PORT_C, offset: 28 }] }));
    expect(fx.outcome.status).to.equal(Status.GOOD);
    expect([...pr.readFullStatus()]).to.deep.equal(fullStatus(1, desc(0x22, 0, 0, 1, PORT_A), desc(0x22, 0, 0, 1, PORT_C)));
    expect(pr.isRegistered(`${PORT_C}@1`)).to.equal(true);
    expect(pr.isRegistered(`${PORT_C}@2`)).to.equal(false);
  });

  it('SPEC_I_PT leaves an I_T nexus already registered with its own key', () => {
    const pr = new PersistentReservations();
    pr.out(B, req(PrOutSa.REGISTER, 0n, 0x0bn));
    pr.out(A, req(PrOutSa.REGISTER, 0n, 0x22n, 0, { specIPt: true, transportIds: [{ initiatorPort: B.initiatorPort, offset: 28 }] }));
    expect(pr.registrations().map(r => [r.itKey, r.key])).to.deep.equal([[B.itKey, 0x0bn], [A.itKey, 0x22n]]);
  });

  it('SPEC_I_PT through a registered I_T nexus is INVALID FIELD IN PARAMETER LIST (byte 20 bit 3), nothing changes', () => {
    const pr = new PersistentReservations();
    pr.out(A, req(PrOutSa.REGISTER, 0n, 0x22n));
    const fx = pr.out(A, req(PrOutSa.REGISTER, 0x22n, 0x23n, 0, { specIPt: true, transportIds: [{ initiatorPort: PORT_C, offset: 28 }] }));
    expect(sense(fx.outcome as never)).to.deep.equal([Status.CHECK_CONDITION, 0x26, 20]);
    expect(pr.generation).to.equal(1);
    expect(pr.registrations()).to.have.length(1);
  });

  it('SPEC_I_PT with ALL_TG_PT registers every named port on every target port', () => {
    const pr = new PersistentReservations();
    pr.out(A, req(PrOutSa.REGISTER, 0n, 0x22n, 0, { specIPt: true, allTgPt: true, transportIds: [{ initiatorPort: PORT_C, offset: 28 }] }));
    expect(pr.registrations().map(r => [r.itKey, r.relativeTargetPortId, r.allTgPt])).to.deep.equal([
      [A.itKey, 1, true], [A2.itKey, 2, true], [`${PORT_C}@1`, 1, true], [`${PORT_C}@2`, 2, true],
    ]);
  });

  it('ALL_TG_PT: one registration per target port, ALL_TG_PT in READ FULL STATUS; the reservation holds through each', () => {
    const pr = new PersistentReservations();
    pr.out(A, req(PrOutSa.REGISTER, 0n, 0x11n, 0, { allTgPt: true }));
    pr.out(B, req(PrOutSa.REGISTER, 0n, 0x0bn));
    expect(pr.out(A, req(PrOutSa.RESERVE, 0x11n, 0n, PrType.WRITE_EXCLUSIVE)).outcome.status).to.equal(Status.GOOD);
    expect([...pr.readFullStatus()]).to.deep.equal(fullStatus(2,
      desc(0x11, 0x03, 0x01, 1, PORT_A), desc(0x11, 0x03, 0x01, 2, PORT_A), desc(0x0b, 0, 0, 1, B.initiatorPort)));
    // the second port's I_T nexus of the same registration writes; another initiator does not
    expect(pr.conflicts(A2.itKey, 'write')).to.equal(false);
    expect(pr.conflicts(B.itKey, 'write')).to.equal(true);
    // its key changes on every port together, through either
    pr.out(A2, req(PrOutSa.REGISTER, 0x11n, 0x12n));
    expect(pr.registrations().map(r => r.key)).to.deep.equal([0x12n, 0x12n, 0x0bn]);
    // and unregistering through one port removes it on all, releasing the reservation
    pr.out(A, req(PrOutSa.REGISTER, 0x12n, 0n));
    expect(pr.registrations().map(r => r.itKey)).to.deep.equal([B.itKey]);
    expect(pr.reservation).to.equal(undefined);
  });

  it('REGISTER AND MOVE: registers the destination I_T nexus, moves the reservation with its type, keeps the sender', () => {
    const pr = new PersistentReservations();
    pr.out(A, req(PrOutSa.REGISTER, 0n, 0x11n));
    pr.out(A, req(PrOutSa.RESERVE, 0x11n, 0n, PrType.EXCLUSIVE_ACCESS));
    // SPC-4 6.16.4: SCOPE and TYPE of the CDB are ignored
    const fx = pr.out(A, req(PrOutSa.REGISTER_AND_MOVE, 0x11n, 0x33n, 0x0f, {
      scope: 0x0f, transportIds: [{ initiatorPort: PORT_C, offset: 24 }], relativeTargetPortId: 2,
    }));
    expect(fx.outcome.status).to.equal(Status.GOOD);
    expect(fx.changed).to.equal(true);
    expect([...pr.readFullStatus()]).to.deep.equal(fullStatus(2, desc(0x11, 0, 0, 1, PORT_A), desc(0x33, 0x01, 0x03, 2, PORT_C)));
    expect([...pr.readReservation().subarray(8)]).to.deep.equal([0, 0, 0, 0, 0, 0, 0, 0x33, 0, 0, 0, 0, 0, 0x03, 0, 0]);
    expect(pr.conflicts(A.itKey, 'read')).to.equal(true);
    expect(pr.conflicts(`${PORT_C}@2`, 'write')).to.equal(false);
  });

  it('REGISTER AND MOVE with UNREG unregisters the sender; a registered destination takes the new key', () => {
    const pr = new PersistentReservations();
    pr.out(A, req(PrOutSa.REGISTER, 0n, 0x11n));
    pr.out(B, req(PrOutSa.REGISTER, 0n, 0x0bn));
    pr.out(A, req(PrOutSa.RESERVE, 0x11n, 0n, PrType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY));
    pr.out(A, req(PrOutSa.REGISTER_AND_MOVE, 0x11n, 0x44n, 0, {
      unreg: true, transportIds: [{ initiatorPort: B.initiatorPort, offset: 24 }], relativeTargetPortId: 1,
    }));
    expect(pr.registrations().map(r => [r.itKey, r.key])).to.deep.equal([[B.itKey, 0x44n]]);
    expect(pr.reservation).to.deep.equal({ holder: B.itKey, type: PrType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY });
    expect(pr.generation).to.equal(3); // two REGISTERs and the move
  });

  it('REGISTER AND MOVE refusals (SPC-4 5.12.8), none of which changes the state or the PRgeneration', () => {
    const move = (sark: bigint, port = PORT_C, rtpi = 2, rk = 0x11n) =>
      req(PrOutSa.REGISTER_AND_MOVE, rk, sark, 0, { transportIds: [{ initiatorPort: port, offset: 24 }], relativeTargetPortId: rtpi });
    const pr = new PersistentReservations();
    expect(pr.out(A, move(0x33n)).outcome.status, 'unregistered').to.equal(Status.RESERVATION_CONFLICT);
    pr.out(A, req(PrOutSa.REGISTER, 0n, 0x11n));
    pr.out(B, req(PrOutSa.REGISTER, 0n, 0x0bn));
    expect(sense(pr.out(A, move(0x33n)).outcome as never), 'no reservation').to.deep.equal([Status.CHECK_CONDITION, 0x24, 1]);
    pr.out(A, req(PrOutSa.RESERVE, 0x11n, 0n, PrType.EXCLUSIVE_ACCESS));
    expect(pr.out(A, move(0x33n, PORT_C, 2, 0x12n)).outcome.status, 'wrong key').to.equal(Status.RESERVATION_CONFLICT);
    expect(sense(pr.out(A, move(0n)).outcome as never), 'key zero').to.deep.equal([Status.CHECK_CONDITION, 0x26, 8]);
    expect(pr.out(B, move(0x33n, PORT_C, 2, 0x0bn)).outcome.status, 'not the holder').to.equal(Status.RESERVATION_CONFLICT);
    expect(sense(pr.out(A, move(0x33n, PORT_A, 2)).outcome as never), 'own port').to.deep.equal([Status.CHECK_CONDITION, 0x26, 24]);
    expect(sense(pr.out(A, move(0x33n, PORT_C, 9)).outcome as never), 'no such port').to.deep.equal([Status.CHECK_CONDITION, 0x26, 18]);
    const aptpl = pr.out(A, req(PrOutSa.REGISTER_AND_MOVE, 0x11n, 0x33n, 0, { aptpl: true, transportIds: [{ initiatorPort: PORT_C, offset: 24 }], relativeTargetPortId: 2 }));
    expect(sense(aptpl.outcome as never), 'APTPL without persistence').to.deep.equal([Status.CHECK_CONDITION, 0x26, 17]);
    pr.out(A, req(PrOutSa.RELEASE, 0x11n, 0n, PrType.EXCLUSIVE_ACCESS));
    pr.out(A, req(PrOutSa.RESERVE, 0x11n, 0n, PrType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS));
    expect(pr.out(A, move(0x33n)).outcome.status, 'all registrants').to.equal(Status.RESERVATION_CONFLICT);
    expect(pr.generation).to.equal(2);
    expect(pr.registrations().map(r => r.itKey)).to.deep.equal([A.itKey, B.itKey]);
  });

  it('PRgeneration: REGISTER AND MOVE counts once; a power on (restore) starts it at zero', () => {
    const pr = new PersistentReservations({ persist: async () => undefined });
    pr.out(A, req(PrOutSa.REGISTER, 0n, 0x11n, 0, { aptpl: true }));
    pr.out(A, req(PrOutSa.RESERVE, 0x11n, 0n, PrType.WRITE_EXCLUSIVE));
    pr.out(A, req(PrOutSa.REGISTER_AND_MOVE, 0x11n, 0x33n, 0, { transportIds: [{ initiatorPort: PORT_C, offset: 24 }], relativeTargetPortId: 1, aptpl: true }));
    expect(pr.generation).to.equal(2);
    const after = new PersistentReservations();
    after.restore(pr.snapshot());
    expect(after.generation).to.equal(0);
    expect(after.readFullStatus().subarray(8).equals(pr.readFullStatus().subarray(8))).to.equal(true);
  });
});

describe('engine/pr commit: PERSISTENT RESERVE OUT made durable before it takes effect (SPC-4 5.12.5)', () => {
  const aptplRegister = (key: bigint) => req(PrOutSa.REGISTER, 0n, key, 0, { aptpl: true });

  it('the change is invisible until the persistence hook resolves, then visible; commands run one after the other', async () => {
    const writes: Array<{ s: PrSnapshot; done: () => void }> = [];
    const pr = new PersistentReservations({ persist: s => new Promise<void>(done => { writes.push({ s, done }); }) });
    const first = pr.commit(A, aptplRegister(0x11n));
    const second = pr.commit(B, aptplRegister(0x0bn));
    await new Promise(r => setImmediate(r));
    expect(writes).to.have.length(1); // the second waits for the first
    expect(pr.isRegistered(A.itKey)).to.equal(false);
    expect(pr.generation).to.equal(0);
    writes[0].done();
    expect((await first).outcome.status).to.equal(Status.GOOD);
    expect(pr.isRegistered(A.itKey)).to.equal(true);
    await new Promise(r => setImmediate(r));
    expect(writes).to.have.length(2);
    expect(writes[1].s.registrations.map(r => r.itKey)).to.deep.equal([A.itKey, B.itKey]);
    writes[1].done();
    await second;
    expect(pr.generation).to.equal(2);
  });

  it('a failed write leaves the state as it was and ends the command with INTERNAL TARGET FAILURE', async () => {
    let fail = false;
    const pr = new PersistentReservations({ persist: async () => { if (fail) throw new Error('EIO'); } });
    await pr.commit(A, aptplRegister(0x11n));
    fail = true;
    const fx = await pr.commit(B, aptplRegister(0x0bn));
    expect([fx.outcome.status, fx.outcome.sense?.cond.asc]).to.deep.equal([Status.CHECK_CONDITION, 0x44]);
    expect(pr.registrations().map(r => r.itKey)).to.deep.equal([A.itKey]);
    expect(pr.generation).to.equal(1);
    fail = false;
    expect((await pr.commit(B, aptplRegister(0x0bn))).outcome.status).to.equal(Status.GOOD);
  });

  it('writes only what a restart could restore: nothing while APTPL was never set, once more when it is dropped', async () => {
    const saved: PrSnapshot[] = [];
    const pr = new PersistentReservations({ persist: async s => { saved.push(s); } });
    await pr.commit(A, req(PrOutSa.REGISTER, 0n, 0x11n));
    await pr.commit(A, req(PrOutSa.RESERVE, 0x11n, 0n, PrType.WRITE_EXCLUSIVE));
    expect(saved).to.have.length(0);
    await pr.commit(A, req(PrOutSa.REGISTER, 0x11n, 0x12n, 0, { aptpl: true }));
    await pr.commit(A, req(PrOutSa.RELEASE, 0x12n, 0n, PrType.WRITE_EXCLUSIVE));
    await pr.commit(A, req(PrOutSa.REGISTER, 0x12n, 0x13n));
    await pr.commit(A, req(PrOutSa.REGISTER, 0x13n, 0x14n));
    expect(saved.map(s => [s.aptpl, s.registrations[0].key, s.reservation?.type])).to.deep.equal([
      [true, 0x12n, PrType.WRITE_EXCLUSIVE], [true, 0x12n, undefined], [false, 0x13n, undefined],
    ]);
  });

  it('a restart from a file saved with APTPL 1 writes the next change even if it drops APTPL', async () => {
    const saved: PrSnapshot[] = [];
    const pr = new PersistentReservations({ persist: async s => { saved.push(s); }, persistedAptpl: true });
    await pr.commit(A, req(PrOutSa.REGISTER, 0n, 0x11n));
    expect(saved.map(s => s.aptpl)).to.deep.equal([false]);
  });
});
