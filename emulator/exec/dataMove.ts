/**
 * Data movement: MOV (GPR forms), MOVZX, MOVSX, MOVSXD, LEA, XCHG, CMPXCHG, CMPXCHG8B/16B, XADD,
 * CMOVcc, SETcc, CBW/CWDE/CDQE, CWD/CDQ/CQO, LAHF/SAHF, NOP.
 */
import type { Cpu } from '../cpu/cpu';
import { Insn, OK_REG, OK_MEM } from '../decode/insn';
import * as A from './arith';
import { res } from './aluResult';
import { ea, readOp0, readOp1, readRmw0, writeOp0, storeOp0, signExtend } from './operands';
import { CF, PF, AF, ZF, SF, STATUS_FLAGS, DF as DF_FLAG } from '../cpu/flags';
import { GuestFault, GP } from '../interrupts/guestFault';

export function mov(c: Cpu, d: Insn): void {
  const lo = readOp1(c, d);
  storeOp0(c, d, lo, c.bHi);
}

/** MOV r64, r64 (the most frequent form): no operand-kind tests. */
export function movR64R64(c: Cpu, d: Insn): void {
  const u = c.regs.u32, s = d.r1 << 1, t = d.r0 << 1;
  u[t] = u[s]; u[t | 1] = u[s | 1];
}
export function movR32R32(c: Cpu, d: Insn): void {
  const u = c.regs.u32;
  u[d.r0 << 1] = u[d.r1 << 1]; u[(d.r0 << 1) | 1] = 0;
}
export function movR64M(c: Cpu, d: Insn): void {
  const u = c.regs.u32, lo = c.mmu.read64(ea(c, d));
  u[d.r0 << 1] = lo; u[(d.r0 << 1) | 1] = c.mmu.hi;
}
export function movMR64(c: Cpu, d: Insn): void {
  const u = c.regs.u32;
  c.mmu.write64(ea(c, d), u[d.r1 << 1], u[(d.r1 << 1) | 1]);
}
export function movR32M(c: Cpu, d: Insn): void {
  const u = c.regs.u32;
  u[d.r0 << 1] = c.mmu.read32(ea(c, d)); u[(d.r0 << 1) | 1] = 0;
}
export function movMR32(c: Cpu, d: Insn): void {
  c.mmu.write32(ea(c, d), c.regs.u32[d.r1 << 1]);
}

export function movzx(c: Cpu, d: Insn): void {
  const lo = readOp1(c, d);
  c.regs.write(d.size, d.r0, lo, 0);
}
export function movsx(c: Cpu, d: Insn): void {
  let lo = readOp1(c, d);
  lo = signExtend(c, d.s1, lo);
  if (d.size === 2) lo &= 0xffff;
  c.regs.write(d.size, d.r0, lo, c.bHi);
}

/** LEA: the effective address as pure 64-bit (or 32/16-bit) arithmetic; no segment, no canonical check. */
export function lea(c: Cpu, d: Insn): void {
  let lo: number, hi: number;
  if (d.ripRel !== 0) {
    const v = c.rip + d.disp;
    lo = v >>> 0; hi = Math.floor(v / 4294967296) >>> 0;
  } else {
    const u = c.regs.u32;
    lo = d.dispLo; hi = d.dispHi;
    if (d.base >= 0) { lo += u[d.base << 1]; hi += u[(d.base << 1) | 1]; }
    if (d.index >= 0) { lo += u[d.index << 1] * d.scale; hi += u[(d.index << 1) | 1] * d.scale; }
    hi = (hi + Math.floor(lo / 4294967296)) >>> 0;
    lo = lo >>> 0;
    if (d.asz === 4) hi = 0;
  }
  if (d.size === 2) lo &= 0xffff;
  c.regs.write(d.size, d.r0, lo, hi);
}

export function xchg(c: Cpu, d: Insn): void {
  const a = readRmw0(c, d), aHi = c.aHi;
  const b = readOp1(c, d), bHi = c.bHi;
  writeOp0(c, d, b, bHi);
  c.regs.write(d.s1, d.r1, a, aHi);
}

export function cmpxchg(c: Cpu, d: Insn): void {
  const s = d.size;
  const dst = readRmw0(c, d), dstHi = c.aHi;
  const acc = c.regs.read(s, 0), accHi = s === 8 ? c.regs.u32[1] : 0;
  A.cmp(c.flags, s, acc, accHi, dst, dstHi);
  if (acc === dst && accHi === dstHi) {
    const src = readOp1(c, d);
    writeOp0(c, d, src, c.bHi);
  } else {
    if (d.k0 === OK_MEM) writeOp0(c, d, dst, dstHi); // the processor always writes the destination
    c.regs.write(s, 0, dst, dstHi);
  }
}

/** CMPXCHG8B / CMPXCHG16B m64/m128 against EDX:EAX / RDX:RAX. */
export function cmpxchgNb(c: Cpu, d: Insn): void {
  const va = ea(c, d), u = c.regs.u32;
  const wide = d.msize === 16;
  if (wide && (va & 15) !== 0) throw new GuestFault(GP, 0);
  c.mmu.probeWrite(va, d.msize);
  if (wide) {
    const m0 = c.mmu.read64(va), m1 = c.mmu.hi, m2 = c.mmu.read64(va + 8), m3 = c.mmu.hi;
    if (m0 === u[0] && m1 === u[1] && m2 === u[4] && m3 === u[5]) {
      c.mmu.write64(va, u[6], u[7]); c.mmu.write64(va + 8, u[2], u[3]);
      c.flags.setStatus(ZF, ZF);
    } else {
      c.mmu.write64(va, m0, m1); c.mmu.write64(va + 8, m2, m3);
      u[0] = m0; u[1] = m1; u[4] = m2; u[5] = m3;
      c.flags.setStatus(ZF, 0);
    }
  } else {
    const m0 = c.mmu.read32(va), m1 = c.mmu.read32(va + 4);
    if (m0 === u[0] && m1 === u[4]) {
      c.mmu.write32(va, u[6]); c.mmu.write32(va + 4, u[2]);
      c.flags.setStatus(ZF, ZF);
    } else {
      c.mmu.write32(va, m0); c.mmu.write32(va + 4, m1);
      c.regs.set32(0, m0); c.regs.set32(2, m1);
      c.flags.setStatus(ZF, 0);
    }
  }
}

export function xadd(c: Cpu, d: Insn): void {
  const dst = readRmw0(c, d), dstHi = c.aHi;
  const src = readOp1(c, d), srcHi = c.bHi;
  A.add(c.flags, d.size, dst, dstHi, src, srcHi);
  const rLo = res.lo, rHi = res.hi;
  c.regs.write(d.s1, d.r1, dst, dstHi);
  writeOp0(c, d, rLo, rHi);
}

export function cmovcc(c: Cpu, d: Insn): void {
  const lo = readOp1(c, d), hi = c.bHi; // a memory source is read (and may fault) either way
  if (c.flags.cond(d.cc)) c.regs.write(d.size, d.r0, lo, hi);
  else if (d.size === 4) c.regs.u32[(d.r0 << 1) | 1] = 0; // 32-bit destination is zero-extended regardless
}

export function setcc(c: Cpu, d: Insn): void {
  storeOp0(c, d, c.flags.cond(d.cc) ? 1 : 0, 0);
}

export function cbw(c: Cpu): void { const g = c.regs; g.u16[0] = (g.u8[0] << 24) >> 24; }
export function cwde(c: Cpu): void { const g = c.regs; g.set32(0, ((g.u16[0] << 16) >> 16) >>> 0); }
export function cdqe(c: Cpu): void { const g = c.regs; g.u32[1] = (g.u32[0] | 0) < 0 ? 0xffffffff : 0; }
export function cwd(c: Cpu): void { const g = c.regs; g.u16[8] = (g.u16[0] & 0x8000) ? 0xffff : 0; }
export function cdq(c: Cpu): void { const g = c.regs; g.set32(2, (g.u32[0] | 0) < 0 ? 0xffffffff : 0); }
export function cqo(c: Cpu): void { const g = c.regs; const v = (g.u32[1] | 0) < 0 ? 0xffffffff : 0; g.set64(2, v, v); }

export function lahf(c: Cpu): void { c.regs.u8[1] = c.flags.get() & 0xff; }
export function sahf(c: Cpu): void {
  const m = CF | PF | AF | ZF | SF;
  c.flags.setStatus(m, c.regs.u8[1] & m);
}
void STATUS_FLAGS; void OK_REG; void readOp0;

export function nop(): void { /* no operation */ }

// ---- flag instructions (CLC STC CMC CLD STD) ----
export function clc(c: Cpu): void { c.flags.setStatus(CF, 0); }
export function stc(c: Cpu): void { c.flags.setStatus(CF, CF); }
export function cmc(c: Cpu): void { c.flags.setStatus(CF, c.flags.carry() ? 0 : CF); }
export function cld(c: Cpu): void { c.flags.setBit(DF_FLAG, false); }
export function std(c: Cpu): void { c.flags.setBit(DF_FLAG, true); }
