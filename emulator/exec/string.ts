/**
 * String instructions MOVS STOS LODS CMPS SCAS INS OUTS with REP/REPE/REPNE (SDM vol. 2). A REP
 * instruction runs to completion inside one handler (counted as one retired instruction); RCX/RSI/RDI
 * are updated per element, so a fault in the middle restarts correctly at the faulting element.
 */
import type { Cpu } from '../cpu/cpu';
import type { Insn } from '../decode/insn';
import { RCX, RSI, RDI } from '../cpu/registers';
import { ES } from '../cpu/modes';
import * as A from './arith';

function regAddr(c: Cpu, r: number, asz: number): number {
  if (asz === 8) return c.regs.addr(r);
  return c.regs.u32[r << 1];
}
function advance(c: Cpu, r: number, asz: number, delta: number): void {
  const u = c.regs.u32;
  if (asz === 8) {
    const lo = u[r << 1] + delta;
    u[r << 1] = lo;
    if (lo < 0) u[(r << 1) | 1] -= 1; else if (lo > 0xffffffff) u[(r << 1) | 1] += 1;
  } else {
    c.regs.set32(r, (u[r << 1] + delta) >>> 0);
  }
}
function count(c: Cpu, asz: number): number {
  const u = c.regs.u32;
  return asz === 8 ? u[(RCX << 1) | 1] * 4294967296 + u[RCX << 1] : u[RCX << 1];
}
function setCount(c: Cpu, asz: number, n: number): void {
  if (asz === 8) c.regs.setAddr(RCX, n); else c.regs.set32(RCX, n >>> 0);
}
function srcAddr(c: Cpu, d: Insn): number {
  const a = regAddr(c, RSI, d.asz);
  return c.bits === 64 ? (d.seg >= 4 ? a + c.segBase[d.seg] : a) : ((a + c.segBase[d.seg]) >>> 0);
}
function dstAddr(c: Cpu, d: Insn): number {
  const a = regAddr(c, RDI, d.asz);
  return c.bits === 64 ? a : ((a + c.segBase[ES]) >>> 0);
}

export function movs(c: Cpu, d: Insn): void {
  const s = d.msize, asz = d.asz, step = c.flags.df() ? -s : s;
  let n = d.rep !== 0 ? count(c, asz) : 1;
  while (n > 0) {
    const v = c.mmu.read(s, srcAddr(c, d)), hi = c.mmu.hi;
    c.mmu.write(s, dstAddr(c, d), v, hi);
    advance(c, RSI, asz, step); advance(c, RDI, asz, step);
    n--;
    if (d.rep !== 0) setCount(c, asz, n);
  }
}

export function stos(c: Cpu, d: Insn): void {
  const s = d.msize, asz = d.asz, step = c.flags.df() ? -s : s;
  const lo = c.regs.read(s, 0), hi = s === 8 ? c.regs.u32[1] : 0;
  let n = d.rep !== 0 ? count(c, asz) : 1;
  while (n > 0) {
    c.mmu.write(s, dstAddr(c, d), lo, hi);
    advance(c, RDI, asz, step);
    n--;
    if (d.rep !== 0) setCount(c, asz, n);
  }
}

export function lods(c: Cpu, d: Insn): void {
  const s = d.msize, asz = d.asz, step = c.flags.df() ? -s : s;
  let n = d.rep !== 0 ? count(c, asz) : 1;
  while (n > 0) {
    const v = c.mmu.read(s, srcAddr(c, d));
    c.regs.write(s, 0, v, c.mmu.hi);
    advance(c, RSI, asz, step);
    n--;
    if (d.rep !== 0) setCount(c, asz, n);
  }
}

export function cmps(c: Cpu, d: Insn): void {
  const s = d.msize, asz = d.asz, step = c.flags.df() ? -s : s;
  let n = d.rep !== 0 ? count(c, asz) : 1;
  while (n > 0) {
    const a = c.mmu.read(s, srcAddr(c, d)), aHi = s === 8 ? c.mmu.hi : 0;
    const b = c.mmu.read(s, dstAddr(c, d)), bHi = s === 8 ? c.mmu.hi : 0;
    A.cmp(c.flags, s, a, aHi, b, bHi);
    advance(c, RSI, asz, step); advance(c, RDI, asz, step);
    n--;
    if (d.rep !== 0) {
      setCount(c, asz, n);
      if (c.flags.zf() !== (d.rep === 1)) break;
    }
  }
}

export function scas(c: Cpu, d: Insn): void {
  const s = d.msize, asz = d.asz, step = c.flags.df() ? -s : s;
  const a = c.regs.read(s, 0), aHi = s === 8 ? c.regs.u32[1] : 0;
  let n = d.rep !== 0 ? count(c, asz) : 1;
  while (n > 0) {
    const b = c.mmu.read(s, dstAddr(c, d)), bHi = s === 8 ? c.mmu.hi : 0;
    A.cmp(c.flags, s, a, aHi, b, bHi);
    advance(c, RDI, asz, step);
    n--;
    if (d.rep !== 0) {
      setCount(c, asz, n);
      if (c.flags.zf() !== (d.rep === 1)) break;
    }
  }
}

export function ins(c: Cpu, d: Insn): void {
  const s = d.msize, asz = d.asz, step = c.flags.df() ? -s : s;
  const port = c.regs.u16[2 << 2];
  let n = d.rep !== 0 ? count(c, asz) : 1;
  while (n > 0) {
    const va = dstAddr(c, d);
    c.mmu.probeWrite(va, s);
    c.mmu.write(s, va, c.io.read(port, s), 0);
    advance(c, RDI, asz, step);
    n--;
    if (d.rep !== 0) setCount(c, asz, n);
  }
  c.exit = true;
}

export function outs(c: Cpu, d: Insn): void {
  const s = d.msize, asz = d.asz, step = c.flags.df() ? -s : s;
  const port = c.regs.u16[2 << 2];
  let n = d.rep !== 0 ? count(c, asz) : 1;
  while (n > 0 && !c.exit) {
    c.io.write(port, s, c.mmu.read(s, srcAddr(c, d)));
    advance(c, RSI, asz, step);
    n--;
    if (d.rep !== 0) setCount(c, asz, n);
  }
  if (n > 0) c.rip = c.insnStart; // a device stopped the machine mid-string: resume here later
  c.exit = true;
}
