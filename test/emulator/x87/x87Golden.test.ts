// x87 and MMX instructions through the whole emulator against goldens recorded on the host CPU
// (make -C fixtures/hostcpu x87-golden): every case runs `fxrstor64; INSN; fxsave64` in a Machine and
// the FXSAVE image (FCW, FSW, tags, registers, MXCSR, XMM0/1), memory, RFLAGS, RAX and RCX must equal
// the host's bit for bit (transcendentals: within 1 ulp, see x87Cases.ts ULP_BOUND).
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { GROUPS, EmulatorRunner, GoldenRow, diff, fromRow, ULP_BOUND, codesOf } from './x87Cases';
import { JIT_MODES, WASM_MODE } from '../jit/jitModes';

const DIR = path.join(__dirname, '..', '..', 'golden', 'hostcpu');

// Both execution modes: the interpreter, and the JIT translating every block from its second run.
describe.each([...JIT_MODES, WASM_MODE])('x87/MMX goldens from the host CPU (%s)', (_mode, opts) => {
  const runner = new EmulatorRunner(opts);
  for (const group of Object.keys(GROUPS)) {
    test(group, () => {
      const doc = JSON.parse(zlib.gunzipSync(fs.readFileSync(path.join(DIR, `x87-${group}.json.gz`))).toString()) as
        { rows: GoldenRow[] };
      const bad: string[] = [];
      const forms = new Set<string>();
      for (const row of doc.rows) {
        const [k, host] = fromRow(row);
        forms.add(k.code.slice(0, 6));
        const e = runner.run(k);
        const d = typeof e === 'string' ? `${k.code}: ${e}` : diff(group, k, host, e, ULP_BOUND[group] ?? 0);
        if (d) bad.push(d);
      }
      expect(bad.slice(0, 10)).toEqual([]);
      expect(doc.rows.length).toBeGreaterThanOrEqual(codesOf(group).length * 20);
    });
  }
});
