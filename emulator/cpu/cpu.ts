/**
 * The processor state the instruction handlers operate on: register file, lazy RFLAGS, RIP as a
 * signed number, segment state, control registers, MSRs, CPL and mode, and references to the MMU and
 * the port I/O bus. Handlers are plain functions (c: Cpu, d: Insn) => void (exec/table.ts).
 */
import { STATE_REGS } from '../memory/stateArea';
import { RegisterFile, RSP } from './registers';
import { FlagState, IF, AC, type FlagRecord } from './flags';
import { Mmu } from '../memory/mmu';
import { PhysicalMemory } from '../memory/physicalMemory';
import { PagingRegs } from '../memory/pageWalk';
import { MsrStore } from './msr';
import { CR0_PG, CR0_PE, CR0_ET, CR4_PAE, EFER_LME, EFER_LMA, CS, SS, DS, ES, FS, GS } from './modes';
import { GuestFault, GP, NP, SS as SS_FAULT } from '../interrupts/guestFault';
import type { IoBus } from '../devices/ioBus';
import type { InterruptDelivery, CallObserver } from './cpuLinks';
import { X87State } from './x87State';

/** Cached descriptor attributes (bits 8-15 of the high descriptor dword, plus bits 20-23 as 12-15). */
export const ATTR_TYPE = 0xf, ATTR_S = 0x10, ATTR_DPL = 0x60, ATTR_P = 0x80, ATTR_L = 0x2000,
  ATTR_DB = 0x4000, ATTR_G = 0x8000;

/** Why the run loop returned. */
export const STOP_NONE = 0, STOP_LIMIT = 1, STOP_HOST = 2, STOP_EXIT = 3, STOP_TRIPLE = 4, STOP_HALTED = 5;

/** Cpu fields saved as they are (numbers). */
const CPU_SCALARS = ['rip', 'insnStart', 'cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'efer', 'gdtBase', 'gdtLimit', 'idtBase',
  'idtLimit', 'ldtSel', 'ldtBase', 'ldtLimit', 'trSel', 'trBase', 'trLimit', 'starLo', 'starHi', 'lstar', 'cstar',
  'sfmask', 'kernelGsBase', 'tscAux', 'apicBase', 'tscOffset', 'mxcsr', 'cpl',
  'bits', 'icount', 'idleNs', 'shadowUntil', 'exitStatus'] as const;

/** Cpu.saveState(): JSON-able. */
export interface CpuState {
  gpr: number[]; xmm: number[]; flags: FlagRecord; scalars: Record<string, number>; halted: boolean;
  sel: number[]; segBase: number[]; segLimit: number[]; segAttr: number[]; dr: number[];
  unimplemented: [string, number][];
  /** The stored MSRs (MTRRs, PAT, machine check...), in msr.ts's table order. */
  msrs: number[];
}

export class Cpu implements PagingRegs {
  readonly regs: RegisterFile;
  readonly flags = new FlagState();
  /** During a handler: the address of the next instruction. Between instructions: the current one. */
  rip = 0;
  /** Start of the instruction being executed (for fault rewind). */
  insnStart = 0;

  readonly sel = new Uint16Array(6);
  /** Segment bases applied to effective addresses (0 for ES/CS/SS/DS in 64-bit mode). */
  readonly segBase = new Float64Array(6);
  /** Descriptor bases as loaded (kept for 32-bit mode and for the host API). */
  readonly segLimit = new Float64Array(6);
  readonly segAttr = new Uint16Array(6);

  cr0 = CR0_ET | CR0_PE;
  cr2 = 0;
  cr3 = 0;
  cr4 = 0;
  cr8 = 0;
  efer = 0;
  readonly dr = new Float64Array(8);
  gdtBase = 0; gdtLimit = 0xffff;
  idtBase = 0; idtLimit = 0xffff;
  ldtSel = 0; ldtBase = 0; ldtLimit = 0;
  trSel = 0; trBase = 0; trLimit = 0x67;

  // MSRs (64-bit values kept as numbers when they are addresses, halves otherwise).
  starLo = 0; starHi = 0;
  lstar = 0; cstar = 0; sfmask = 0;
  kernelGsBase = 0;
  tscAux = 0;
  /** The MSRs that are only stored (MTRRs, PAT, machine check, SYSENTER...): msr.ts. */
  readonly msrStore = new MsrStore();
  apicBase = 0xfee00900;
  /** TSC = retired instructions + tscOffset (1 instruction = 1 ns at a 1 GHz TSC). */
  tscOffset = 0;

  /** Unimplemented instructions met, by mnemonic ('(bad)' for undecodable bytes): they raised #UD. */
  readonly unimplemented = new Map<string, number>();
  /** SSE control/status (only stored: no SSE arithmetic is implemented). */
  mxcsr = 0x1f80;
  /** x87 FPU and MMX state (exec/x87*.ts, exec/mmx*.ts). */
  readonly x87 = new X87State();

  cpl = 0;
  /** 64 when CS.L in long mode, else 32. */
  bits = 32;

  /** Retired instructions: the machine's virtual time in nanoseconds. */
  icount = 0;
  halted = false;
  /** icount value up to which interrupts stay blocked (STI / MOV SS shadow). */
  shadowUntil = -1;
  /**
   * icount at which a REP string instruction must hand back to the run loop (the next timer event or
   * the instruction limit), so that interrupts are taken between its iterations.
   */
  repUntil = Infinity;
  /** Set by handlers and devices to leave the current block after this instruction. */
  exit = false;
  /**
   * Set by the run loop while it would chain a block to itself with nothing to observe in between
   * (no trace writer, no code hooks, no interrupt shadow): a translated loop block may then run its
   * next iteration itself, within the budget in repUntil (emulator/jit/translateBlock.ts).
   */
  jitLoop = false;
  /**
   * Set by the run loop while no trace writer or interrupt shadow watches block entries: blocks of the
   * WebAssembly tier may then run the blocks after them that the run loop entered under the current
   * code hooks (emulator/jit/wasm/wasmChain.ts).
   */
  wasmChain = false;
  stopReason = STOP_NONE;
  exitStatus = 0;

  /** Operand scratch (kept on the object so handlers never allocate): memory operand address, high halves. */
  va = 0;
  aHi = 0;
  bHi = 0;

  readonly mem: PhysicalMemory;
  readonly mmu: Mmu;
  io!: IoBus;
  intr!: InterruptDelivery;
  truth: CallObserver | null = null;
  /** Virtual time skipped while halted (icount - idleNs = retired instructions). */
  idleNs = 0;

  constructor(mem: PhysicalMemory) {
    this.mem = mem;
    this.regs = new RegisterFile(mem.buffer, mem.stateBase + STATE_REGS);
    this.mmu = new Mmu(mem, this);
    for (let s = 0; s < 6; s++) { this.segLimit[s] = 0xffffffff; this.segAttr[s] = ATTR_P | ATTR_S | ATTR_DB | ATTR_G | 0x3; }
    this.segAttr[CS] = ATTR_P | ATTR_S | ATTR_DB | ATTR_G | 0xb;
  }

  // ---- snapshot state ------------------------------------------------------------------------------
  /**
   * Everything the guest can see or that decides what runs next, as plain numbers: registers, lazy
   * flags as recorded, segments with their hidden parts, CRs, DRs, descriptor tables, MSRs, CPL and
   * mode, halt and interrupt shadow, virtual time. Operand scratch fields are not state between
   * instructions; the TLB is a cache (flushed by loadState).
   */
  saveState(): CpuState {
    const scalars: Record<string, number> = {};
    for (const k of CPU_SCALARS) scalars[k] = this[k];
    return {
      gpr: Array.from(this.regs.u32), xmm: Array.from(this.regs.xmm), flags: this.flags.saveState(), scalars,
      halted: this.halted, sel: Array.from(this.sel), segBase: Array.from(this.segBase), segLimit: Array.from(this.segLimit),
      segAttr: Array.from(this.segAttr), dr: Array.from(this.dr), unimplemented: [...this.unimplemented],
      msrs: Array.from(this.msrStore.values),
    };
  }

  loadState(s: CpuState): void {
    this.regs.u32.set(s.gpr); this.regs.xmm.set(s.xmm);
    this.flags.loadState(s.flags);
    for (const k of CPU_SCALARS) (this as unknown as Record<string, number>)[k] = s.scalars[k];
    this.halted = s.halted;
    this.sel.set(s.sel); this.segBase.set(s.segBase); this.segLimit.set(s.segLimit); this.segAttr.set(s.segAttr);
    this.dr.set(s.dr);
    this.msrStore.values.set(s.msrs);
    this.unimplemented.clear();
    for (const [name, n] of s.unimplemented) this.unimplemented.set(name, n);
    this.mmu.setUser(this.cpl === 3);
    this.mmu.flush();
    this.exit = true;
  }

  /** Deliver INT n / INT3 / INTO: RIP already points past the instruction. */
  softInterrupt(vector: number, kind: number): void { this.intr.raise(new GuestFault(vector), kind); }

  acFlag(): boolean { return (this.flags.bits & AC) !== 0; }
  get longMode(): boolean { return (this.efer & EFER_LMA) !== 0; }
  interruptsEnabled(): boolean { return (this.flags.bits & IF) !== 0; }

  // ---- stack ---------------------------------------------------------------------------------------
  /** Stack address from RSP, honouring the stack size in 32-bit mode. */
  spAddr(offset: number): number {
    if (this.bits === 64) return this.regs.addr(RSP) + offset;
    return ((this.regs.u32[RSP << 1] + offset) >>> 0) + this.segBase[SS];
  }
  push64(lo: number, hi: number): void {
    const u = this.regs.u32;
    if (this.bits === 64) {
      // 64-bit mode fast path: write first (a fault leaves RSP untouched), then RSP -= 8 on the halves.
      const spLo = u[RSP << 1], spHi = u[(RSP << 1) | 1];
      this.mmu.write64((spHi | 0) * 4294967296 + spLo - 8, lo, hi);
      u[RSP << 1] = spLo - 8;
      if (spLo < 8) u[(RSP << 1) | 1] = spHi - 1;
      return;
    }
    const va = this.spAddr(-8);
    this.mmu.write64(va, lo, hi);
    this.addSp(-8);
  }
  /** POP of 8 bytes in 64-bit mode: low half returned, high half in mmu.hi. */
  pop64(): number {
    const u = this.regs.u32;
    const spLo = u[RSP << 1], spHi = u[(RSP << 1) | 1];
    const lo = this.mmu.read64((spHi | 0) * 4294967296 + spLo);
    const nlo = spLo + 8;
    u[RSP << 1] = nlo;
    if (nlo > 0xffffffff) u[(RSP << 1) | 1] = spHi + 1;
    return lo;
  }
  push32(v: number): void {
    const va = this.spAddr(-4);
    this.mmu.write32(va, v);
    this.addSp(-4);
  }
  push(size: number, lo: number, hi: number): void {
    const va = this.spAddr(-size);
    this.mmu.write(size, va, lo, hi);
    this.addSp(-size);
  }
  /** Pop `size` bytes; low half returned, high half in mmu.hi. */
  pop(size: number): number {
    const va = this.spAddr(0);
    const lo = this.mmu.read(size, va);
    if (size !== 8) this.mmu.hi = 0;
    this.addSp(size);
    return lo;
  }
  addSp(delta: number): void {
    const u = this.regs.u32;
    if (this.bits === 64) {
      const lo = u[RSP << 1] + delta;
      u[RSP << 1] = lo;
      if (lo < 0 || lo > 0xffffffff) u[(RSP << 1) | 1] += lo < 0 ? -1 : 1;
    } else {
      u[RSP << 1] = u[RSP << 1] + delta; // 32-bit stack: ESP wraps, upper half untouched
    }
  }

  // ---- modes ---------------------------------------------------------------------------------------
  setCpl(cpl: number): void {
    if (cpl !== this.cpl) { this.cpl = cpl; this.mmu.setUser(cpl === 3); this.exit = true; }
  }

  updateMode(): void {
    const lma = (this.efer & EFER_LMA) !== 0;
    const bits = lma && (this.segAttr[CS] & ATTR_L) !== 0 ? 64 : 32;
    if (bits !== this.bits) { this.bits = bits; this.exit = true; }
    this.recomputeBases();
  }

  recomputeBases(): void {
    if (this.bits === 64) {
      this.segBase[ES] = 0; this.segBase[CS] = 0; this.segBase[SS] = 0; this.segBase[DS] = 0;
    }
  }

  /** MOV to CR0 semantics (SDM 2.5, 9.8.5): activating paging with LME sets LMA. */
  writeCr0(v: number): void {
    v = (v | CR0_ET) >>> 0;
    if ((v & CR0_PG) !== 0 && (v & CR0_PE) === 0) throw new GuestFault(GP, 0);
    const old = this.cr0;
    if ((v & CR0_PG) !== 0 && (old & CR0_PG) === 0 && (this.efer & EFER_LME) !== 0) {
      if ((this.cr4 & CR4_PAE) === 0) throw new GuestFault(GP, 0);
      this.efer |= EFER_LMA;
    }
    if ((v & CR0_PG) === 0 && (old & CR0_PG) !== 0) this.efer &= ~EFER_LMA;
    this.cr0 = v;
    this.mmu.flush();
    this.updateMode();
    this.exit = true;
  }
  writeCr3(v: number): void { this.cr3 = v; this.mmu.flush(); this.exit = true; }
  writeCr4(v: number): void { this.cr4 = v >>> 0; this.mmu.flush(); this.exit = true; }
  writeEfer(v: number): void {
    const lma = this.efer & EFER_LMA;
    this.efer = (v & ~EFER_LMA) | lma;
    this.mmu.flush();
    this.exit = true;
  }

  // ---- segments ------------------------------------------------------------------------------------
  /** Read the 8-byte descriptor for `selector` from the GDT/LDT; returns low dword, high in mmu.hi. */
  readDescriptor(selector: number, vector: number): number {
    const index = selector & ~7;
    const ti = (selector & 4) !== 0;
    const base = ti ? this.ldtBase : this.gdtBase;
    const limit = ti ? this.ldtLimit : this.gdtLimit;
    if (index + 7 > limit) throw new GuestFault(vector, selector & 0xfffc);
    return this.mmu.sysRead64(base + index);
  }

  /** Load a segment register from a selector, as MOV Sreg / POP Sreg / far transfers do. */
  loadSegment(seg: number, selector: number): void {
    selector &= 0xffff;
    if ((selector & ~3) === 0) {
      if (seg === CS || (seg === SS && (this.bits !== 64 || this.cpl === 3 || (selector & 3) !== this.cpl))) {
        throw new GuestFault(GP, 0);
      }
      this.sel[seg] = selector;
      this.segAttr[seg] = 0; // unusable
      if (seg < FS) this.segBase[seg] = 0;
      if (seg === FS || seg === GS) this.segBase[seg] = this.bits === 64 ? this.segBase[seg] : 0;
      return;
    }
    const lo = this.readDescriptor(selector, GP);
    const hi = this.mmu.hi;
    const attr = ((hi >>> 8) & 0xff) | (((hi >>> 20) & 0xf) << 12);
    if ((attr & ATTR_S) === 0) throw new GuestFault(GP, selector & 0xfffc);
    if ((attr & ATTR_P) === 0) throw new GuestFault(seg === SS ? SS_FAULT : NP, selector & 0xfffc);
    const base = ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
    let limit = (lo & 0xffff) | (hi & 0xf0000);
    if (attr & ATTR_G) limit = limit * 4096 + 0xfff;
    this.sel[seg] = selector;
    this.segAttr[seg] = attr;
    this.segLimit[seg] = limit;
    if (seg === FS || seg === GS) {
      // In 64-bit mode a selector load sets the low 32 bits of the base (SDM 3.4.4); MSRs set the rest.
      this.segBase[seg] = base;
    } else {
      this.segBase[seg] = this.bits === 64 ? 0 : base;
    }
    if (seg === CS) { this.setCpl(selector & 3); this.updateMode(); this.exit = true; }
  }

  /** Set a segment to a flat descriptor without a GDT (reset state, SYSCALL/SYSRET fixed values). */
  setFlatSegment(seg: number, selector: number, attr: number): void {
    this.sel[seg] = selector;
    this.segAttr[seg] = attr;
    this.segLimit[seg] = 0xffffffff;
    if (seg !== FS && seg !== GS) this.segBase[seg] = 0;
  }

  /** Canonical check for a linear address computed by an instruction (SDM 3.3.7.1). */
  static canonical(va: number): boolean { return va >= -0x800000000000 && va < 0x800000000000; }
}
