// A TCMU device served by Nexus (src/transports/tcmu/device.ts) against the kernel-side simulator:
// real SCSI through the runtime (0 and 1 engine threads), and the ring protocol's corners with
// a nexus whose completions the test times (out of order, task management, failure, restart).
import { expect } from 'chai';
import { EmbeddedTarget } from '../../../src/embedded';
import { TcmuDevice } from '../../../src/transports/tcmu/device';
import type { TcmuPort } from '../../../src/transports/tcmu/device';
import { isRingFault } from '../../../src/transports/tcmu/ring';
import type { RingFault } from '../../../src/transports/tcmu/ring';
import type { NexusApi } from '../../../src/engine/engine-api';
import type { CommandRequest, Completion, TmfRequest } from '../../../src/engine/command';
import { ResidualKind } from '../../../src/engine/command';
import { Status, TmfFunction, TmfResponse } from '../../../src/engine/spec/status';
import { SimTask, TcmuKernelSim } from '../../../kernel-shim/simulator';
import type { SimOptions } from '../../../kernel-shim/simulator';
import { cdb, ram, target } from '../engine/embedded/fixture';

interface Served { sim: TcmuKernelSim; dev: TcmuDevice; port: { closed: boolean } }

function serve(nexus: NexusApi, simOpts: SimOptions = {}, onFailed?: (f: RingFault) => void, sim = new TcmuKernelSim(simOpts)): Served {
  const state = { closed: false };
  const port: TcmuPort = {
    map: sim.map,
    kick: () => { sim.irqcontrol(); return undefined; },
    close: () => { state.closed = true; },
  };
  const dev = TcmuDevice.attach({ port, nexus, onFailed });
  if (isRingFault(dev)) throw new Error(dev.fault);
  sim.onInterrupt = () => dev.onEvent(1);
  return { sim, dev, port: state };
}

/** ASC/ASCQ and key of a fixed-format sense as "k/aa/qq". */
function senseOf(s: Uint8Array | undefined): string {
  if (!s) return '';
  const h = (n: number): string => n.toString(16).padStart(2, '0');
  return `${h(s[2] & 0xf)}/${h(s[12])}/${h(s[13])}`;
}

const TUR = cdb.tur();

describe('tcmu/device: SCSI through the ring and the runtime', function () {
  this.timeout(20000);

  for (const threads of [0, 1]) {
    describe(`engine threads: ${threads}`, () => {
      let t: EmbeddedTarget;
      let s: Served;

      beforeEach(async () => {
        t = await EmbeddedTarget.start({ devices: [ram('disk0', 4096)], targets: [target()] }, { threads });
        s = serve(t.session('tcmu:user_0/disk0').nexus);
      });
      afterEach(async () => {
        await s.dev.close();
        await t.stop();
      });

      it('the first command reports POWER ON, RESET in the kernel\'s 96-byte sense, then TEST UNIT READY is GOOD', async () => {
        const ua = await s.sim.submit({ cdb: TUR }).result;
        expect(ua.status).to.equal(Status.CHECK_CONDITION);
        expect(ua.sense!.length).to.equal(96);
        expect(senseOf(ua.sense)).to.equal('06/29/00');
        expect((await s.sim.submit({ cdb: TUR }).result).status).to.equal(Status.GOOD);
      });

      it('INQUIRY returns Nexus\'s data; a shorter answer than the buffer carries READ_LEN', async () => {
        await s.sim.submit({ cdb: TUR }).result;
        const r = await s.sim.submit({ cdb: cdb.inquiry(255), dir: 'in', length: 255 }).result;
        expect(r.status).to.equal(Status.GOOD);
        expect(r.data[0] & 0x1f).to.equal(0);
        const additional = r.data[4] + 5;
        expect(r.readLength).to.equal(additional);
        expect(r.data.length).to.equal(additional);
        expect(Buffer.from(r.data.subarray(8, 16)).toString('latin1').trim()).to.have.length.greaterThan(0);
      });

      it('WRITE(10) then READ(10) return the same bytes, over several data blocks', async () => {
        await s.sim.submit({ cdb: TUR }).result;
        const pattern = (seed: number, n: number): Uint8Array => new Uint8Array(n).map((_, i) => (i * 7 + seed) & 0xff);
        const w1 = s.sim.submit({ cdb: cdb.write10(0, 8), dir: 'out', dataOut: pattern(1, 4096) });
        const w2 = s.sim.submit({ cdb: cdb.write10(8, 24), dir: 'out', dataOut: pattern(2, 12288) });
        expect((await w1.result).status).to.equal(Status.GOOD);
        expect((await w2.result).status).to.equal(Status.GOOD);
        const r = await s.sim.submit({ cdb: cdb.read10(0, 32), dir: 'in', length: 16384 }).result;
        expect(r.status).to.equal(Status.GOOD);
        expect(Buffer.from(r.data.subarray(0, 4096)).equals(Buffer.from(pattern(1, 4096)))).to.equal(true);
        expect(Buffer.from(r.data.subarray(4096)).equals(Buffer.from(pattern(2, 12288)))).to.equal(true);
      });

      it('an opcode the device does not know is INVALID COMMAND OPERATION CODE from the engine, not UNKNOWN_OP', async () => {
        await s.sim.submit({ cdb: TUR }).result;
        const r = await s.sim.submit({ cdb: [0xc5, 0, 0, 0, 0, 0, 0, 0, 0, 0] }).result;
        expect(r.unknownOp).to.equal(false);
        expect(senseOf(r.sense)).to.equal('05/20/00');
      });

      it('keeps serving across many ring wraps (PAD) and a data area that runs full', async () => {
        await s.dev.close();
        s = serve(t.session('tcmu:user_0/disk0b').nexus, { cmdrSize: 1024, dataBlocks: 4 });
        await s.sim.submit({ cdb: TUR }).result;
        const tasks: SimTask[] = [];
        for (let i = 0; i < 40; i++) {
          const data = new Uint8Array(8192).fill(i + 1);
          tasks.push(s.sim.submit({ cdb: cdb.write10(i * 16, 16), dir: 'out', dataOut: data }));
        }
        expect(s.sim.queued, 'the data area and ring ran full').to.be.greaterThan(0);
        for (const x of tasks) expect((await x.result).status).to.equal(Status.GOOD);
        for (let i = 0; i < 40; i += 13) {
          const r = await s.sim.submit({ cdb: cdb.read10(i * 16, 16), dir: 'in', length: 8192 }).result;
          expect(r.data.every(b => b === i + 1), `block run ${i}`).to.equal(true);
        }
        expect(s.sim.broken).to.equal(false);
      });
    });
  }
});

/** A nexus whose commands wait until the test completes them. */
class HeldNexus implements NexusApi {
  readonly id = 1;
  readonly initiatorName = 'tcmu';
  readonly targetName = 'held';
  isClosed = false;
  closedWith: string | undefined;
  onAsyncEvent: NexusApi['onAsyncEvent'] = undefined;
  readonly held: { req: CommandRequest; done: (c: Completion) => void }[] = [];
  readonly tmfs: TmfRequest[] = [];
  execute(req: CommandRequest, done: (c: Completion) => void): void { this.held.push({ req, done }); }
  taskManagement(req: TmfRequest): Promise<TmfResponse> { this.tmfs.push(req); return Promise.resolve(TmfResponse.FUNCTION_COMPLETE); }
  close(reason: 'loss' | 'logout'): Promise<void> { this.isClosed = true; this.closedWith = reason; return Promise.resolve(); }
  /** Completes the held command with tag `tag`, its Data-In `data` bytes of `tag`. */
  finish(tag: number, extra: Partial<Completion> = {}): void {
    const i = this.held.findIndex(h => h.req.tag === tag);
    const [h] = this.held.splice(i, 1);
    const n = h.req.expectedLength;
    h.done({ status: Status.GOOD, residualKind: ResidualKind.NONE, residual: 0, data: n > 0 ? new Uint8Array(n).fill(tag) : undefined, ...extra });
  }
}

const turn = (): Promise<void> => new Promise(r => setImmediate(r));
const READ_1 = cdb.read10(0, 8);

describe('tcmu/device: the ring protocol', () => {
  it('completes out of order: each command gets its own data and status', async () => {
    const n = new HeldNexus();
    const { sim } = serve(n);
    const tasks = [0, 1, 2, 3].map(() => sim.submit({ cdb: READ_1, dir: 'in', length: 4096 }));
    await turn();
    expect(n.held.map(h => h.req.tag)).to.deep.equal([1, 2, 3, 4]);
    for (const tag of [3, 1, 4, 2]) n.finish(tag);
    const rs = await Promise.all(tasks.map(x => x.result));
    rs.forEach((r, i) => expect(r.data.every(b => b === i + 1), `command ${i + 1}`).to.equal(true));
  });

  it('kicks the kernel once for a batch of completions in one turn', async () => {
    const n = new HeldNexus();
    const { sim, dev } = serve(n);
    const tasks = Array.from({ length: 8 }, () => sim.submit({ cdb: TUR }));
    await turn();
    for (const h of [...n.held]) n.finish(h.req.tag);
    await Promise.all(tasks.map(x => x.result));
    expect(dev.stats.completions).to.equal(8);
    expect(dev.stats.kicks).to.equal(1);
    expect(sim.irqcontrols).to.equal(1);
  });

  it('without CAP_OOOC completes in ring order, holding later completions', async () => {
    const n = new HeldNexus();
    const { sim } = serve(n, { flags: 0b110 });
    const a = sim.submit({ cdb: READ_1, dir: 'in', length: 4096 });
    const b = sim.submit({ cdb: READ_1, dir: 'in', length: 4096 });
    await turn();
    n.finish(2);
    await turn();
    await turn();
    expect(b.done).to.equal(false);
    expect(sim.tail).to.equal(0);
    n.finish(1);
    const [ra, rb] = await Promise.all([a.result, b.result]);
    expect(ra.data[0]).to.equal(1);
    expect(rb.data[0]).to.equal(2);
  });

  it('a TMR entry aborts the listed commands in the engine; the aborted command still completes in the ring', async () => {
    const n = new HeldNexus();
    const { sim, dev } = serve(n);
    const a = sim.submit({ cdb: READ_1, dir: 'in', length: 4096 });
    const b = sim.submit({ cdb: READ_1, dir: 'in', length: 4096 });
    await turn();
    sim.tmr(5, [a]);
    await turn();
    expect(n.tmfs).to.deep.equal([{ fn: TmfFunction.ABORT_TASK, lun: 0, refTag: 1 }]);
    expect(dev.stats.tmrs).to.equal(1);
    n.finish(1, { aborted: true, data: undefined });
    n.finish(2);
    const ra = await a.result;
    expect(ra).to.include({ aborted: true, status: Status.TASK_ABORTED, byKernel: false });
    expect((await b.result).status).to.equal(Status.GOOD);
  });

  it('a read that returns less than its buffer zeroes the rest and says so with READ_LEN', async () => {
    const n = new HeldNexus();
    const { sim } = serve(n);
    const t = sim.submit({ cdb: READ_1, dir: 'in', length: 4096 });
    new Uint8Array(sim.map).fill(0xee, sim.dataOff, sim.dataOff + 4096);
    await turn();
    n.finish(1, { data: new Uint8Array(100).fill(5), residualKind: ResidualKind.UNDERFLOW, residual: 3996 });
    const r = await t.result;
    expect(r.readLength).to.equal(100);
    expect(new Uint8Array(sim.map, sim.dataOff + 100, 3996).every(b => b === 0)).to.equal(true);
  });

  it('a malformed head fails the device cleanly: no more ring writes, the nexus lost, the port closed', async () => {
    const n = new HeldNexus();
    let failed: RingFault | undefined;
    const { sim, dev, port } = serve(n, {}, f => { failed = f; });
    sim.submit({ cdb: TUR });
    await turn();
    const tail = sim.tail;
    sim.setHead(4);
    await turn();
    expect(failed?.fault).to.match(/cmd_head 4/);
    expect(dev.failed).to.equal(failed);
    expect(n.closedWith).to.equal('loss');
    expect(port.closed).to.equal(true);
    n.finish(1);
    await turn();
    expect(sim.tail).to.equal(tail);
  });

  it('a uio error event fails the device', () => {
    const n = new HeldNexus();
    const { dev } = serve(n);
    dev.onEvent({ errno: 'ENODEV', message: 'gone' });
    expect(dev.failed?.fault).to.match(/ENODEV/);
  });

  it('restart: a new process reads the entries the old one left at the tail and completes them', async () => {
    const old = new HeldNexus();
    const first = serve(old);
    const tasks = [0, 1, 2].map(() => first.sim.submit({ cdb: READ_1, dir: 'in', length: 4096 }));
    await turn();
    old.finish(1);
    await tasks[0].result;
    // The old process dies with commands 2 and 3 read but never completed.
    first.sim.onInterrupt = undefined;
    const next = new HeldNexus();
    const second = serve(next, {}, undefined, first.sim);
    second.dev.serve();
    expect(next.held.map(h => h.req.tag)).to.deep.equal([2, 3]);
    next.finish(3);
    next.finish(2);
    const rs = await Promise.all(tasks.slice(1).map(x => x.result));
    expect(rs.map(r => r.data[0])).to.deep.equal([2, 3]);
  });

  it('restart after reset_ring: the kernel answered BUSY for what was in the ring, new commands are served', async () => {
    const old = new HeldNexus();
    const first = serve(old);
    const a = first.sim.submit({ cdb: TUR });
    await turn();
    first.sim.onInterrupt = undefined;
    first.sim.resetRing(1);
    expect((await a.result).status).to.equal(Status.BUSY);
    const next = new HeldNexus();
    const second = serve(next, {}, undefined, first.sim);
    second.dev.serve();
    expect(next.held).to.have.length(0);
    const b = first.sim.submit({ cdb: TUR });
    await turn();
    next.finish(1);
    expect((await b.result).status).to.equal(Status.GOOD);
  });

  it('close: commands in flight finish, commands arriving meanwhile are answered BUSY', async () => {
    const n = new HeldNexus();
    const { sim, dev, port } = serve(n);
    const a = sim.submit({ cdb: TUR });
    await turn();
    const closing = dev.close();
    const b = sim.submit({ cdb: TUR });
    await turn();
    n.finish(1);
    await closing;
    expect((await a.result).status).to.equal(Status.GOOD);
    expect((await b.result).status).to.equal(Status.BUSY);
    expect(port.closed).to.equal(true);
    expect(n.closedWith).to.equal('logout');
  });
});
