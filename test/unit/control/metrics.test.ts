import { expect } from 'chai';
import { metricsRegistry } from '../../../src/daemon/metrics';
import { LATENCY_BOUNDS_US } from '../../../src/engine/lu-statistics';
import type { DeviceStatsView, SessionStatsView, StatsView } from '../../../src/daemon/control/daemon-methods';
import { LATENCY_BUCKETS, SIZE_CLASSES, latencyView, type LatencyView } from '../../../src/engine/latency-histogram';
import { formatStats, percentileUs } from '../../../src/cli/admin';
import { normalizeTopology } from '../../../src/daemon/config/load';

/** A latency view with every command of `buckets` in the ≤ 8 KiB class. */
function smallOnly(buckets: number[], sumNs: number): LatencyView {
  const flat = new Array<number>(SIZE_CLASSES * LATENCY_BUCKETS).fill(0);
  buckets.forEach((n, i) => { flat[i] = n; });
  return latencyView(flat, [sumNs, 0, 0, 0, 0]);
}

function statsWith(buckets: number[], extra: Partial<DeviceStatsView> = {}): StatsView {
  const dev: DeviceStatsView = {
    device: 'd0', thread: 0, commands: 10, readCommands: 6, writeCommands: 3, readBytes: 6 * 4096, writeBytes: 3 * 4096,
    errorsBySenseKey: { ILLEGAL_REQUEST: 1 }, otherErrors: 0,
    latency: smallOnly(buckets, 123456), taskSetDepth: 2, operation: null, ...extra,
  };
  const session: SessionStatsView = {
    tsih: 7, initiatorName: 'iqn.2026-11.example:a', isid: '400001370000', target: 'iqn.2026-11.io.nexus:t', thread: 0,
    commands: dev.commands, readCommands: dev.readCommands, writeCommands: dev.writeCommands, readBytes: dev.readBytes, writeBytes: dev.writeBytes,
    errorsBySenseKey: { MEDIUM_ERROR: 2 }, otherErrors: 1, latency: dev.latency, taskSetDepth: 3,
    connections: [{ cid: 1, counters: { 'pdusIn.SCSI_COMMAND': 10, 'octetsIn.SCSI_COMMAND': 480, 'pdusOut.R2T': 3, 'octetsOut.R2T': 144, headerDigestErrors: 0, dataDigestErrors: 1, r2ts: 3 } }],
  };
  return {
    time: 1000, uptimeSeconds: 5, devices: [dev],
    luns: [{ target: 'iqn.2026-11.io.nexus:t', group: '', lun: 0, device: 'd0', readOnly: false, stats: dev }],
    threads: [{ index: 0, counters: {
      busyMs: 250, idleMs: 750, sessions: 1, poolBuffersInUse: 3, 'memory.heapTotal': 40 << 20, 'memory.readBuffersKept': 1 << 20,
      'ring.inboundDepth': 5, 'ring.outboundDepth': 2, 'scheduler.ringFull': 4,
    } }],
    pool: [{ size: 4096, count: 8, inUse: 3, highWater: 4, getFails: 0 }], sessions: 1, sessionStats: [session],
    memory: { residentBytes: 200 << 20, anonymousBytes: 150 << 20, main: { 'memory.heapTotal': 30 << 20, 'memory.arrayBuffers': 4096 } },
  };
}

describe('Prometheus exposition of stats.get', () => {
  it('names, labels, counters and the cumulative latency histogram', async () => {
    const buckets = new Array<number>(LATENCY_BOUNDS_US.length + 1).fill(0);
    buckets[0] = 2; buckets[3] = 5; buckets[LATENCY_BOUNDS_US.length] = 2;
    const text = await metricsRegistry(statsWith(buckets), '1.2.3').metrics();
    const l = 'target="iqn.2026-11.io.nexus:t",group="",lun="0",device="d0"';
    const small = `${l},max_transfer_bytes="8192"`;
    expect(text).to.contain(`nexus_lun_read_bytes_total{${l}} 24576`);
    expect(text).to.contain(`nexus_lun_write_bytes_total{${l}} 12288`);
    expect(text).to.contain(`nexus_lun_commands_total{${l}} 10`);
    expect(text).to.contain(`nexus_lun_check_conditions_total{${l},sense_key="ILLEGAL_REQUEST"} 1`);
    expect(text).to.contain(`nexus_lun_task_set_depth{${l}} 2`);
    expect(text).to.contain('# TYPE nexus_lun_command_latency_seconds histogram');
    expect(text).to.contain(`nexus_lun_command_latency_seconds_bucket{${small},le="0.000025"} 2`);
    expect(text).to.contain(`nexus_lun_command_latency_seconds_bucket{${small},le="0.00025"} 7`);
    expect(text).to.contain(`nexus_lun_command_latency_seconds_bucket{${small},le="+Inf"} 9`);
    expect(text).to.contain(`nexus_lun_command_latency_seconds_count{${small}} 9`);
    expect(text).to.contain(`nexus_lun_command_latency_seconds_sum{${small}} 0.000123456`);
    expect(text).to.contain(`nexus_lun_command_latency_seconds_count{${l},max_transfer_bytes="+Inf"} 0`);
    expect(text).to.contain('nexus_engine_thread_busy_seconds_total{thread="0"} 0.25');
    expect(text).to.contain('nexus_buffer_pool_buffers_in_use{size_bytes="4096"} 3');
    expect(text).to.contain('nexus_engine_thread_pool_buffers_in_use{thread="0"} 3');
    expect(text).to.contain('nexus_info{version="1.2.3"} 1');
    expect(text).to.contain('nexus_engine_thread_ring_depth{thread="0",direction="inbound"} 5');
    expect(text).to.contain('nexus_engine_thread_ring_full_total{thread="0"} 4');
    const sl = 'target="iqn.2026-11.io.nexus:t",initiator="iqn.2026-11.example:a",isid="400001370000",tsih="7"';
    expect(text).to.contain(`nexus_session_read_bytes_total{${sl}} 24576`);
    expect(text).to.contain(`nexus_session_check_conditions_total{${sl},sense_key="MEDIUM_ERROR"} 2`);
    expect(text).to.contain(`nexus_session_task_set_depth{${sl}} 3`);
    expect(text).to.contain(`nexus_session_command_latency_seconds_count{${sl},max_transfer_bytes="8192"} 9`);
    expect(text).to.contain(`nexus_iscsi_connection_pdus_received_total{${sl},cid="1",opcode="SCSI_COMMAND"} 10`);
    expect(text).to.contain(`nexus_iscsi_connection_sent_bytes_total{${sl},cid="1",opcode="R2T"} 144`);
    expect(text).to.contain(`nexus_iscsi_connection_digest_errors_total{${sl},cid="1",segment="data"} 1`);
    expect(text).to.contain(`nexus_iscsi_connection_r2ts_total{${sl},cid="1"} 3`);
    expect(text).to.contain(`nexus_memory_resident_bytes ${200 << 20}`);
    expect(text).to.contain(`nexus_memory_anonymous_bytes ${150 << 20}`);
    expect(text).to.contain(`nexus_memory_heap_total_bytes{thread="main"} ${30 << 20}`);
    expect(text).to.contain(`nexus_memory_heap_total_bytes{thread="0"} ${40 << 20}`);
    expect(text).to.contain('nexus_memory_array_buffers_bytes{thread="main"} 4096');
    expect(text).to.contain(`nexus_memory_read_buffers_kept_bytes{thread="0"} ${1 << 20}`);
    // Every sample's metric has HELP and TYPE lines.
    const families = new Set(text.split('\n').filter(x => x.startsWith('# TYPE ')).map(x => x.split(' ')[2]));
    for (const line of text.split('\n').filter(x => x !== '' && !x.startsWith('#'))) {
      const name = line.split(/[{ ]/)[0].replace(/_(bucket|sum|count)$/, '');
      expect(families.has(name) || families.has(line.split(/[{ ]/)[0]), line).to.equal(true);
    }
  });

  it('the stats table: percentiles from the buckets, rates over an interval', () => {
    const b = new Array<number>(LATENCY_BOUNDS_US.length + 1).fill(0);
    b[2] = 50; b[5] = 49; b[8] = 1;
    expect(percentileUs(LATENCY_BOUNDS_US, b, 0.5)).to.equal(100);
    expect(percentileUs(LATENCY_BOUNDS_US, b, 0.99)).to.equal(1000);
    expect(percentileUs(LATENCY_BOUNDS_US, b.map(() => 0), 0.5)).to.equal(undefined);
    const before = statsWith(b.map(() => 0), { commands: 0, readBytes: 0, writeBytes: 0 });
    const after = { ...statsWith(b, { commands: 2000, readBytes: 2 * 1024 * 1024 }), time: 3000 };
    const text = formatStats(after, before);
    expect(text).to.match(/iqn\.2026-11\.io\.nexus:t\s+0\s+d0\s+1000\s+1\.0\s+/);
    // The session's row: 2000 commands in 2 s, 2 MiB read in 2 s, depth 3.
    expect(text).to.match(/^7\s+iqn\.2026-11\.example:a\s+iqn\.2026-11\.io\.nexus:t\s+1000\s+1\.0\s+0\.0\s+100us\s+1ms\s+0\s+3$/m);
    expect(text).to.contain('thread 0: 0% busy, 1 sessions, ring depth 7, ring full 0, pool buffers 3');
    // A device an initiator sanitizes says how far it is, above the table.
    expect(formatStats(statsWith(b, { operation: { name: 'sanitize', percent: 25 } }))).to.match(/^device d0: sanitize 25% done$/m);
    // Totals without an interval: since the start.
    const totals = formatStats(after);
    expect(totals).to.contain('thread 0: 25% busy, 1 sessions, ring depth 7, ring full 4, pool buffers 3');
    expect(totals).to.match(/^7\s+iqn\.2026-11\.example:a\s+iqn\.2026-11\.io\.nexus:t\s+2000\s+2\.0\s+0\.0\s+100us\s+1ms\s+3\s+3$/m);
    expect(text).to.contain('100us');
    expect(text).to.contain('1ms');
  });
});

describe('topology: control socket and metrics sections', () => {
  const base = { devices: [], targets: [] };
  it('resolves control.socket against the file and checks metrics.listen as a portal', () => {
    const ok = normalizeTopology({ ...base, control: { socket: 'run/ctl.sock' }, metrics: { listen: '127.0.0.1:9475' } }, { baseDir: '/srv/nexus', stateDir: null });
    expect(ok.ok).to.equal(true);
    if (!ok.ok) return;
    expect(ok.topology.control).to.deep.equal({ socket: '/srv/nexus/run/ctl.sock' });
    expect(ok.topology.metrics).to.deep.equal({ listen: '127.0.0.1:9475' });
    const bad = normalizeTopology({ ...base, metrics: { listen: '[::1' }, control: { path: 'x' } }, { stateDir: null });
    expect(bad.ok).to.equal(false);
    if (bad.ok) return;
    expect(bad.errors.map(e => e.path)).to.include.members(['/metrics/listen', '/control/path']);
    const off = normalizeTopology(base, { stateDir: null });
    expect(off.ok && off.topology.metrics).to.equal(undefined);
  });
});
