'use strict';
/**
 * Judge an iscsi-test-cu run against the expected-failures list.
 *
 *   node test/conformance/judge.js RESULTS.tsv EXPECTED.txt
 *
 * RESULTS.tsv: "FAM.Suite.Test<TAB>PASS|FAIL|SKIP|ERROR<TAB>message" (written by run.sh).
 * EXPECTED.txt: "FAM.Suite.Test  reason" per line; blank lines and # comments ignored.
 * Last line printed: "N passed, N failed" (failed = FAIL/ERROR not in the list). Exit 1 if failed > 0.
 */
const fs = require('node:fs');

function readResults(file) {
  const rows = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line === '') continue;
    const [name, result, message = ''] = line.split('\t');
    rows.push({ name, result, message });
  }
  return rows;
}

function readExpected(file) {
  const map = new Map();
  if (!fs.existsSync(file)) return map;
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+)\s*(.*)$/.exec(line);
    if (m !== null) map.set(m[1], m[2] === '' ? '(no reason given)' : m[2]);
  }
  return map;
}

function main(argv) {
  if (argv.length !== 2) {
    process.stderr.write('usage: judge.js RESULTS.tsv EXPECTED.txt\n');
    return 2;
  }
  const rows = readResults(argv[0]);
  const expected = readExpected(argv[1]);
  const out = [];
  const bySuite = new Map();
  const byFamily = new Map();
  const tally = (map, key, r) => {
    const c = map.get(key) ?? { PASS: 0, FAIL: 0, SKIP: 0, ERROR: 0 };
    c[r] += 1;
    map.set(key, c);
  };
  const seen = new Set();
  const skipped = [];
  const listed = [];
  const nowPassing = [];
  const unexpected = [];
  let passed = 0;
  for (const r of rows) {
    seen.add(r.name);
    const [family, suite] = r.name.split('.');
    tally(bySuite, `${family}.${suite}`, r.result);
    tally(byFamily, family, r.result);
    const isListed = expected.has(r.name);
    if (r.result === 'PASS') {
      passed += 1;
      if (isListed) nowPassing.push(r.name);
    } else if (r.result === 'SKIP') {
      skipped.push(`${r.name}  ${r.message}`);
    } else if (isListed) {
      listed.push(`${r.result.padEnd(5)} ${r.name}  (${expected.get(r.name)})`);
    } else {
      unexpected.push(`${r.name}  ${r.result}: ${r.message}`);
    }
  }
  const fmt = (k, c) => `${k.padEnd(34)} ${String(c.PASS).padStart(4)} ${String(c.FAIL).padStart(4)} ${String(c.SKIP).padStart(4)} ${String(c.ERROR).padStart(5)}`;
  out.push('', `${'suite'.padEnd(34)} pass fail skip error`);
  for (const [k, c] of bySuite) out.push(fmt(k, c));
  out.push('', `${'family'.padEnd(34)} pass fail skip error`);
  for (const [k, c] of byFamily) out.push(fmt(k, c));
  out.push('', `SKIPPED (${skipped.length}; not counted as passing):`, ...skipped.map((s) => `  ${s}`));
  out.push('', `failing as listed in expected-failures.txt (${listed.length}):`, ...listed.map((s) => `  ${s}`));
  const stale = [...expected.keys()].filter((k) => !seen.has(k) && /^(SCSI|iSCSI)\./.test(k));
  if (stale.length > 0) out.push('', `listed but not run this time (${stale.length}):`, ...stale.map((s) => `  ${s}`));
  out.push('', `listed in expected-failures.txt but now PASS - remove them (${nowPassing.length}):`, ...nowPassing.map((s) => `  ${s}`));
  out.push('', `UNEXPECTED failures (${unexpected.length}; fix, or list with a reason):`, ...unexpected.map((s) => `  ${s}`));
  out.push('', `${rows.length} tests: ${passed} passed, ${skipped.length} skipped, ${listed.length} expected failures, ${unexpected.length} unexpected failures`);
  out.push(`${passed} passed, ${unexpected.length} failed`);
  process.stdout.write(out.join('\n') + '\n');
  return unexpected.length === 0 ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
