// The control plane end to end: the daemon on loopback, a real initiator (libiscsi's iscsi-perf)
// doing I/O, the control socket, the Prometheus endpoint and the `nexus` admin commands.
import { expect } from 'chai';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import path from 'node:path';
import { ENGINE_THREADS, RunningDaemon, startDaemon } from '../helpers/daemon';
import { describeNeeds, NATIVE_ADDON, requirePrereq, tool } from '../helpers/prereq';
import { ControlCallError, ControlClient, callOnce } from '../../src/daemon/control/client';
import { ControlErrorCode } from '../../src/daemon/control/protocol';
import { REDACTED } from '../../src/daemon/control/config-document';
import type { SessionInfo, StatsView } from '../../src/daemon/control/daemon-methods';
import { normalizeTopology } from '../../src/daemon/config/load';
import { run, type Run } from '../helpers/run';

const ROOT = path.resolve(__dirname, '..', '..');
const TARGET = 'iqn.2026-11.io.nexus:ctl';
const PERF = 'iqn.2026-11.example:perf';


function nexus(...args: string[]): Promise<Run> {
  return run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args]);
}

function scrape(address: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(`http://${address}/metrics`, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    }).on('error', reject);
  });
}

/** The value of one sample line `name{labels} value` whose labels include every given pair. */
function sample(body: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of body.split('\n')) {
    if (!line.startsWith(name + '{')) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

function perf(port: number, seconds: number, initiator = PERF): ChildProcess {
  return spawn('iscsi-perf', ['-i', initiator, '-t', String(seconds), '-b', '8', `iscsi://ctl%ctl-secret-12345@127.0.0.1:${port}/${TARGET}/0`], { stdio: 'ignore' });
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 15000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 100));
  }
}

for (const threads of ENGINE_THREADS) {
  (threads > 0 ? describeNeeds(NATIVE_ADDON) : describe)(`control plane, metrics and admin CLI (engine threads: ${threads})`, function () {
    this.timeout(120000);
    let d: RunningDaemon;
    let sock: string;

    before(async () => {
      d = await startDaemon({
        metrics: { listen: '127.0.0.1:0' },
        devices: [
          { name: 'null0', handler: 'nullio', size: '1GiB' },
          { name: 'ram0', handler: 'ram', size: '8MiB' },
        ],
        targets: [{
          driver: 'iscsi', name: TARGET, portals: ['127.0.0.1:0'],
          auth: { chap: { user: 'ctl', secret: 'ctl-secret-12345' } },
          luns: [{ lun: 0, device: 'null0' }],
          groups: [{ name: 'perf', initiators: [PERF, 'iqn.2026-11.example:other'], luns: [{ lun: 0, device: 'null0' }, { lun: 1, device: 'ram0', readOnly: true }] }],
        }],
      }, { threads });
      sock = path.join(d.dir, 'state', 'control.sock');
    });
    after(async () => { if (d) await d.stop(); });

    it('serves the control socket at <stateDir>/control.sock, mode 0600', async () => {
      const st = fs.statSync(sock);
      expect(st.isSocket()).to.equal(true);
      expect(st.mode & 0o777).to.equal(0o600);
      const info = (await callOnce(sock, 'daemon.info')) as { pid: number; engineThreads: number; threads: { up: boolean }[]; metrics: string };
      expect(info.pid).to.equal(d.pid);
      expect(info.engineThreads).to.equal(threads);
      expect(info.threads.every(t => t.up)).to.equal(true);
      expect(info.metrics).to.match(/^127\.0\.0\.1:\d+$/);
    });

    it('config.get returns the running topology, secrets redacted unless asked, and it validates', async () => {
      const redacted = (await callOnce(sock, 'config.get')) as { targets: { auth: { chap: { secret: string } } }[] };
      expect(redacted.targets[0].auth.chap.secret).to.equal(REDACTED);
      const full = (await callOnce(sock, 'config.get', { secrets: true })) as { targets: { auth: { chap: { secret: string } } }[] };
      expect(full.targets[0].auth.chap.secret).to.equal('ctl-secret-12345');
      const again = normalizeTopology(full, { stateDir: null });
      expect(again.ok, again.ok ? '' : JSON.stringify(again.errors)).to.equal(true);
    });

    it('during I/O: sessions, LUNs, statistics and metrics agree; bad input changes nothing', async function () {
      requirePrereq(this, tool('iscsi-perf'));
      const p = perf(d.port, 25);
      const exited = new Promise<number | null>(r => p.once('exit', code => r(code)));
      try {
        const s = await until('the session', async () => {
          const list = (await callOnce(sock, 'sessions.list')) as SessionInfo[];
          return list.find(x => x.initiatorName === PERF);
        });
        expect(s.target).to.equal(TARGET);
        expect(s.isid).to.match(/^[0-9a-f]{12}$/);
        expect(s.tsih).to.be.greaterThan(0);
        if (threads > 0) {
          expect(s.thread).to.be.within(0, threads - 1);
          expect(s.portal).to.equal(`127.0.0.1:${d.port}`);
          expect(s.negotiated).to.have.property('maxBurstLength');
        }
        const luns = (await callOnce(sock, 'luns.list')) as { target: string; group: string; lun: number; device: string; taskSetDepth: number | null }[];
        expect(luns.map(l => `${l.group}/${l.lun}/${l.device}`)).to.deep.equal(['/0/null0', 'perf/0/null0', 'perf/1/ram0']);
        expect(luns.every(l => typeof l.taskSetDepth === 'number')).to.equal(true);

        // Bad input while the initiator reads: each gets its error, I/O goes on.
        const c = await ControlClient.connect(sock);
        const unknown = await c.call('no.such').then(() => undefined, (e: ControlCallError) => e);
        expect(unknown?.code).to.equal(ControlErrorCode.METHOD_NOT_FOUND);
        const wrong = await c.call('session.logout', { tsih: 'one' }).then(() => undefined, (e: ControlCallError) => e);
        expect(wrong?.code).to.equal(ControlErrorCode.INVALID_PARAMS);
        expect(wrong?.data?.path).to.equal('/params/tsih');
        const loop = await Promise.all(Array.from({ length: 1000 }, () => c.call('daemon.info')));
        expect(loop).to.have.length(1000);
        c.close();
        const huge = await new Promise<string>((resolve) => {
          const s2 = net.connect(sock);
          let got = '';
          s2.on('data', (b) => { got += b.toString(); });
          s2.on('close', () => resolve(got));
          s2.on('error', () => undefined);
          s2.write(Buffer.alloc(2 * 1024 * 1024, 0x20));
        });
        expect(huge).to.contain(String(ControlErrorCode.REQUEST_TOO_LARGE));
        await new Promise<void>((resolve) => {
          const s3 = net.connect(sock, () => { s3.write('{"jsonrpc":"2.0","id":1,"method":"stats.get"}\n{"jsonrpc":'); s3.destroy(); resolve(); });
        });

        // Statistics move while the initiator reads, and the endpoint exports them.
        const first = (await callOnce(sock, 'stats.get')) as StatsView;
        await new Promise(r => setTimeout(r, 700));
        const second = (await callOnce(sock, 'stats.get')) as StatsView;
        const dev = (v: StatsView): StatsView['devices'][number] => v.devices.find(x => x.device === 'null0')!;
        expect(dev(second).readBytes).to.be.greaterThan(dev(first).readBytes);
        expect(dev(second).latency.buckets.reduce((a, b) => a + b, 0)).to.be.greaterThan(0);
        // iscsi-perf -b 8 reads 8 blocks of 512 bytes: the ≤ 8 KiB size class.
        expect(dev(second).latency.bySize[0].maxBytes).to.equal(8192);
        expect(dev(second).latency.bySize[0].buckets.reduce((a, b) => a + b, 0)).to.be.greaterThan(0);
        // Per session: its commands and bytes, latency by size; per connection: PDUs by kind.
        const ses = (v: StatsView): StatsView['sessionStats'][number] => v.sessionStats.find(x => x.tsih === s.tsih)!;
        expect(ses(second).initiatorName).to.equal(PERF);
        expect(ses(second).thread).to.equal(threads > 0 ? s.thread : null);
        expect(ses(second).readBytes).to.be.greaterThan(ses(first).readBytes);
        expect(ses(second).readCommands).to.be.greaterThan(0);
        expect(ses(second).latency.bySize[0].buckets.reduce((a, b) => a + b, 0)).to.be.greaterThan(0);
        expect(ses(second).taskSetDepth).to.be.within(0, 128);
        const conn = ses(second).connections[0].counters;
        expect(conn['pdusIn.SCSI_COMMAND']).to.be.greaterThan(0);
        expect(conn['pdusOut.SCSI_DATA_IN']).to.be.greaterThan(0);
        expect(conn['octetsOut.SCSI_DATA_IN']).to.be.greaterThan(conn['pdusOut.SCSI_DATA_IN'] * 48);
        expect(conn.dataDigestErrors).to.equal(0);
        expect(conn.r2ts).to.equal(0);
        if (threads > 0) {
          const t = second.threads.find(x => x.index === s.thread)!;
          expect(t.counters['ring.inboundDepth']).to.be.a('number');
          expect(t.counters['scheduler.ringFull']).to.be.a('number');
        }
        const info = (await callOnce(sock, 'daemon.info')) as { metrics: string };
        const m = await scrape(info.metrics);
        expect(m.status).to.equal(200);
        expect(m.type).to.contain('text/plain');
        const read = sample(m.body, 'nexus_lun_read_bytes_total', { target: TARGET, group: 'perf', lun: '0', device: 'null0' });
        expect(read).to.be.greaterThan(dev(first).readBytes - 1);
        expect(sample(m.body, 'nexus_lun_command_latency_seconds_bucket', { device: 'null0', le: '+Inf' })).to.be.greaterThan(0);
        expect(Number(/^nexus_sessions (\d+)$/m.exec(m.body)?.[1])).to.be.greaterThan(0);
        const sl = { target: TARGET, initiator: PERF, tsih: String(s.tsih) };
        expect(sample(m.body, 'nexus_session_read_bytes_total', sl)).to.be.greaterThan(ses(first).readBytes - 1);
        expect(sample(m.body, 'nexus_session_command_latency_seconds_count', { ...sl, max_transfer_bytes: '8192' })).to.be.greaterThan(0);
        expect(sample(m.body, 'nexus_iscsi_connection_pdus_received_total', { ...sl, opcode: 'SCSI_COMMAND' })).to.be.greaterThan(0);
        expect(sample(m.body, 'nexus_iscsi_connection_digest_errors_total', { ...sl, segment: 'data' })).to.equal(0);
        if (threads > 0) expect(m.body).to.match(/^nexus_engine_thread_busy_seconds_total\{thread="0"\} [0-9.e-]+$/m);
        // Memory: the process's resident set, and each isolate's heap (the supervisor is "main").
        expect(second.memory.residentBytes).to.be.greaterThan(second.memory.main['memory.heapTotal']);
        expect(Number(/^nexus_memory_resident_bytes (\d+)$/m.exec(m.body)?.[1])).to.be.greaterThan(16 << 20);
        expect(sample(m.body, 'nexus_memory_heap_used_bytes', { thread: 'main' })).to.be.greaterThan(0);
        if (threads > 0) expect(sample(m.body, 'nexus_memory_heap_total_bytes', { thread: '0' })).to.be.greaterThan(0);
        const other = await new Promise<number>((resolve, reject) => {
          http.get(`http://${info.metrics}/other`, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject);
        });
        expect(other).to.equal(404);

        // The admin CLI over the same socket.
        const ls = await nexus('ls', '--control', sock);
        expect(ls.code, ls.stderr).to.equal(0);
        expect(ls.stdout).to.contain('null0  nullio 1GiB');
        expect(ls.stdout).to.contain(`group perf: ${PERF}`);
        expect(ls.stdout).to.match(new RegExp(`session TSIH ${s.tsih}  ${PERF}`));
        const sls = await nexus('session', 'ls', '--json', '--control', sock);
        expect((JSON.parse(sls.stdout) as SessionInfo[]).some(x => x.tsih === s.tsih)).to.equal(true);
        const watch = await nexus('stats', '--watch', '0.5', '--count', '1', '--control', sock);
        expect(watch.code, watch.stderr).to.equal(0);
        expect(watch.stdout).to.match(/IOPS\s+READ MiB\/s/);
        expect(watch.stdout).to.match(new RegExp(`${TARGET} \\(perf\\)\\s+0\\s+null0\\s+[1-9]\\d*`));
        expect(watch.stdout).to.match(new RegExp(`^${s.tsih}\\s+${PERF}\\s+${TARGET}\\s+[1-9]\\d*`, 'm'));
      } finally {
        const code = await exited;
        expect(code, 'iscsi-perf exit status').to.equal(0);
      }
    });

    it('promtool check metrics passes on the exposition', async function () {
      requirePrereq(this, tool('promtool'));
      const info = (await callOnce(sock, 'daemon.info')) as { metrics: string };
      const m = await scrape(info.metrics);
      const r = await run('promtool', ['check', 'metrics'], { input: m.body });
      expect(r.code, r.stdout + r.stderr).to.equal(0);
    });

    it('session.logout asks the initiator to log out and the session is gone', async function () {
      requirePrereq(this, tool('iscsi-perf'));
      const p = perf(d.port, 20, 'iqn.2026-11.example:other');
      try {
        const s = await until('the session', async () => {
          const list = (await callOnce(sock, 'sessions.list')) as SessionInfo[];
          return list.find(x => x.initiatorName === 'iqn.2026-11.example:other');
        });
        const r = await nexus('session', 'logout', String(s.tsih), '--wait', '1000', '--control', sock);
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stdout).to.contain(`session ${s.tsih} logged out`);
        const list = (await callOnce(sock, 'sessions.list')) as SessionInfo[];
        expect(list.some(x => x.tsih === s.tsih)).to.equal(false);
      } finally {
        p.kill('SIGKILL');
      }
      const missing = await nexus('session', 'logout', '65000', '--control', sock);
      expect(missing.code).to.equal(1);
      expect(missing.stderr).to.contain('/params/tsih');
    });

    it('config get, --help and the exit codes a script relies on', async () => {
      const cfg = await nexus('config', 'get', '--control', sock);
      expect(cfg.code).to.equal(0);
      expect((JSON.parse(cfg.stdout) as { devices: unknown[] }).devices).to.have.length(2);
      const none = await nexus('stats', '--control', path.join(d.dir, 'nowhere.sock'));
      expect(none.code).to.equal(3);
      expect(none.stderr).to.contain('nowhere.sock');
      const help = await nexus('session', 'logout', '--help');
      expect(help.code).to.equal(0);
      expect(help.stdout).to.contain('--wait');
      const usage = await nexus('session', 'logout');
      expect(usage.code).to.equal(2);
    });
  });
}
