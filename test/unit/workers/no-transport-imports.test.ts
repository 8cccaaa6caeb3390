// DESIGN.md §6: transports plug into the runtime through src/transports/fabric.ts; the runtime
// (src/workers) never imports a transport. Scans every import, export-from and require of every
// file under src/workers with the TypeScript pre-processor and fails on any that resolves into
// src/transports.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

const ROOT = path.join(__dirname, '..', '..', '..');
const WORKERS = path.join(ROOT, 'src', 'workers');
const TRANSPORTS = path.join(ROOT, 'src', 'transports');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Module specifiers a file imports, re-exports or requires. */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
  return info.importedFiles.map(f => f.fileName);
}

/** Where a relative specifier points; bare package names point nowhere inside src. */
function target(file: string, spec: string): string | undefined {
  return spec.startsWith('.') ? path.resolve(path.dirname(file), spec) : undefined;
}

function insideTransports(p: string): boolean {
  const rel = path.relative(TRANSPORTS, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

describe('workers: the runtime imports no transport', () => {
  it('sees the imports of a file (the scan itself works)', () => {
    const probe = path.join(WORKERS, 'probe.ts');
    const info = ts.preProcessFile("import { a } from '../transports/fabric';\nexport * from './x';\nconst m = require('../transports/iscsi/server');\n", true, true);
    const specs = info.importedFiles.map(f => f.fileName);
    expect(specs).to.deep.equal(['../transports/fabric', './x', '../transports/iscsi/server']);
    expect(specs.map(s => target(probe, s)).filter((p): p is string => p !== undefined).filter(insideTransports)).to.have.length(2);
  });

  it('no file under src/workers imports from src/transports', () => {
    const files = sources(WORKERS);
    expect(files.length).to.be.greaterThan(10);
    const offenders: string[] = [];
    for (const f of files) {
      for (const spec of importsOf(f)) {
        const p = target(f, spec);
        if (p !== undefined && insideTransports(p)) offenders.push(`${path.relative(ROOT, f)} imports ${spec}`);
      }
    }
    expect(offenders).to.deep.equal([]);
  });
});
