import { expect } from 'chai';
import { EmbeddedTarget, normalizeTopology, Status } from '../../../src';
import { LATENCY_BOUNDS_US, LuStatistics } from '../../../src/engine/lu-statistics';
import { LATENCY_BUCKETS, SIZE_CLASSES, TRANSFER_SIZE_BOUNDS_BYTES, latencyView } from '../../../src/engine/latency-histogram';
import { NexusStatistics, senseKeyOf } from '../../../src/engine/nexus-statistics';
import { setDataPathStatistics } from '../../../src/engine/statistics-switch';
import { ConnectionStatistics, connectionCounters } from '../../../src/transports/iscsi/connection-statistics';
import { IscsiOp } from '../../../src/transports/iscsi/spec';
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
    s.recordLatency(10_000, 4096); // 10 µs: first bucket (<= 25 µs)
    s.recordLatency(25_000, 0); // exactly on a bound: that bucket
    s.recordLatency(26_000, 8192);
    s.recordLatency(5e9, 4096); // above the last bound
    const v = latencyView(s.latency.buckets, s.latency.sumNs);
    expect(v.buckets[0]).to.equal(2);
    expect(v.buckets[1]).to.equal(1);
    expect(v.buckets[LATENCY_BOUNDS_US.length]).to.equal(1);
    expect(v.sumNs).to.equal(10_000 + 25_000 + 26_000 + 5e9);
    // All four moved at most 8 KiB: SCST's smallest size class.
    expect(v.bySize[0].buckets.reduce((a, b) => a + b, 0)).to.equal(4);
    // LOG SELECT resets page 19h only: the control plane's counters keep counting.
    s.reset();
    expect(s.commands).to.equal(4);
  });

  it('latency by transfer size: SCST\'s classes ≤ 8, 32, 128, 512 KiB and larger, each with every latency bucket', () => {
    expect(TRANSFER_SIZE_BOUNDS_BYTES).to.deep.equal([8 << 10, 32 << 10, 128 << 10, 512 << 10]);
    const s = new LuStatistics();
    s.recordLatency(30_000, 8192); // on the bound: ≤ 8 KiB, 25..50 µs
    s.recordLatency(30_000, 8193); // ≤ 32 KiB
    s.recordLatency(2_000_000, 512 << 10); // ≤ 512 KiB, 1..2.5 ms
    s.recordLatency(2_000_000, 1 << 20); // larger
    const v = latencyView(s.latency.buckets, s.latency.sumNs);
    expect(v.bySize.map(c => c.maxBytes)).to.deep.equal([8192, 32768, 131072, 524288, null]);
    expect(v.bySize).to.have.length(SIZE_CLASSES);
    expect(v.bySize.every(c => c.buckets.length === LATENCY_BUCKETS)).to.equal(true);
    expect(v.bySize[0].buckets[1]).to.equal(1);
    expect(v.bySize[1].buckets[1]).to.equal(1);
    expect(v.bySize[2].buckets.reduce((a, b) => a + b, 0)).to.equal(0);
    expect(v.bySize[3].buckets[6]).to.equal(1);
    expect(v.bySize[4].buckets[6]).to.equal(1);
    expect(v.bySize[4].sumNs).to.equal(2_000_000);
    expect(v.buckets[1]).to.equal(2);
    expect(v.buckets[6]).to.equal(2);
  });

  it('NexusStatistics counts a session\'s answers: bytes each way, sense keys of either format, latency by size', () => {
    const s = new NexusStatistics();
    s.record(Status.GOOD, undefined, 4096, 0, 4096, 40_000);
    s.record(Status.GOOD, undefined, 0, 65536, 65536, 300_000);
    // SPC-4 4.5.3 fixed format: the key in byte 2; 4.5.2 descriptor format: in byte 1.
    s.record(Status.CHECK_CONDITION, Buffer.from([0x70, 0, SenseKey.MEDIUM_ERROR, 0, 0, 0, 0, 10]), 0, 0, 512, 10_000);
    s.record(Status.CHECK_CONDITION, Buffer.from([0x72, SenseKey.ILLEGAL_REQUEST, 0x24, 0, 0, 0, 0, 0]), 0, 0, 0, 10_000);
    s.record(Status.TASK_SET_FULL, undefined, 0, 0, 4096, 1_000);
    expect(s.commands).to.equal(5);
    expect([s.readCommands, s.readBytes, s.writeCommands, s.writeBytes]).to.deep.equal([1, 4096, 1, 65536]);
    expect(s.checkConditionsBySenseKey[SenseKey.MEDIUM_ERROR]).to.equal(1);
    expect(s.checkConditionsBySenseKey[SenseKey.ILLEGAL_REQUEST]).to.equal(1);
    expect(s.otherErrors).to.equal(1);
    const v = latencyView(s.latency.buckets, s.latency.sumNs);
    expect(v.bySize[0].buckets.reduce((a, b) => a + b, 0)).to.equal(4);
    expect(v.bySize[2].buckets[4]).to.equal(1); // 64 KiB in 250..500 µs
    expect(senseKeyOf(undefined)).to.equal(0);
    expect(senseKeyOf(Buffer.from([0x71, 0, 0x06]))).to.equal(SenseKey.UNIT_ATTENTION);
  });

  it('ConnectionStatistics counts PDUs and octets by opcode; R2Ts are the R2T PDUs sent', () => {
    const c = new ConnectionStatistics();
    c.received(0x41, 48 + 512); // immediate SCSI Command (I bit set) with immediate data
    c.received(IscsiOp.SCSI_DATA_OUT | 0x80, 48 + 8192);
    c.sent(IscsiOp.R2T, 48);
    c.sent(IscsiOp.R2T, 48);
    c.sent(IscsiOp.SCSI_RESPONSE, 48);
    c.dataDigestErrors++;
    expect(connectionCounters(c)).to.deep.equal({
      'pdusIn.SCSI_COMMAND': 1, 'octetsIn.SCSI_COMMAND': 560, 'pdusIn.SCSI_DATA_OUT': 1, 'octetsIn.SCSI_DATA_OUT': 8240,
      'pdusOut.SCSI_RESPONSE': 1, 'octetsOut.SCSI_RESPONSE': 48, 'pdusOut.R2T': 2, 'octetsOut.R2T': 96,
      headerDigestErrors: 0, dataDigestErrors: 1, r2ts: 2,
    });
  });

  it('engine.statistics false: nothing beyond log page 19h is counted', () => {
    setDataPathStatistics(false);
    try {
      const lu = new LuStatistics();
      lu.recordStatus(Status.GOOD, 0);
      lu.recordLatency(1000, 4096);
      lu.recordRead(8, false, 1000);
      const n = new NexusStatistics();
      n.record(Status.GOOD, undefined, 4096, 0, 4096, 1000);
      const c = new ConnectionStatistics();
      c.received(IscsiOp.SCSI_COMMAND, 48);
      expect([lu.commands, lu.latency.buckets.reduce((a, b) => a + b, 0), n.commands, c.pdusIn[IscsiOp.SCSI_COMMAND]]).to.deep.equal([0, 0, 0, 0]);
      // SPC-4 7.3.6: page 19h is the initiators' and is counted either way.
      expect(lu.readCommands).to.equal(1);
    } finally {
      setDataPathStatistics(true);
    }
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
              sessions: [],
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

  it('engine.statistics false reaches the engine threads: units count page 19h only', async () => {
    const topo = normalizeTopology({
      engine: { statistics: false },
      devices: [{ name: 'ram0', handler: 'ram', size: '8MiB', blockSize: 512 }],
      targets: [{ driver: 'local', name: 'iqn.2026-11.io.nexus:off', luns: [{ lun: 0, device: 'ram0' }] }],
    }, { stateDir: null });
    if (!topo.ok) throw new Error('topology');
    const target = await EmbeddedTarget.start(topo.topology, { threads: 1 });
    try {
      const a = target.session('iqn.2026-11.example:a');
      await a.execute(0, [0x00, 0, 0, 0, 0, 0]);
      await a.execute(0, [0x28, 0, 0, 0, 0, 8, 0, 0, 1, 0]);
      const u = (await target.runtime.stats()).flatMap(r => r.units).find(x => x.device === 'ram0')!;
      expect(u.commands).to.equal(0);
      expect(u.latencyBuckets.reduce((x, y) => x + y, 0)).to.equal(0);
      expect(u.readCommands).to.equal(1);
    } finally {
      await target.stop();
      setDataPathStatistics(true);
    }
  });
});
