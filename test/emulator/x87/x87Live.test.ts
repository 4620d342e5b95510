// Live differential test: when gcc is available, build fixtures/hostcpu/x87run, make fresh random x87
// and MMX cases (a new seed every run, printed in failures) and compare the host CPU with the emulator.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GROUPS, MEM_BYTES, makeCases, runHost, EmulatorRunner, diff, ULP_BOUND } from './x87Cases';

const ROOT = path.join(__dirname, '..', '..', '..');
const hasGcc = spawnSync('gcc', ['--version']).status === 0 && process.arch === 'x64' && process.platform === 'linux';

test('the harness and the case maker agree on the memory operand size', () => {
  const src = fs.readFileSync(path.join(ROOT, 'fixtures', 'hostcpu', 'x87run.c'), 'utf8');
  expect(src).toContain(`hexbytes(tok[2], mem, ${MEM_BYTES}) != ${MEM_BYTES}`);
});

if (hasGcc) describe('x87/MMX against the live host CPU', () => {
  let dir = '';
  const seed = (Date.now() % 0x7fffffff) >>> 0;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'x87run-'));
    const r = spawnSync('make', ['-s', '-C', path.join(ROOT, 'fixtures', 'hostcpu'), `BUILD=${dir}`, 'x87run'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`building x87run failed:\n${r.stdout}${r.stderr}`);
  });
  afterAll(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

  for (const group of Object.keys(GROUPS)) {
    test(`${group}, seed ${seed}`, () => {
      const cases = makeCases(group, seed, 12);
      const host = runHost(path.join(dir, 'x87run'), cases);
      const runner = new EmulatorRunner();
      const bad: string[] = [];
      cases.forEach((k, i) => {
        const e = runner.run(k);
        const d = typeof e === 'string' ? `${k.code}: ${e}` : diff(group, k, host[i], e, ULP_BOUND[group] ?? 0);
        if (d) bad.push(`seed ${seed}: ${d}`);
      });
      expect(bad.slice(0, 10)).toEqual([]);
    });
  }
});
