/**
 * What the translator knows, at translation time, about the machine state inside a block it is
 * emitting: which general registers live in JS locals (and which of those differ from the register
 * file), and the pending status-flag record, if the last flag-writing instruction was translated
 * inline. Emitting a "sync" writes both back, so that the CPU object looks exactly as the interpreter
 * would leave it; syncs are emitted only where something outside the block can look: at a fault
 * (memory slow paths, which may throw), before a handler call, and at the block's exits.
 *
 * Locals hold int32 readings of the uint32 halves (`x | 0`), the representation FlagState already
 * takes (see cpu/flags.ts "64-bit values"), so nothing allocates.
 */
import { LAZY_ADD, LAZY_SUB, LAZY_RESULT, STATUS_FLAGS, CF, ZF, SF, PF, type FlagState } from '../cpu/flags';
import type { Cpu } from '../cpu/cpu';

/** A status-flag record whose kind and size are known at translation time; fields are JS expressions. */
export interface PendingFlags {
  kind: number;
  size: number;
  aLo: string; aHi: string; bLo: string; bHi: string; rLo: string; rHi: string;
  /** LAZY_RESULT only: the eager CF|OF|AF bits (an expression). */
  eager: string;
  /** LAZY_ADD/LAZY_SUB of ADC/SBB: the carry-in (an expression, 0 or 1); absent means 0. */
  cin?: string;
  /**
   * INC/DEC: the record covers every status flag but CF, which stays what the FlagState says (the
   * record before it was written there when this one was made).
   */
  cfKept?: boolean;
}

const REG_NONE = 0, REG_CLEAN = 1, REG_DIRTY = 2;

export class CodeState {
  /** Per GPR: not in a local, in a local equal to the register file, or in a local that is newer. */
  private readonly regs = new Uint8Array(16);
  private readonly zeroHigh: boolean[] = new Array<boolean>(16).fill(false);
  /** Every GPR that ever had a local (declared at the top of the function). */
  readonly used = new Set<number>();
  /** Every GPR the code emitted so far assigned. */
  readonly written = new Set<number>();
  private pending: PendingFlags | null = null;
  /**
   * In a loop's body before its first record: the record the previous iteration ended with, in the
   * loop-carried locals (translateBlock.ts loopTail), valid when `fc` is 1 (not in the first
   * iteration, where the FlagState holds the flags). A write-back stores it under that guard; any
   * other use writes it back first (`flags` reads null).
   */
  private carried: PendingFlags | null = null;
  /** Whether code emitted so far relied on the FlagState before any record was made (loop heads). */
  flagsReadAtEntry = false;
  private recorded = false;
  private temp = 0;

  /** The pending flag record, null when the FlagState holds the flags. */
  get flags(): PendingFlags | null { return this.pending; }
  set flags(f: PendingFlags | null) {
    if (f !== null) this.recorded = true;
    this.pending = f;
    this.carried = null;
  }

  /** At a loop's head: the previous iteration's record (of the shape of `f`) is in the carried locals. */
  carry(f: PendingFlags): void { this.carried = carriedRecord(f); }

  constructor(private readonly out: string[]) {}

  /** A fresh local name. */
  tmp(prefix = 't'): string { return `${prefix}${this.temp++}`; }

  /** Locals of GPR `r` (loading them first if needed). */
  reg(r: number): [string, string] {
    if (this.regs[r] === REG_NONE) {
      this.used.add(r);
      this.out.push(`g${r}l = u[${r << 1}] | 0; g${r}h = u[${(r << 1) | 1}] | 0;`);
      this.regs[r] = REG_CLEAN;
    }
    return [`g${r}l`, `g${r}h`];
  }

  /**
   * Whether GPR `r`'s high half is known to be 0 here: its last write in this straight-line code set
   * it to the literal '0' (32-bit writes, SHR by 32 or more). IMUL of two such values is a 32x32
   * product with no call.
   */
  highZero(r: number): boolean { return this.zeroHigh[r]; }

  /** Set GPR `r` to the (already int32) expressions lo/hi. */
  setReg(r: number, lo: string, hi: string): void {
    this.used.add(r);
    this.zeroHigh[r] = hi === '0';
    // Both halves are computed before either is assigned: hi may read the old lo.
    const l = this.tmp('nl'), h = this.tmp('nh');
    // The register file gets the value only at a sync (a slow path, a handler call, an exit): a
    // loop's registers then stay in locals, and V8 keeps them in machine registers.
    this.out.push(`const ${l} = ${lo}, ${h} = ${hi}; g${r}l = ${l}; g${r}h = ${h};`);
    this.regs[r] = REG_DIRTY;
    this.written.add(r);
  }

  /** Write back every dirty register (they stay in locals; state unchanged at translation time). */
  regWriteBack(): string {
    let s = '';
    for (let r = 0; r < 16; r++) if (this.regs[r] === REG_DIRTY) s += `u[${r << 1}] = g${r}l; u[${(r << 1) | 1}] = g${r}h; `;
    return s;
  }

  /** Write back every dirty register and mark them clean (before code outside the block reads them). */
  writeBackAll(): string {
    const s = this.regWriteBack();
    for (let r = 0; r < 16; r++) if (this.regs[r] === REG_DIRTY) this.regs[r] = REG_CLEAN;
    return s;
  }

  /** Write back one register if dirty, and mark it clean (for helpers that read the register file). */
  flushReg(r: number): void {
    if (r < 0 || this.regs[r] !== REG_DIRTY) return;
    this.out.push(`u[${r << 1}] = g${r}l; u[${(r << 1) | 1}] = g${r}h;`);
    this.regs[r] = REG_CLEAN;
  }

  /** Store the pending flag record into the FlagState, as FlagState.recordArith/recordResult would. */
  flagsWriteBack(): string {
    const f = this.flags;
    if (f === null) {
      if (!this.recorded) this.flagsReadAtEntry = true;
      return this.carried !== null ? `if (fc !== 0) { ${recordCode(this.carried)}} ` : '';
    }
    return recordCode(f);
  }

  /** Everything the CPU object needs before instruction `index` (at `start`, next at `next`) may fault. */
  syncAt(index: number, start: number, next: number): string {
    return this.regWriteBack() + this.flagsWriteBack() + `at(c, rip0 + ${start}, rip0 + ${next}, ic0 + ${index}); `;
  }

  /**
   * Loop-carried registers: load them before the loop; the locals stay valid across iterations.
   * Those the body assigns (`dirty`) may differ from the register file at the loop's head after the
   * first iteration, so a sync there writes them back.
   */
  preload(regs: Iterable<number>, dirty: ReadonlySet<number>): string {
    let s = '';
    for (const r of regs) {
      this.used.add(r);
      s += `g${r}l = u[${r << 1}] | 0; g${r}h = u[${(r << 1) | 1}] | 0; `;
      this.regs[r] = dirty.has(r) ? REG_DIRTY : REG_CLEAN;
      this.zeroHigh[r] = false;
    }
    return s;
  }

  /** Load every register of `regs` that is not in a local now (the loop's back edge after a handler call). */
  reload(regs: Iterable<number>): string {
    let s = '';
    for (const r of regs) {
      if (this.regs[r] !== REG_NONE) continue;
      this.zeroHigh[r] = false;
      s += `g${r}l = u[${r << 1}] | 0; g${r}h = u[${(r << 1) | 1}] | 0; `;
      this.regs[r] = REG_CLEAN;
    }
    return s;
  }

  /** After a call into interpreter code: every register and the flags are in the CPU object again. */
  forgetAll(): void {
    this.regs.fill(REG_NONE);
    this.zeroHigh.fill(false);
    if (!this.recorded) this.flagsReadAtEntry = true; // the handler may read the entry flags
    this.flags = null;
  }
}

/** Code that stores record `f` into the FlagState, as FlagState.recordArith/recordResult would. */
function recordCode(f: PendingFlags): string {
  // Small helpers (V8 inlines them where it matters) keep the generated source short: its size is
  // most of what a translation costs.
  if (f.kind === LAZY_RESULT) return `recR(fl, ${f.size}, ${f.rLo}, ${f.rHi}, ${f.eager}); `;
  if (f.cfKept === true) {
    return `fl.recordArith(${f.kind}, ${f.size}, ${f.aLo}, ${f.aHi}, ${f.bLo}, ${f.bHi}, ${f.rLo}, ${f.rHi}, 0, ${STATUS_FLAGS & ~CF}); `;
  }
  if (f.cin !== undefined) return `recAC(fl, ${f.kind}, ${f.size}, ${f.aLo}, ${f.aHi}, ${f.bLo}, ${f.bHi}, ${f.rLo}, ${f.rHi}, ${f.cin}); `;
  return `recA(fl, ${f.kind}, ${f.size}, ${f.aLo}, ${f.aHi}, ${f.bLo}, ${f.bHi}, ${f.rLo}, ${f.rHi}); `;
}

/** The carried locals' form of a record of the shape of `f`. */
function carriedRecord(f: PendingFlags): PendingFlags {
  return {
    kind: f.kind, size: f.size, aLo: 'fa0', aHi: 'fa1', bLo: 'fb0', bHi: 'fb1', rLo: 'fr0', rHi: 'fr1', eager: 'fe',
    cin: f.cin !== undefined ? 'fi' : undefined, cfKept: f.cfKept,
  };
}

/** Assignments that carry record `f` into the loop-carried locals (see CodeState.carried). */
export function carryCode(f: PendingFlags): string {
  return `fc = 1; fa0 = ${f.aLo}; fa1 = ${f.aHi}; fb0 = ${f.bLo}; fb1 = ${f.bHi}; fr0 = ${f.rLo}; fr1 = ${f.rHi}; ` +
    `fe = ${f.eager}; ${f.cin !== undefined ? `fi = ${f.cin}; ` : ''}`;
}

/** The loop-carried record's locals, declared before the loop. */
export const CARRIED_LOCALS = 'let fc = 0, fa0 = 0, fa1 = 0, fb0 = 0, fb1 = 0, fr0 = 0, fr1 = 0, fe = 0, fi = 0;';

export { LAZY_ADD, LAZY_SUB, LAZY_RESULT };

/** FlagState.recordArith with all six status flags (a full record: nothing of the old one is kept). */
export function recA(fl: FlagState, kind: number, size: number, aLo: number, aHi: number, bLo: number, bHi: number,
  rLo: number, rHi: number): void {
  fl.bits &= ~STATUS_FLAGS; fl.lazy = STATUS_FLAGS; fl.kind = kind; fl.size = size;
  fl.aLo = aLo; fl.aHi = aHi; fl.bLo = bLo; fl.bHi = bHi; fl.rLo = rLo; fl.rHi = rHi; fl.cin = 0;
}

/** FlagState.recordArith with all six status flags and a carry-in (ADC, SBB). */
export function recAC(fl: FlagState, kind: number, size: number, aLo: number, aHi: number, bLo: number, bHi: number,
  rLo: number, rHi: number, cin: number): void {
  fl.bits &= ~STATUS_FLAGS; fl.lazy = STATUS_FLAGS; fl.kind = kind; fl.size = size;
  fl.aLo = aLo; fl.aHi = aHi; fl.bLo = bLo; fl.bHi = bHi; fl.rLo = rLo; fl.rHi = rHi; fl.cin = cin;
}

/** FlagState.recordResult with eager CF, OF and AF (`eager`) and ZF, SF, PF from the result. */
export function recR(fl: FlagState, size: number, rLo: number, rHi: number, eager: number): void {
  fl.bits = (fl.bits & ~STATUS_FLAGS) | eager; fl.lazy = ZF | SF | PF; fl.kind = LAZY_RESULT; fl.size = size;
  fl.aLo = 0; fl.aHi = 0; fl.bLo = 0; fl.bHi = 0; fl.rLo = rLo; fl.rHi = rHi; fl.cin = 0;
}

/** The position of the instruction that may fault: its start, the next instruction, icount before it. */
export function at(c: Cpu, insnStart: number, rip: number, icount: number): void {
  c.insnStart = insnStart; c.rip = rip; c.icount = icount;
}
