/**
 * Specialised ALU handlers for the operand forms a profile of compiled C ranks highest (register
 * destination, register or immediate source, 32- or 64-bit): no operand-kind tests, direct register-file
 * access. The pure operations are the same as the generic forms' (arith.ts / logic.ts). Chosen at decode
 * time by the instruction table (exec/table.ts).
 *
 * Profile (fixtures/emu cpubench + bench, share of executed instructions): mov r/m64,r64 13%, add 64-bit
 * forms 11%, cmp 64-bit forms 13%, test r64 3.6%, xor 32/64 6.6%, sub 1.3%.
 */
import type { Cpu } from '../cpu/cpu';
import type { Insn } from '../decode/insn';
import * as A from './arith';
import * as L from './logic';
import { res } from './aluResult';

// 64-bit register ← register
export function addR64R64(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1, b = d.r1 << 1;
  A.add(c.flags, 8, u[a], u[a | 1], u[b], u[b | 1]); u[a] = res.lo; u[a | 1] = res.hi;
}
export function subR64R64(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1, b = d.r1 << 1;
  A.sub(c.flags, 8, u[a], u[a | 1], u[b], u[b | 1]); u[a] = res.lo; u[a | 1] = res.hi;
}
export function cmpR64R64(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1, b = d.r1 << 1;
  A.cmp(c.flags, 8, u[a], u[a | 1], u[b], u[b | 1]);
}
export function andR64R64(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1, b = d.r1 << 1;
  L.and(c.flags, 8, u[a], u[a | 1], u[b], u[b | 1]); u[a] = res.lo; u[a | 1] = res.hi;
}
export function orR64R64(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1, b = d.r1 << 1;
  L.or(c.flags, 8, u[a], u[a | 1], u[b], u[b | 1]); u[a] = res.lo; u[a | 1] = res.hi;
}
export function xorR64R64(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1, b = d.r1 << 1;
  L.xor(c.flags, 8, u[a], u[a | 1], u[b], u[b | 1]); u[a] = res.lo; u[a | 1] = res.hi;
}
export function testR64R64(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1, b = d.r1 << 1;
  L.test(c.flags, 8, u[a], u[a | 1], u[b], u[b | 1]);
}

// 64-bit register ← sign-extended immediate
export function addR64I(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1;
  A.add(c.flags, 8, u[a], u[a | 1], d.immLo, d.immHi); u[a] = res.lo; u[a | 1] = res.hi;
}
export function subR64I(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1;
  A.sub(c.flags, 8, u[a], u[a | 1], d.immLo, d.immHi); u[a] = res.lo; u[a | 1] = res.hi;
}
export function cmpR64I(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1;
  A.cmp(c.flags, 8, u[a], u[a | 1], d.immLo, d.immHi);
}
export function andR64I(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1;
  L.and(c.flags, 8, u[a], u[a | 1], d.immLo, d.immHi); u[a] = res.lo; u[a | 1] = res.hi;
}
export function orR64I(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1;
  L.or(c.flags, 8, u[a], u[a | 1], d.immLo, d.immHi); u[a] = res.lo; u[a | 1] = res.hi;
}

// 32-bit register forms (the write zero-extends)
export function addR32R32(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1;
  A.add(c.flags, 4, u[a], 0, u[d.r1 << 1], 0); u[a] = res.lo; u[a | 1] = 0;
}
export function subR32R32(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1;
  A.sub(c.flags, 4, u[a], 0, u[d.r1 << 1], 0); u[a] = res.lo; u[a | 1] = 0;
}
export function cmpR32R32(c: Cpu, d: Insn): void {
  const u = c.regs.u32;
  A.cmp(c.flags, 4, u[d.r0 << 1], 0, u[d.r1 << 1], 0);
}
export function xorR32R32(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1;
  L.xor(c.flags, 4, u[a], 0, u[d.r1 << 1], 0); u[a] = res.lo; u[a | 1] = 0;
}
export function testR32R32(c: Cpu, d: Insn): void {
  const u = c.regs.u32;
  L.test(c.flags, 4, u[d.r0 << 1], 0, u[d.r1 << 1], 0);
}
export function addR32I(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1;
  A.add(c.flags, 4, u[a], 0, d.immLo, 0); u[a] = res.lo; u[a | 1] = 0;
}
export function subR32I(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1;
  A.sub(c.flags, 4, u[a], 0, d.immLo, 0); u[a] = res.lo; u[a | 1] = 0;
}
export function cmpR32I(c: Cpu, d: Insn): void {
  A.cmp(c.flags, 4, c.regs.u32[d.r0 << 1], 0, d.immLo, 0);
}
export function andR32I(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1;
  L.and(c.flags, 4, u[a], 0, d.immLo, 0); u[a] = res.lo; u[a | 1] = 0;
}

// ---- flag-free variants -------------------------------------------------------------------------------
// Used only by compiled blocks (exec/threadedBlock.ts) for an instruction whose status flags are dead;
// each is the `flagFree` of its form in exec/table.ts.
export function addR64R64NF(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1, b = d.r1 << 1;
  const lo = u[a] + u[b];
  u[a] = lo; u[a | 1] = u[a | 1] + u[b | 1] + (lo > 0xffffffff ? 1 : 0);
}
export function subR64R64NF(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1, b = d.r1 << 1;
  const lo = u[a] - u[b];
  u[a] = lo; u[a | 1] = u[a | 1] - u[b | 1] - (lo < 0 ? 1 : 0);
}
export function andR64R64NF(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1, b = d.r1 << 1; u[a] &= u[b]; u[a | 1] &= u[b | 1];
}
export function orR64R64NF(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1, b = d.r1 << 1; u[a] |= u[b]; u[a | 1] |= u[b | 1];
}
export function xorR64R64NF(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1, b = d.r1 << 1; u[a] ^= u[b]; u[a | 1] ^= u[b | 1];
}
export function addR64INF(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1;
  const lo = u[a] + d.immLo;
  u[a] = lo; u[a | 1] = u[a | 1] + d.immHi + (lo > 0xffffffff ? 1 : 0);
}
export function subR64INF(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1;
  const lo = u[a] - d.immLo;
  u[a] = lo; u[a | 1] = u[a | 1] - d.immHi - (lo < 0 ? 1 : 0);
}
export function andR64INF(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1; u[a] &= d.immLo; u[a | 1] &= d.immHi;
}
export function orR64INF(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1; u[a] |= d.immLo; u[a | 1] |= d.immHi;
}
export function addR32R32NF(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1; u[a] = u[a] + u[d.r1 << 1]; u[a | 1] = 0;
}
export function subR32R32NF(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1; u[a] = u[a] - u[d.r1 << 1]; u[a | 1] = 0;
}
export function xorR32R32NF(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1; u[a] = u[a] ^ u[d.r1 << 1]; u[a | 1] = 0;
}
export function addR32INF(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1; u[a] = u[a] + d.immLo; u[a | 1] = 0;
}
export function subR32INF(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1; u[a] = u[a] - d.immLo; u[a | 1] = 0;
}
export function andR32INF(c: Cpu, d: Insn): void {
  const u = c.regs.u32, a = d.r0 << 1; u[a] = u[a] & d.immLo; u[a | 1] = 0;
}
/** CMP/TEST whose flags are dead do nothing at all. */
export function flagsOnlyNF(): void { /* dead compare */ }
