import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { EXIT_OK, runCli, type CliIo } from '../../../src/cli/main';
import { packageVersion } from '../../../src/daemon/version';

const ROOT = path.join(__dirname, '../../..');
const PKG = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  version: string; bin: Record<string, string>; man: string[]; scripts: Record<string, string>;
};

function io(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => { out.push(t); }, stderr: (t) => { err.push(t); } };
}

describe('cli: the nexus command', () => {
  it('--version prints the package version and exits 0', async () => {
    const t = io();
    expect(await runCli(['--version'], { io: t })).to.equal(EXIT_OK);
    expect(t.out.join('')).to.equal(`${PKG.version}\n`);
    expect(packageVersion()).to.equal(PKG.version);
  });

  it('help <command> prints that command\'s options', async () => {
    const t = io();
    expect(await runCli(['help', 'serve'], { io: t })).to.equal(EXIT_OK);
    const text = t.out.join('');
    expect(text).to.contain('Usage: nexus serve');
    for (const opt of ['--log-level', '--state-dir', '--listen']) expect(text).to.contain(opt);
  });

  it('bin/nexus runs from another directory through a symlink, as npm link installs it', function () {
    this.timeout(30000);
    const dir = mkdtempSync(path.join(tmpdir(), 'nexus-bin-'));
    try {
      const link = path.join(dir, 'nexus');
      symlinkSync(path.join(ROOT, PKG.bin.nexus), link);
      const r = spawnSync(process.execPath, [link, '--version'], { cwd: dir, encoding: 'utf8', timeout: 25000 });
      expect(r.stderr).to.equal('');
      expect(r.stdout).to.equal(`${PKG.version}\n`);
      expect(r.status).to.equal(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('npm start serves once the build is there, and the man page is installed with the package', () => {
    expect(PKG.scripts.start).to.equal('node bin/nexus serve');
    expect(PKG.scripts.prepare).to.equal('npm run build');
    for (const page of PKG.man) expect(readFileSync(path.join(ROOT, page), 'utf8')).to.match(/^\.TH NEXUS 1 /);
  });
});
