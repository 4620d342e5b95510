// Live differential test: when gcc is available, rebuild the SSE host-CPU harness from
// fixtures/hostcpu/sse.c, run every op with a fresh seed (new operands and MXCSR settings each run)
// and compare the emulator with the host CPU through the whole machine (sseCases.ts). The seed is
// printed in every failure; record it with `make -C fixtures/hostcpu -f sse.mk golden SEED=...`.
// SSE_LIVE_RANDOM=N raises the number of cases per op (default 300).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SseBench, SseGolden } from './sseCases';

const ROOT = path.join(__dirname, '..', '..', '..');
const HARNESS = path.join(ROOT, 'fixtures', 'hostcpu');
const GOLDEN = path.join(ROOT, 'test', 'golden', 'hostcpu', 'sse');
const hasGcc = spawnSync('gcc', ['--version']).status === 0 && process.arch === 'x64' && process.platform === 'linux';

if (!hasGcc) {
  test('the SSE goldens cover the harness ops (gcc unavailable: live run not possible)', () => {
    expect(fs.readdirSync(GOLDEN).length).toBeGreaterThan(100);
  });
} else {
  describe('SSE instructions against the live host CPU', () => {
    let dir = '';
    let bin = '';
    const seed = (Date.now() % 0x7fffffff) >>> 0;
    const perOp = Number(process.env.SSE_LIVE_RANDOM ?? 300);

    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hostcpu-sse-'));
      bin = path.join(dir, 'sse');
      const r = spawnSync('make', ['-s', '-C', HARNESS, '-f', 'sse.mk', `BUILD=${dir}`], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`building the harness failed:\n${r.stdout}${r.stderr}`);
    });
    afterAll(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

    const list = (): string[] => spawnSync(bin, ['--list'], { encoding: 'utf8' }).stdout.trim().split('\n');

    test('the harness and the goldens know the same ops', () => {
      const goldens = fs.readdirSync(GOLDEN).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
      expect(list().sort()).toEqual(goldens);
    });

    test(`every op on fresh operands, seed ${seed}`, () => {
      const bench = new SseBench();
      const bad: string[] = [];
      let n = 0, faults = 0;
      for (const op of list()) {
        const r = spawnSync(bin, ['--seed', String(seed), '--random', String(perOp), '--op', op], { encoding: 'utf8', maxBuffer: 256 << 20 });
        if (r.status !== 0) throw new Error(`sse --op ${op} failed: ${r.stderr}`);
        const g = JSON.parse(r.stdout) as SseGolden;
        faults += g.cases.filter((c) => c[8] === 1).length;
        const rep = bench.runGolden(g, 3);
        n += rep.compared;
        bad.push(...rep.mismatches.map((m) => `seed ${seed}: ${m}`));
      }
      expect(bad).toEqual([]);
      expect(n).toBeGreaterThan(20000);
      expect(faults).toBeGreaterThan(500);
    });
  });
}
