import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { profilingFlags } from '../../../src/workers/supervisor';

describe('runtime: profiling flags reach the engine threads', function () {
  this.timeout(60000);

  it('keeps only the V8 profiling flags of an execArgv', () => {
    expect(profilingFlags(['--cpu-prof', '--cpu-prof-dir=/tmp/p', '--require', 'x', '--heap-prof-interval=64', '--inspect']))
      .to.deep.equal(['--cpu-prof', '--cpu-prof-dir=/tmp/p', '--heap-prof-interval=64']);
    expect(profilingFlags([])).to.deep.equal([]);
  });

  it('a process started with --cpu-prof writes one profile per engine thread besides its own', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nexus-prof-'));
    try {
      const script = resolve(__dirname, 'fixtures/one-thread-inquiry.ts');
      const r = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', 'tsx', script],
        { encoding: 'utf8', timeout: 50000 });
      expect(r.status, `${r.stdout}${r.stderr}`).to.equal(0);
      expect(r.stdout).to.contain('status 0');
      const profiles = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
      // The main thread's, tsx's loader thread's, and the engine thread's.
      expect(profiles.length).to.be.at.least(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
