// Issue 10: "The metrics endpoint scraped during a benchmark shows the same IOPS as the client
// measured (±5 %)". libiscsi's iscsi-perf reads a null LUN for a few seconds and prints the IOPS
// it measured; the Prometheus endpoint is scraped before and after, and the READ commands it
// counted over the run's length must give the same rate.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import path from 'node:path';
import { ENGINE_THREADS, RunningDaemon, startDaemon } from '../helpers/daemon';
import { describeNeeds, NATIVE_ADDON, requirePrereq, tool } from '../helpers/prereq';
import { callOnce } from '../../src/daemon/control/client';

const TARGET = 'iqn.2026-11.io.nexus:iops';
const SECONDS = 5;

function scrape(address: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get(`http://${address}/metrics`, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

/** nexus_lun_read_commands_total of LUN 0 (the only mapping). */
function readCommands(body: string): number {
  const m = /^nexus_lun_read_commands_total\{[^}]*lun="0"[^}]*\} (\d+)$/m.exec(body);
  if (!m) throw new Error(`no nexus_lun_read_commands_total for LUN 0 in:\n${body.slice(0, 2000)}`);
  return Number(m[1]);
}

for (const threads of ENGINE_THREADS) {
  (threads > 0 ? describeNeeds(NATIVE_ADDON) : describe)(`metrics agree with the client's IOPS (engine threads: ${threads})`, function () {
    this.timeout(90000);
    let d: RunningDaemon;
    let sock: string;

    before(async () => {
      d = await startDaemon({
        metrics: { listen: '127.0.0.1:0' },
        devices: [{ name: 'null0', handler: 'nullio', size: '1GiB' }],
        targets: [{ driver: 'iscsi', name: TARGET, portals: ['127.0.0.1:0'], luns: [{ lun: 0, device: 'null0' }] }],
      }, { threads });
      sock = path.join(d.dir, 'state', 'control.sock');
    });
    after(async () => { if (d) await d.stop(); });

    it(`iscsi-perf for ${SECONDS} s: the READ rate scraped is the client's IOPS within 5 %`, async function () {
      requirePrereq(this, tool('iscsi-perf'));
      const info = (await callOnce(sock, 'daemon.info')) as { metrics: string };
      const base = readCommands(await scrape(info.metrics));
      // Sequential 4 KiB reads, 32 in flight (iscsi-perf's default queue depth).
      const p = spawn('iscsi-perf', ['-i', 'iqn.2026-11.example:iops', '-t', String(SECONDS), '-b', '8',
        `iscsi://127.0.0.1:${d.port}/${TARGET}/0`], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (b: Buffer) => (out += b.toString()));
      p.stderr.on('data', (b: Buffer) => (out += b.toString()));
      let exited = false;
      const done = new Promise<number | null>(r => p.once('exit', c => { exited = true; r(c); }));
      // The client's IOPS are its requests over the time from its first to its last one: scraped
      // every 50 ms, the same window runs from the last scrape before reads were counted to the
      // first that counted them all (each end within one scrape interval).
      let first: { t: number; n: number } | undefined;
      let prev = { t: performance.now(), n: base };
      let last = prev;
      for (;;) {
        // A sample's time is the middle of its request: the count was taken somewhere in it.
        const sent = performance.now();
        const n = readCommands(await scrape(info.metrics));
        const t = (sent + performance.now()) / 2;
        if (n > prev.n) {
          if (first === undefined) first = prev;
          last = { t, n };
        } else if (exited && (first !== undefined ? t - last.t > 500 : t - prev.t > 3000)) {
          break;
        }
        prev = { t, n };
        await new Promise(r => setTimeout(r, 50));
      }
      expect(await done, out).to.equal(0);
      expect(first, 'reads were counted').to.not.equal(undefined);
      // The client's own figure: its last "iops average N" (requests over its run's time).
      const averages = [...out.matchAll(/iops average (\d+)/g)].map(m => Number(m[1]));
      expect(averages.length, out).to.be.greaterThan(0);
      const client = averages[averages.length - 1];
      expect(client, 'the client did read').to.be.greaterThan(100);
      const scraped = (last.n - first!.n) / ((last.t - first!.t) / 1000);
      expect(Math.abs(scraped - client) / client, `scraped ${scraped.toFixed(0)} IOPS, client ${client} IOPS`).to.be.at.most(0.05);
    });
  });
}
