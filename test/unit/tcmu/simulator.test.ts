// The kernel-side simulator (kernel-shim/simulator.ts) checked byte for byte against the kernel's
// layout (target_core_user.c queue_cmd_ring, ring_insert_padding, queue_tmr_ring,
// tcmu_handle_completions): the user side here is written by hand with a DataView.
import { expect } from 'chai';
import { TcmuKernelSim } from '../../../kernel-shim/simulator';

const RING = 128;

function view(sim: TcmuKernelSim): DataView { return new DataView(sim.map); }
function u8(sim: TcmuKernelSim): Uint8Array { return new Uint8Array(sim.map); }

/** User space completes the entry at the tail with `id`'s response and kicks. */
function completeAtTail(sim: TcmuKernelSim, id: number, status = 0, opts: { uflags?: number; readLen?: number; sense?: number[] } = {}): void {
  const dv = view(sim);
  const tail = dv.getUint32(64, true);
  let at = tail;
  // Skip PAD and TMR entries, as the kernel does.
  for (;;) {
    const lenOp = dv.getUint32(RING + at, true);
    if ((lenOp & 7) === 1) break;
    at = (at + (lenOp & ~7)) % sim.cmdrSize;
  }
  const e = RING + at;
  const len = dv.getUint32(e, true) & ~7;
  dv.setUint16(e + 4, id, true);
  u8(sim)[e + 7] = opts.uflags ?? 0;
  u8(sim)[e + 8] = status;
  dv.setUint32(e + 12, opts.readLen ?? 0, true);
  if (opts.sense) u8(sim).set(opts.sense, e + 16);
  dv.setUint32(64, (at + len) % sim.cmdrSize, true);
  sim.irqcontrol();
}

const READ_10 = [0x28, 0, 0, 0, 0, 0, 0, 0, 16, 0];
const WRITE_10 = [0x2a, 0, 0, 0, 0, 0, 0, 0, 2, 0];

describe('kernel-shim/simulator: the mailbox and command entries', () => {
  it('initialises the mailbox as tcmu_configure_device does', () => {
    const sim = new TcmuKernelSim({ cmdrSize: 8192 });
    const dv = view(sim);
    expect(dv.getUint16(0, true)).to.equal(2);
    expect(dv.getUint16(2, true)).to.equal(0b111);
    expect(dv.getUint32(4, true)).to.equal(128);
    expect(dv.getUint32(8, true)).to.equal(8192);
    expect(dv.getUint32(12, true)).to.equal(0);
    expect(dv.getUint32(64, true)).to.equal(0);
    expect(sim.map.byteLength).to.equal(128 + 8192 + 64 * 4096);
  });

  it('writes a READ(10) entry: 112 + 16 bytes, cmd_id 1, one iovec, the CDB after the base size', () => {
    const sim = new TcmuKernelSim();
    const t = sim.submit({ cdb: READ_10, dir: 'in', length: 8192 });
    const dv = view(sim);
    expect(t.cmdId).to.equal(1);
    expect(dv.getUint32(RING, true)).to.equal(128 | 1);
    expect(dv.getUint16(RING + 4, true)).to.equal(1);
    expect(dv.getUint32(RING + 8, true)).to.equal(1);
    expect(dv.getUint32(RING + 12, true)).to.equal(0);
    expect(dv.getBigUint64(RING + 24, true)).to.equal(BigInt(RING + 112));
    expect(dv.getBigUint64(RING + 48, true)).to.equal(BigInt(sim.dataOff));
    expect(dv.getBigUint64(RING + 56, true)).to.equal(8192n);
    expect([...u8(sim).subarray(RING + 112, RING + 122)]).to.deep.equal(READ_10);
    expect(dv.getUint32(12, true)).to.equal(128);
  });

  it('copies Data-Out into the data blocks and merges contiguous blocks into one iovec', () => {
    const sim = new TcmuKernelSim();
    const data = new Uint8Array(6000).map((_, i) => i & 0xff);
    sim.submit({ cdb: WRITE_10, dir: 'out', dataOut: data });
    const dv = view(sim);
    expect(dv.getUint32(RING + 8, true)).to.equal(1);
    expect(dv.getBigUint64(RING + 56, true)).to.equal(6000n);
    expect([...u8(sim).subarray(sim.dataOff, sim.dataOff + 6000)]).to.deep.equal([...data]);
  });

  it('gives fragmented blocks one iovec each, and grows the entry past 112 bytes from 5 iovecs', () => {
    const sim = new TcmuKernelSim();
    // Hold blocks 0, 2, 4, 6 and 8 with one-block commands, free the others between them.
    const hold: number[] = [];
    for (let i = 0; i < 9; i++) hold.push(sim.submit({ cdb: READ_10, dir: 'in', length: 4096 }).cmdId);
    const dv = view(sim);
    let tail = 0;
    for (const id of [2, 4, 6, 8]) {
      const e = RING + tail;
      dv.setUint16(e + 4, id, true);
      u8(sim)[e + 8] = 0;
      tail += dv.getUint32(e, true) & ~7;
    }
    dv.setUint32(64, tail, true);
    sim.irqcontrol();
    expect(sim.blocksInUse).to.equal(5);
    const head = sim.head;
    const t = sim.submit({ cdb: READ_10, dir: 'in', length: 5 * 4096 });
    const e = RING + head;
    // Blocks 1, 3, 5, 7 then 9: four single blocks and one run.
    expect(dv.getUint32(e + 8, true)).to.equal(5);
    expect(dv.getUint32(e, true)).to.equal((48 + 5 * 16 + 16) | 1);
    expect(dv.getBigUint64(e + 24, true)).to.equal(BigInt(e + 128));
    expect(dv.getBigUint64(e + 48, true)).to.equal(BigInt(sim.dataOff + 4096));
    expect(dv.getBigUint64(e + 48 + 4 * 16, true)).to.equal(BigInt(sim.dataOff + 9 * 4096));
    expect(t.cmdId).to.equal(2);
  });

  it('pads to the end of the ring when an entry does not fit before it, then writes at 0', () => {
    const sim = new TcmuKernelSim({ cmdrSize: 1024, start: 960 });
    sim.submit({ cdb: [0, 0, 0, 0, 0, 0] });
    const dv = view(sim);
    expect(dv.getUint32(RING + 960, true)).to.equal(64 | 0);
    expect(dv.getUint16(RING + 964, true)).to.equal(0);
    expect(dv.getUint32(RING, true)).to.equal(120 | 1);
    expect(sim.head).to.equal(120);
  });

  it('delivers one interrupt for several entries written before user space runs', async () => {
    const sim = new TcmuKernelSim();
    let seen = 0;
    sim.onInterrupt = () => { seen++; };
    sim.submit({ cdb: [0, 0, 0, 0, 0, 0] });
    sim.submit({ cdb: [0, 0, 0, 0, 0, 0] });
    expect(sim.interrupts).to.equal(2);
    await new Promise(r => setImmediate(r));
    expect(seen).to.equal(1);
  });
});

describe('kernel-shim/simulator: full ring and data area (qfull queue)', () => {
  it('queues commands while the data area is full and lets them in as completions free blocks', async () => {
    const sim = new TcmuKernelSim({ dataBlocks: 4 });
    const a = sim.submit({ cdb: READ_10, dir: 'in', length: 3 * 4096 });
    const b = sim.submit({ cdb: READ_10, dir: 'in', length: 2 * 4096 });
    const c = sim.submit({ cdb: [0, 0, 0, 0, 0, 0] });
    expect(a.cmdId).to.equal(1);
    expect(b.cmdId).to.equal(0);
    expect(c.cmdId, 'later commands wait behind the queue').to.equal(0);
    expect(sim.queued).to.equal(2);
    completeAtTail(sim, 1);
    expect((await a.result).status).to.equal(0);
    expect(b.cmdId).to.equal(1);
    expect(c.cmdId).to.equal(2);
    expect(sim.queued).to.equal(0);
  });

  it('queues commands while the ring has no room, keeping one byte free', () => {
    const sim = new TcmuKernelSim({ cmdrSize: 256 });
    const a = sim.submit({ cdb: [0, 0, 0, 0, 0, 0] }); // 120 bytes
    const b = sim.submit({ cdb: [0, 0, 0, 0, 0, 0] }); // 240: 16 left, and one kept free
    const c = sim.submit({ cdb: [0, 0, 0, 0, 0, 0] });
    expect([a.cmdId, b.cmdId, c.cmdId]).to.deep.equal([1, 2, 0]);
    completeAtTail(sim, 1);
    // 16 bytes to the end need a PAD: 120 + 16 = 136 bytes, and 256 - 120 - 1 = 135 are free.
    expect(c.cmdId).to.equal(0);
    completeAtTail(sim, 2);
    expect(c.cmdId).to.equal(1);
    expect(view(sim).getUint32(RING + 240, true)).to.equal(16);
    expect(sim.head).to.equal(120);
  });

  it('fails a command larger than the whole data area at once', async () => {
    const sim = new TcmuKernelSim({ dataBlocks: 2 });
    const r = await sim.submit({ cdb: READ_10, dir: 'in', length: 3 * 4096 }).result;
    expect(r).to.include({ status: 2, byKernel: true });
  });
});

describe('kernel-shim/simulator: completions as tcmu_handle_completion takes them', () => {
  it('gathers Data-In up to a valid READ_LEN and frees the blocks', async () => {
    const sim = new TcmuKernelSim();
    const t = sim.submit({ cdb: READ_10, dir: 'in', length: 8192 });
    u8(sim).fill(9, sim.dataOff, sim.dataOff + 8192);
    completeAtTail(sim, 1, 0, { uflags: 2, readLen: 100 });
    const r = await t.result;
    expect(r.readLength).to.equal(100);
    expect(r.data.length).to.equal(100);
    expect(r.data[99]).to.equal(9);
    expect(sim.blocksInUse).to.equal(0);
  });

  it('ignores read_len without the flag, and a flagged read_len of 0', async () => {
    const sim = new TcmuKernelSim();
    const t = sim.submit({ cdb: READ_10, dir: 'in', length: 8192 });
    completeAtTail(sim, 1, 0, { readLen: 100 });
    expect((await t.result).data.length).to.equal(8192);
    const u = sim.submit({ cdb: READ_10, dir: 'in', length: 8192 });
    completeAtTail(sim, 1, 0, { uflags: 2, readLen: 0 });
    expect((await u.result).readLength).to.equal(undefined);
  });

  it('copies the 96-byte sense of a CHECK CONDITION, and takes no data without READ_LEN', async () => {
    const sim = new TcmuKernelSim();
    const t = sim.submit({ cdb: READ_10, dir: 'in', length: 4096 });
    completeAtTail(sim, 1, 2, { sense: [0x70, 0, 3, 0, 0, 0, 0, 10] });
    const r = await t.result;
    expect(r.sense!.length).to.equal(96);
    expect(r.sense![2]).to.equal(3);
    expect(r.data.length).to.equal(0);
  });

  it('UNKNOWN_OP turns into CHECK CONDITION without sense', async () => {
    const sim = new TcmuKernelSim();
    const t = sim.submit({ cdb: [0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0] });
    completeAtTail(sim, 1, 0, { uflags: 1 });
    expect(await t.result).to.include({ status: 2, unknownOp: true });
  });

  it('takes an out-of-order completion written into another command\'s entry', async () => {
    const sim = new TcmuKernelSim();
    const a = sim.submit({ cdb: READ_10, dir: 'in', length: 4096 });
    const b = sim.submit({ cdb: READ_10, dir: 'in', length: 4096 });
    completeAtTail(sim, 2, 0);
    expect((await b.result).status).to.equal(0);
    expect(a.done).to.equal(false);
    expect(sim.ids()).to.deep.equal([1]);
  });

  it('breaks the ring on a completion for an unknown cmd_id, and fails later commands', async () => {
    const sim = new TcmuKernelSim();
    sim.submit({ cdb: [0, 0, 0, 0, 0, 0] });
    completeAtTail(sim, 42);
    expect(sim.broken).to.equal(true);
    expect(sim.brokenReason).to.match(/cmd_id 42/);
    expect(await sim.submit({ cdb: [0, 0, 0, 0, 0, 0] }).result).to.include({ status: 2, byKernel: true });
  });
});

describe('kernel-shim/simulator: task management and ring reset', () => {
  it('completes aborted queued commands itself and lists the ring\'s in a TMR entry', async () => {
    const sim = new TcmuKernelSim({ dataBlocks: 1 });
    const a = sim.submit({ cdb: READ_10, dir: 'in', length: 4096 });
    const b = sim.submit({ cdb: READ_10, dir: 'in', length: 4096 });
    const head = sim.head;
    sim.tmr(5, [a, b]);
    expect(await b.result).to.include({ status: 0x40, byKernel: true, aborted: true });
    const dv = view(sim);
    expect(dv.getUint32(RING + head, true)).to.equal(40 | 2);
    expect(u8(sim)[RING + head + 8]).to.equal(5);
    expect(dv.getUint32(RING + head + 12, true)).to.equal(1);
    expect(dv.getUint16(RING + head + 32, true)).to.equal(1);
    completeAtTail(sim, 1, 0x40);
    expect(await a.result).to.include({ aborted: true, byKernel: false });
  });

  it('writes no TMR entry without tmr_notification', () => {
    const sim = new TcmuKernelSim({ tmrNotification: false });
    const a = sim.submit({ cdb: [0, 0, 0, 0, 0, 0] });
    const head = sim.head;
    sim.tmr(1, [a]);
    expect(sim.head).to.equal(head);
  });

  it('reset_ring completes every command in the ring BUSY and starts the ring over', async () => {
    const sim = new TcmuKernelSim({ start: 512 });
    const a = sim.submit({ cdb: [0, 0, 0, 0, 0, 0] });
    sim.resetRing(1);
    expect(await a.result).to.include({ status: 0x08, byKernel: true });
    expect([sim.head, sim.tail, sim.inRing]).to.deep.equal([0, 0, 0]);
  });
});
