import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { EXIT_OK, EXIT_USAGE, runCli, type CliIo } from '../../../src/cli/main';

function io(): CliIo & { text(): string; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { err, text: () => out.join(''), stdout: (t) => { out.push(t); }, stderr: (t) => { err.push(t); } };
}

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const t = io();
  const code = await runCli(argv, { io: t });
  return { code, out: t.text(), err: t.err.join('') };
}

/** The subcommand names a command's --help lists under "Commands:" (commander's own rendering). */
function commandsInHelp(help: string): string[] {
  const at = help.indexOf('\nCommands:\n');
  if (at < 0) return [];
  return help.slice(at + 11).split('\n').filter(l => /^ {2}\S/.test(l)).map(l => l.trim().split(/\s+/)[0]).filter(n => n !== 'help');
}

/** Runs the bash completer on a command line (the last word is the one completed). */
function complete(script: string, words: string[]): string[] {
  const line = `${script}\nCOMP_WORDS=(${words.map(w => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _nexus; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', line], { encoding: 'utf8', cwd: '/' });
  expect(r.status, r.stderr).to.equal(0);
  return r.stdout.split('\n').filter(x => x !== '');
}

describe('cli: shell completion and help on every command', function () {
  this.timeout(60000);
  let bash = '';
  before(async () => {
    const r = await cli('completion', 'bash');
    expect(r.code).to.equal(EXIT_OK);
    bash = r.out;
  });

  it('the bash script names every command at every depth, as --help lists them, and each answers --help', async () => {
    const seen: string[] = [];
    const walk = async (path: string[]): Promise<void> => {
      const h = await cli(...path, '--help');
      expect(h.code, path.join(' ')).to.equal(EXIT_OK);
      expect(h.out).to.contain(`Usage: nexus${path.length > 0 ? ' ' + path.join(' ') : ''}`);
      const subs = commandsInHelp(h.out);
      // The script's entry for this path in _nexus_commands (its first case list) offers exactly these.
      const entry = new RegExp(`^ {4}"${path.join(' ')}"\\) echo "([^"]*)" ;;$`, 'm').exec(bash);
      expect(entry, `no entry for "${path.join(' ')}"`).to.not.equal(null);
      seen.push(path.join(' '));
      if (path.length === 0) expect(entry![1].split(' ')).to.deep.equal([...subs, 'help']);
      else expect(entry![1].split(' ').filter(x => x !== '')).to.deep.equal(subs);
      for (const s of subs) await walk([...path, s]);
    };
    await walk([]);
    for (const c of ['device add', 'config apply', 'stats', 'session logout', 'library import', 'completion', 'lun map', 'group add', 'tape create']) {
      expect(seen).to.include(c);
    }
  });

  it('bash completes commands, subcommands and options; other words complete as file names', () => {
    expect(complete(bash, ['nexus', 'dev'])).to.deep.equal(['device']);
    expect(complete(bash, ['nexus', 'device', ''])).to.deep.equal(['add', 'rm', 'resize', 'set', 'medium']);
    expect(complete(bash, ['nexus', 'device', 'add', 'd0', '--ha'])).to.deep.equal(['--handler']);
    expect(complete(bash, ['nexus', 'stats', '--w'])).to.deep.equal(['--watch']);
    expect(complete(bash, ['nexus', '--control', '/run/x.sock', 'config', 'ap'])).to.deep.equal(['apply']);
    expect(complete(bash, ['nexus', 'help', 'ses'])).to.deep.equal(['session']);
    expect(complete(bash, ['nexus', 'validate', 'et'])).to.deep.equal(['etc']);
  });

  it('zsh gets the same completer through bashcompinit; an unknown shell is a usage error', async () => {
    const z = await cli('completion', 'zsh');
    expect(z.code).to.equal(EXIT_OK);
    expect(z.out).to.contain('bashcompinit');
    expect(z.out).to.contain('complete -F _nexus nexus');
    expect(z.out).to.contain(bash.split('\n').slice(1).join('\n'));
    const bad = await cli('completion', 'fish');
    expect(bad.code).to.equal(EXIT_USAGE);
    expect(bad.err).to.contain('unknown shell "fish"');
  });

  it('help <command> <subcommand> prints the subcommand\'s help', async () => {
    const h = await cli('help', 'device', 'add');
    expect(h.code).to.equal(EXIT_OK);
    expect(h.out).to.contain('Usage: nexus device add');
    expect(h.out).to.contain('--handler');
  });
});
