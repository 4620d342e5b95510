// Where the SDM leaves a flag (or a result) undefined, the emulator follows the host that recorded the
// goldens (an AMD EPYC): this test compares ALL six status flags and every result, undefined or not,
// against test/golden/hostcpu. It pins the choices documented in shift.ts, muldiv.ts, bitops.ts and
// logic.ts, so that the whole-emulator differential level can compare against this host without masks.
// hostCpuGolden.test.ts is the architectural test (undefined flags masked); an Intel host differs
// from these goldens on undefined flags only.
import * as fs from 'fs';
import * as path from 'path';
import { OPS, compareGolden, Golden } from './aluCases';

const DIR = path.join(__dirname, '..', '..', 'golden', 'hostcpu');

describe('undefined flags and results follow the recording host', () => {
  for (const op of Object.keys(OPS)) {
    test(op, () => {
      const g = JSON.parse(fs.readFileSync(path.join(DIR, `${op}.json`), 'utf8')) as Golden;
      expect(g.cpu).toMatch(/AMD/);
      expect(compareGolden(g, 10, true).mismatches).toEqual([]);
      // Same with every operand half passed as int32 (what a caller reading an Int32Array gives).
      expect(compareGolden(g, 10, true, true).mismatches).toEqual([]);
    });
  }
});
