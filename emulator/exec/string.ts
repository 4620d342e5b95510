/**
 * String instructions MOVS STOS LODS CMPS SCAS INS OUTS with REP/REPE/REPNE (SDM vol. 2).
 *
 * Time follows QEMU's `-icount` rule (translate.c, gen_repz with repz_opt off under icount): each
 * iteration is one execution of the instruction and counts as one retired instruction, and when the
 * count reaches zero the instruction runs once more to find RCX = 0 (one more count; a REPE/REPNE that
 * stops on ZF goes straight on). So `rep stos` with RCX = n counts n + 1, with RCX = 0 counts 1.
 * Interrupts are taken between iterations as on hardware: an execution runs at most until the run
 * loop's next event (`Cpu.repUntil`), then leaves RIP on the instruction, which resumes after the
 * interrupt. RCX/RSI/RDI are updated per element, so a fault restarts at the faulting element, and the
 * iterations before it stay counted. A REP string instruction always ends its decoded block.
 */
import type { Cpu } from '../cpu/cpu';
import type { Insn } from '../decode/insn';
import { RSI, RDI } from '../cpu/registers';
import * as A from './arith';
import { bulkMayRun, bulkMovs, bulkStos } from './stringBulk';
import { advance, countIsZero, decrementCount, dstAddr, srcAddr } from './stringRegs';

/**
 * Run the iterations of a REP-prefixed string instruction: `once` does one element and returns false
 * when a REPE/REPNE condition ends the loop. Counts every iteration in `c.icount` as it completes (the
 * run loop adds one for the execution that returns, so the last is taken back).
 */
function repeat(c: Cpu, d: Insn, once: (c: Cpu, d: Insn) => boolean, bulk?: (c: Cpu, d: Insn) => void): void {
  const asz = d.asz;
  if (countIsZero(c, asz)) return;
  const until = c.repUntil > c.icount ? c.repUntil : c.icount + 1;
  // Before each element, the elements that follow it in the same page in bulk (stringBulk.ts): the
  // page's first element, the ordinary way, fills the TLB entry the bulk path needs.
  const inBulk = bulk !== undefined && bulkMayRun(c, d);
  for (;;) {
    if (inBulk) bulk!(c, d);
    const goOn = once(c, d);
    const zero = decrementCount(c, asz);
    c.icount++;
    if (!goOn) break;
    if (c.icount >= until || c.exit) {
      // Out of time (or a device wants the run loop): resume here; with RCX = 0 that resumption is
      // the execution that finds the count exhausted.
      c.rip = c.insnStart;
      c.exit = true;
      break;
    }
    if (zero) { c.icount++; break; }
  }
  c.icount--;
}

/** REPE/REPNE: go on while ZF matches the prefix (F3: ZF = 1, F2: ZF = 0). */
function zfAllows(c: Cpu, d: Insn): boolean { return c.flags.zf() === (d.rep === 1); }

function movsOnce(c: Cpu, d: Insn): boolean {
  const s = d.msize, asz = d.asz, step = c.flags.df() ? -s : s;
  const v = c.mmu.read(s, srcAddr(c, d)), hi = c.mmu.hi;
  c.mmu.write(s, dstAddr(c, d), v, hi);
  advance(c, RSI, asz, step); advance(c, RDI, asz, step);
  return true;
}
export function movs(c: Cpu, d: Insn): void { if (d.rep !== 0) repeat(c, d, movsOnce, bulkMovs); else movsOnce(c, d); }

function stosOnce(c: Cpu, d: Insn): boolean {
  const s = d.msize, step = c.flags.df() ? -s : s;
  c.mmu.write(s, dstAddr(c, d), c.regs.read(s, 0), s === 8 ? c.regs.u32[1] : 0);
  advance(c, RDI, d.asz, step);
  return true;
}
export function stos(c: Cpu, d: Insn): void { if (d.rep !== 0) repeat(c, d, stosOnce, bulkStos); else stosOnce(c, d); }

function lodsOnce(c: Cpu, d: Insn): boolean {
  const s = d.msize, step = c.flags.df() ? -s : s;
  const v = c.mmu.read(s, srcAddr(c, d));
  c.regs.write(s, 0, v, c.mmu.hi);
  advance(c, RSI, d.asz, step);
  return true;
}
export function lods(c: Cpu, d: Insn): void { if (d.rep !== 0) repeat(c, d, lodsOnce); else lodsOnce(c, d); }

function cmpsOnce(c: Cpu, d: Insn): boolean {
  const s = d.msize, asz = d.asz, step = c.flags.df() ? -s : s;
  const a = c.mmu.read(s, srcAddr(c, d)), aHi = s === 8 ? c.mmu.hi : 0;
  const b = c.mmu.read(s, dstAddr(c, d)), bHi = s === 8 ? c.mmu.hi : 0;
  A.cmp(c.flags, s, a, aHi, b, bHi);
  advance(c, RSI, asz, step); advance(c, RDI, asz, step);
  return d.rep === 0 || zfAllows(c, d);
}
export function cmps(c: Cpu, d: Insn): void { if (d.rep !== 0) repeat(c, d, cmpsOnce); else cmpsOnce(c, d); }

function scasOnce(c: Cpu, d: Insn): boolean {
  const s = d.msize, step = c.flags.df() ? -s : s;
  const a = c.regs.read(s, 0), aHi = s === 8 ? c.regs.u32[1] : 0;
  const b = c.mmu.read(s, dstAddr(c, d)), bHi = s === 8 ? c.mmu.hi : 0;
  A.cmp(c.flags, s, a, aHi, b, bHi);
  advance(c, RDI, d.asz, step);
  return d.rep === 0 || zfAllows(c, d);
}
export function scas(c: Cpu, d: Insn): void { if (d.rep !== 0) repeat(c, d, scasOnce); else scasOnce(c, d); }

function insOnce(c: Cpu, d: Insn): boolean {
  const s = d.msize, step = c.flags.df() ? -s : s;
  const va = dstAddr(c, d);
  c.mmu.probeWrite(va, s);
  c.mmu.write(s, va, c.io.read(c.regs.u16[2 << 2], s), 0);
  advance(c, RDI, d.asz, step);
  return true;
}
export function ins(c: Cpu, d: Insn): void {
  if (d.rep !== 0) repeat(c, d, insOnce); else insOnce(c, d);
  c.exit = true;
}

function outsOnce(c: Cpu, d: Insn): boolean {
  const s = d.msize, step = c.flags.df() ? -s : s;
  c.io.write(c.regs.u16[2 << 2], s, c.mmu.read(s, srcAddr(c, d)));
  advance(c, RSI, d.asz, step);
  return true;
}
/** A device that stops the machine (debug exit) sets c.exit: a REP OUTS then resumes at its next element. */
export function outs(c: Cpu, d: Insn): void {
  if (d.rep !== 0) repeat(c, d, outsOnce); else outsOnce(c, d);
  c.exit = true;
}
