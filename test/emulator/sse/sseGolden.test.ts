// SSE/SSE2/SSE3 instructions through the whole emulator against host-CPU goldens recorded by
// fixtures/hostcpu/sse.c (see sseCases.ts for the roles and what is compared). Regenerate the goldens
// with `make -C fixtures/hostcpu -f sse.mk golden`.
import * as fs from 'fs';
import * as path from 'path';
import { SseBench, SseGolden } from './sseCases';
import { JIT_MODES, WASM_MODE } from '../jit/jitModes';

const DIR = path.join(__dirname, '..', '..', 'golden', 'hostcpu', 'sse');
const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

// Both execution modes: the interpreter, and the JIT translating every block from its second run.
describe.each([...JIT_MODES, WASM_MODE])('SSE instructions through the whole emulator against host goldens (%s)', (_mode, opts) => {
  const bench = new SseBench(opts);
  test('the goldens are there', () => { expect(files.length).toBeGreaterThan(100); });
  for (const f of files) {
    test(f.replace('.json', ''), () => {
      const g = JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8')) as SseGolden;
      const r = bench.runGolden(g);
      expect(r.mismatches).toEqual([]);
      expect(r.compared).toBeGreaterThan(30);
    });
  }
});
