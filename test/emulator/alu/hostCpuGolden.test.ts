// Differential test of the pure ALU ops against the host CPU, from golden files recorded by
// fixtures/hostcpu (make -C fixtures/hostcpu golden). Runs without gcc. Every result and every
// architecturally defined flag is compared; see aluCases.ts for the undefined-flag rules.
import * as fs from 'fs';
import * as path from 'path';
import { OPS, compareGolden, Golden } from './aluCases';

const DIR = path.join(__dirname, '..', '..', 'golden', 'hostcpu');
const SIZES: Record<string, number[]> = {};
for (const op of Object.keys(OPS)) {
  const k = OPS[op].kind;
  SIZES[op] = op === 'setcc' ? [1] : op === 'bswap' ? [2, 4, 8] : (k === 'shd' || k === 'bt' || k === 'scan' || op === 'imul2' || op === 'imul3') ? [2, 4, 8] : [1, 2, 4, 8];
}

let total = 0;

describe('ALU ops against host CPU goldens', () => {
  test('there is one golden file per op and no stray file', () => {
    const files = fs.readdirSync(DIR).filter((n) => n.endsWith('.json')).map((n) => n.replace(/\.json$/, '')).sort();
    expect(files).toEqual(Object.keys(OPS).sort());
  });

  for (const op of Object.keys(OPS)) {
    test(op, () => {
      const g = JSON.parse(fs.readFileSync(path.join(DIR, `${op}.json`), 'utf8')) as Golden;
      expect(g.op).toBe(op);
      const rep = compareGolden(g);
      expect(rep.mismatches).toEqual([]);
      // The table covers every operand size the instruction has, with a real number of cases each.
      expect(Object.keys(rep.bySize).map(Number).sort((x, y) => x - y)).toEqual(SIZES[op]);
      for (const n of Object.values(rep.bySize)) expect(n).toBeGreaterThanOrEqual(200);
      total += rep.compared;
    });
  }

  afterAll(() => {
    // Visible in verbose runs; the report quotes it.
    if (process.env.ALU_REPORT) console.log(`host-CPU golden cases compared: ${total}`);
  });
});
