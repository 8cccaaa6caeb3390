// The user-space ring (src/transports/tcmu/ring.ts) against bytes laid out by hand from
// linux/target_core_user.h (offsets checked with offsetof: cdb_off at 24, iov[] at 48, rsp status
// at 8, read_len at 12, sense at 16, cmd_tail at 64), never by the code under test.
import { expect } from 'chai';
import { TcmuRing, isRingFault, scsiCommandSize } from '../../../src/transports/tcmu/ring';
import type { CmdEntry, RingEntry, RingFault, TmrEntry } from '../../../src/transports/tcmu/ring';

const RING = 128;          // cmdr_off
const RING_SIZE = 4096;    // cmdr_size
const DATA = RING + RING_SIZE;
const MAP = DATA + 4 * 4096;

interface Map { buf: ArrayBuffer; dv: DataView; u8: Uint8Array }

function mailbox(flags = 0b111, head = 0, tail = 0, version = 2): Map {
  const buf = new ArrayBuffer(MAP);
  const dv = new DataView(buf);
  dv.setUint16(0, version, true);
  dv.setUint16(2, flags, true);
  dv.setUint32(4, RING, true);
  dv.setUint32(8, RING_SIZE, true);
  dv.setUint32(12, head, true);
  dv.setUint32(64, tail, true);
  return { buf, dv, u8: new Uint8Array(buf) };
}

/** A CMD entry at ring offset `at`: iovecs (absolute offsets), the CDB right after them. */
function cmd(m: Map, at: number, id: number, cdb: number[], iovs: [number, number][] = [], len?: number): number {
  const base = Math.max(48 + 16 * iovs.length, 112);
  const size = len ?? base + Math.ceil(cdb.length / 8) * 8;
  const e = RING + at;
  m.dv.setUint32(e, size | 1, true);
  m.dv.setUint16(e + 4, id, true);
  m.dv.setUint32(e + 8, iovs.length, true);
  m.dv.setBigUint64(e + 24, BigInt(e + base), true);
  iovs.forEach(([off, n], i) => {
    m.dv.setBigUint64(e + 48 + 16 * i, BigInt(off), true);
    m.dv.setBigUint64(e + 56 + 16 * i, BigInt(n), true);
  });
  m.u8.set(cdb, e + base);
  return size;
}

function attach(m: Map): TcmuRing {
  const r = TcmuRing.attach(m.buf);
  if (isRingFault(r)) throw new Error(r.fault);
  return r;
}

function entries(r: TcmuRing): RingEntry[] {
  const e = r.readNew();
  if (isRingFault(e)) throw new Error(e.fault);
  return e;
}

function fault(r: TcmuRing): string {
  const e = r.readNew();
  expect(isRingFault(e), 'expected a fault').to.equal(true);
  return (e as RingFault).fault;
}

const READ_10 = [0x28, 0, 0, 0, 0, 8, 0, 0, 1, 0];
const TUR = [0, 0, 0, 0, 0, 0];

describe('tcmu/ring: the mailbox', () => {
  it('attaches to a version 2 mailbox and reads its flags and ring placement', () => {
    const r = attach(mailbox(0b101));
    expect(r.cmdrOff).to.equal(128);
    expect(r.cmdrSize).to.equal(4096);
    expect(r.dataOff).to.equal(4224);
    expect(r.flags).to.equal(0b101);
  });

  it('refuses another mailbox version', () => {
    expect(TcmuRing.attach(mailbox(7, 0, 0, 1).buf)).to.have.property('fault').that.matches(/version 1/);
  });

  it('refuses a ring that does not fit the mapping, or starts inside the mailbox', () => {
    const m = mailbox();
    m.dv.setUint32(8, MAP, true);
    expect(TcmuRing.attach(m.buf)).to.have.property('fault').that.matches(/does not fit/);
    const n = mailbox();
    n.dv.setUint32(4, 64, true);
    expect(TcmuRing.attach(n.buf)).to.have.property('fault').that.matches(/does not fit/);
  });

  it('refuses an unaligned or out-of-ring cmd_tail', () => {
    expect(TcmuRing.attach(mailbox(7, 0, 12).buf)).to.have.property('fault').that.matches(/cmd_tail 12/);
    expect(TcmuRing.attach(mailbox(7, 0, RING_SIZE).buf)).to.have.property('fault').that.matches(/cmd_tail/);
  });

  it('refuses a mapping smaller than the mailbox', () => {
    expect(TcmuRing.attach(new ArrayBuffer(64))).to.have.property('fault').that.matches(/no room/);
  });
});

describe('tcmu/ring: reading entries', () => {
  it('reads a CMD: its id, a copy of its CDB, its iovecs and data length', () => {
    const m = mailbox();
    const size = cmd(m, 0, 5, READ_10, [[DATA, 4096], [DATA + 8192, 100]]);
    expect(size).to.equal(128);
    m.dv.setUint32(12, size, true);
    const r = attach(m);
    const [e] = entries(r) as CmdEntry[];
    expect(e.cmdId).to.equal(5);
    expect([...e.cdb]).to.deep.equal(READ_10);
    expect(e.iovs).to.deep.equal([{ offset: DATA, length: 4096 }, { offset: DATA + 8192, length: 100 }]);
    expect(e.dataLength).to.equal(4196);
    // A copy: the entry's bytes may be overwritten by a completion.
    m.u8[RING + 112] = 0xff;
    expect(e.cdb[0]).to.equal(0x28);
    expect(r.openCommands).to.equal(1);
  });

  it('reads nothing when head equals the read position, and only the new entries next time', () => {
    const m = mailbox();
    const r = attach(m);
    expect(entries(r)).to.have.length(0);
    const a = cmd(m, 0, 1, TUR);
    m.dv.setUint32(12, a, true);
    expect(entries(r)).to.have.length(1);
    const b = cmd(m, a, 2, TUR);
    m.dv.setUint32(12, a + b, true);
    expect((entries(r) as CmdEntry[]).map(e => e.cmdId)).to.deep.equal([2]);
  });

  it('follows a PAD to the ring start (wrap)', () => {
    const m = mailbox(7, 0, 4000);
    const r = attach(m);
    m.dv.setUint32(RING + 4000, 96 | 0, true); // PAD of the last 96 bytes
    const size = cmd(m, 0, 9, TUR);
    m.dv.setUint32(12, size, true);
    expect((entries(r) as CmdEntry[]).map(e => e.cmdId)).to.deep.equal([9]);
  });

  it('reads a TMR entry: its type and the aborted command ids', () => {
    const m = mailbox();
    const r = attach(m);
    m.dv.setUint32(RING, 40 | 2, true);
    m.u8[RING + 8] = 5; // LUN RESET
    m.dv.setUint32(RING + 12, 3, true);
    [7, 8, 300].forEach((id, i) => m.dv.setUint16(RING + 32 + 2 * i, id, true));
    m.dv.setUint32(12, 40, true);
    const [t] = entries(r) as TmrEntry[];
    expect(t.tmrType).to.equal(5);
    expect(t.cmdIds).to.deep.equal([7, 8, 300]);
  });

  it('sizes CDBs as the kernel copied them (group code, VARIABLE LENGTH 7Fh)', () => {
    expect(scsiCommandSize(0x00, 0)).to.equal(6);
    expect(scsiCommandSize(0x28, 0)).to.equal(10);
    expect(scsiCommandSize(0x88, 0)).to.equal(16);
    expect(scsiCommandSize(0xa8, 0)).to.equal(12);
    expect(scsiCommandSize(0x7f, 0x18)).to.equal(32);
    expect(scsiCommandSize(0x60, 0)).to.equal(12);
  });
});

describe('tcmu/ring: malformed rings are faults, never reads outside', () => {
  it('a head outside the ring or unaligned', () => {
    const m = mailbox();
    const r = attach(m);
    m.dv.setUint32(12, RING_SIZE + 8, true);
    expect(fault(r)).to.match(/cmd_head/);
    m.dv.setUint32(12, 4, true);
    expect(fault(r)).to.match(/cmd_head 4/);
  });

  it('an entry longer than what the head says was written', () => {
    const m = mailbox();
    const r = attach(m);
    cmd(m, 0, 1, TUR);
    m.dv.setUint32(12, 64, true);
    expect(fault(r)).to.match(/overruns/);
  });

  it('a zero-length entry', () => {
    const m = mailbox();
    const r = attach(m);
    m.dv.setUint32(12, 8, true);
    expect(fault(r)).to.match(/length 0/);
  });

  it('a PAD that does not reach the ring end', () => {
    const m = mailbox();
    const r = attach(m);
    m.dv.setUint32(RING, 64 | 0, true);
    m.dv.setUint32(12, 64, true);
    expect(fault(r)).to.match(/PAD/);
  });

  it('an unknown entry op', () => {
    const m = mailbox();
    const r = attach(m);
    m.dv.setUint32(RING, 112 | 5, true);
    m.dv.setUint32(12, 112, true);
    expect(fault(r)).to.match(/unknown op 5/);
  });

  it('a CMD shorter than struct tcmu_cmd_entry', () => {
    const m = mailbox();
    const r = attach(m);
    cmd(m, 0, 1, TUR, [], 64);
    m.dv.setUint32(12, 64, true);
    expect(fault(r)).to.match(/less than/);
  });

  it('cmd_id 0, or an id already in flight', () => {
    const m = mailbox();
    const r = attach(m);
    const a = cmd(m, 0, 0, TUR);
    m.dv.setUint32(12, a, true);
    expect(fault(r)).to.match(/cmd_id 0/);
    const n = mailbox();
    const s = attach(n);
    const b = cmd(n, 0, 4, TUR);
    const c = cmd(n, b, 4, TUR);
    n.dv.setUint32(12, b + c, true);
    expect(fault(s)).to.match(/already in flight/);
  });

  it('iovecs that do not fit the entry', () => {
    const m = mailbox();
    const r = attach(m);
    cmd(m, 0, 1, TUR);
    m.dv.setUint32(RING + 8, 100, true);
    m.dv.setUint32(12, 120, true);
    expect(fault(r)).to.match(/iovecs do not fit/);
  });

  it('an iovec outside the data area (in the ring, or past the mapping)', () => {
    for (const iov of [[RING, 16], [MAP - 100, 200], [DATA, 2 ** 40]] as [number, number][]) {
      const m = mailbox();
      const r = attach(m);
      const size = cmd(m, 0, 1, READ_10, [iov]);
      m.dv.setUint32(12, size, true);
      expect(fault(r), String(iov)).to.match(/outside the data area/);
    }
  });

  it('a cdb_off outside its entry, or a CDB running past it', () => {
    const m = mailbox();
    const r = attach(m);
    const size = cmd(m, 0, 1, TUR);
    m.dv.setBigUint64(RING + 24, BigInt(RING + size), true);
    m.dv.setUint32(12, size, true);
    expect(fault(r)).to.match(/cdb_off/);
    const n = mailbox();
    const s = attach(n);
    const sz = cmd(n, 0, 1, TUR);
    n.dv.setBigUint64(RING + 24, BigInt(RING + sz - 8), true);
    n.u8[RING + sz - 8] = 0x88; // a 16-byte CDB in the last 8 bytes
    n.dv.setUint32(12, sz, true);
    expect(fault(s)).to.match(/overruns the entry/);
  });

  it('a TMR whose id count exceeds its length', () => {
    const m = mailbox();
    const r = attach(m);
    m.dv.setUint32(RING, 40 | 2, true);
    m.dv.setUint32(RING + 12, 5, true);
    m.dv.setUint32(12, 40, true);
    expect(fault(r)).to.match(/do not fit/);
  });
});

describe('tcmu/ring: completions', () => {
  function twoCommands(flags = 7): { m: Map; r: TcmuRing; a: number; b: number } {
    const m = mailbox(flags);
    const a = cmd(m, 0, 1, READ_10, [[DATA, 4096]]);
    const b = cmd(m, a, 2, READ_10, [[DATA + 4096, 4096]]);
    m.dv.setUint32(12, a + b, true);
    const r = attach(m);
    entries(r);
    return { m, r, a, b };
  }

  it('writes status, sense, flags and read_len into the entry at the tail and moves cmd_tail', () => {
    const { m, r, a } = twoCommands();
    const sense = Uint8Array.from([0x70, 0, 5, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x24, 0, 0, 0, 0, 0]);
    expect(r.complete({ cmdId: 1, status: 2, sense, readLength: 36 })).to.equal(true);
    expect(m.u8[RING + 7]).to.equal(0x2); // TCMU_UFLAG_READ_LEN
    expect(m.u8[RING + 8]).to.equal(2);
    expect(m.dv.getUint32(RING + 12, true)).to.equal(36);
    expect([...m.u8.subarray(RING + 16, RING + 34)]).to.deep.equal([...sense]);
    expect(m.u8.subarray(RING + 34, RING + 112).every(b => b === 0)).to.equal(true);
    expect(m.dv.getUint32(64, true)).to.equal(a);
    expect(r.openCommands).to.equal(1);
  });

  it('completes out of order into the entry at the tail, its cmd_id replaced (CAP_OOOC)', () => {
    const { m, r, a, b } = twoCommands();
    expect(r.complete({ cmdId: 2, status: 0 })).to.equal(true);
    expect(m.dv.getUint16(RING + 4, true)).to.equal(2);
    expect(m.dv.getUint32(RING, true)).to.equal(a | 1); // len_op kept: the kernel steps by it
    expect(m.dv.getUint32(64, true)).to.equal(a);
    expect(r.complete({ cmdId: 1, status: 0 })).to.equal(true);
    expect(m.dv.getUint16(RING + a + 4, true)).to.equal(1);
    expect(m.dv.getUint32(64, true)).to.equal(a + b);
  });

  it('refuses a completion for a command that is not open', () => {
    const { r } = twoCommands();
    expect(r.complete({ cmdId: 9, status: 0 })).to.equal(false);
    expect(r.complete({ cmdId: 1, status: 0 })).to.equal(true);
    expect(r.complete({ cmdId: 1, status: 0 })).to.equal(false);
  });

  it('sets no READ_LEN without CAP_READ_LEN, nor for a zero length (the kernel ignores read_len 0)', () => {
    const { m, r } = twoCommands(0b101);
    r.complete({ cmdId: 1, status: 0, readLength: 100 });
    expect(m.u8[RING + 7]).to.equal(0);
    const t = twoCommands();
    t.r.complete({ cmdId: 1, status: 0, readLength: 0 });
    expect(t.m.u8[RING + 7]).to.equal(0);
  });

  it('carries at most 96 bytes of sense', () => {
    const { m, r } = twoCommands();
    r.complete({ cmdId: 1, status: 2, sense: new Uint8Array(120).fill(0xaa) });
    expect(m.u8[RING + 16 + 95]).to.equal(0xaa);
    expect(m.u8[RING + 112]).to.not.equal(0xaa);
  });

  it('releases PAD and TMR entries at the tail, before and after a command', () => {
    const m = mailbox(7, 4000, 4000);
    const r = attach(m);
    m.dv.setUint32(RING + 4000, 96, true);
    const a = cmd(m, 0, 3, TUR);
    m.dv.setUint32(RING + a, 32 | 2, true);
    m.dv.setUint32(12, a + 32, true);
    expect(entries(r)).to.have.length(2);
    expect(r.releaseNonCommands()).to.equal(true);
    expect(m.dv.getUint32(64, true)).to.equal(0);
    r.complete({ cmdId: 3, status: 0 });
    expect(m.dv.getUint32(64, true)).to.equal(a + 32);
    expect(r.releaseNonCommands()).to.equal(false);
  });

  it('names the command whose own entry is at the tail (in-order completion)', () => {
    const { r } = twoCommands(0b110);
    expect(r.commandAtTail()).to.equal(1);
    r.complete({ cmdId: 1, status: 0 });
    expect(r.commandAtTail()).to.equal(2);
  });
});

describe('tcmu/ring: data', () => {
  it('Data-Out of one buffer is a view of the data area itself (no copy)', () => {
    const m = mailbox();
    const r = attach(m);
    const v = r.gather([{ offset: DATA, length: 4096 }], 512);
    expect(v.buffer).to.equal(m.buf);
    expect(v.byteOffset).to.equal(DATA);
    expect(v.length).to.equal(512);
  });

  it('Data-Out of several buffers is gathered in order', () => {
    const m = mailbox();
    m.u8.fill(1, DATA, DATA + 4096);
    m.u8.fill(2, DATA + 8192, DATA + 8192 + 4096);
    const r = attach(m);
    const v = r.gather([{ offset: DATA + 8192, length: 4096 }, { offset: DATA, length: 4096 }], 6000);
    expect(v.length).to.equal(6000);
    expect(v[0]).to.equal(2);
    expect(v[4095]).to.equal(2);
    expect(v[4096]).to.equal(1);
    expect(v.buffer).to.not.equal(m.buf);
  });

  it('Data-In is scattered over the buffers and the rest is zeroed', () => {
    const m = mailbox();
    m.u8.fill(0xee, DATA, MAP);
    const r = attach(m);
    const data = new Uint8Array(5000).fill(7);
    r.scatter([{ offset: DATA + 4096, length: 4096 }, { offset: DATA, length: 4096 }], data);
    expect(m.u8[DATA + 4096]).to.equal(7);
    expect(m.u8[DATA + 8191]).to.equal(7);
    expect(m.u8[DATA + 903]).to.equal(7);
    expect(m.u8[DATA + 904]).to.equal(0);
    expect(m.u8[DATA + 4095]).to.equal(0);
    expect(m.u8[DATA + 8192]).to.equal(0xee);
  });
});
