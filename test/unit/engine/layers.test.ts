import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  describeCycle, ImportGraph, importCycles, importGraph, LAYERS, layerRuleViolations, layerViolations,
} from '../../../scripts/import-graph';

const root = path.join(__dirname, '..', '..', '..');

describe('layers: the import graph of src/ (DESIGN.md §1, §2, §6)', () => {
  const g = importGraph(root);

  it('reads the graph with the compiler: the engine core is in it, with its imports', () => {
    expect(g.get('src/engine/pipeline.ts')).to.include('src/engine/cdb/dsl.ts');
    expect(g.size).to.be.greaterThan(50);
  });

  it('has no import cycle anywhere under src/', () => {
    const cycles = importCycles(g).map(describeCycle);
    expect(cycles, cycles.join('\n')).to.deep.equal([]);
  });

  for (const rule of LAYERS) {
    it(rule.rule, () => {
      const files = [...g.keys()].filter(f => f.startsWith(`${rule.from}/`));
      expect(files.length, `files under ${rule.from}`).to.be.greaterThan(3);
      const v = layerRuleViolations(g, rule);
      expect(v, v.join('\n')).to.deep.equal([]);
    });
  }

  it('fabric.ts is where the transports reach the runtime', () => {
    expect(g.get('src/transports/fabric.ts')?.some(d => d.startsWith('src/workers/'))).to.equal(true);
  });

  it('the engine core imports no device personality; only the device registry index does', () => {
    const core = layerViolations(g, 'src/engine', ['src/engine/devices'])
      .filter(v => !v.startsWith('src/engine/devices/') && v !== 'src/engine/engine.ts → src/engine/devices/index.ts');
    expect(core, core.join('\n')).to.deep.equal([]);
  });

  describe('the checks themselves', () => {
    const graph = (edges: Record<string, string[]>): ImportGraph => new Map(Object.entries(edges));

    it('report a cycle by all its files and one ring through them', () => {
      const c = importCycles(graph({ 'a.ts': ['b.ts'], 'b.ts': ['c.ts'], 'c.ts': ['a.ts', 'd.ts'], 'd.ts': [] }));
      expect(c).to.deep.equal([{ files: ['a.ts', 'b.ts', 'c.ts'], path: ['a.ts', 'b.ts', 'c.ts', 'a.ts'] }]);
      expect(describeCycle(c[0])).to.contain('a.ts → b.ts → c.ts → a.ts');
    });

    it('find a file that imports itself, and nothing in a graph without rings', () => {
      expect(importCycles(graph({ 'a.ts': ['a.ts'] }))).to.have.length(1);
      expect(importCycles(graph({ 'a.ts': ['b.ts'], 'b.ts': [] }))).to.deep.equal([]);
    });

    it('name the importer and the imported file of a layer violation', () => {
      const v = layerViolations(graph({ 'src/engine/x.ts': ['src/workers/y.ts', 'src/engine/z.ts'] }), 'src/engine', ['src/workers']);
      expect(v).to.deep.equal(['src/engine/x.ts → src/workers/y.ts']);
    });

    it("let a rule's named exception through, and nothing else", () => {
      const transports = LAYERS.find(r => r.from === 'src/transports' && r.forbidden.includes('src/workers'));
      const workers = LAYERS.find(r => r.from === 'src/workers' && r.forbidden.includes('src/transports'));
      const g2 = graph({
        'src/transports/fabric.ts': ['src/workers/a.ts'],
        'src/transports/iscsi/x.ts': ['src/workers/b.ts', 'src/transports/fabric.ts'],
        'src/workers/a.ts': ['src/transports/iscsi/x.ts'],
      });
      expect(layerRuleViolations(g2, transports!)).to.deep.equal(['src/transports/iscsi/x.ts → src/workers/b.ts']);
      expect(layerRuleViolations(g2, workers!)).to.deep.equal(['src/workers/a.ts → src/transports/iscsi/x.ts']);
    });

    it('read import, import type, export-from and require, and resolve x.ts and x/index.ts', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nexus-layers-'));
      try {
        fs.mkdirSync(path.join(dir, 'src', 'w', 'd'), { recursive: true });
        fs.mkdirSync(path.join(dir, 'src', 't'));
        fs.writeFileSync(path.join(dir, 'src', 't', 'probe.ts'), [
          "import { a } from '../w/a';",
          "import type { B } from '../w/b';",
          "export * from '../w/d';",
          "const c = require('../w/c');",
          "import * as fs from 'node:fs';",
        ].join('\n'));
        for (const f of ['a.ts', 'b.ts', 'c.ts', 'd/index.ts']) fs.writeFileSync(path.join(dir, 'src', 'w', f), '');
        expect(importGraph(dir).get('src/t/probe.ts')).to.deep.equal(['src/w/a.ts', 'src/w/b.ts', 'src/w/c.ts', 'src/w/d/index.ts']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
