import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { BEGIN, END, commandTable } from '../../../scripts/command-table';
import { ISCSI_SETTINGS } from '../../../src/transports/iscsi/settings';

const root = path.join(__dirname, '..', '..', '..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

describe('README stays true to the code', () => {
  it('the supported-commands table is the one generated from the CDB tables (npm run docs:commands)', () => {
    const i = readme.indexOf(BEGIN), j = readme.indexOf(END);
    expect(i, 'command table markers').to.be.greaterThan(-1);
    expect(readme.slice(i + BEGIN.length, j).trim()).to.equal(commandTable().trim());
  });

  it('quotes examples/embedded.ts verbatim and the example runs', () => {
    const example = fs.readFileSync(path.join(root, 'examples', 'embedded.ts'), 'utf8');
    expect(readme).to.contain(example.trim());
    const out = execFileSync(process.execPath, ['--require', 'tsx/cjs', path.join(root, 'examples', 'embedded.ts')], {
      cwd: root, timeout: 30000, encoding: 'utf8',
    });
    expect(out).to.contain('read back equal: true');
    expect(out).to.contain('after resize: asc 2ah ascq 09h');
    expect(out).to.contain('LUN reset: FUNCTION_COMPLETE');
  });

  it('has exactly two command lines in the Quick start', () => {
    const qs = readme.split('## Quick start')[1]?.split('\n## ')[0] ?? '';
    const block = qs.match(/```sh\n([\s\S]*?)```/);
    expect(block, 'a sh block in Quick start').to.not.equal(null);
    const lines = block![1].split('\n').filter(l => l.trim() && !l.trim().startsWith('#'));
    expect(lines).to.have.length(2);
    expect(lines[1]).to.contain('npm ci');
    expect(fs.readFileSync(path.join(root, '.ci', 'run'), 'utf8')).to.contain(lines[1].trim());
  });

  it('the Reliability limits table names real iscsi settings with their defaults', () => {
    const section = readme.split('## Reliability')[1]?.split('\n## ')[0] ?? '';
    const rows = [...section.matchAll(/^\| `(\w+)` \| (\d+) \|/gm)].map(m => [m[1], Number(m[2])] as const);
    expect(rows.length).to.be.greaterThan(0);
    for (const [name, value] of rows) {
      const s = ISCSI_SETTINGS.find(x => x.name === name);
      expect(s, name).to.not.equal(undefined);
      expect(s!.default, name).to.equal(value);
    }
    for (const limit of ['dataOutTimeoutSec', 'loginTimeoutSec', 'maxLoginRequests', 'maxTextRequests', 'sendTimeoutSec', 'maxConnectionsPerAddress', 'maxConnectionsPerInitiator', 'maxSessions', 'maxLoginsPerSecond', 'maxDataOutMiBPerSession', 'maxDataInMiBPerSession']) {
      expect(rows.map(r => r[0]), limit).to.include(limit);
    }
  });
});
