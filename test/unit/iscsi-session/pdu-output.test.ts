import { expect } from 'chai';
import { Duplex } from 'node:stream';
import { PduOutput, STALL_BYTES } from '../../../src/transports/iscsi/pdu-output';
import { MemorySocket } from './harness';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('iSCSI output side (pdu-output.ts)', () => {
  it('DESIGN.md §10: a batch goes out in one corked write; Data-In buffers are released only once it is written', async () => {
    const sock = new MemorySocket(true);
    const out = new PduOutput(sock, 0);
    const released: string[] = [];
    const data = Buffer.from('abcde');
    out.queue(out.bhs().fill(1), data);
    out.releaseAfterWrite(() => released.push('a'));
    out.queue(out.bhs().fill(2), Buffer.alloc(0));
    out.releaseAfterWrite(() => released.push('b'));
    out.flush();
    // The peer takes one write per turn: nothing is released before the last part is written.
    expect(released).to.deep.equal([]);
    for (let i = 0; i < 3; i++) await turn();
    expect(released).to.deep.equal([]);
    for (let i = 0; i < 3; i++) await turn();
    // BHS, data, 3 bytes of padding (RFC 7143 11.2.3), BHS.
    expect(sock.chunks.map((c) => c.length)).to.deep.equal([48, 5, 3, 48]);
    expect(released).to.deep.equal(['a', 'b']);
    // The next batch's releases are its own: the first batch's do not run again.
    out.queue(out.bhs().fill(3), data);
    out.releaseAfterWrite(() => released.push('c'));
    out.flush();
    expect(released).to.deep.equal(['a', 'b']);
    for (let i = 0; i < 6; i++) await turn();
    expect(released).to.deep.equal(['a', 'b', 'c']);
  });

  it('RFC 7143 13.1: digests follow the BHS and the padded data once negotiated', () => {
    const sock = new MemorySocket();
    const out = new PduOutput(sock, 0);
    out.setDigests(true, true);
    out.queue(out.bhs().fill(0), Buffer.from('abcd'));
    out.flush();
    expect(sock.chunks.map((c) => c.length)).to.deep.equal([48, 4, 4, 4]);
  });

  it('a discarded output writes nothing and still releases what it held', () => {
    const sock = new MemorySocket();
    const out = new PduOutput(sock, 0);
    let released = 0;
    out.queue(out.bhs(), Buffer.from('x'));
    out.releaseAfterWrite(() => released++);
    out.discard();
    out.queue(out.bhs(), Buffer.from('y'));
    out.flush();
    expect(sock.chunks).to.deep.equal([]);
    expect(released).to.equal(1);
  });

  it('a peer that stops reading: input pauses at once, and the socket is dropped after sendTimeoutSec', async () => {
    // A peer whose receive window never opens: no write ever completes.
    const sock = new (class extends Duplex {
      override _read(): void {}
      override _write(_c: Buffer, _e: BufferEncoding, _cb: (e?: Error | null) => void): void {}
    })();
    const out = new PduOutput(sock, 0, 0.1);
    out.backpressure = true;
    const t0 = performance.now();
    const closed = new Promise<number>((r) => sock.once('close', () => r(performance.now() - t0)));
    for (let i = 0; i < 4; i++) {
      out.queue(out.bhs().fill(1), Buffer.alloc(STALL_BYTES / 2));
      out.flush();
    }
    expect(sock.isPaused()).to.equal(true);
    const ms = await closed;
    expect(ms).to.be.greaterThanOrEqual(90);
    expect(ms).to.be.lessThan(1500);
  });

  it('a peer that drains again within sendTimeoutSec is resumed and kept', async () => {
    const pending: Array<() => void> = [];
    const sock = new (class extends Duplex {
      override _read(): void {}
      override _write(_c: Buffer, _e: BufferEncoding, cb: (e?: Error | null) => void): void { pending.push(() => cb()); }
    })();
    const out = new PduOutput(sock, 0, 0.2);
    out.backpressure = true;
    out.queue(out.bhs().fill(1), Buffer.alloc(STALL_BYTES));
    out.flush();
    expect(sock.isPaused()).to.equal(true);
    await new Promise((r) => setTimeout(r, 50));
    while (pending.length > 0) { pending.shift()!(); await turn(); }
    expect(sock.isPaused()).to.equal(false);
    await new Promise((r) => setTimeout(r, 300));
    expect(sock.destroyed).to.equal(false);
  });

  it('a peer behind by less than STALL_BYTES keeps its input flowing (a batch above the stream high-water mark is no stall)', () => {
    const sock = new (class extends Duplex {
      override _read(): void {}
      override _write(_c: Buffer, _e: BufferEncoding, _cb: (e?: Error | null) => void): void {}
    })();
    const out = new PduOutput(sock, 0, 0.1);
    out.backpressure = true;
    // Eight 4 KiB Data-In PDUs, unwritten: past the 16 KiB high-water mark, within STALL_BYTES.
    for (let i = 0; i < 8; i++) out.queue(out.bhs().fill(1), Buffer.alloc(4096));
    out.flush();
    expect(sock.writableNeedDrain).to.equal(true);
    expect(sock.isPaused()).to.equal(false);
    expect(STALL_BYTES).to.be.greaterThan(8 * (48 + 4096));
    sock.destroy();
  });

  it('headers queued while an earlier batch is still being written do not overwrite its headers', async () => {
    const pending: Array<() => void> = [];
    const seen: number[] = [];
    const sock = new (class extends Duplex {
      override _read(): void {}
      override _writev(chunks: Array<{ chunk: Buffer }>, cb: (e?: Error | null) => void): void {
        pending.push(() => { for (const c of chunks) if (c.chunk.length === 48) seen.push(c.chunk[0]); cb(); });
      }
      override _write(c: Buffer, _e: BufferEncoding, cb: (e?: Error | null) => void): void {
        pending.push(() => { if (c.length === 48) seen.push(c[0]); cb(); });
      }
    })();
    const out = new PduOutput(sock, 0);
    for (let batch = 0; batch < 4; batch++) {
      for (let i = 0; i < 3; i++) out.queue(out.bhs().fill(batch * 3 + i + 1), Buffer.alloc(4096));
      out.flush();
    }
    while (pending.length > 0) { pending.shift()!(); await turn(); }
    expect(seen).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });
});
