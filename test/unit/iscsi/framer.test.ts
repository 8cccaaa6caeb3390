import { expect } from 'chai';
import { FramerError, FramerState, PduFramer } from '../../../src/transports/iscsi/framer';

interface Seen { pdus: Array<[string, string]>; errors: FramerError[] }

function collect(opts: ConstructorParameters<typeof PduFramer>[1] = {}): { framer: PduFramer; seen: Seen } {
  const seen: Seen = { pdus: [], errors: [] };
  const framer = new PduFramer(
    { pdu: (h, d) => seen.pdus.push([h.toString('hex'), d.toString('hex')]), error: (e) => seen.errors.push(e) },
    opts,
  );
  return { framer, seen };
}

const bhs = (hex: string): string => (hex.replace(/\s+/g, '') + '00'.repeat(48)).slice(0, 96);

// Hand-built wire images. CRC32C values (wire order, LSB first) are from RFC 3720 B.4:
// 48-byte SCSI READ(10) PDU -> 563a96d9; 32 zero bytes -> aa36918a.
const readHdr = '01c00000000000000000000000000000' + '14000000000004000000001400000018' + '28000000000000000200000000000000';
const nopHdr = bhs('00 80 0000 00 000005 0000000000000000 00000001 ffffffff');
const nopData = '0102030405';
const dataOutHdr = bhs('05 80 0000 00 000020 0000000000000000 00000002');
const ahsHdr = bhs('01 a1 0000 02 000004') + '00050100a1a2a3a4';

const plain: Array<{ name: string; wire: string; expect: Array<[string, string]> }> = [
  { name: 'header-only PDU', wire: readHdr, expect: [[readHdr, '']] },
  { name: 'PDU with data and 3 pad bytes', wire: nopHdr + nopData + '000000', expect: [[nopHdr, nopData]] },
  { name: 'PDU with AHS and data', wire: ahsHdr + 'cafebabe', expect: [[ahsHdr, 'cafebabe']] },
  {
    name: 'three PDUs back to back',
    wire: readHdr + nopHdr + nopData + '000000' + ahsHdr + 'cafebabe',
    expect: [[readHdr, ''], [nopHdr, nopData], [ahsHdr, 'cafebabe']],
  },
];

function splits(wire: Buffer, run: (parts: Buffer[]) => void): number {
  let n = 0;
  for (let i = 0; i <= wire.length; i++) {
    run([wire.subarray(0, i), wire.subarray(i)]);
    n++;
  }
  for (let i = 1; i < wire.length; i++) {
    for (let j = i; j < wire.length; j++) {
      run([wire.subarray(0, i), wire.subarray(i, j), wire.subarray(j)]);
      n++;
    }
  }
  return n;
}

describe('iSCSI PDU framer (framer.ts)', () => {
  for (const fx of plain) {
    it(`${fx.name}: whole, and split at every byte boundary into 2 and 3 pieces`, () => {
      const wire = Buffer.from(fx.wire, 'hex');
      const n = splits(wire, (parts) => {
        const { framer, seen } = collect();
        for (const p of parts) framer.feed(p);
        expect(seen.errors).to.deep.equal([]);
        expect(seen.pdus).to.deep.equal(fx.expect);
        expect(framer.state).to.equal(FramerState.BHS);
      });
      expect(n).to.be.greaterThan(wire.length);
    });
  }

  it('RFC 7143 11.2: header digest checked (RFC 3720 B.4 vector), every split', () => {
    const wire = Buffer.from(readHdr + '563a96d9', 'hex');
    splits(wire, (parts) => {
      const { framer, seen } = collect({ headerDigest: true });
      for (const p of parts) framer.feed(p);
      expect(seen.errors).to.deep.equal([]);
      expect(seen.pdus).to.deep.equal([[readHdr, '']]);
    });
  });

  it('header and data digests, every split (data digest of 32 zero bytes = aa36918a)', () => {
    const hdr = bhs('05 80 0000 00 000020 0000000000000000 00000002');
    // header digest computed by a bitwise reference, independent of digest.ts
    let c = 0xffffffff;
    for (const b of Buffer.from(hdr, 'hex')) {
      c ^= b;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    }
    const hd = Buffer.alloc(4);
    hd.writeUInt32LE(~c >>> 0);
    const wire = Buffer.from(hdr + hd.toString('hex') + '00'.repeat(32) + 'aa36918a', 'hex');
    splits(wire, (parts) => {
      const { framer, seen } = collect({ headerDigest: true, dataDigest: true });
      for (const p of parts) framer.feed(p);
      expect(seen.errors).to.deep.equal([]);
      expect(seen.pdus).to.deep.equal([[hdr, '00'.repeat(32)]]);
    });
  });

  it('RFC 7143 7.8: a bad header digest is fatal and stops framing, every split', () => {
    const wire = Buffer.from(readHdr + '563a96d8' + readHdr + '563a96d9', 'hex');
    splits(wire, (parts) => {
      const { framer, seen } = collect({ headerDigest: true });
      for (const p of parts) framer.feed(p);
      expect(seen.pdus).to.deep.equal([]);
      expect(seen.errors).to.have.length(1);
      expect(seen.errors[0]).to.include({ kind: 'digest-error', segment: 'header', fatal: true });
      expect(framer.state).to.equal(FramerState.FAILED);
    });
  });

  it('RFC 7143 7.8: a bad data digest drops that PDU only and framing continues, every split', () => {
    const hdr = bhs('05 80 0000 00 000020 0000000000000000 00000002');
    const wire = Buffer.from(hdr + '00'.repeat(32) + 'aa36918b' + readHdr, 'hex');
    splits(wire, (parts) => {
      const { framer, seen } = collect({ dataDigest: true });
      for (const p of parts) framer.feed(p);
      expect(seen.errors.map((e) => [e.kind, e.kind === 'digest-error' && e.segment === 'data' && e.header.toString('hex')])).to.deep.equal([['digest-error', hdr]]);
      expect(seen.pdus).to.deep.equal([[readHdr, '']]);
    });
  });

  it('no data digest on a PDU without data', () => {
    const { framer, seen } = collect({ dataDigest: true });
    framer.feed(Buffer.from(readHdr + readHdr, 'hex'));
    expect(seen.pdus).to.deep.equal([[readHdr, ''], [readHdr, '']]);
  });

  it('RFC 7143 13.12: DataSegmentLength above MaxRecvDataSegmentLength fails before the data arrives', () => {
    for (const cut of [48, 20]) {
      const { framer, seen } = collect({ maxRecvDataSegmentLength: 16 });
      const wire = Buffer.from(dataOutHdr, 'hex'); // DSL 0x20 = 32 > 16; no data bytes fed at all
      framer.feed(wire.subarray(0, cut));
      framer.feed(wire.subarray(cut));
      expect(seen.errors).to.have.length(1);
      expect(seen.errors[0]).to.include({ kind: 'too-long', dataSegmentLength: 32, limit: 16, fatal: true });
      expect(framer.state).to.equal(FramerState.FAILED);
    }
  });

  it('a length equal to the limit is accepted', () => {
    const { framer, seen } = collect({ maxRecvDataSegmentLength: 32 });
    framer.feed(Buffer.from(dataOutHdr + '11'.repeat(32), 'hex'));
    expect(seen.errors).to.deep.equal([]);
    expect(seen.pdus).to.have.length(1);
  });

  it('setDigests from inside the callback applies to the rest of the same chunk', () => {
    const seen: string[] = [];
    const framer: PduFramer = new PduFramer({
      pdu: (h) => {
        seen.push(h.toString('hex'));
        framer.setDigests(true, false);
      },
      error: () => seen.push('error'),
    });
    framer.feed(Buffer.from(readHdr + readHdr + '563a96d9', 'hex'));
    expect(seen).to.deep.equal([readHdr, readHdr]);
  });

  it('zero copy: a PDU wholly inside a chunk is emitted as views of it', () => {
    const chunk = Buffer.from(nopHdr + nopData + '000000', 'hex');
    let header: Buffer | undefined;
    let data: Buffer | undefined;
    new PduFramer({ pdu: (h, d) => { header = h; data = d; }, error: () => undefined }).feed(chunk);
    expect(header?.buffer).to.equal(chunk.buffer);
    expect(data?.buffer).to.equal(chunk.buffer);
  });

  it('allocData supplies the buffer for data that spans chunks', () => {
    const pool = Buffer.alloc(64);
    const { framer, seen } = collect({ allocData: (n) => pool.subarray(0, n) });
    const wire = Buffer.from(nopHdr + nopData + '000000', 'hex');
    framer.feed(wire.subarray(0, 50));
    framer.feed(wire.subarray(50));
    expect(seen.pdus).to.deep.equal([[nopHdr, nopData]]);
    expect(pool.subarray(0, 5).toString('hex')).to.equal(nopData);
  });

  it('keeps no view of a chunk past feed: every split fed through one reused receive buffer', () => {
    // Data then padding, and data then its digest, split at every point across two reads.
    const cases: Array<{ wire: string; opts: ConstructorParameters<typeof PduFramer>[1]; expect: Array<[string, string]> }> = [
      { wire: nopHdr + nopData + '000000' + readHdr, opts: {}, expect: [[nopHdr, nopData], [readHdr, '']] },
      { wire: dataOutHdr + '00'.repeat(32) + 'aa36918a', opts: { dataDigest: true }, expect: [[dataOutHdr, '00'.repeat(32)]] },
    ];
    for (const c of cases) {
      const wire = Buffer.from(c.wire, 'hex');
      for (let i = 1; i < wire.length; i++) {
        const { framer, seen } = collect(c.opts);
        const rx = Buffer.alloc(wire.length);
        wire.copy(rx, 0, 0, i);
        framer.feed(rx.subarray(0, i));
        rx.fill(0xee);
        wire.copy(rx, 0, i);
        framer.feed(rx.subarray(0, wire.length - i));
        expect(seen.errors, `split at ${i}`).to.deep.equal([]);
        expect(seen.pdus, `split at ${i}`).to.deep.equal(c.expect);
      }
    }
  });
});

describe('PduFramer: the rest of a data segment received in place', () => {
  // Data-Out (opcode 05, F bit) with a 40 000-byte segment (0x009c40, a multiple of 4), then a
  // header-only PDU behind it.
  const dsl = 40000;
  const hdr = bhs('05 80 0000 00 009c40 0000000000000000 00000002');
  const payload = Buffer.alloc(dsl);
  for (let i = 0; i < dsl; i++) payload[i] = (i * 7 + 3) & 0xff;
  const wire = Buffer.concat([Buffer.from(hdr, 'hex'), payload, Buffer.from(readHdr, 'hex')]);

  /** A "socket" holding the bytes not yet read, served in pieces of at most `piece`. */
  function socketOf(rest: Buffer, piece: number): { receive: (into: Uint8Array, off: number, len: number) => number; left: () => Buffer } {
    let at = 0;
    return {
      receive: (into, off, len) => {
        const n = Math.min(len, piece, rest.length - at);
        into.set(rest.subarray(at, at + n), off);
        at += n;
        return n;
      },
      left: () => rest.subarray(at),
    };
  }

  it('fills the segment buffer from the receiver, never past the segment, then frames on', () => {
    const landed: Buffer[] = [];
    const { framer, seen } = collect({ maxRecvDataSegmentLength: 65536, allocData: (n) => { const b = Buffer.alloc(n); landed.push(b); return b; } });
    const first = 48 + 1000;
    framer.feed(wire.subarray(0, first));
    expect(seen.pdus).to.have.length(0);
    const sock = socketOf(wire.subarray(first), 15000);
    framer.receiveDataInPlace(sock.receive, 1);
    expect(seen.pdus).to.have.length(1);
    expect(seen.pdus[0]).to.deep.equal([hdr, payload.toString('hex')]);
    expect(landed).to.have.length(1); // the segment went into the buffer allocData gave
    expect(framer.receivedInPlace).to.equal(dsl - 1000);
    // The next PDU's header was left on the socket for the event loop's next read.
    expect(sock.left().toString('hex')).to.equal(readHdr);
    framer.feed(sock.left());
    expect(seen.pdus[1]).to.deep.equal([readHdr, '']);
  });

  it('stops when nothing more is waiting and carries on with ordinary reads', () => {
    const { framer, seen } = collect({ maxRecvDataSegmentLength: 65536 });
    framer.feed(wire.subarray(0, 48 + 10));
    let calls = 0;
    const sock = socketOf(wire.subarray(48 + 10, 48 + 20000), 7000);
    framer.receiveDataInPlace((into, off, len) => { calls++; return sock.receive(into, off, len); }, 1);
    expect(seen.pdus).to.have.length(0);
    expect(calls).to.equal(4); // 7000 + 7000 + 5990, then 0: nothing more now
    framer.feed(wire.subarray(48 + 20000));
    expect(seen.pdus).to.deep.equal([[hdr, payload.toString('hex')], [readHdr, '']]);
    expect(seen.errors).to.have.length(0);
  });

  it('leaves small remainders, header-only states and whole PDUs to the event loop', () => {
    const { framer } = collect({ maxRecvDataSegmentLength: 65536 });
    let asked = 0;
    const never = (): number => { asked++; return 0; };
    framer.receiveDataInPlace(never, 1); // waiting for a header
    framer.feed(wire.subarray(0, 48 + dsl - 100));
    framer.receiveDataInPlace(never, 16384); // 100 bytes missing: below the threshold
    expect(asked).to.equal(0);
    expect(framer.state).to.equal(FramerState.DATA);
  });
});
