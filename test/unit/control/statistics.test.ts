import { expect } from 'chai';
import { EmbeddedTarget, normalizeTopology, Status } from '../../../src';
import { LATENCY_BOUNDS_US, LuStatistics } from '../../../src/engine/lu-statistics';
import { SenseKey } from '../../../src/engine/spec/status';
import { gatherStats, senseKeyName, type DaemonControl } from '../../../src/daemon/control/daemon-methods';

describe('statistics counted on the data path (DESIGN.md §8a)', () => {
  it('LuStatistics counts answers by status and sense key, and latency into fixed buckets', () => {
    const s = new LuStatistics();
    s.recordStatus(Status.GOOD, 0);
    s.recordStatus(Status.CHECK_CONDITION, SenseKey.ILLEGAL_REQUEST);
    s.recordStatus(Status.CHECK_CONDITION, SenseKey.ILLEGAL_REQUEST);
    s.recordStatus(Status.RESERVATION_CONFLICT, 0);
    expect(s.commands).to.equal(4);
    expect(s.checkConditionsBySenseKey[SenseKey.ILLEGAL_REQUEST]).to.equal(2);
    expect(s.otherErrors).to.equal(1);
    s.recordLatency(10_000); // 10 µs: first bucket (<= 25 µs)
    s.recordLatency(25_000); // exactly on a bound: that bucket
    s.recordLatency(26_000);
    s.recordLatency(5e9); // above the last bound
    expect(s.latencyBuckets[0]).to.equal(2);
    expect(s.latencyBuckets[1]).to.equal(1);
    expect(s.latencyBuckets[LATENCY_BOUNDS_US.length]).to.equal(1);
    expect(s.latencySumNs).to.equal(10_000 + 25_000 + 26_000 + 5e9);
    // LOG SELECT resets page 19h only: the control plane's counters keep counting.
    s.reset();
    expect(s.commands).to.equal(4);
  });

  it('names sense keys as SPC-4 table 28, reserved ones by number', () => {
    expect(senseKeyName(5)).to.equal('ILLEGAL_REQUEST');
    expect(senseKeyName(0xc)).to.equal('RESERVED_CH');
  });

  for (const threads of [0, 1]) {
    it(`the supervisor gathers unit statistics from ${threads === 0 ? 'the calling thread' : 'an engine thread'}`, async () => {
      const topo = normalizeTopology({
        devices: [{ name: 'ram0', handler: 'ram', size: '8MiB', blockSize: 512 }],
        targets: [{ driver: 'local', name: 'iqn.2026-11.io.nexus:stats', luns: [{ lun: 0, device: 'ram0' }] }],
      }, { stateDir: null });
      if (!topo.ok) throw new Error('topology');
      const target = await EmbeddedTarget.start(topo.topology, { threads });
      try {
        const a = target.session('iqn.2026-11.example:a');
        const ua = await a.execute(0, [0x00, 0, 0, 0, 0, 0]);
        expect(ua.status).to.equal(Status.CHECK_CONDITION);
        await a.execute(0, [0x2a, 0, 0, 0, 0, 8, 0, 0, 2, 0], { dataOut: Buffer.alloc(1024, 1) });
        await a.execute(0, [0x28, 0, 0, 0, 0, 8, 0, 0, 1, 0]);
        const control: DaemonControl = {
          topology: { ...topo.topology, stateDir: '' }, version: 't', startedAt: Date.now(), engineThreads: threads, controlSocket: '',
          metricsListen: () => undefined, threadsUp: () => [], sessions: () => [], logout: () => Promise.resolve(false),
          unit: () => Promise.resolve({ error: 'ERR_TOPOLOGY', message: 'no device', result: null }),
          gather: async () => {
            const replies = await target.runtime.stats();
            return {
              threads: replies.map(r => ({ index: r.threadIndex, counters: r.counters })),
              units: replies.flatMap(r => r.units.map(u => ({ ...u, thread: r.threadIndex }))),
              pool: target.runtime.pool.stats(),
            };
          },
        };
        const v = await gatherStats(control);
        const d = v.devices.find(x => x.device === 'ram0')!;
        expect(d.commands).to.equal(3);
        expect(d.errorsBySenseKey).to.deep.equal({ UNIT_ATTENTION: 1 });
        expect(d.writeBytes).to.equal(1024);
        expect(d.readBytes).to.equal(512);
        expect(d.readCommands).to.equal(1);
        expect(d.writeCommands).to.equal(1);
        // Write and read went through the task set; the unit attention was answered before it.
        expect(d.latency.buckets.reduce((x, y) => x + y, 0)).to.equal(2);
        expect(d.taskSetDepth).to.equal(0);
        expect(v.luns).to.have.length(1);
        expect(v.luns[0].stats?.device).to.equal('ram0');
        expect(v.threads.every(t => typeof t.counters.busyMs === 'number')).to.equal(true);
        // Each thread says whether it shares its core, and what busy polling it did.
        for (const t of v.threads) {
          expect(t.counters['cpu.contended']).to.be.oneOf([0, 1]);
          expect(t.counters['cpu.contentionChanges']).to.be.at.least(t.counters['cpu.contended']);
          expect(t.counters['busyPoll.turns']).to.be.a('number');
          expect(t.counters['busyPoll.windows']).to.be.at.most(t.counters['busyPoll.turns'] + 1);
        }
      } finally {
        await target.stop();
      }
    });
  }
});
