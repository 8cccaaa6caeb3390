/**
 * The import graph of the TypeScript sources, read with the compiler's own pre-processor
 * (`ts.preProcessFile`: every `import`, `import type`, `export … from` and `require`), and the
 * rules test/unit/engine/layers.test.ts holds the code to:
 *  - no import cycle anywhere under src/ (each cycle is reported by its files, in import order);
 *  - the layer rules of LAYERS: the engine imports no runtime, transport or daemon; the runtime
 *    (src/workers) imports no transport; a transport reaches the runtime through
 *    src/transports/fabric.ts only (DESIGN.md §1, §2, §6).
 * `npx tsx scripts/import-graph.ts` prints the findings.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

/** File → the files it imports, both relative to `root`, for every .ts file under `dir`. */
export type ImportGraph = Map<string, string[]>;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** A relative specifier as the file it names (x.ts, x/index.ts), or undefined (packages, addons). */
function resolve(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), spec);
  for (const c of [`${base}.ts`, path.join(base, 'index.ts'), base]) {
    if (c.endsWith('.ts') && fs.existsSync(c)) return c;
  }
  return undefined;
}

export function importGraph(root: string, dir = 'src'): ImportGraph {
  const g: ImportGraph = new Map();
  for (const file of sourceFiles(path.join(root, dir))) {
    const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
    const deps = new Set<string>();
    for (const ref of info.importedFiles) {
      const to = resolve(file, ref.fileName);
      if (to) deps.add(path.relative(root, to));
    }
    g.set(path.relative(root, file), [...deps].sort());
  }
  return g;
}

/** Files that import each other in a ring: all of them, and one shortest ring through the first. */
export interface ImportCycle { files: string[]; path: string[] }

/**
 * Every import cycle, one per strongly connected component (Tarjan): the component's files and a
 * path through it that returns to its first file (`a.ts → b.ts → a.ts`).
 */
export function importCycles(g: ImportGraph): ImportCycle[] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next); low.set(v, next); next++;
    stack.push(v); onStack.add(v);
    for (const w of g.get(v) ?? []) {
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      let w: string;
      do { w = stack.pop()!; onStack.delete(w); c.push(w); } while (w !== v);
      if (c.length > 1 || (g.get(v) ?? []).includes(v)) components.push(c);
    }
  };
  for (const v of [...g.keys()].sort()) if (!index.has(v)) visit(v);
  return components.map(c => ({ files: c.sort(), path: cyclePath(g, new Set(c)) }));
}

/** A shortest cycle through the component's first file (breadth-first inside the component). */
function cyclePath(g: ImportGraph, members: Set<string>): string[] {
  const start = [...members].sort()[0];
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of g.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const p = [start];
        for (let x = v; x !== start; x = prev.get(x)!) p.splice(1, 0, x);
        return [...p, start];
      }
      if (!prev.has(w)) { prev.set(w, v); queue.push(w); }
    }
  }
  return [start, start];
}

export function describeCycle(c: ImportCycle): string {
  return `import cycle through ${c.files.length} files (${c.files.join(', ')}), e.g. ${c.path.join(' → ')}`;
}

/**
 * Imports from a file under `from` (other than the files in `except`) into a file under any of
 * `forbidden`, as "importer → imported".
 */
export function layerViolations(g: ImportGraph, from: string, forbidden: readonly string[], except: readonly string[] = []): string[] {
  const out: string[] = [];
  const under = (f: string, d: string) => f.startsWith(`${d}/`);
  for (const [file, deps] of g) {
    if (!under(file, from) || except.includes(file)) continue;
    for (const d of deps) if (forbidden.some(x => under(d, x))) out.push(`${file} → ${d}`);
  }
  return out;
}

/** One layer rule: what the files under `from` (but `except`) must not import. */
export interface LayerRule {
  readonly from: string;
  readonly forbidden: readonly string[];
  readonly except?: readonly string[];
  readonly rule: string;
}

export const LAYERS: readonly LayerRule[] = [
  {
    from: 'src/engine', forbidden: ['src/workers', 'src/transports', 'src/daemon'],
    rule: 'src/engine imports nothing from src/workers, src/transports or src/daemon',
  },
  {
    from: 'src/workers', forbidden: ['src/transports', 'src/daemon', 'src/cli'],
    rule: 'src/workers (the runtime) imports no transport and nothing of the daemon or the CLI',
  },
  {
    from: 'src/transports', forbidden: ['src/workers'], except: ['src/transports/fabric.ts'],
    rule: 'nothing under src/transports but fabric.ts imports src/workers',
  },
  {
    from: 'src/transports', forbidden: ['src/daemon', 'src/cli'],
    rule: 'a transport imports nothing of the daemon or the CLI (what it needs of them comes through fabric.ts)',
  },
];

/** Every import that breaks one of LAYERS. */
export function layerRuleViolations(g: ImportGraph, rule: LayerRule): string[] {
  return layerViolations(g, rule.from, rule.forbidden, rule.except);
}

if (require.main === module) {
  const g = importGraph(path.join(__dirname, '..'));
  const cycles = importCycles(g);
  for (const c of cycles) console.log(describeCycle(c));
  for (const r of LAYERS) for (const v of layerRuleViolations(g, r)) console.log(`layer (${r.rule}): ${v}`);
  if (cycles.length === 0) console.log('no import cycles under src/');
}
