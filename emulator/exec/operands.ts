/**
 * Operand access shared by the handlers: effective addresses, and reading/writing operand 0
 * (register or memory destination) and operand 1 (register, immediate or memory source) as uint32
 * halves. High halves come back in c.aHi / c.bHi; the memory address of operand 0 is kept in c.va for
 * the write-back of a read-modify-write.
 */
import type { Cpu } from '../cpu/cpu';
import { Insn, OK_REG, OK_IMM, OK_MEM } from '../decode/insn';
import { GuestFault, GP, UD } from '../interrupts/guestFault';

/**
 * Linear address of the memory operand (segment base applied; #GP if not canonical in 64-bit mode).
 * Fast path for 64-bit addressing without FS/GS (the decoder sets eaFast): plain double arithmetic on
 * the signed register values, exact whenever the result is canonical; anything else (huge index values
 * that wrap, FS/GS bases, 32-bit addressing) takes the exact lo/hi path below.
 */
export function ea(c: Cpu, d: Insn): number {
  if (d.eaFast !== 0) {
    const u = c.regs.u32;
    let v = d.ripRel !== 0 ? c.rip + d.disp : d.disp;
    const b = d.base, x = d.index;
    const hb = b >= 0 ? u[(b << 1) | 1] : 0, hx = x >= 0 ? u[(x << 1) | 1] : 0;
    // A base and an index each within ±2^47 (high words within ±2^15) add up exactly as doubles.
    // Larger ones can cancel to a canonical address that rounding moved: they take the exact path.
    if (b < 0 || x < 0 || (((hb + 0x8000) | (hx + 0x8000)) & 0xffff0000) === 0) {
      if (b >= 0) v += (hb | 0) * 4294967296 + u[b << 1];
      if (x >= 0) v += ((hx | 0) * 4294967296 + u[x << 1]) * d.scale;
      if (v >= -0x800000000000 && v < 0x800000000000) return v;
    }
  }
  const va = eaNoFault(c, d);
  if (va !== va) throw new GuestFault(GP, 0); // NaN: not canonical
  return va;
}

/**
 * `ea` by the exact lo/hi path, returning NaN where `ea` raises #GP (a non-canonical 64-bit address):
 * the JIT's translated code calls it so that it can sync its locals before the fault is raised.
 */
export function eaNoFault(c: Cpu, d: Insn): number {
  let va: number;
  if (d.asz === 8) {
    if (d.ripRel !== 0) {
      va = c.rip + d.disp;
    } else {
      const u = c.regs.u32;
      let lo = d.dispLo, hi = d.dispHi;
      const b = d.base, x = d.index;
      if (b >= 0) { lo += u[b << 1]; hi += u[(b << 1) | 1]; }
      if (x >= 0) { const s = d.scale; lo += u[x << 1] * s; hi += u[(x << 1) | 1] * s; }
      if (lo > 0xffffffff) { hi += Math.floor(lo / 4294967296); lo %= 4294967296; }
      va = (hi | 0) * 4294967296 + lo;
    }
    const sb = c.segBase[d.seg];
    if (sb !== 0) va = wrap64(va + sb);
    if (va < -0x800000000000 || va >= 0x800000000000) return NaN;
    return va;
  }
  // 32-bit address size (32-bit mode, or a 0x67 prefix in 64-bit mode).
  let lo: number;
  if (d.ripRel !== 0) lo = c.rip + d.disp;
  else {
    const u = c.regs.u32;
    lo = d.dispLo;
    if (d.base >= 0) lo += u[d.base << 1];
    if (d.index >= 0) lo += u[d.index << 1] * d.scale;
  }
  lo = lo >>> 0;
  if (c.bits === 64) return d.seg >= 4 ? wrap64(lo + c.segBase[d.seg]) : lo;
  return (lo + c.segBase[d.seg]) >>> 0;
}

/** Sign-extend/wrap an address sum to the signed 64-bit number range used for virtual addresses. */
export function wrap64(v: number): number {
  if (v >= 9223372036854775808) return v - 18446744073709551616;
  if (v < -9223372036854775808) return v + 18446744073709551616;
  return v;
}

/** Read a GPR operand: low half returned, high half (size 8) in c.aHi. */
function regRead(c: Cpu, size: number, r: number): number {
  const g = c.regs;
  switch (size) {
    case 1: c.aHi = 0; return g.u8[r];
    case 2: c.aHi = 0; return g.u16[r << 2];
    case 4: c.aHi = 0; return g.u32[r << 1];
    default: c.aHi = g.u32[(r << 1) | 1]; return g.u32[r << 1];
  }
}

/** Operand 0 for reading only (cmp/test/push ...). */
export function readOp0(c: Cpu, d: Insn): number {
  if (d.k0 === OK_REG) return regRead(c, d.size, d.r0);
  const va = ea(c, d);
  c.va = va;
  const lo = c.mmu.read(d.size, va);
  c.aHi = d.size === 8 ? c.mmu.hi : 0;
  return lo;
}

/** Operand 0 of a read-modify-write: a memory destination is checked writable before it is read. */
export function readRmw0(c: Cpu, d: Insn): number {
  if (d.k0 === OK_REG) return regRead(c, d.size, d.r0);
  const va = ea(c, d);
  c.va = va;
  c.mmu.probeWrite(va, d.size);
  const lo = c.mmu.read(d.size, va);
  c.aHi = d.size === 8 ? c.mmu.hi : 0;
  return lo;
}

/** Write operand 0 (after readRmw0 for memory, c.va holds the address). */
export function writeOp0(c: Cpu, d: Insn, lo: number, hi: number): void {
  if (d.k0 === OK_REG) { c.regs.write(d.size, d.r0, lo, hi); return; }
  c.mmu.write(d.size, c.va, lo, hi);
}

/** Write operand 0 without a prior read (MOV, SETcc, POP ...): computes the address itself. */
export function storeOp0(c: Cpu, d: Insn, lo: number, hi: number): void {
  if (d.k0 === OK_REG) { c.regs.write(d.size, d.r0, lo, hi); return; }
  c.mmu.write(d.size, ea(c, d), lo, hi);
}

/** Source operand 1 at operand size d.size (immediates already sign-extended and truncated). */
export function readOp1(c: Cpu, d: Insn): number {
  const k = d.k1;
  if (k === OK_REG) {
    const g = c.regs;
    switch (d.s1) {
      case 1: c.bHi = 0; return g.u8[d.r1];
      case 2: c.bHi = 0; return g.u16[d.r1 << 2];
      case 4: c.bHi = 0; return g.u32[d.r1 << 1];
      default: c.bHi = g.u32[(d.r1 << 1) | 1]; return g.u32[d.r1 << 1];
    }
  }
  if (k === OK_IMM) { c.bHi = d.immHi; return d.immLo; }
  if (k === OK_MEM) {
    const va = ea(c, d);
    const s = d.s1;
    const lo = c.mmu.read(s, va);
    c.bHi = s === 8 ? c.mmu.hi : 0;
    return lo;
  }
  throw new GuestFault(UD);
}

/** Any operand (index 0..2) of any kind, for rarely used forms. Result lo, hi in c.bHi. */
export function readAny(c: Cpu, d: Insn, i: number): number {
  const k = i === 0 ? d.k0 : i === 1 ? d.k1 : d.k2;
  const r = i === 0 ? d.r0 : i === 1 ? d.r1 : d.r2;
  const s = i === 0 ? d.s0 : i === 1 ? d.s1 : d.s2;
  if (k === OK_REG) { const lo = regRead(c, s, r); c.bHi = c.aHi; return lo; }
  if (k === OK_IMM) {
    if (i === 2 || (i === 1 && d.k2 === OK_IMM && false)) { c.bHi = d.immHi; return d.immLo; }
    c.bHi = d.immHi; return d.immLo;
  }
  if (k === OK_MEM) {
    const lo = c.mmu.read(s, ea(c, d));
    c.bHi = s === 8 ? c.mmu.hi : 0;
    return lo;
  }
  throw new GuestFault(UD);
}

/** Sign-extend a `size`-byte value to 64 bits: low half returned, high half in c.bHi. */
export function signExtend(c: Cpu, size: number, lo: number): number {
  switch (size) {
    case 1: lo = (lo << 24) >> 24; c.bHi = lo < 0 ? 0xffffffff : 0; return lo >>> 0;
    case 2: lo = (lo << 16) >> 16; c.bHi = lo < 0 ? 0xffffffff : 0; return lo >>> 0;
    case 4: c.bHi = (lo | 0) < 0 ? 0xffffffff : 0; return lo >>> 0;
    default: return lo;
  }
}

/** Truncate (lo, hi) to `size` bytes: returns lo; hi is 0 unless size 8 (handled by the caller). */
export function trunc(size: number, lo: number): number {
  return size === 1 ? lo & 0xff : size === 2 ? lo & 0xffff : lo >>> 0;
}
