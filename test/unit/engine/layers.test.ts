import { expect } from 'chai';
import * as path from 'node:path';
import {
  describeCycle, ImportGraph, importCycles, importGraph, layerViolations,
} from '../../../scripts/import-graph';

const root = path.join(__dirname, '..', '..', '..');

describe('layers: the import graph of src/ (DESIGN.md §1, §2)', () => {
  const g = importGraph(root);

  it('reads the graph with the compiler: the engine core is in it, with its imports', () => {
    expect(g.get('src/engine/pipeline.ts')).to.include('src/engine/cdb/dsl.ts');
    expect(g.size).to.be.greaterThan(50);
  });

  it('has no import cycle anywhere under src/', () => {
    const cycles = importCycles(g).map(describeCycle);
    expect(cycles, cycles.join('\n')).to.deep.equal([]);
  });

  it('src/engine imports nothing from src/workers, src/transports or src/daemon', () => {
    const v = layerViolations(g, 'src/engine', ['src/workers', 'src/transports', 'src/daemon']);
    expect(v, v.join('\n')).to.deep.equal([]);
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
  });
});
