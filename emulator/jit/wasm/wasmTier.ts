/**
 * The WebAssembly tier's runtime for one machine: it batches warm blocks into modules, provides the
 * imports a translated block calls (slow memory paths, handlers, conditions the block cannot decide,
 * faults), and makes the JS function the run loop calls for a block (the same `(c) => void` as a
 * translated JS block).
 *
 * V8's fixed cost per module (about 200 us: wrappers for the imports) is paid once per batch of
 * BATCH blocks. Each module places its blocks in the machine's function table, and every call from
 * JS goes through the one export of the chain module (wasmChain.ts), which runs the block and the
 * blocks after it. Modules depend only on the instructions and are shared by the machines of a thread
 * (SharedBlock.wasm); instances are per WebAssembly.Memory, since they import it and its table
 * (Linkage below).
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
  STATE_BYTES, STATE_JUMP_CACHE, JUMP_CACHE_ENTRIES, JUMP_ENTRY_BYTES, JUMP_PHYS, JUMP_BLOCK,
  STATE_EXEC_COUNTS, STATE_EXEC_LIMITS, EXEC_COUNT_SLOTS,
} from '../../memory/stateArea';
import { translateWasm, wasmModuleBytes, EXIT_SLOTS } from './wasmTranslate';
import { chainRun, jumpEntry, MAX_CHAINED_INSNS, type ChainRun } from './wasmChain';
import type { WasmFunction } from './wasmCode';
import type { WasmModuleCode, WasmBlockCode } from '../sharedCode';

/**
 * Counts for the benchmarks and tests; `wasmCounted`: executions that wasm code counted (chained
 * entries, a loop's iterations) and the run loop added to blocks' counts (WasmRuntime.credit).
 */
export const wasmStats = { blocks: 0, inlineInsns: 0, handlerInsns: 0, modules: 0, skipped: 0, loops: 0, wasmCounted: 0 };

/** Blocks per module. */
const BATCH = 32;

const F = STATE_FLAGS >> 2;

/** The int32 index of table slot `slot`'s entry in the per-slot array at `area` (STATE_EXEC_COUNTS, STATE_EXEC_LIMITS). */
function countIndex(area: number, slot: number): number {
  return (area >> 2) + (slot & (EXEC_COUNT_SLOTS - 1));
}

/**
 * What a thread keeps per WebAssembly.Memory: the function table, the chain loop and the instances of
 * modules (with the first slot of each one's blocks). A released machine's memory goes to the next
 * machine of its size (memory/physicalMemory.ts), which takes this over with it: a study's runs
 * instantiate each module once, not once per run. The imports reach the machine through `rt`.
 */
class Linkage {
  readonly table = new WebAssembly.Table({ element: 'anyfunc', initial: 1024 });
  readonly chain: ChainRun;
  readonly instances = new WeakMap<WasmModuleCode, number>();
  slots = 0;
  constructor(readonly mem: WebAssembly.Memory, public rt: WasmRuntime) {
    this.chain = chainRun(mem, this.table);
  }
  readonly rd = (va: number, size: number, start: number, rip: number, icount: number): number => this.rt.rd(va, size, start, rip, icount);
  readonly wr = (va: number, size: number, lo: number, hi: number, start: number, rip: number, icount: number): void =>
    this.rt.wr(va, size, lo, hi, start, rip, icount);
  readonly cond = (cc: number): number => this.rt.cond(cc);
  readonly gp = (start: number, rip: number, icount: number): void => this.rt.gp(start, rip, icount);
  readonly fl = (): void => this.rt.fl();

  /** Instantiates a module: its blocks take the next free table slots; returns the first. */
  instantiate(code: WasmModuleCode): number {
    const base = this.slots;
    this.slots += code.blocks;
    if (this.slots > this.table.length) this.table.grow(Math.max(this.slots - this.table.length, this.table.length));
    const insns = code.insns;
    new WebAssembly.Instance(code.module, {
      env: {
        mem: this.mem, rd: this.rd, wr: this.wr, cond: this.cond, gp: this.gp, fl: this.fl,
        h: (i: number, start: number, rip: number, icount: number): number => this.rt.h(insns[i], start, rip, icount),
        ea: (i: number, start: number, rip: number, icount: number): number => this.rt.ea(insns[i], start, rip, icount),
        tbl: this.table, base: new WebAssembly.Global({ value: 'i32' }, base),
      },
    });
    this.instances.set(code, base);
    return base;
  }
}

const linkages = new WeakMap<WebAssembly.Memory, Linkage>();

export class WasmRuntime {
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  readonly sb: number;
  private readonly queue: Block[] = [];
  private readonly linkage: Linkage;
  private readonly chain: ChainRun;
  /**
   * The execution counts at which a block leaves the tier for the JS translator (Machine sets them; -1:
   * never): `compileAt` for blocks that call handlers, `promoteAt` for blocks wholly inline, whose wasm
   * code is nearly as fast as the JS translator's (see emulator/jit/README.md).
   */
  compileAt = -1;
  promoteAt = -1;

  constructor(private readonly c: Cpu) {
    const mem = c.mem;
    this.sb = mem.stateBase;
    this.i32 = new Int32Array(mem.buffer, mem.stateBase, STATE_BYTES >> 2);
    this.f64 = new Float64Array(mem.buffer, mem.stateBase, STATE_BYTES >> 3);
    let linkage = linkages.get(mem.wasm);
    if (linkage === undefined) { linkage = new Linkage(mem.wasm, this); linkages.set(mem.wasm, linkage); }
    linkage.rt = this;
    this.linkage = linkage;
    this.chain = linkage.chain;
    this.forget();
  }

  /** Empties the jump cache: code was invalidated (the chain loop must not reach a dropped block). */
  forget(): void {
    const f64 = this.f64;
    for (let k = 0; k < JUMP_CACHE_ENTRIES; k++) f64[(STATE_JUMP_CACHE + k * JUMP_ENTRY_BYTES) >> 3] = NaN;
  }

  /** The chain loop no longer enters the block at `rip` (it has JS code now, which the run loop calls). */
  unlink(rip: number): void {
    this.f64[jumpEntry(rip) >> 3] = NaN;
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
    const blocks: Block[] = [], fns: WasmFunction[] = [], insns: Insn[] = [], skip: Block[] = [], handlers: number[] = [];
    for (const b of this.queue) {
      if (!b.valid || b.compiled !== null) continue;
      const t = translateWasm(b.insns, insns.length);
      // Mostly handler calls: each would cross from wasm to JS and back; the interpreter does better.
      if (t.handlers > t.inline) { skip.push(b); wasmStats.skipped++; continue; }
      wasmStats.blocks++; wasmStats.inlineInsns += t.inline; wasmStats.handlerInsns += t.handlers;
      if (t.loop) wasmStats.loops++;
      blocks.push(b); fns.push(t.fn); handlers.push(t.handlers);
      for (const d of b.insns) insns.push(d);
    }
    this.queue.length = 0;
    for (const b of skip) if (b.shared !== null) b.shared.wasm = { code: null, index: 0, handlers: 0 };
    if (fns.length === 0) return;
    const code: WasmModuleCode = { module: new WebAssembly.Module(wasmModuleBytes(fns)), insns, blocks: fns.length };
    wasmStats.modules++;
    blocks.forEach((b, index) => {
      const bc: WasmBlockCode = { code, index, handlers: handlers[index] };
      if (b.shared !== null) b.shared.wasm = bc;
      this.attach(b, bc);
    });
  }

  /** Gives a new block the WebAssembly form its code already has in this thread, if it has one. */
  attachShared(b: Block): void {
    const s = b.shared;
    if (s !== null && s.wasm !== null) this.attach(b, s.wasm);
  }

  private attach(b: Block, bc: WasmBlockCode): void {
    if (bc.code === null || b.compiled !== null) return;
    const base = this.linkage.instances.get(bc.code) ?? this.linkage.instantiate(bc.code);
    const slot = base + bc.index, sb = this.sb, f64 = this.f64, i32 = this.i32, chain = this.chain;
    const len = b.insns.length, phys = b.phys;
    const entry = len <= MAX_CHAINED_INSNS ? (slot << 8) | len : -1;
    b.wasmSlot = slot;
    b.wasmPromoteAt = bc.handlers > 0 ? this.compileAt : this.promoteAt;
    const counted = countIndex(STATE_EXEC_COUNTS, slot), limit = countIndex(STATE_EXEC_LIMITS, slot);
    b.wasmCounted = i32[counted];
    this.attached.push(b);
    const fn = (cpu: Cpu): void => {
      const rip = cpu.rip;
      // The run loop found this block at rip (translated, or through a link the MMU epoch and CPL
      // check): blocks in the tier that end at rip may go on to it without the run loop, and wasm
      // code may run it as many times as are left below the count at which it goes to the JS
      // translator (the run loop's next entry compiles it).
      this.credit(b);
      const at = b.wasmPromoteAt;
      i32[limit] = at > 0 ? i32[counted] + Math.max(0, at - 1 - b.execCount) : 0x3fffffff;
      if (entry >= 0) {
        const e = jumpEntry(rip), k = e >> 2;
        f64[e >> 3] = rip; i32[k + (JUMP_PHYS >> 2)] = phys; i32[k + (JUMP_BLOCK >> 2)] = entry;
      }
      if (chain(slot, sb, rip, cpu.icount, cpu.wasmChain ? cpu.repUntil : 0) === EXIT_SLOTS) {
        cpu.rip = f64[STATE_EXIT_RIP >> 3]; cpu.insnStart = f64[STATE_EXIT_START >> 3]; cpu.icount = f64[STATE_EXIT_ICOUNT >> 3];
      }
      this.fl();
    };
    b.compiled = b.wasmFn = fn;
    b.hookGen = -1;
  }

  /** Executions wasm code ran and counted itself in this machine (chained entries, loops' iterations). */
  countedExecutions(): number {
    let n = 0;
    for (let k = 0; k < EXEC_COUNT_SLOTS; k++) n += this.i32[(STATE_EXEC_COUNTS >> 2) + k];
    return n;
  }

  /** Every block this machine gave a slot (their counts are credited when the machine is released). */
  private readonly attached: Block[] = [];

  /** Adds what wasm code ran of every block to its count (Machine.release: the counts carry over). */
  creditAll(): void {
    for (const b of this.attached) this.credit(b);
  }

  /**
   * Adds the executions wasm code counted of block `b` (chained entries, a loop's iterations) to its
   * count, up to one below the count at which it goes to the JS translator (the run loop's next entry
   * reaches it).
   */
  credit(b: Block): void {
    if (b.wasmSlot < 0) return;
    const now = this.i32[countIndex(STATE_EXEC_COUNTS, b.wasmSlot)];
    const ran = (now - b.wasmCounted) | 0;
    b.wasmCounted = now;
    if (ran <= 0) return;
    wasmStats.wasmCounted += ran;
    const at = b.wasmPromoteAt;
    b.execCount = at > 0 ? Math.max(b.execCount, Math.min(b.execCount + ran, at - 1)) : b.execCount + ran;
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
    this.fl();
    at(this.c, start, rip, icount);
  }

  // ---- the imports (through Linkage) ----

  rd(va: number, size: number, start: number, rip: number, icount: number): number {
    this.at(start, rip, icount);
    const mmu = this.c.mmu;
    const lo = mmu.slowRead(va, size, mmu.user) | 0;
    this.i32[STATE_HI >> 2] = mmu.hi | 0;
    this.i32[STATE_EXIT_FLAG >> 2] = this.c.exit ? 1 : 0;
    return lo;
  }

  wr(va: number, size: number, lo: number, hi: number, start: number, rip: number, icount: number): void {
    this.at(start, rip, icount);
    const mmu = this.c.mmu;
    mmu.slowWrite(va, size, lo, hi, mmu.user);
    this.i32[STATE_EXIT_FLAG >> 2] = this.c.exit ? 1 : 0;
  }

  cond(cc: number): number {
    this.fl();
    return this.c.flags.cond(cc) ? 1 : 0;
  }

  gp(start: number, rip: number, icount: number): void {
    this.at(start, rip, icount);
    throw new GuestFault(GP, 0);
  }

  /** The record wasm code left in the state area, if it left one, to the FlagState. */
  fl(): void {
    if (this.i32[F + FLAG_DIRTY] !== 0) this.applyFlags();
  }

  /** Instruction d's handler, at (start, rip, icount); returns icount after it. */
  h(d: Insn, start: number, rip: number, icount: number): number {
    this.at(start, rip, icount);
    const c = this.c;
    d.fn(c, d);
    c.icount++;
    this.i32[STATE_EXIT_FLAG >> 2] = c.exit ? 1 : 0;
    return c.icount;
  }

  ea(d: Insn, start: number, rip: number, icount: number): number {
    this.at(start, rip, icount);
    return ea(this.c, d);
  }
}
