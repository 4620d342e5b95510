// Live differential test: when gcc is available, rebuild the host-CPU harness from
// fixtures/hostcpu/hostcpu.c, run it with a fresh seed (new random cases every run) and, for 8-bit
// operands, exhaustively; compare everything with the emulator's ALU ops. The seed is printed in
// every failure so that a failing case can be recorded with `make -C fixtures/hostcpu golden SEED=...`.
// Without gcc only the harness/test agreement check runs; the golden test (hostCpuGolden.test.ts)
// does not need gcc.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { OPS, compareGolden, Golden } from './aluCases';

const ROOT = path.join(__dirname, '..', '..', '..');
const SRC = path.join(ROOT, 'fixtures', 'hostcpu', 'hostcpu.c');
const hasGcc = spawnSync('gcc', ['--version']).status === 0 && process.arch === 'x64' && process.platform === 'linux';

test('the harness and the tests know the same ops', () => {
  const src = fs.readFileSync(SRC, 'utf8');
  const names = [...src.matchAll(/\{ "([a-z0-9]+)", K_[A-Z]+,/g)].map((m) => m[1]).sort();
  expect(names).toEqual(Object.keys(OPS).sort());
});

if (hasGcc) {
  describe('ALU ops against the live host CPU', () => {
    let dir = '';
    let bin = '';
    const seed = (Date.now() % 0x7fffffff) >>> 0;
    const goldenCpu = (JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'golden', 'hostcpu', 'add.json'), 'utf8')) as Golden).cpu;

    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hostcpu-'));
      bin = path.join(dir, 'hostcpu');
      const r = spawnSync('make', ['-s', '-C', path.dirname(SRC), `BUILD=${dir}`], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`building the harness failed:\n${r.stdout}${r.stderr}`);
    });
    afterAll(() => {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    function run(args: string[]): Golden {
      const r = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
      if (r.status !== 0) throw new Error(`hostcpu ${args.join(' ')} failed: ${r.stderr}`);
      return JSON.parse(r.stdout) as Golden;
    }

    test(`fresh random table, seed ${seed}`, () => {
      const bad: string[] = [];
      const strictBad: string[] = [];
      let n = 0;
      for (const op of Object.keys(OPS)) {
        const g = run(['--seed', String(seed), '--random', '100', '--op', op]);
        const rep = compareGolden(g, 5);
        n += rep.compared;
        bad.push(...rep.mismatches);
        // On the CPU model that recorded the goldens, undefined flags/results must match too.
        if (g.cpu === goldenCpu) strictBad.push(...compareGolden(g, 5, true).mismatches);
      }
      expect(bad).toEqual([]);
      expect(strictBad).toEqual([]);
      expect(n).toBeGreaterThan(40000);
    });

    // Every 8-bit operand pair/count, for the ops whose flags mix carries, signs and counts.
    // (adc/sbb with CF in 0 and 1 include add/sub.)
    const EXHAUSTIVE = ['adc', 'sbb', 'neg', 'inc', 'dec', 'shl', 'shr', 'sar', 'rol', 'ror', 'rcl', 'rcr', 'imul1', 'mul1'];
    test.each(EXHAUSTIVE)('exhaustive 8-bit %s', (op) => {
      const g = run(['--seed', String(seed), '--exhaustive', '--op', op]);
      const rep = compareGolden(g, 10, g.cpu === goldenCpu);
      expect(rep.mismatches).toEqual([]);
      expect(rep.compared).toBeGreaterThanOrEqual(op === 'neg' || op === 'inc' || op === 'dec' ? 512 : 32768);
    });
  });
}
