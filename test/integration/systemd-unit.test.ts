// contrib/systemd/nexus.service: systemd accepts it, it carries the options the README promises,
// and its start-up check (`nexus ready`) reports a portal that does not listen.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { EXIT_FAILURE, EXIT_OK, runCli, type CliIo } from '../../src/cli/main';
import { itNeeds, tool } from '../helpers/prereq';

const ROOT = path.resolve(__dirname, '..', '..');
const UNIT = path.join(ROOT, 'contrib/systemd/nexus.service');
const INSTALLED = '/usr/local/bin/nexus';

function io(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => { out.push(t); }, stderr: (t) => { err.push(t); } };
}

describe('systemd unit (contrib/systemd/nexus.service)', function () {
  this.timeout(60000);
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(path.join(tmpdir(), 'nexus-unit-')); });
  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

  it('restarts on failure, is hardened and keeps its state in StateDirectory', () => {
    const unit = readFileSync(UNIT, 'utf8');
    for (const line of ['Type=simple', 'Restart=on-failure', 'ProtectSystem=strict', 'ProtectHome=yes', 'NoNewPrivileges=yes',
      'StateDirectory=nexus', `ExecStart=${INSTALLED} serve /etc/nexus/topology.json --state-dir /var/lib/nexus`,
      `ExecStartPost=${INSTALLED} ready /etc/nexus/topology.json --timeout 60`, 'ExecReload=/bin/kill -HUP $MAINPID']) {
      expect(unit.split('\n'), line).to.include(line);
    }
  });

  itNeeds(tool('systemd-analyze'))('systemd-analyze verify accepts it (with the nexus of this tree)', () => {
    // As installed: the command at this tree's bin/nexus. The Documentation= man page is
    // package.json's "man" (checked in test/unit/cli); man-db need not be here.
    const unit = path.join(dir, 'nexus.service');
    writeFileSync(unit, readFileSync(UNIT, 'utf8').split(INSTALLED).join(path.join(ROOT, 'bin/nexus')));
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', unit], { encoding: 'utf8', timeout: 30000 });
    expect(r.stderr + r.stdout).to.equal('');
    expect(r.status).to.equal(0);
  });

  it('nexus ready: exit 0 once every portal accepts, 1 naming the portals that do not', async () => {
    const server: Server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const doc = (ports: number[]): string => {
      const file = path.join(dir, `t${ports.join('-')}.json`);
      writeFileSync(file, JSON.stringify({
        devices: [{ name: 'n', handler: 'nullio', size: '1MiB' }],
        targets: [{ driver: 'iscsi', name: 'iqn.2026-11.io.nexus:ready', portals: ports.map((p) => `127.0.0.1:${p}`), luns: [{ lun: 0, device: 'n' }] }],
      }));
      return file;
    };
    try {
      expect(await runCli(['ready', doc([port]), '--timeout', '5'], { io: io(), cwd: dir })).to.equal(EXIT_OK);
      server.close();
      await new Promise((r) => setTimeout(r, 50));
      const t = io();
      expect(await runCli(['ready', doc([port]), '--timeout', '0.5'], { io: t, cwd: dir })).to.equal(EXIT_FAILURE);
      expect(t.err.join('')).to.equal(`nexus: not ready after 0.5 s: 127.0.0.1:${port} not accepting connections\n`);
    } finally {
      server.close();
    }
  });
});
