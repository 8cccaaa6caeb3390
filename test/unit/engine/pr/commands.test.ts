import { expect } from 'chai';
import { EmbeddedTarget } from '../../../../src/embedded';
import { ExecuteResult, LocalSession } from '../../../../src/transports/local/session';
import { Status, TmfFunction } from '../../../../src/engine/spec/status';
import { cdb, clearUa, file, INIT_A, INIT_B, startTarget, target } from '../embedded/fixture';

const INIT_C = 'iqn.2026-11.example:host-c';

// SPC-4 6.16.2 table 197
const WR_EX = 1, EX_AC = 3, WR_EX_RO = 5, EX_AC_RO = 6, WR_EX_AR = 7, EX_AC_AR = 8;
// SPC-4 6.16.2 table 196
const REGISTER = 0, RESERVE = 1, RELEASE = 2, CLEAR = 3, PREEMPT = 4, PREEMPT_AND_ABORT = 5, REGISTER_IGNORE = 6;

/** PERSISTENT RESERVE IN, written out byte by byte (SPC-4 6.15.1 table 170). */
const prinCdb = (sa: number, alloc = 1024) => [0x5e, sa, 0, 0, 0, 0, 0, alloc >> 8, alloc & 0xff, 0];
/** PERSISTENT RESERVE OUT (SPC-4 6.16.1 table 195), PARAMETER LIST LENGTH `len`. */
const proutCdb = (sa: number, type: number, len = 24, scope = 0) => [0x5f, sa, (scope << 4) | type, 0, 0, 0, 0, 0, len, 0];
/** The basic parameter list (SPC-4 6.16.3 table 198) with one-byte keys. */
function plist(rk: number, sark: number, byte20 = 0, len = 24): Uint8Array {
  const b = new Uint8Array(len);
  b[7] = rk; b[15] = sark; b[20] = byte20;
  return b;
}

function prout(s: LocalSession, sa: number, type: number, rk: number, sark: number, byte20 = 0): Promise<ExecuteResult> {
  return s.execute(0, proutCdb(sa, type), { dataOut: plist(rk, sark, byte20) });
}

async function keys(s: LocalSession): Promise<number[]> {
  const r = await s.execute(0, prinCdb(0));
  expect(r.status).to.equal(Status.GOOD);
  const n = r.data.readUInt32BE(4) / 8;
  return Array.from({ length: n }, (_, i) => Number(r.data.readBigUInt64BE(8 + 8 * i)));
}

async function generation(s: LocalSession): Promise<number> {
  return (await s.execute(0, prinCdb(0))).data.readUInt32BE(0);
}

const sense = (r: ExecuteResult) => [r.status, r.senseKey, r.asc, r.ascq];
const CONFLICT = Status.RESERVATION_CONFLICT;
const read = (s: LocalSession) => s.execute(0, cdb.read10(0, 1));
const write = (s: LocalSession) => s.execute(0, cdb.write10(0, 1), { dataOut: new Uint8Array(512) });

describe('engine/pr PERSISTENT RESERVE IN/OUT through the embedded target', () => {
  let t: EmbeddedTarget;
  let a: LocalSession, b: LocalSession, c: LocalSession;

  beforeEach(async () => {
    // fileio: PREEMPT AND ABORT needs a WRITE still in flight (ram completes at once).
    t = await startTarget([file('disk0')]);
    a = t.session(INIT_A, { isid: '400000000001' });
    b = t.session(INIT_B);
    c = t.session(INIT_C);
    for (const s of [a, b, c]) await clearUa(s);
  });
  afterEach(() => t.stop());

  it('REGISTER, change key, unregister; READ KEYS and PRgeneration follow', async () => {
    expect((await prout(a, REGISTER, 0, 0, 0x11)).status).to.equal(Status.GOOD);
    expect((await prout(b, REGISTER_IGNORE, 0, 0x99, 0x22)).status).to.equal(Status.GOOD);
    expect(await keys(c)).to.deep.equal([0x11, 0x22]);
    expect((await prout(a, REGISTER, 0, 0x11, 0x33)).status).to.equal(Status.GOOD);
    expect(await keys(c)).to.deep.equal([0x33, 0x22]);
    expect((await prout(a, REGISTER, 0, 0x33, 0)).status).to.equal(Status.GOOD);
    expect(await keys(c)).to.deep.equal([0x22]);
    expect(await generation(c)).to.equal(4);
  });

  it('REGISTER conflicts: unregistered with a non-zero key, registered with the wrong key', async () => {
    expect((await prout(a, REGISTER, 0, 0x05, 0x11)).status).to.equal(CONFLICT);
    await prout(a, REGISTER, 0, 0, 0x11);
    expect((await prout(a, REGISTER, 0, 0x12, 0x13)).status).to.equal(CONFLICT);
    // REGISTER AND IGNORE EXISTING KEY does not look at the key
    expect((await prout(a, REGISTER_IGNORE, 0, 0x77, 0x13)).status).to.equal(Status.GOOD);
    expect(await keys(a)).to.deep.equal([0x13]);
  });

  it('RESERVE: unregistered or wrong key conflicts; same type again is GOOD; other type or nexus conflicts', async () => {
    expect((await prout(a, RESERVE, WR_EX, 0, 0)).status).to.equal(CONFLICT);
    await prout(a, REGISTER, 0, 0, 0x11);
    await prout(b, REGISTER, 0, 0, 0x22);
    expect((await prout(a, RESERVE, WR_EX, 0x12, 0)).status).to.equal(CONFLICT);
    expect((await prout(a, RESERVE, WR_EX, 0x11, 0)).status).to.equal(Status.GOOD);
    expect((await prout(a, RESERVE, WR_EX, 0x11, 0)).status).to.equal(Status.GOOD);
    expect((await prout(a, RESERVE, EX_AC, 0x11, 0)).status).to.equal(CONFLICT);
    expect((await prout(b, RESERVE, WR_EX, 0x22, 0)).status).to.equal(CONFLICT);
    const r = await c.execute(0, prinCdb(1));
    expect([...r.data]).to.deep.equal([0, 0, 0, 2, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0x11, 0, 0, 0, 0, 0, WR_EX, 0, 0]);
  });

  const matrix: Array<[string, number, [boolean, boolean], [boolean, boolean]]> = [
    // type, [registrant read ok, write ok], [non-registrant read ok, write ok]
    ['WRITE EXCLUSIVE', WR_EX, [true, false], [true, false]],
    ['EXCLUSIVE ACCESS', EX_AC, [false, false], [false, false]],
    ['WRITE EXCLUSIVE - REGISTRANTS ONLY', WR_EX_RO, [true, true], [true, false]],
    ['EXCLUSIVE ACCESS - REGISTRANTS ONLY', EX_AC_RO, [true, true], [false, false]],
    ['WRITE EXCLUSIVE - ALL REGISTRANTS', WR_EX_AR, [true, true], [true, false]],
    ['EXCLUSIVE ACCESS - ALL REGISTRANTS', EX_AC_AR, [true, true], [false, false]],
  ];
  for (const [name, type, reg, non] of matrix) {
    it(`${name}: READ(10)/WRITE(10) from holder, registrant and non-registrant`, async () => {
      await prout(a, REGISTER, 0, 0, 0x11);
      await prout(b, REGISTER, 0, 0, 0x22);
      expect((await prout(a, RESERVE, type, 0x11, 0)).status).to.equal(Status.GOOD);
      const st = (ok: boolean) => (ok ? Status.GOOD : CONFLICT);
      expect((await read(a)).status).to.equal(Status.GOOD);
      expect((await write(a)).status).to.equal(Status.GOOD);
      expect((await read(b)).status, 'registrant read').to.equal(st(reg[0]));
      expect((await write(b)).status, 'registrant write').to.equal(st(reg[1]));
      expect((await read(c)).status, 'non-registrant read').to.equal(st(non[0]));
      expect((await write(c)).status, 'non-registrant write').to.equal(st(non[1]));
      // INQUIRY, TEST UNIT READY and PERSISTENT RESERVE IN pass every reservation
      expect((await c.execute(0, cdb.inquiry())).status).to.equal(Status.GOOD);
      expect((await c.execute(0, cdb.tur())).status).to.equal(Status.GOOD);
      expect((await c.execute(0, prinCdb(0))).status).to.equal(Status.GOOD);
    });
  }

  it('RELEASE: wrong type is INVALID RELEASE OF PERSISTENT RESERVATION; a non-holder releases nothing', async () => {
    await prout(a, REGISTER, 0, 0, 0x11);
    await prout(b, REGISTER, 0, 0, 0x22);
    await prout(a, RESERVE, WR_EX, 0x11, 0);
    expect(sense(await prout(a, RELEASE, EX_AC, 0x11, 0))).to.deep.equal([Status.CHECK_CONDITION, 0x5, 0x26, 0x04]);
    expect((await prout(b, RELEASE, WR_EX, 0x22, 0)).status).to.equal(Status.GOOD);
    expect((await c.execute(0, prinCdb(1))).data.readUInt32BE(4)).to.equal(16);
    expect((await prout(c, RELEASE, WR_EX, 0, 0)).status).to.equal(CONFLICT);
    expect((await prout(a, RELEASE, WR_EX, 0x11, 0)).status).to.equal(Status.GOOD);
    expect((await c.execute(0, prinCdb(1))).data.readUInt32BE(4)).to.equal(0);
    // no RESERVATIONS RELEASED for a Write Exclusive reservation
    expect((await b.execute(0, cdb.tur())).status).to.equal(Status.GOOD);
  });

  it('RELEASE of a registrants-only reservation: RESERVATIONS RELEASED to the other registrants only', async () => {
    await prout(a, REGISTER, 0, 0, 0x11);
    await prout(b, REGISTER, 0, 0, 0x22);
    await prout(a, RESERVE, EX_AC_RO, 0x11, 0);
    expect((await prout(a, RELEASE, EX_AC_RO, 0x11, 0)).status).to.equal(Status.GOOD);
    expect(sense(await b.execute(0, cdb.tur()))).to.deep.equal([Status.CHECK_CONDITION, 0x6, 0x2a, 0x04]);
    expect((await a.execute(0, cdb.tur())).status).to.equal(Status.GOOD);
    expect((await c.execute(0, cdb.tur())).status).to.equal(Status.GOOD);
  });

  it('unregistering the holder releases Exclusive Access at once; an all-registrants one stays', async () => {
    await prout(a, REGISTER, 0, 0, 0x11);
    await prout(b, REGISTER, 0, 0, 0x22);
    await prout(a, RESERVE, EX_AC, 0x11, 0);
    await prout(a, REGISTER, 0, 0x11, 0);
    expect((await c.execute(0, prinCdb(1))).data.readUInt32BE(4)).to.equal(0);
    await prout(a, REGISTER, 0, 0, 0x11);
    await prout(a, RESERVE, EX_AC_AR, 0x11, 0);
    await prout(a, REGISTER, 0, 0x11, 0);
    const r = await c.execute(0, prinCdb(1));
    expect(r.data.readUInt32BE(4)).to.equal(16);
    expect(r.data[21]).to.equal(EX_AC_AR);
    expect((await read(b)).status).to.equal(Status.GOOD);
    expect((await read(a)).status).to.equal(CONFLICT);
  });

  it('CLEAR: every registration and the reservation go; the others get RESERVATIONS PREEMPTED', async () => {
    await prout(a, REGISTER, 0, 0, 0x11);
    await prout(b, REGISTER, 0, 0, 0x22);
    await prout(a, RESERVE, EX_AC, 0x11, 0);
    expect((await prout(c, CLEAR, 0, 0, 0)).status).to.equal(CONFLICT);
    expect((await prout(b, CLEAR, 0, 0x22, 0)).status).to.equal(Status.GOOD);
    expect(sense(await a.execute(0, cdb.tur()))).to.deep.equal([Status.CHECK_CONDITION, 0x6, 0x2a, 0x03]);
    expect((await b.execute(0, cdb.tur())).status).to.equal(Status.GOOD);
    expect(await keys(c)).to.deep.equal([]);
    expect((await write(c)).status).to.equal(Status.GOOD);
  });

  it('PREEMPT of the holder: the reservation moves, the holder loses its registration (REGISTRATIONS PREEMPTED)', async () => {
    await prout(a, REGISTER, 0, 0, 0x11);
    await prout(b, REGISTER, 0, 0, 0x22);
    await prout(c, REGISTER, 0, 0, 0x33);
    await prout(a, RESERVE, WR_EX_RO, 0x11, 0);
    const g = await generation(c);
    expect((await prout(b, PREEMPT, EX_AC, 0x22, 0x11)).status).to.equal(Status.GOOD);
    expect(await generation(b)).to.equal(g + 1);
    expect(await keys(b)).to.deep.equal([0x22, 0x33]);
    const r = await b.execute(0, prinCdb(1));
    expect([r.data.readUInt32BE(4), r.data[15], r.data[21]]).to.deep.equal([16, 0x22, EX_AC]);
    expect(sense(await a.execute(0, cdb.tur()))).to.deep.equal([Status.CHECK_CONDITION, 0x6, 0x2a, 0x05]);
    // the type changed: the remaining registrant is told RESERVATIONS RELEASED
    expect(sense(await c.execute(0, cdb.tur()))).to.deep.equal([Status.CHECK_CONDITION, 0x6, 0x2a, 0x04]);
    expect((await read(c)).status).to.equal(CONFLICT);
  });

  it('PREEMPT without a reservation removes registrations; key zero and unknown keys are refused', async () => {
    await prout(a, REGISTER, 0, 0, 0x11);
    await prout(b, REGISTER, 0, 0, 0x22);
    expect(sense(await prout(b, PREEMPT, 0, 0x22, 0))).to.deep.equal([Status.CHECK_CONDITION, 0x5, 0x26, 0x00]);
    expect((await prout(b, PREEMPT, 0, 0x22, 0x44)).status).to.equal(CONFLICT);
    expect((await prout(c, PREEMPT, 0, 0, 0x11)).status).to.equal(CONFLICT);
    expect((await prout(b, PREEMPT, 0, 0x22, 0x11)).status).to.equal(Status.GOOD);
    expect(await keys(b)).to.deep.equal([0x22]);
  });

  it('PREEMPT with key zero under an all-registrants reservation takes it over alone', async () => {
    await prout(a, REGISTER, 0, 0, 0x11);
    await prout(b, REGISTER, 0, 0, 0x22);
    await prout(a, RESERVE, WR_EX_AR, 0x11, 0);
    expect((await prout(b, PREEMPT, WR_EX, 0x22, 0)).status).to.equal(Status.GOOD);
    expect(await keys(b)).to.deep.equal([0x22]);
    const r = await b.execute(0, prinCdb(1));
    expect([r.data[15], r.data[21]]).to.deep.equal([0x22, WR_EX]);
  });

  it('PREEMPT AND ABORT aborts the preempted nexus\'s tasks, not the sender\'s', async () => {
    await prout(a, REGISTER, 0, 0, 0x11);
    await prout(b, REGISTER, 0, 0, 0x22);
    await prout(a, RESERVE, WR_EX, 0x11, 0);
    const inFlight = a.submit(0, cdb.write10(8, 8), { dataOut: new Uint8Array(8 * 512) });
    const mine = b.submit(0, cdb.read10(0, 1));
    const pa = await b.execute(0, proutCdb(PREEMPT_AND_ABORT, EX_AC), { dataOut: plist(0x22, 0x11) });
    expect(pa.status).to.equal(Status.GOOD);
    expect((await inFlight.result).aborted).to.equal(true);
    expect((await mine.result).status).to.equal(Status.GOOD);
    // COMMANDS CLEARED BY ANOTHER INITIATOR first (higher priority), then REGISTRATIONS PREEMPTED
    expect(sense(await a.execute(0, cdb.tur()))).to.deep.equal([Status.CHECK_CONDITION, 0x6, 0x2f, 0x00]);
    expect(sense(await a.execute(0, cdb.tur()))).to.deep.equal([Status.CHECK_CONDITION, 0x6, 0x2a, 0x05]);
    expect((await read(a)).status).to.equal(CONFLICT);
  });

  it('registrations and the reservation survive I_T nexus loss and LOGICAL UNIT RESET', async () => {
    await prout(a, REGISTER, 0, 0, 0x11);
    await prout(a, RESERVE, EX_AC, 0x11, 0);
    await a.close('loss');
    const a2 = t.session(INIT_A, { isid: '400000000001' });
    await clearUa(a2);
    expect((await read(a2)).status).to.equal(Status.GOOD);
    expect(await b.taskManagement(TmfFunction.LOGICAL_UNIT_RESET)).to.equal(0);
    await clearUa(a2);
    await clearUa(b); // the reset's BUS DEVICE RESET reaches the resetting nexus too
    expect((await read(b)).status).to.equal(CONFLICT);
    expect((await read(a2)).status).to.equal(Status.GOOD);
    // another ISID is another I_T nexus: not registered
    const a3 = t.session(INIT_A, { isid: '400000000002' });
    await clearUa(a3);
    expect((await read(a3)).status).to.equal(CONFLICT);
  });

  it('the holder stays the holder across session reinstatement (same ISID); another ISID is another nexus', async () => {
    await prout(a, REGISTER, 0, 0, 0x11);
    await prout(a, RESERVE, WR_EX, 0x11, 0);
    await a.close('loss');
    const a2 = t.session(INIT_A, { isid: '400000000001' });
    await clearUa(a2);
    const r = await c.execute(0, prinCdb(3));
    expect([r.data[15], r.data[20], r.data[21]]).to.deep.equal([0x11, 0x01, WR_EX]); // R_HOLDER, type
    const other = t.session(INIT_A, { isid: '400000000002' });
    await clearUa(other);
    expect((await prout(other, RELEASE, WR_EX, 0x11, 0)).status).to.equal(CONFLICT);
    expect((await write(other)).status).to.equal(CONFLICT);
    expect((await write(a2)).status).to.equal(Status.GOOD);
    expect((await prout(a2, RELEASE, WR_EX, 0x11, 0)).status).to.equal(Status.GOOD);
    expect((await c.execute(0, prinCdb(1))).data.readUInt32BE(4)).to.equal(0);
  });

  it('READ FULL STATUS carries the iSCSI TransportID with ",i,0x" and the ISID', async () => {
    await prout(a, REGISTER, 0, 0, 0x11);
    await prout(a, RESERVE, WR_EX, 0x11, 0);
    const r = await c.execute(0, prinCdb(3));
    const port = `${INIT_A},i,0x400000000001`;
    const addl = (port.length + 1 + 3) & ~3;
    expect(r.data.readUInt32BE(4)).to.equal(24 + 4 + addl);
    expect([r.data[15], r.data[20], r.data[21]]).to.deep.equal([0x11, 0x01, WR_EX]);
    expect(r.data.readUInt32BE(28)).to.equal(4 + addl);
    expect([r.data[32], r.data[34], r.data[35]]).to.deep.equal([0x45, addl >> 8, addl & 0xff]);
    expect(r.data.subarray(36, 36 + port.length).toString()).to.equal(port);
    expect(r.data[36 + port.length]).to.equal(0);
  });

  it('REPORT CAPABILITIES through the engine: SIP_C and ATP_C, no PTPL_C without a state directory', async () => {
    const r = await c.execute(0, prinCdb(2));
    expect([...r.data]).to.deep.equal([0x00, 0x08, 0x0c, 0x90, 0xea, 0x01, 0x00, 0x00]);
  });

  it('READ KEYS is trimmed to the ALLOCATION LENGTH', async () => {
    await prout(a, REGISTER, 0, 0, 0x11);
    await prout(b, REGISTER, 0, 0, 0x22);
    const r = await c.execute(0, prinCdb(0, 12));
    expect([...r.data]).to.deep.equal([0, 0, 0, 2, 0, 0, 0, 16, 0, 0, 0, 0]);
  });

  it('errors: list length, SPEC_I_PT, APTPL, scope, type, unknown PROUT and PRIN service actions', async () => {
    const plle = [Status.CHECK_CONDITION, 0x5, 0x1a, 0x00];
    expect(sense(await a.execute(0, proutCdb(REGISTER, 0, 0)))).to.deep.equal(plle);
    expect(sense(await a.execute(0, proutCdb(REGISTER, 0, 23), { dataOut: plist(0, 1, 0, 23) }))).to.deep.equal(plle);
    expect(sense(await a.execute(0, proutCdb(REGISTER, 0, 28), { dataOut: plist(0, 1, 0, 28) }))).to.deep.equal(plle);
    // SPEC_I_PT: a list shorter than 28 bytes, or a TRANSPORTID PARAMETER DATA LENGTH past its end
    expect(sense(await prout(a, REGISTER, 0, 0, 1, 0x08))).to.deep.equal(plle);
    const long = plist(0, 1, 0x08, 28); long[27] = 24;
    expect(sense(await a.execute(0, proutCdb(REGISTER, 0, 28), { dataOut: long }))).to.deep.equal(plle);
    const ifpl = [Status.CHECK_CONDITION, 0x5, 0x26, 0x00];
    // APTPL without a state directory to keep it in (PTPL_C 0)
    expect(sense(await prout(a, REGISTER, 0, 0, 1, 0x01))).to.deep.equal(ifpl);
    await prout(a, REGISTER, 0, 0, 0x11);
    // SPEC_I_PT is valid for REGISTER only (SPC-4 6.16.3 table 200)
    expect(sense(await a.execute(0, proutCdb(RESERVE, WR_EX, 28), { dataOut: plist(0x11, 0, 0x08, 28) }))).to.deep.equal(ifpl);
    const ifc = [Status.CHECK_CONDITION, 0x5, 0x24, 0x00];
    expect(sense(await a.execute(0, proutCdb(RESERVE, WR_EX, 24, 1), { dataOut: plist(0x11, 0) }))).to.deep.equal(ifc);
    expect(sense(await prout(a, RESERVE, 2, 0x11, 0))).to.deep.equal(ifc);
    expect(sense(await prout(a, 8, 0, 0x11, 0))).to.deep.equal(ifc); // REPLACE LOST RESERVATION (SPC-5): not supported
    expect(sense(await a.execute(0, prinCdb(4)))).to.deep.equal(ifc);
  });

  it('SPC-2 and persistent reservations exclude each other', async () => {
    expect((await a.execute(0, cdb.reserve6())).status).to.equal(Status.GOOD);
    expect((await a.execute(0, prinCdb(0))).status).to.equal(CONFLICT);
    expect((await prout(b, REGISTER, 0, 0, 0x22)).status).to.equal(CONFLICT);
    expect((await a.execute(0, cdb.release6())).status).to.equal(Status.GOOD);
    await prout(b, REGISTER, 0, 0, 0x22);
    expect((await a.execute(0, cdb.reserve6())).status).to.equal(CONFLICT);
    expect((await b.execute(0, cdb.reserve6())).status).to.equal(CONFLICT);
  });
});

describe('engine/pr REGISTER AND MOVE between target ports (SPC-4 6.16.4)', () => {
  let t: EmbeddedTarget;
  const PORTALS = ['127.0.0.1:3260', '127.0.0.1:3261'];
  afterEach(() => t.stop());

  /** The REGISTER AND MOVE list (table 201) with an iSCSI TransportID (7.6.4.6, format 01b), by hand. */
  function moveList(rk: number, sark: number, rtpi: number, port: string, unreg = false): Uint8Array {
    const addl = (port.length + 1 + 3) & ~3;
    const b = new Uint8Array(24 + 4 + addl);
    b[7] = rk; b[15] = sark; b[17] = unreg ? 0x02 : 0x00; b[19] = rtpi;
    b[23] = 4 + addl; // TRANSPORTID PARAMETER DATA LENGTH
    b[24] = 0x45; b[27] = addl; // FORMAT CODE 01b, iSCSI; ADDITIONAL LENGTH
    b.set(Buffer.from(port), 28);
    return b;
  }

  it('moves the reservation to another initiator port on the second portal, which then holds it there', async () => {
    t = await startTarget([file('disk0')], { ...target(), portals: PORTALS, portGroups: [{ id: 1, portals: [PORTALS[0]] }, { id: 2, portals: [PORTALS[1]] }] });
    const a = t.session(INIT_A, { isid: '400000000001', portal: PORTALS[0] });
    const b = t.session(INIT_B, { isid: '400000000002', portal: PORTALS[1] });
    for (const s of [a, b]) await clearUa(s);
    await prout(a, REGISTER, 0, 0, 0x11);
    await prout(a, RESERVE, EX_AC, 0x11, 0);
    const list = moveList(0x11, 0x22, 2, `${INIT_B},i,0x400000000002`, true);
    const mv = await a.execute(0, proutCdb(7, 0, list.length), { dataOut: list });
    expect(mv.status).to.equal(Status.GOOD);
    expect((await write(b)).status).to.equal(Status.GOOD);
    expect((await read(a)).status).to.equal(CONFLICT);
    const fsd = await b.execute(0, prinCdb(3));
    expect(fsd.data.readUInt32BE(0)).to.equal(2); // REGISTER, REGISTER AND MOVE
    // one descriptor: B's new key, R_HOLDER with EX_AC, relative target port 2
    expect([fsd.data[15], fsd.data[20], fsd.data[21], fsd.data.readUInt16BE(26)]).to.deep.equal([0x22, 0x01, EX_AC, 2]);
    expect(fsd.data.readUInt32BE(4)).to.equal(24 + 4 + 44); // "<INIT_B>,i,0x400000000002" + NUL, 44 bytes
  });

  it('ALL_TG_PT through one portal registers the initiator port through the other too', async () => {
    t = await startTarget([file('disk0')], { ...target(), portals: PORTALS, portGroups: [{ id: 1, portals: [PORTALS[0]] }, { id: 2, portals: [PORTALS[1]] }] });
    const a = t.session(INIT_A, { isid: '400000000001', portal: PORTALS[0] });
    const a2 = t.session(INIT_A, { isid: '400000000001', portal: PORTALS[1] });
    for (const s of [a, a2]) await clearUa(s);
    expect((await prout(a, REGISTER, 0, 0, 0x11, 0x04)).status).to.equal(Status.GOOD);
    const r = await a.execute(0, prinCdb(3));
    expect(r.data[8 + 12]).to.equal(0x02); // ALL_TG_PT
    // registered through the second portal as well: its key is accepted there, and it holds
    expect((await prout(a2, RESERVE, EX_AC, 0x11, 0)).status).to.equal(Status.GOOD);
    expect((await write(a)).status).to.equal(Status.GOOD);
    expect((await write(a2)).status).to.equal(Status.GOOD);
  });
});

