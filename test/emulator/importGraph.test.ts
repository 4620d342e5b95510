// The emulator's import graph, read with the TypeScript compiler API (type-only imports included,
// as dependency tools count them): the cycles that were broken stay broken.
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.join(__dirname, '..', '..', 'emulator');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** emulator-relative file → emulator-relative files it imports (relative specifiers only). */
function importGraph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const file of sourceFiles(ROOT)) {
    const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, false);
    const deps: string[] = [];
    for (const s of sf.statements) {
      if (!(ts.isImportDeclaration(s) || ts.isExportDeclaration(s)) || s.moduleSpecifier === undefined) continue;
      const spec = (s.moduleSpecifier as ts.StringLiteral).text;
      if (!spec.startsWith('.')) continue;
      const target = path.normalize(path.join(path.dirname(file), spec));
      if (fs.existsSync(`${target}.ts`)) deps.push(path.relative(ROOT, `${target}.ts`));
    }
    g.set(path.relative(ROOT, file), deps);
  }
  return g;
}

/** The strongly connected groups of more than one file (Tarjan). */
function cycles(g: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>(), low = new Map<string, number>(), stack: string[] = [], onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next); low.set(v, next); next++; stack.push(v); onStack.add(v);
    for (const w of g.get(v) ?? []) {
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do { w = stack.pop()!; onStack.delete(w); group.push(w); } while (w !== v);
      if (group.length > 1) groups.push(group.sort());
    }
  };
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return groups;
}

describe('emulator import graph', () => {
  const g = importGraph();

  test('the graph is read (sanity: known edges are found)', () => {
    expect(g.get(path.join('machine.ts'))).toContain(path.join('exec', 'table.ts'));
    expect(g.get(path.join('interrupts', 'delivery.ts'))).toContain(path.join('cpu', 'cpu.ts'));
  });

  test('the CPU depends on neither interrupt delivery nor ground truth', () => {
    const cpu = g.get(path.join('cpu', 'cpu.ts'))!;
    expect(cpu.filter((d) => d.startsWith(`interrupts${path.sep}delivery`) || d.startsWith(`truth${path.sep}`))).toEqual([]);
    const inCycle = cycles(g).flat();
    for (const f of ['cpu/cpu.ts', 'interrupts/delivery.ts', 'truth/callStacks.ts']) expect(inCycle).not.toContain(path.join(f));
  });

  test('decoding does not import the handlers', () => {
    const fromDecode = [...g].filter(([f]) => f.startsWith(`decode${path.sep}`))
      .flatMap(([f, deps]) => deps.filter((d) => d.startsWith(`exec${path.sep}`)).map((d) => `${f} -> ${d}`));
    expect(fromDecode).toEqual([]);
  });

  test('the only file cycle left is the machine and its snapshot registry', () => {
    expect(cycles(g)).toEqual([[path.join('machine.ts'), path.join('snapshot', 'components.ts'), path.join('snapshot', 'machineSnapshot.ts')]]);
  });
});
