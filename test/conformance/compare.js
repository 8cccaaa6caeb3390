'use strict';
/**
 * Tests tgtd passes and Nexus does not ("every test tgtd passes, Nexus passes").
 *
 *   node test/conformance/compare.js [BASELINE] [RESULTS.tsv]
 *     BASELINE     default test/conformance/tgt-baseline.txt ("FAM.Suite.Test<TAB>RESULT" lines)
 *     RESULTS.tsv  default .cache/conformance/nexus/results.tsv (from test/conformance/run.sh)
 * Prints one line per such test with Nexus's result and message, then a count line.
 * Exit 1 when there is at least one, 0 otherwise.
 */
const fs = require('node:fs');
const path = require('node:path');

function load(file) {
  const m = new Map();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [name, result, message = ''] = line.split('\t');
    m.set(name, { result, message });
  }
  return m;
}

const root = path.resolve(__dirname, '..', '..');
const [baseFile = path.join(__dirname, 'tgt-baseline.txt'), resFile = path.join(root, '.cache/conformance/nexus/results.tsv')] = process.argv.slice(2);
const base = load(baseFile);
const nexus = load(resFile);
let worse = 0;
let better = 0;
for (const [name, b] of base) {
  const n = nexus.get(name);
  if (b.result === 'PASS' && (n === undefined || n.result !== 'PASS')) {
    worse += 1;
    process.stdout.write(`${name}  tgtd PASS, nexus ${n === undefined ? 'NOT RUN' : `${n.result}${n.message !== '' ? `: ${n.message}` : ''}`}\n`);
  } else if (b.result !== 'PASS' && n !== undefined && n.result === 'PASS') {
    better += 1;
  }
}
process.stdout.write(`${worse} tests tgtd passes and nexus does not; ${better} tests nexus passes and tgtd does not\n`);
process.exitCode = worse === 0 ? 0 : 1;
