import { expect } from 'chai';
import { Status } from '../../../../src/engine/spec/status';
import { be16, be32, block, cartridge, cdb, kcq, position, session, start } from './fixture';

/**
 * A tape drive shared by two initiators is guarded by the engine's reservations as any logical
 * unit is (SPC-2 RESERVE/RELEASE, SPC-4 5.13 persistent reservations): the drive's own commands
 * (WRITE(6), READ(6), REWIND, SPACE) from the initiator that does not hold the reservation end in
 * RESERVATION CONFLICT and move nothing, while INQUIRY and REQUEST SENSE stay allowed.
 */

const A = 'iqn.2026-12.example:host-a';
const B = 'iqn.2026-12.example:host-b';

/** PERSISTENT RESERVE OUT with a 24-byte basic parameter list (SPC-4 6.15.3). */
function prOut(sa: number, type: number, key: number, saKey: number): [number[], Buffer] {
  const list = Buffer.from([0, 0, 0, 0, ...be32(key), 0, 0, 0, 0, ...be32(saKey), 0, 0, 0, 0, 0, 0, 0, 0]);
  return [[0x5f, sa, type, 0, 0, 0, 0, ...be16(list.length), 0], list];
}

describe('engine/ssc reservations on a tape drive', () => {
  it('RESERVE(6) by A: B\'s WRITE(6), READ(6), REWIND and SPACE(6) get RESERVATION CONFLICT and leave the position; INQUIRY stays allowed; after RELEASE(6) B writes', async () => {
    const t = await start(await cartridge());
    const a = await session(t, A);
    const b = await session(t, B);
    expect(kcq(await a.execute(0, cdb.write6(64), { dataOut: block(64, 0x11) }))).to.equal('GOOD');
    expect(kcq(await a.execute(0, [0x16, 0, 0, 0, 0, 0]))).to.equal('GOOD');
    for (const c of [cdb.write6(64), cdb.read6(64), cdb.rewind(), cdb.space6(1, 1)]) {
      const r = await b.execute(0, c, c[0] === 0x0a ? { dataOut: block(64, 0x22) } : {});
      expect(r.status, `opcode ${c[0].toString(16)}`).to.equal(Status.RESERVATION_CONFLICT);
      expect(r.sense).to.equal(undefined);
    }
    expect((await b.execute(0, cdb.inquiry())).status).to.equal(Status.GOOD);
    // B's commands did nothing: A is still after its one block.
    expect(await position(a)).to.equal(1);
    expect(kcq(await a.execute(0, [0x17, 0, 0, 0, 0, 0]))).to.equal('GOOD');
    expect(kcq(await b.execute(0, cdb.write6(64), { dataOut: block(64, 0x22) }))).to.equal('GOOD');
    expect(await position(a)).to.equal(2);
    await t.stop();
  });

  it('PERSISTENT RESERVE OUT: A holds WRITE EXCLUSIVE; B cannot WRITE(6) or WRITE FILEMARKS(6) but may READ(6); EXCLUSIVE ACCESS refuses B\'s READ(6) too', async () => {
    const t = await start(await cartridge());
    const a = await session(t, A);
    const b = await session(t, B);
    expect(kcq(await a.execute(0, cdb.write6(32), { dataOut: block(32, 0x33) }))).to.equal('GOOD');
    expect(kcq(await a.execute(0, cdb.rewind()))).to.equal('GOOD');
    const [reg, regList] = prOut(0x00, 0, 0, 0xa1);
    expect(kcq(await a.execute(0, reg, { dataOut: regList }))).to.equal('GOOD');
    // Type 1h WRITE EXCLUSIVE (SPC-4 Table 191).
    const [res, resList] = prOut(0x01, 0x01, 0xa1, 0);
    expect(kcq(await a.execute(0, res, { dataOut: resList }))).to.equal('GOOD');
    expect((await b.execute(0, cdb.write6(32), { dataOut: block(32, 0x44) })).status).to.equal(Status.RESERVATION_CONFLICT);
    expect((await b.execute(0, cdb.writeFilemarks6(1))).status).to.equal(Status.RESERVATION_CONFLICT);
    const r = await b.execute(0, cdb.read6(32));
    expect(kcq(r)).to.equal('GOOD');
    expect(r.data.equals(block(32, 0x33))).to.equal(true);
    // Type 3h EXCLUSIVE ACCESS: A releases and reserves again with the other type.
    const [rel, relList] = prOut(0x02, 0x01, 0xa1, 0);
    expect(kcq(await a.execute(0, rel, { dataOut: relList }))).to.equal('GOOD');
    const [ea, eaList] = prOut(0x01, 0x03, 0xa1, 0);
    expect(kcq(await a.execute(0, ea, { dataOut: eaList }))).to.equal('GOOD');
    expect((await b.execute(0, cdb.read6(32))).status).to.equal(Status.RESERVATION_CONFLICT);
    expect((await b.execute(0, cdb.rewind())).status).to.equal(Status.RESERVATION_CONFLICT);
    expect((await b.execute(0, cdb.requestSense())).status).to.equal(Status.GOOD);
    await t.stop();
  });
});
