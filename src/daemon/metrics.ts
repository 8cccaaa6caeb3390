// The Prometheus endpoint (DESIGN.md §8a, docs/control.md): `"metrics": {"listen": "host:port"}`
// in the topology, off by default. Each scrape of GET /metrics gathers stats.get afresh (the
// engine threads answer over the control plane) and fills a new prom-client registry from it,
// so what is exported is exactly what the control socket shows, and nothing is kept between
// scrapes. Names and labels follow Prometheus conventions: base units (bytes, seconds),
// `_total` for counters, snake_case labels.

import * as http from 'node:http';
import { Counter, Gauge, Registry, type Metric } from 'prom-client';
import { NexusError } from '../engine/result';
import type { CommandStatsView, StatsView } from './control/daemon-methods';
import type { LatencyView } from '../engine/latency-histogram';
import type { Logger } from './log';
import { MemoryCounter } from '../workers/memory-usage';

type Labels = Record<string, string>;

/**
 * A histogram whose buckets were counted elsewhere (LuStatistics): prom-client's Histogram only
 * observes values one by one, so the already-counted buckets are exported through the registry's
 * metric interface (cumulative `le` buckets, `_sum`, `_count`).
 */
class CountedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series: { labels: Labels; boundsSeconds: readonly number[]; buckets: readonly number[]; sumSeconds: number }[] = [];

  constructor(readonly name: string, readonly help: string) {}

  add(labels: Labels, boundsSeconds: readonly number[], buckets: readonly number[], sumSeconds: number): void {
    this.series.push({ labels, boundsSeconds, buckets, sumSeconds });
  }

  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: { value: number; labels: Labels; metricName: string }[] }> {
    const values: { value: number; labels: Labels; metricName: string }[] = [];
    for (const s of this.series) {
      let cumulative = 0;
      s.buckets.forEach((n, i) => {
        cumulative += n;
        const le = i < s.boundsSeconds.length ? String(s.boundsSeconds[i]) : '+Inf';
        values.push({ metricName: `${this.name}_bucket`, labels: { ...s.labels, le }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sumSeconds });
      values.push({ metricName: `${this.name}_count`, labels: s.labels, value: cumulative });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }
}

/** The HELP text of each command family, in one scope's words. */
type CommandHelp = { [K in 'commands' | 'reads' | 'writes' | 'readBytes' | 'writeBytes' | 'checks' | 'other' | 'depth' | 'latency']: string };

/** One series per transfer-size class (label `max_transfer_bytes`, "+Inf" for the last). */
function addBySize(h: CountedHistogram, labels: Labels, v: LatencyView): void {
  const bounds = v.boundsUs.map(us => us / 1e6);
  for (const s of v.bySize) {
    h.add({ ...labels, max_transfer_bytes: s.maxBytes === null ? '+Inf' : String(s.maxBytes) }, bounds, s.buckets, s.sumNs / 1e9);
  }
}

/** A registry holding the metrics of one stats.get answer. */
export function metricsRegistry(stats: StatsView, version: string): Registry {
  const registry = new Registry();
  const r = [registry];
  const lunLabels = ['target', 'group', 'lun', 'device'] as const;
  const counter = (name: string, help: string, labelNames: readonly string[]): Counter<string> =>
    new Counter({ name, help, labelNames: [...labelNames], registers: r });
  const gauge = (name: string, help: string, labelNames: readonly string[]): Gauge<string> =>
    new Gauge({ name, help, labelNames: [...labelNames], registers: r });

  gauge('nexus_info', 'Nexus daemon version (always 1)', ['version']).set({ version }, 1);
  gauge('nexus_uptime_seconds', 'Seconds since the daemon started', []).set(stats.uptimeSeconds);
  gauge('nexus_sessions', 'iSCSI Normal sessions logged in', []).set(stats.sessions);

  /**
   * The command families a logical unit and an I_T nexus both export (nexus_<scope>_...), the
   * same counters under each scope's labels and wording; the returned function adds one object.
   */
  const commandFamilies = (scope: 'lun' | 'session', labelNames: readonly string[], help: CommandHelp): ((labels: Labels, s: CommandStatsView) => void) => {
    const commands = counter(`nexus_${scope}_commands_total`, help.commands, labelNames);
    const reads = counter(`nexus_${scope}_read_commands_total`, help.reads, labelNames);
    const writes = counter(`nexus_${scope}_write_commands_total`, help.writes, labelNames);
    const readBytes = counter(`nexus_${scope}_read_bytes_total`, help.readBytes, labelNames);
    const writeBytes = counter(`nexus_${scope}_write_bytes_total`, help.writeBytes, labelNames);
    const checks = counter(`nexus_${scope}_check_conditions_total`, help.checks, [...labelNames, 'sense_key']);
    const other = counter(`nexus_${scope}_other_errors_total`, help.other, labelNames);
    const depth = gauge(`nexus_${scope}_task_set_depth`, help.depth, labelNames);
    const latency = new CountedHistogram(`nexus_${scope}_command_latency_seconds`, help.latency);
    registry.registerMetric(latency as unknown as Metric);
    return (labels, s) => {
      commands.inc(labels, s.commands);
      reads.inc(labels, s.readCommands);
      writes.inc(labels, s.writeCommands);
      readBytes.inc(labels, s.readBytes);
      writeBytes.inc(labels, s.writeBytes);
      for (const [key, n] of Object.entries(s.errorsBySenseKey)) checks.inc({ ...labels, sense_key: key }, n);
      other.inc(labels, s.otherErrors);
      depth.set(labels, s.taskSetDepth);
      addBySize(latency, labels, s.latency);
    };
  };

  const addLun = commandFamilies('lun', lunLabels, {
    commands: 'SCSI commands answered, any status',
    reads: 'Read commands completed GOOD (SPC-4 table 375)',
    writes: 'Write commands completed GOOD (SPC-4 table 375)',
    readBytes: 'Bytes sent to initiators by read commands',
    writeBytes: 'Bytes received from initiators by write commands',
    checks: 'Commands answered CHECK CONDITION, by sense key',
    other: 'Commands answered BUSY, RESERVATION CONFLICT, TASK SET FULL or another non-GOOD status',
    depth: 'Tasks in the logical unit\'s task set',
    latency: 'Time from entering the task set to the service response, by transfer size',
  });
  for (const l of stats.luns) {
    if (l.stats) addLun({ target: l.target, group: l.group, lun: String(l.lun), device: l.device }, l.stats);
  }

  // Per session (I_T nexus) and per iSCSI connection.
  const sessionLabels = ['target', 'initiator', 'isid', 'tsih'] as const;
  const addSession = commandFamilies('session', sessionLabels, {
    commands: 'SCSI commands of the session answered, any status',
    reads: 'Commands with Data-In of the session answered GOOD',
    writes: 'Commands with Data-Out of the session answered GOOD',
    readBytes: 'Data-In bytes sent to the session\'s initiator',
    writeBytes: 'Data-Out bytes taken from the session\'s initiator',
    checks: 'Commands of the session answered CHECK CONDITION, by sense key',
    other: 'Commands of the session answered BUSY, RESERVATION CONFLICT, TASK SET FULL or another non-GOOD status',
    depth: 'Commands of the session received and not yet answered',
    latency: 'Time from the command\'s arrival to its answer, by transfer size',
  });
  const connLabels = [...sessionLabels, 'cid'] as const;
  const pdusIn = counter('nexus_iscsi_connection_pdus_received_total', 'iSCSI PDUs received, by opcode', [...connLabels, 'opcode']);
  const octetsIn = counter('nexus_iscsi_connection_received_bytes_total', 'Bytes of iSCSI PDUs received (header and data segment), by opcode', [...connLabels, 'opcode']);
  const pdusOut = counter('nexus_iscsi_connection_pdus_sent_total', 'iSCSI PDUs sent, by opcode', [...connLabels, 'opcode']);
  const octetsOut = counter('nexus_iscsi_connection_sent_bytes_total', 'Bytes of iSCSI PDUs sent (header and data segment), by opcode', [...connLabels, 'opcode']);
  const digestErrors = counter('nexus_iscsi_connection_digest_errors_total', 'PDUs received with a wrong CRC32C digest, by segment', [...connLabels, 'segment']);
  const r2ts = counter('nexus_iscsi_connection_r2ts_total', 'R2T PDUs sent (Data-Out solicited)', connLabels);
  for (const s of stats.sessionStats) {
    const labels: Labels = { target: s.target, initiator: s.initiatorName, isid: s.isid, tsih: String(s.tsih) };
    addSession(labels, s);
    for (const c of s.connections) {
      const cl: Labels = { ...labels, cid: String(c.cid) };
      for (const [name, n] of Object.entries(c.counters)) {
        const [kind, opcode] = name.split('.');
        if (opcode === undefined) continue;
        const m = kind === 'pdusIn' ? pdusIn : kind === 'octetsIn' ? octetsIn : kind === 'pdusOut' ? pdusOut : kind === 'octetsOut' ? octetsOut : undefined;
        m?.inc({ ...cl, opcode }, n);
      }
      digestErrors.inc({ ...cl, segment: 'header' }, c.counters.headerDigestErrors ?? 0);
      digestErrors.inc({ ...cl, segment: 'data' }, c.counters.dataDigestErrors ?? 0);
      r2ts.inc(cl, c.counters.r2ts ?? 0);
    }
  }

  const busy = counter('nexus_engine_thread_busy_seconds_total', 'Time the engine thread\'s event loop spent running', ['thread']);
  const idle = counter('nexus_engine_thread_idle_seconds_total', 'Time the engine thread\'s event loop spent waiting', ['thread']);
  const held = gauge('nexus_engine_thread_pool_buffers_in_use', 'Pool buffers the engine thread holds', ['thread']);
  const ringDepth = gauge('nexus_engine_thread_ring_depth', 'Descriptors waiting in the engine thread\'s rings, by direction', ['thread', 'direction']);
  const ringFull = counter('nexus_engine_thread_ring_full_total', 'Descriptors the engine thread could not send at once because the ring was full', ['thread']);
  for (const t of stats.threads) {
    const labels = { thread: String(t.index) };
    ringDepth.set({ ...labels, direction: 'inbound' }, t.counters['ring.inboundDepth'] ?? 0);
    ringDepth.set({ ...labels, direction: 'outbound' }, t.counters['ring.outboundDepth'] ?? 0);
    ringFull.inc(labels, t.counters['scheduler.ringFull'] ?? 0);
    busy.inc(labels, (t.counters.busyMs ?? 0) / 1000);
    idle.inc(labels, (t.counters.idleMs ?? 0) / 1000);
    held.set(labels, t.counters.poolBuffersInUse ?? 0);
  }
  // Memory: the process as the kernel counts it, then each thread's isolate (thread "main" is the
  // supervisor). Resident minus the isolates' heaps and external memory is native: glibc arenas,
  // the buffer pool's mapping, code.
  gauge('nexus_memory_resident_bytes', 'Resident set of the daemon process (VmRSS)', []).set(stats.memory.residentBytes);
  gauge('nexus_memory_anonymous_bytes', 'Anonymous resident memory of the daemon process (smaps_rollup)', []).set(stats.memory.anonymousBytes);
  const perThread: ReadonlyArray<readonly [MemoryCounter, string, string]> = [
    [MemoryCounter.HEAP_LIMIT, 'nexus_memory_heap_limit_bytes', 'The most the thread\'s V8 heap may reserve'],
    [MemoryCounter.HEAP_TOTAL, 'nexus_memory_heap_total_bytes', 'V8 heap reserved by the thread\'s isolate'],
    [MemoryCounter.HEAP_USED, 'nexus_memory_heap_used_bytes', 'V8 heap in use (live and not yet collected) in the thread\'s isolate'],
    [MemoryCounter.NEW_SPACE, 'nexus_memory_new_space_bytes', 'V8 young generation reserved by the thread\'s isolate'],
    [MemoryCounter.EXTERNAL, 'nexus_memory_external_bytes', 'Memory outside the V8 heap kept alive by the thread\'s objects'],
    [MemoryCounter.ARRAY_BUFFERS, 'nexus_memory_array_buffers_bytes', 'ArrayBuffer and Buffer memory of the thread\'s isolate'],
    [MemoryCounter.READ_BUFFERS_KEPT, 'nexus_memory_read_buffers_kept_bytes', 'Given-back read buffers the thread keeps for reuse'],
  ];
  const threadRows: ReadonlyArray<readonly [string, { readonly [name: string]: number }]> = [
    ['main', stats.memory.main], ...stats.threads.map(t => [String(t.index), t.counters] as const),
  ];
  for (const [key, name, help] of perThread) {
    const g = gauge(name, help, ['thread']);
    for (const [thread, counters] of threadRows) {
      const v = counters[key];
      if (v !== undefined) g.set({ thread }, v);
    }
  }
  const inUse = gauge('nexus_buffer_pool_buffers_in_use', 'Pool buffers in use, by size class', ['size_bytes']);
  const total = gauge('nexus_buffer_pool_buffers', 'Pool buffers, by size class', ['size_bytes']);
  for (const c of stats.pool) {
    inUse.set({ size_bytes: String(c.size) }, c.inUse);
    total.set({ size_bytes: String(c.size) }, c.count);
  }
  return registry;
}

export interface MetricsEndpoint {
  /** Where it listens ("host:port", the port the system chose for port 0). */
  readonly address: string;
  close(): Promise<void>;
}

/** Starts the HTTP endpoint: GET /metrics answers the exposition format; anything else 404. */
export async function startMetricsEndpoint(o: {
  host: string; port: number; gather: () => Promise<StatsView>; version: string; log: Logger;
}): Promise<MetricsEndpoint> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    o.gather().then(async (stats) => {
      const registry = metricsRegistry(stats, o.version);
      const text = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType }).end(text);
    }).catch((e: unknown) => {
      o.log.error({ err: e }, 'metrics scrape failed');
      res.writeHead(500, { 'content-type': 'text/plain' }).end('scrape failed\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new NexusError('ERR_METRICS_LISTEN', `/metrics/listen: cannot listen on ${o.host}:${o.port}: ${e.code ?? e.message}`)));
    server.listen(o.port, o.host, () => resolve());
  });
  const a = server.address();
  const port = typeof a === 'object' && a !== null ? a.port : o.port;
  const address = o.host.includes(':') ? `[${o.host}]:${port}` : `${o.host}:${port}`;
  return {
    address,
    close: () => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
