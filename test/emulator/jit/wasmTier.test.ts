// The WebAssembly tier (emulator/jit/wasm) against the interpreter on whole guests: every fixture boot
// image, the CPU benchmarks and the fixture kernel, with every 64-bit block translated to wasm after
// its first execution and the JS translator off, must leave the same registers, flag record, icount,
// devices, console and every byte of memory; memory hooks must see the same accesses.
import * as fs from 'fs';
import * as path from 'path';
import { HOOK_MEM_WRITE, HOOK_MEM_READ, Machine, STOP_LIMIT } from '../../../emulator/machine';
import { startDirect64 } from '../../../emulator/loader/direct64';
import { wasmStats } from '../../../emulator/jit/wasm/wasmTier';
import { translateWasm, wasmModuleBytes } from '../../../emulator/jit/wasm/wasmTranslate';
import type { Block } from '../../../emulator/decode/blockCache';
import { FIXTURES } from '../../helpers/fixtures';
import { KERNEL } from '../trace/traceRun';
import { INTERPRETER, WASM_TIER, bootImage, machineState, runSliced } from './jitModes';

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

describe('chaining (wasmChain.ts)', () => {
  // Block A ends with a CMP's record; block B, chained from A inside wasm, starts with INC, which
  // keeps CF, and ADC reads CF through its handler. A's record must reach the FlagState before
  // INC's replaces it in the state area: R8 counts the iterations where RAX < RBX.
  const PROGRAM = [
    0x48, 0x39, 0xd8, //       A: cmp rax, rbx
    0xeb, 0x00, //                jmp B (the next instruction)
    0x48, 0xff, 0xc2, //       B: inc rdx
    0x49, 0x83, 0xd0, 0x00, //    adc r8, 0
    0x48, 0x83, 0xc0, 0x07, //    add rax, 7
    0x48, 0xff, 0xc9, //          dec rcx
    0x75, 0xeb, //                jnz A
    0xf4, //                      hlt
  ];
  const REGS = { rax: 0n, rbx: 3500n, rcx: 1000n, rdx: 0n, r8: 0n };

  test('a flag record left by one chained block is completed, not replaced, by the next one\'s INC', () => {
    const interp = runSliced(INTERPRETER, PROGRAM, REGS, 1_000_000);
    const wasm = runSliced(WASM_TIER, PROGRAM, REGS, 1_000_000);
    expect(interp.m.regRead('r8')).toBe(500n);
    expect(wasm.state).toEqual(interp.state);
    expect(wasm.m.wasmCountedExecutions()).toBeGreaterThan(1000);
  });

  test('runs sliced at every instruction count leave the same machine (the budget stops the chain exactly)', () => {
    for (const slice of [1, 2, 3, 7, 13, 101]) {
      expect(runSliced(WASM_TIER, PROGRAM, REGS, slice).state).toEqual(runSliced(INTERPRETER, PROGRAM, REGS, slice).state);
    }
  });
});

describe('a block that branches back to its start', () => {
  // One block: PUSHF (a handler) sees the flags the iteration before left: ZF, SF, PF, AF and OF of
  // its DEC, CF of its ADD (DEC keeps it), so both records cross the back edge; slices of every size
  // cut the loop anywhere.
  const LOOP = [
    0x9c, //                   L: pushfq
    0x41, 0x58, //                pop r8
    0x4d, 0x01, 0xc1, //          add r9, r8
    0x48, 0x01, 0xd3, //          add rbx, rdx
    0x48, 0xff, 0xc9, //          dec rcx
    0x75, 0xf2, //                jnz L
    0xf4, //                      hlt
  ];
  const REGS = { rbx: 0n, rcx: 5000n, rdx: 0x9e3779b97f4a7c15n, r9: 0n };

  test('runs its iterations inside its function, as the interpreter runs them', () => {
    const loopsBefore = wasmStats.loops;
    for (const slice of [1, 2, 5, 1_000_000]) {
      const interp = runSliced(INTERPRETER, LOOP, REGS, slice);
      expect(runSliced(WASM_TIER, LOOP, REGS, slice).state).toEqual(interp.state);
    }
    expect(wasmStats.loops).toBeGreaterThan(loopsBefore);
  });
});

describe('chaining after a code write', () => {
  // A (one page) jumps to B (the next page), which adds an immediate to RAX and loops to A. Between
  // run slices the host rewrites B's immediate: the chain loop must not go on from A into the B it
  // translated before (the jump cache is emptied when code is invalidated).
  const B = 0x1000;
  const code = new Array<number>(B + 14).fill(0x90);
  code.splice(0, 5, 0xe9, ...le32(B - 5)); //                        A: jmp B
  code.splice(B, 14, 0x48, 0x83, 0xc0, 0x01, //                         B: add rax, 1 (rewritten)
    0x48, 0xff, 0xc9, //                                                   dec rcx
    0x0f, 0x85, ...le32(-(B + 13)), //                                     jnz A
    0xf4); //                                                              hlt

  function le32(n: number): number[] { return [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff]; }

  function run(opts: typeof INTERPRETER) {
    const m = new Machine({ memory: 16 << 20, ...opts });
    startDirect64(m, { code: Uint8Array.from(code), entry: 0x100000 });
    m.regWrite('rcx', 5000n);
    let r = m.run(997), k = 0;
    while (r.reason === STOP_LIMIT) {
      m.physWrite(0x100000 + B + 3, Uint8Array.of(++k & 0x7f));
      r = m.run(997);
    }
    return { m, state: machineState(m, r) };
  }

  test('the rewritten block runs, in wasm as interpreted', () => {
    const interp = run(INTERPRETER), wasm = run(WASM_TIER);
    expect(wasm.state).toEqual(interp.state);
    expect(wasm.m.wasmCountedExecutions()).toBeGreaterThan(1000);
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
