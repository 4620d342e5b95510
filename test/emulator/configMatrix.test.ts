// Configuration matrix (blink's -j/-m habit): the same fixture images under one-instruction blocks,
// block compilation at once / off, memory hooks (every access through the MMU slow path, no TLB fills), and ground truth on, must give
// the same console output and exit status as the default configuration and as QEMU.
import * as fs from 'fs';
import * as path from 'path';
import { Machine, STOP_EXIT, HOOK_MEM_READ, HOOK_MEM_WRITE } from '../../emulator/machine';
import { loadPvh } from '../../emulator/loader/pvh';

const ROOT = path.resolve(__dirname, '..', '..');
const IMAGES = ['hello', 'exceptions', 'pagefault', 'ring3'];

type Config = { name: string; make: () => Machine; setup?: (m: Machine) => void };
const CONFIGS: Config[] = [
  { name: 'one instruction per block', make: () => new Machine({ maxBlock: 1 }) },
  { name: 'every block compiled at once', make: () => new Machine({ compileThreshold: 1 }) },
  { name: 'block compilation off', make: () => new Machine({ compileThreshold: 0 }) },
  {
    name: 'memory hooks (slow path)', make: () => new Machine(),
    setup: (m) => { let n = 0; m.hookAdd(HOOK_MEM_READ | HOOK_MEM_WRITE, (() => { n++; }) as never); void n; },
  },
  { name: 'ground truth on', make: () => new Machine(), setup: (m) => { m.enableTruth(); } },
];

describe.each(CONFIGS)('$name', ({ make, setup }) => {
  for (const name of IMAGES) {
    const golden = path.join(ROOT, 'test', 'golden', 'qemu', `${name}.txt`);
    const elf = path.join(ROOT, 'fixtures', 'boot', `${name}.elf`);
    const runnable = fs.existsSync(golden) && fs.existsSync(elf);
    test(name, () => {
      expect(runnable).toBe(true);
      const m = make();
      loadPvh(m, fs.readFileSync(elf), elf);
      setup?.(m);
      const r = m.run(500_000_000);
      expect(m.consoleText).toBe(fs.readFileSync(golden, 'latin1'));
      expect(r.reason).toBe(STOP_EXIT);
      expect(r.exitStatus).toBe(Number(fs.readFileSync(golden.replace(/\.txt$/, '.status'), 'utf8').trim()));
    }, 60000);
  }
});
