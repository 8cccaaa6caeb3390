// `npm run fuzz`: the fuzz suites through mocha, as `npm test` runs them (short versions).
// `npm run fuzz -- --long`: the hostile-load test at full size (10^6 PDUs over 10^4+ connections,
// NEXUS_FUZZ_LONG=1), printing its figures. NEXUS_FUZZ_SEED=<n> replays a seed in either mode.
import { spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const args = process.argv.slice(2);
const long = args.includes('--long');
const unknown = args.filter((a) => a !== '--long');
if (unknown.length > 0) {
  process.stderr.write(`usage: npm run fuzz [-- --long]   (unknown: ${unknown.join(' ')})\n`);
  process.exit(2);
}
const files = long ? ['test/fuzz/hostile-load.test.ts'] : ['test/fuzz/**/*.test.ts'];
const child = spawn(process.execPath, [require.resolve('mocha/bin/mocha.js'), ...files], {
  cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...(long ? { NEXUS_FUZZ_LONG: '1' } : {}) },
});
// Ctrl-C or a CI timeout reaches mocha, whose after() hooks stop the daemon and every client.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, sig);
  });
}
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
