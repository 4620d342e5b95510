// The WebAssembly tier (emulator/jit/wasm) against the interpreter on whole guests: every fixture boot
// image, the CPU benchmarks and the fixture kernel, with every 64-bit block translated to wasm after
// its first execution and the JS translator off, must leave the same registers, flag record, icount,
// devices, console and every byte of memory; memory hooks must see the same accesses.
import * as fs from 'fs';
import * as path from 'path';
import { HOOK_MEM_WRITE, HOOK_MEM_READ } from '../../../emulator/machine';
import { wasmStats } from '../../../emulator/jit/wasm/wasmTier';
import { translateWasm, wasmModuleBytes } from '../../../emulator/jit/wasm/wasmTranslate';
import type { Block } from '../../../emulator/decode/blockCache';
import { FIXTURES } from '../../helpers/fixtures';
import { KERNEL } from '../trace/traceRun';
import { INTERPRETER, WASM_TIER, bootImage, machineState } from './jitModes';

const BOOT = fs.readdirSync(path.join(FIXTURES, 'boot')).filter((f) => f.endsWith('.elf')).sort()
  .map((f) => path.join(FIXTURES, 'boot', f));
const IMAGES = [...BOOT, path.join(FIXTURES, 'emu', 'bench.bin'), path.join(FIXTURES, 'emu', 'cpubench.elf'), KERNEL];
const LIMIT = 4_000_000;

describe('the WebAssembly tier and the interpreter leave the same machine', () => {
  test.each(IMAGES.map((f) => [path.relative(FIXTURES, f), f]))('%s', (_name, image) => {
    const before = wasmStats.inlineInsns;
    const [a, b] = [INTERPRETER, WASM_TIER].map((opts) => {
      const m = bootImage(image, opts);
      const r = m.run(LIMIT);
      return { m, state: machineState(m, r) };
    });
    expect(b.state).toEqual(a.state);
    expect(Buffer.compare(a.m.mem.u8, b.m.mem.u8)).toBe(0);
    expect((a.state as { icount: number }).icount).toBeGreaterThan(1000);
    // Code really ran through the tier (every image has 64-bit code).
    expect(wasmStats.inlineInsns).toBeGreaterThan(before);
  });

  test.each([['cpubench.elf', path.join(FIXTURES, 'emu', 'cpubench.elf')], ['the fixture kernel', KERNEL]])(
    'memory hooks see the same accesses with the same CPU state on %s', (_name, image) => {
      const runs = [INTERPRETER, WASM_TIER].map((opts) => {
        const m = bootImage(image, opts);
        const c = m.cpu, log: unknown[] = [];
        m.hookAdd(HOOK_MEM_WRITE, (va: number, size: number, _w: boolean, value: bigint) => {
          log.push([c.icount, c.insnStart, c.rip, va, size, value, c.regs.u32.join(), c.flags.get()]);
        });
        m.hookAdd(HOOK_MEM_READ, (va: number, size: number) => { log.push([c.icount, c.insnStart, va, size]); });
        const r = m.run(300_000);
        return { log, state: machineState(m, r) };
      });
      expect(runs[0].log.length).toBeGreaterThan(5_000);
      expect(runs[1].log).toEqual(runs[0].log);
      expect(runs[1].state).toEqual(runs[0].state);
    });
});

describe('translation', () => {
  test('a module of several blocks validates, and blocks with no inline form are counted as handler calls', () => {
    const m = bootImage(KERNEL, INTERPRETER);
    m.run(3_000_000);
    const pages = (m.cache as unknown as { pages: ({ blocks: Set<Block> } | undefined)[] }).pages;
    const blocks = [...new Set(pages.flatMap((p) => (p === undefined ? [] : [...p.blocks])))]
      .filter((b) => b.bits === 64).slice(0, 40);
    expect(blocks.length).toBe(40);
    let base = 0, inline = 0, handlers = 0;
    const fns = blocks.map((b) => {
      const t = translateWasm(b.insns, base);
      base += b.insns.length; inline += t.inline; handlers += t.handlers;
      return t.fn;
    });
    expect(WebAssembly.validate(wasmModuleBytes(fns))).toBe(true);
    expect(inline + handlers).toBe(base);
    expect(inline).toBeGreaterThan(handlers);
  });
});
