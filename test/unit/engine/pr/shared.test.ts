import { expect } from 'chai';
import { Engine } from '../../../../src/engine/engine';
import { MemoryBackstore } from '../../../../src/engine/backstores';
import type { Completion } from '../../../../src/engine/command';
import type { NexusApi } from '../../../../src/engine/engine-api';
import { TmfFunction, TmfResponse } from '../../../../src/engine/spec/status';
import type { ReservationChannel, ReservationEvent, SharedReservationState, VersionedReservations } from '../../../../src/engine/pr';
import { decodeEvent, decodeState, encodeEvent, encodeState } from '../../../../src/engine/shared-reservations';
import { INIT_A, INIT_B, TARGET, ram, target } from '../embedded/fixture';

// Reservations of a unit that several gateways export (shared-reservations.ts), each gateway an
// Engine, over an in-memory stand-in for the cluster object that does what
// backstores/rbd-reservations.ts does with RADOS: a versioned compare-and-swap, and a change
// completes only once every other member applied it. The wire forms (encode/decode) are used on
// every hop, as between real gateways.

class FakeCluster {
  version = 1;
  text = JSON.stringify(encodeState({ generation: 0, pr: { aptpl: false, registrations: [] } }));
  members: FakeChannel[] = [];
  /** The next publish does not reach the other members (a gateway's copy goes stale). */
  quiet = false;
  publishes = 0;
  stale = 0;
  read(): VersionedReservations { return { version: this.version, state: decodeState(JSON.parse(this.text)) }; }
}

class FakeChannel implements ReservationChannel {
  private apply?: (e: ReservationEvent) => Promise<void>;
  private refreshed?: (v: VersionedReservations) => void;
  constructor(private readonly c: FakeCluster) {}
  async load(): Promise<VersionedReservations> { return this.c.read(); }
  async publish(base: number, next: SharedReservationState, event: ReservationEvent): Promise<number | undefined> {
    this.c.publishes++;
    if (base !== this.c.version) { this.c.stale++; return undefined; }
    this.c.version++;
    this.c.text = JSON.stringify(encodeState(next));
    if (this.c.quiet) { this.c.quiet = false; return this.c.version; }
    await this.tell(event);
    return this.c.version;
  }
  async announce(event: ReservationEvent): Promise<void> { await this.tell(event); }
  private async tell(event: ReservationEvent): Promise<void> {
    const wire = JSON.parse(JSON.stringify(encodeEvent(event)));
    for (const m of this.c.members) {
      if (m === this) continue;
      m.refreshed?.(this.c.read());
      await m.apply?.(decodeEvent(wire));
    }
  }
  listen(apply: (e: ReservationEvent) => Promise<void>, refreshed: (v: VersionedReservations) => void): void {
    this.apply = apply;
    this.refreshed = refreshed;
    this.c.members.push(this);
  }
  async close(): Promise<void> { this.c.members = this.c.members.filter(m => m !== this); }
}

function gateway(c: FakeCluster): Promise<Engine> {
  return Engine.create({ devices: [ram('disk0')], targets: [target()] }, {
    openBackstore: async cfg => Object.assign(new MemoryBackstore({ sizeBytes: cfg.sizeBytes, writeBack: true, readOnly: false, thin: true }), {
      identitySeed: 'rbd:rbd/5ca1ab1e', openReservations: async () => new FakeChannel(c),
    }),
  });
}

let tag = 1;
function run(n: NexusApi, cdb: number[], dataOut?: Buffer, expectedLength = 0): Promise<Completion> {
  return new Promise(res => n.execute({
    lun: 0, cdb: Uint8Array.from(cdb), tag: tag++, attr: 0,
    expectedLength: dataOut ? dataOut.length : expectedLength, ...(dataOut ? { dataOut } : {}),
  }, res));
}

function prOut(sa: number, type: number, key: bigint, sark: bigint): [number[], Buffer] {
  const p = Buffer.alloc(24);
  p.writeBigUInt64BE(key, 0);
  p.writeBigUInt64BE(sark, 8);
  return [[0x5f, sa, type, 0, 0, 0, 0, 0, 24, 0], p];
}
const WRITE_10 = [0x2a, 0, 0, 0, 0, 8, 0, 0, 1, 0];
const READ_KEYS = [0x5e, 0x00, 0, 0, 0, 0, 0, 0, 64, 0];
const senseOf = (c: Completion): number[] => [c.sense![2] & 0x0f, c.sense![12], c.sense![13]];

/** A nexus through gateway `e` (its own target port: TPGT 1 or 2), its POWER ON, RESET taken. */
async function nexus(e: Engine, initiator: string, tpgt: number): Promise<NexusApi> {
  const n = e.openNexus({ targetName: TARGET, initiatorName: initiator, isid: '400000000001', tpgt })!;
  await run(n, [0, 0, 0, 0, 0, 0]);
  return n;
}

describe('persistent reservations shared between gateways (shared-reservations.ts)', () => {
  let cluster: FakeCluster;
  let gwA: Engine, gwB: Engine;
  let a: NexusApi, b: NexusApi;
  beforeEach(async () => {
    cluster = new FakeCluster();
    gwA = await gateway(cluster);
    gwB = await gateway(cluster);
    a = await nexus(gwA, INIT_A, 1);
    b = await nexus(gwB, INIT_B, 2);
  });
  afterEach(async () => { await Promise.all([gwA.close(), gwB.close()]); });

  it('a reservation made through A is enforced on B at once, and a release through A lifts it', async () => {
    const block = Buffer.alloc(512, 1);
    expect((await run(a, ...prOut(0, 0, 0n, 0xan))).status).to.equal(0);
    expect((await run(a, ...prOut(1, 1, 0xan, 0n))).status).to.equal(0);
    expect((await run(b, WRITE_10, block)).status).to.equal(0x18);
    expect((await run(a, WRITE_10, block)).status).to.equal(0);
    // One PRgeneration for the unit: the same through both gateways.
    const ka = await run(a, READ_KEYS, undefined, 64);
    const kb = await run(b, READ_KEYS, undefined, 64);
    expect(Buffer.from(kb.data!).readUInt32BE(0)).to.equal(1);
    expect(Buffer.from(kb.data!)).to.deep.equal(Buffer.from(ka.data!));
    expect((await run(a, ...prOut(2, 1, 0xan, 0n))).status).to.equal(0);
    expect((await run(b, WRITE_10, block)).status).to.equal(0);
  });

  it('a gateway whose copy is stale loses the swap, reloads and works its command out again', async () => {
    expect((await run(a, ...prOut(0, 0, 0n, 0xan))).status).to.equal(0);
    // A's reservation reaches the cluster but not B (B's copy is one version behind).
    cluster.quiet = true;
    expect((await run(a, ...prOut(1, 1, 0xan, 0n))).status).to.equal(0);
    const staleBefore = cluster.stale;
    // B registers on its stale copy: the swap fails, B reloads and registers on the current state.
    expect((await run(b, ...prOut(0, 0, 0n, 0xbn))).status).to.equal(0);
    expect(cluster.stale).to.equal(staleBefore + 1);
    const keys = Buffer.from((await run(b, READ_KEYS, undefined, 64)).data!);
    expect(keys.readUInt32BE(0)).to.equal(2); // two REGISTERs made the generation, whichever gateway
    expect(keys.readUInt32BE(4)).to.equal(16);
    // B now knows A's reservation: it is registered, not the holder, and Write Exclusive refuses its write.
    expect((await run(b, WRITE_10, Buffer.alloc(512))).status).to.equal(0x18);
  });

  it('PREEMPT through B gives the preempted nexus on A REGISTRATIONS PREEMPTED', async () => {
    expect((await run(a, ...prOut(0, 0, 0n, 0xan))).status).to.equal(0);
    expect((await run(b, ...prOut(0, 0, 0n, 0xbn))).status).to.equal(0);
    expect((await run(a, ...prOut(1, 1, 0xan, 0n))).status).to.equal(0);
    expect((await run(b, ...prOut(4, 1, 0xbn, 0xan))).status).to.equal(0);
    const tur = await run(a, [0, 0, 0, 0, 0, 0]);
    expect(tur.status).to.equal(2);
    expect(senseOf(tur)).to.deep.equal([0x6, 0x2a, 0x05]);
    expect((await run(a, WRITE_10, Buffer.alloc(512))).status).to.equal(0x18);
  });

  it('SPC-2 RESERVE through A conflicts on B; LOGICAL UNIT RESET through A releases it and tells B\'s nexus', async () => {
    expect((await run(a, [0x16, 0, 0, 0, 0, 0])).status).to.equal(0);
    expect((await run(b, [0x16, 0, 0, 0, 0, 0])).status).to.equal(0x18);
    expect(await a.taskManagement({ fn: TmfFunction.LOGICAL_UNIT_RESET, lun: 0 })).to.equal(TmfResponse.FUNCTION_COMPLETE);
    // SAM-5 7.7: every I_T nexus of the unit, through either gateway, gets BUS DEVICE RESET FUNCTION OCCURRED.
    const tur = await run(b, [0, 0, 0, 0, 0, 0]);
    expect(senseOf(tur)).to.deep.equal([0x6, 0x29, 0x03]);
    // The release reaches the cluster behind the reset; B reserves once it has.
    let st = 0x18;
    for (let i = 0; i < 20 && st !== 0; i++) {
      st = (await run(b, [0x16, 0, 0, 0, 0, 0])).status;
      if (st !== 0) await new Promise(r => setTimeout(r, 10));
    }
    expect(st).to.equal(0);
  });
});
