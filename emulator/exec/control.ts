/**
 * Control transfer: JMP, Jcc, CALL, RET, LOOP/LOOPcc, JRCXZ/JECXZ, far JMP/CALL/RET (the boot path's
 * far jump into 64-bit code), and the block-level helper that sets RIP with the canonical check.
 */
import type { Cpu } from '../cpu/cpu';
import { Insn, OK_REG, OK_BRANCH } from '../decode/insn';
import { RCX } from '../cpu/registers';
import { CS } from '../cpu/modes';
import { ea, readOp0 } from './operands';
import { GuestFault, GP } from '../interrupts/guestFault';

/** Set RIP to a 64-bit target given as halves (indirect branches, returns). */
export function setRip(c: Cpu, lo: number, hi: number): void {
  if (c.bits !== 64) { c.rip = lo >>> 0; return; }
  const v = (hi | 0) * 4294967296 + lo;
  if (v < -0x800000000000 || v >= 0x800000000000) throw new GuestFault(GP, 0);
  c.rip = v;
}

function relTarget(c: Cpu, d: Insn): number {
  const t = c.rip + d.target;
  if (c.bits === 64) {
    if (t < -0x800000000000 || t >= 0x800000000000) throw new GuestFault(GP, 0);
    return t;
  }
  return d.s0 === 2 ? t & 0xffff : t >>> 0;
}

export function jmpRel(c: Cpu, d: Insn): void { c.rip = relTarget(c, d); }

export function jcc(c: Cpu, d: Insn): void {
  if (c.flags.cond(d.cc)) c.rip = relTarget(c, d);
}

export function jmpRm(c: Cpu, d: Insn): void {
  const lo = readOp0(c, d);
  setRip(c, lo, d.size === 8 ? c.aHi : 0);
}

export function callRel(c: Cpu, d: Insn): void {
  const t = relTarget(c, d);
  pushReturn(c, d.ssz);
  c.rip = t;
}

export function callRm(c: Cpu, d: Insn): void {
  const lo = readOp0(c, d), hi = d.size === 8 ? c.aHi : 0;
  const old = c.rip;
  pushReturn(c, d.ssz);
  try { setRip(c, lo, hi); } catch (e) { c.addSp(d.ssz); c.rip = old; throw e; }
}

function pushReturn(c: Cpu, s: number): void {
  const r = c.rip;
  if (s === 8) c.push64(r >>> 0, Math.floor(r / 4294967296) >>> 0);
  else c.push(s, r >>> 0, 0);
}

export function ret(c: Cpu, d: Insn): void {
  const s = d.ssz;
  if (s === 8 && c.bits === 64 && d.k0 === 0) {
    const lo = c.pop64(), hi = c.mmu.hi;
    const v = (hi | 0) * 4294967296 + lo;
    if (v < -0x800000000000 || v >= 0x800000000000) { c.addSp(-8); throw new GuestFault(GP, 0); }
    c.rip = v;
    return;
  }
  const lo = c.mmu.read(s, c.spAddr(0)), hi = s === 8 ? c.mmu.hi : 0;
  setRip(c, lo, hi);
  c.addSp(s + (d.k0 !== 0 ? d.immLo & 0xffff : 0));
}

function counterSize(c: Cpu, d: Insn): number { return d.asz === 4 || c.bits === 32 ? 4 : 8; }

/** Decrement RCX/ECX; returns true when it is non-zero afterwards. */
function decCounter(c: Cpu, size: number): boolean {
  const u = c.regs.u32;
  if (size === 8) {
    const lo = u[RCX << 1];
    u[RCX << 1] = lo - 1;
    if (lo === 0) u[(RCX << 1) | 1] -= 1;
    return (u[RCX << 1] | u[(RCX << 1) | 1]) !== 0;
  }
  const v = (u[RCX << 1] - 1) >>> 0;
  c.regs.set32(RCX, v);
  return v !== 0;
}

export function loop(c: Cpu, d: Insn): void { if (decCounter(c, counterSize(c, d))) c.rip = relTarget(c, d); }
export function loope(c: Cpu, d: Insn): void { if (decCounter(c, counterSize(c, d)) && c.flags.zf()) c.rip = relTarget(c, d); }
export function loopne(c: Cpu, d: Insn): void { if (decCounter(c, counterSize(c, d)) && !c.flags.zf()) c.rip = relTarget(c, d); }
export function jrcxz(c: Cpu, d: Insn): void {
  const u = c.regs.u32;
  const zero = counterSize(c, d) === 8 ? (u[RCX << 1] | u[(RCX << 1) | 1]) === 0 : u[RCX << 1] === 0;
  if (zero) c.rip = relTarget(c, d);
}

/** JMP ptr16:32 (32-bit mode) and JMP m16:32 / m16:64 (far indirect). */
export function jmpFar(c: Cpu, d: Insn): void {
  let sel: number, off: number, offHi = 0;
  if (d.k0 === OK_BRANCH) { sel = d.imm2; off = d.immLo; }
  else {
    const va = ea(c, d);
    const osz = d.msize - 2;
    off = c.mmu.read(osz === 8 ? 8 : osz, va); offHi = osz === 8 ? c.mmu.hi : 0;
    if (osz === 2) off &= 0xffff;
    sel = c.mmu.read16(va + osz);
  }
  c.loadSegment(CS, sel);
  setRip(c, off, offHi);
  c.exit = true;
}

/** CALL far (ptr or memory): push CS and the return offset, then as JMP far. */
export function callFar(c: Cpu, d: Insn): void {
  let sel: number, off: number, offHi = 0;
  const osz = d.k0 === OK_BRANCH ? d.s0 : d.msize - 2;
  if (d.k0 === OK_BRANCH) { sel = d.imm2; off = d.immLo; }
  else {
    const va = ea(c, d);
    off = c.mmu.read(osz, va); offHi = osz === 8 ? c.mmu.hi : 0;
    sel = c.mmu.read16(va + osz);
  }
  const s = d.ssz;
  c.push(s, c.sel[CS], 0);
  pushReturn(c, s);
  c.loadSegment(CS, sel);
  setRip(c, off, offHi);
  c.exit = true;
}

/** RETF (same privilege only; the kernels here use it to reload CS, e.g. `lretq`). */
export function retf(c: Cpu, d: Insn): void {
  const s = d.ssz;
  const lo = c.mmu.read(s, c.spAddr(0)), hi = s === 8 ? c.mmu.hi : 0;
  const sel = c.mmu.read(s, c.spAddr(s)) & 0xffff;
  if ((sel & 3) !== c.cpl) throw new GuestFault(GP, sel & 0xfffc);
  c.loadSegment(CS, sel);
  setRip(c, lo, hi);
  c.addSp(2 * s + (d.k0 !== 0 ? d.immLo & 0xffff : 0));
  c.exit = true;
}
void OK_REG;
