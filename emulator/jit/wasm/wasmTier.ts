/**
 * The WebAssembly tier's runtime for one machine: it batches warm blocks into modules, provides the
 * imports a translated block calls (slow memory paths, handlers, conditions the block cannot decide,
 * faults), and makes the JS function the run loop calls for a block (the same `(c) => void` as a
 * translated JS block).
 *
 * V8's fixed cost per module (about 200 us: wrappers for the imports and the export) is paid once
 * per batch of BATCH blocks, and calls from JS go through one export per module (a block number,
 * then its arguments), whose wrapper V8 makes fast after a thousand calls. Modules depend only on
 * the instructions and are shared by the machines of a thread (SharedBlock.wasm); instances are per
 * machine, since they import its memory.
 */
import type { Cpu } from '../../cpu/cpu';
import type { Insn } from '../../decode/insn';
import type { Block } from '../../decode/blockCache';
import { LAZY_RESULT, STATUS_FLAGS } from '../../cpu/flags';
import { GuestFault, GP } from '../../interrupts/guestFault';
import { ea } from '../../exec/operands';
import { recAC, recR, at } from '../codeState';
import {
  STATE_FLAGS, FLAG_DIRTY, FLAG_KIND, FLAG_SIZE, FLAG_A_LO, FLAG_A_HI, FLAG_B_LO, FLAG_B_HI, FLAG_R_LO, FLAG_R_HI,
  FLAG_CIN, FLAG_EAGER, FLAG_MASK, STATE_EXIT_RIP, STATE_EXIT_START, STATE_EXIT_ICOUNT, STATE_HI, STATE_EXIT_FLAG,
  STATE_BYTES,
} from '../../memory/stateArea';
import { translateWasm, wasmModuleBytes, EXIT_SLOTS } from './wasmTranslate';
import type { WasmFunction } from './wasmCode';
import type { WasmModuleCode, WasmBlockCode } from '../sharedCode';

export const wasmStats = { blocks: 0, inlineInsns: 0, handlerInsns: 0, modules: 0, skipped: 0 };

/** Blocks per module. */
const BATCH = 32;


const F = STATE_FLAGS >> 2;

type Run = (k: number, sb: number, rip: number, icount: number) => number;

export class WasmRuntime {
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  readonly sb: number;
  private readonly instances = new WeakMap<WasmModuleCode, Run>();
  private readonly queue: Block[] = [];

  constructor(private readonly c: Cpu) {
    const mem = c.mem;
    this.sb = mem.stateBase;
    this.i32 = new Int32Array(mem.buffer, mem.stateBase, STATE_BYTES >> 2);
    this.f64 = new Float64Array(mem.buffer, mem.stateBase, STATE_BYTES >> 3);
  }

  /**
   * Block `b` became warm: it gets its WebAssembly form now if its code has one already, else with
   * the next batch (at BATCH blocks, or when a queued block is still being interpreted at twice the
   * threshold: Machine.run calls flush).
   */
  request(b: Block): void {
    const s = b.shared;
    if (s !== null && s.wasm !== null) { this.attach(b, s.wasm); return; }
    this.queue.push(b);
    if (this.queue.length >= BATCH) this.flush();
  }

  /** Translates the queued blocks that still need it into one module. */
  flush(): void {
    const blocks: Block[] = [], fns: WasmFunction[] = [], insns: Insn[] = [], skip: Block[] = [];
    for (const b of this.queue) {
      if (!b.valid || b.compiled !== null) continue;
      const t = translateWasm(b.insns, insns.length);
      // Mostly handler calls: each would cross from wasm to JS and back; the interpreter does better.
      if (t.handlers > t.inline) { skip.push(b); wasmStats.skipped++; continue; }
      wasmStats.blocks++; wasmStats.inlineInsns += t.inline; wasmStats.handlerInsns += t.handlers;
      blocks.push(b); fns.push(t.fn);
      for (const d of b.insns) insns.push(d);
    }
    this.queue.length = 0;
    for (const b of skip) if (b.shared !== null) b.shared.wasm = { code: null, index: 0 };
    if (fns.length === 0) return;
    const code: WasmModuleCode = { module: new WebAssembly.Module(wasmModuleBytes(fns)), insns };
    wasmStats.modules++;
    blocks.forEach((b, index) => {
      const bc: WasmBlockCode = { code, index };
      if (b.shared !== null) b.shared.wasm = bc;
      this.attach(b, bc);
    });
  }

  /** Gives a new block the WebAssembly form its code already has in this thread; false if none. */
  attachShared(b: Block): boolean {
    const s = b.shared;
    if (s === null || s.wasm === null || s.wasm.code === null) return false;
    this.attach(b, s.wasm);
    return true;
  }

  private attach(b: Block, bc: WasmBlockCode): void {
    if (bc.code === null || b.compiled !== null) return;
    let run = this.instances.get(bc.code);
    if (run === undefined) { run = this.instantiate(bc.code); this.instances.set(bc.code, run); }
    const k = bc.index, sb = this.sb, f64 = this.f64, i32 = this.i32;
    const fn = (cpu: Cpu): void => {
      if (run(k, sb, cpu.rip, cpu.icount) === EXIT_SLOTS) {
        cpu.rip = f64[STATE_EXIT_RIP >> 3]; cpu.insnStart = f64[STATE_EXIT_START >> 3]; cpu.icount = f64[STATE_EXIT_ICOUNT >> 3];
      }
      if (i32[F + FLAG_DIRTY] !== 0) this.applyFlags();
    };
    b.compiled = b.wasmFn = fn;
    b.hookGen = -1;
  }

  /** Hands a record the block left in the state area to the FlagState (codeState.ts recordCode). */
  applyFlags(): void {
    const s = this.i32, fl = this.c.flags;
    s[F + FLAG_DIRTY] = 0;
    const kind = s[F + FLAG_KIND], size = s[F + FLAG_SIZE];
    if (kind === LAZY_RESULT) recR(fl, size, s[F + FLAG_R_LO], s[F + FLAG_R_HI], s[F + FLAG_EAGER]);
    else if (s[F + FLAG_MASK] === STATUS_FLAGS) {
      recAC(fl, kind, size, s[F + FLAG_A_LO], s[F + FLAG_A_HI], s[F + FLAG_B_LO], s[F + FLAG_B_HI], s[F + FLAG_R_LO],
        s[F + FLAG_R_HI], s[F + FLAG_CIN]);
    } else {
      fl.recordArith(kind, size, s[F + FLAG_A_LO], s[F + FLAG_A_HI], s[F + FLAG_B_LO], s[F + FLAG_B_HI], s[F + FLAG_R_LO],
        s[F + FLAG_R_HI], s[F + FLAG_CIN], s[F + FLAG_MASK]);
    }
  }

  /** The CPU object at an instruction that may fault, as the interpreter would hold it. */
  private at(start: number, rip: number, icount: number): void {
    if (this.i32[F + FLAG_DIRTY] !== 0) this.applyFlags();
    at(this.c, start, rip, icount);
  }

  private readonly rd = (va: number, size: number, start: number, rip: number, icount: number): number => {
    this.at(start, rip, icount);
    const mmu = this.c.mmu;
    const lo = mmu.slowRead(va, size, mmu.user) | 0;
    this.i32[STATE_HI >> 2] = mmu.hi | 0;
    this.i32[STATE_EXIT_FLAG >> 2] = this.c.exit ? 1 : 0;
    return lo;
  };

  private readonly wr = (va: number, size: number, lo: number, hi: number, start: number, rip: number, icount: number): void => {
    this.at(start, rip, icount);
    const mmu = this.c.mmu;
    mmu.slowWrite(va, size, lo, hi, mmu.user);
    this.i32[STATE_EXIT_FLAG >> 2] = this.c.exit ? 1 : 0;
  };

  private readonly cond = (cc: number): number => {
    if (this.i32[F + FLAG_DIRTY] !== 0) this.applyFlags();
    return this.c.flags.cond(cc) ? 1 : 0;
  };

  private readonly gp = (start: number, rip: number, icount: number): void => {
    this.at(start, rip, icount);
    throw new GuestFault(GP, 0);
  };

  private instantiate(code: WasmModuleCode): Run {
    const c = this.c, insns = code.insns;
    const h = (i: number, start: number, rip: number, icount: number): number => {
      this.at(start, rip, icount);
      const d = insns[i];
      d.fn(c, d);
      c.icount++;
      this.i32[STATE_EXIT_FLAG >> 2] = c.exit ? 1 : 0;
      return c.icount;
    };
    const eaOf = (i: number, start: number, rip: number, icount: number): number => {
      this.at(start, rip, icount);
      return ea(c, insns[i]);
    };
    const inst = new WebAssembly.Instance(code.module, {
      env: { mem: c.mem.wasm, rd: this.rd, wr: this.wr, h, cond: this.cond, ea: eaOf, gp: this.gp },
    });
    return inst.exports.run as Run;
  }
}
