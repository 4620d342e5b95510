// The JIT against the interpreter on whole guests: every fixture boot image, the CPU benchmarks and
// the fixture kernel run in both modes (emulator/jit; JIT with a compile threshold of 2), and must
// leave the same registers, flag record, icount, devices, console and every byte of memory. Then the
// observers: a binary trace bit for bit, ground-truth call stacks, memory hooks and code hooks.
import * as fs from 'fs';
import * as path from 'path';
import { HOOK_CODE, HOOK_MEM_WRITE, HOOK_MEM_READ, HOOK_INTR, type MachineOptions } from '../../../emulator/machine';
import { jitStats } from '../../../emulator/jit/translateBlock';
import { FIXTURES } from '../../helpers/fixtures';
import { tracedRun, tempDir, KERNEL } from '../trace/traceRun';
import { JIT_MODES, INTERPRETER, JIT_EVERY_BLOCK, bootImage, machineState } from './jitModes';

const BOOT = fs.readdirSync(path.join(FIXTURES, 'boot')).filter((f) => f.endsWith('.elf')).sort()
  .map((f) => path.join(FIXTURES, 'boot', f));
const IMAGES = [...BOOT, path.join(FIXTURES, 'emu', 'bench.bin'), path.join(FIXTURES, 'emu', 'cpubench.elf'), KERNEL];
// Long enough for every boot image to finish or to run a timer-driven workload for a while.
const LIMIT = 4_000_000;

function runBoth(image: string, limit: number, setup?: (m: ReturnType<typeof bootImage>, log: unknown[]) => void) {
  return JIT_MODES.map(([, opts]) => {
    const m = bootImage(image, opts);
    const log: unknown[] = [];
    setup?.(m, log);
    const r = m.run(limit);
    return { m, state: machineState(m, r), log };
  });
}

describe('JIT and interpreter leave the same machine', () => {
  test.each(IMAGES.map((f) => [path.relative(FIXTURES, f), f]))('%s', (_name, image) => {
    const before = jitStats.inlineInsns;
    const [a, b] = runBoth(image, LIMIT);
    expect(b.state).toEqual(a.state);
    expect(Buffer.compare(a.m.mem.u8, b.m.mem.u8)).toBe(0);
    // The run retired instructions, and the JIT really translated code inline.
    expect((a.state as { icount: number }).icount).toBeGreaterThan(1000);
    expect(jitStats.inlineInsns).toBeGreaterThan(before);
  });

  test('the default threshold also agrees on the fixture kernel', () => {
    const opts: MachineOptions[] = [INTERPRETER, { jit: true }];
    const [a, b] = opts.map((o) => { const m = bootImage(KERNEL, o); const r = m.run(LIMIT); return { m, s: machineState(m, r) }; });
    expect(b.s).toEqual(a.s);
    expect(Buffer.compare(a.m.mem.u8, b.m.mem.u8)).toBe(0);
  });
});

describe('observers see the same run', () => {
  test('the binary trace of the fixture kernel is the same file, bit for bit', () => {
    const dir = tempDir();
    try {
      const files = JIT_MODES.map(([name, opts]) => {
        const file = path.join(dir, `${name}.trace`);
        tracedRun(KERNEL, 3_000_000, file, opts);
        return fs.readFileSync(file);
      });
      expect(files[0].length).toBeGreaterThan(10_000);
      expect(Buffer.compare(files[0], files[1])).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('ground-truth call stacks agree at every timer interrupt', () => {
    const [a, b] = runBoth(KERNEL, 5_000_000, (m, log) => {
      const truth = m.enableTruth();
      m.hookAdd(HOOK_INTR, () => { log.push(truth.saveState()); });
    });
    expect(a.log.length).toBeGreaterThan(10);
    expect(b.log).toEqual(a.log);
    expect(b.state).toEqual(a.state);
  });

  test('memory hooks see the same accesses with the same registers', () => {
    const [a, b] = runBoth(path.join(FIXTURES, 'emu', 'cpubench.elf'), 300_000, (m, log) => {
      const c = m.cpu;
      m.hookAdd(HOOK_MEM_WRITE, (va: number, size: number, _w: boolean, value: bigint) => {
        log.push([c.icount, c.insnStart, c.rip, va, size, value, c.regs.u32.join(), c.flags.get()]);
      });
      m.hookAdd(HOOK_MEM_READ, (va: number, size: number) => { log.push([c.icount, c.insnStart, va, size]); });
    });
    expect(a.log.length).toBeGreaterThan(5_000);
    expect(b.log).toEqual(a.log);
    expect(b.state).toEqual(a.state);
  });

  test('code hooks and a host stop inside a hot loop agree', () => {
    const [a, b] = runBoth(path.join(FIXTURES, 'emu', 'bench.bin'), 5_000_000, (m, log) => {
      const c = m.cpu;
      let n = 0;
      // Let the loop get hot (and translated) first, then watch one address.
      m.run(1_000_000);
      m.hookAdd(HOOK_CODE, (addr: number) => {
        log.push([c.icount, addr, c.regs.u32.join(), c.flags.get()]);
        if (++n === 500) m.stop('enough');
      }, c.rip, c.rip);
    });
    expect(a.log.length).toBe(500);
    expect(b.log).toEqual(a.log);
    expect(b.state).toEqual(a.state);
  });
});

test('the JIT is on by default and off with jit: false', () => {
  expect(bootImage(KERNEL, {}).jit).toBe(true);
  expect(bootImage(KERNEL, INTERPRETER).jit).toBe(false);
  expect(bootImage(KERNEL, JIT_EVERY_BLOCK).compileThreshold).toBe(2);
});
