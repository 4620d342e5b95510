/**
 * The registers of a string instruction as its iterations use them (string.ts, and its bulk path
 * stringBulk.ts): RSI/RDI as addresses of the instruction's address size, their advance by an
 * element or many, and the count in RCX (ECX with a 32-bit address size).
 */
import type { Cpu } from '../cpu/cpu';
import type { Insn } from '../decode/insn';
import { RCX, RSI, RDI } from '../cpu/registers';
import { ES } from '../cpu/modes';

function regAddr(c: Cpu, r: number, asz: number): number {
  if (asz === 8) return c.regs.addr(r);
  return c.regs.u32[r << 1];
}
export function advance(c: Cpu, r: number, asz: number, delta: number): void {
  const u = c.regs.u32;
  if (asz === 8) {
    const lo = u[r << 1] + delta;
    u[r << 1] = lo;
    if (lo < 0) u[(r << 1) | 1] -= 1; else if (lo > 0xffffffff) u[(r << 1) | 1] += 1;
  } else {
    c.regs.set32(r, (u[r << 1] + delta) >>> 0);
  }
}
/** Whether RCX (ECX with a 32-bit address size) is zero. */
export function countIsZero(c: Cpu, asz: number): boolean {
  const u = c.regs.u32;
  return u[RCX << 1] === 0 && (asz !== 8 || u[(RCX << 1) | 1] === 0);
}
/** RCX -= 1 on its halves (a double would lose counts above 2^53); returns whether it became zero. */
export function decrementCount(c: Cpu, asz: number): boolean {
  const u = c.regs.u32;
  const lo = (u[RCX << 1] - 1) >>> 0;
  if (asz === 8) {
    if (lo === 0xffffffff) u[(RCX << 1) | 1] = (u[(RCX << 1) | 1] - 1) >>> 0;
    u[RCX << 1] = lo;
    return lo === 0 && u[(RCX << 1) | 1] === 0;
  }
  c.regs.set32(RCX, lo);
  return lo === 0;
}
export function srcAddr(c: Cpu, d: Insn): number {
  const a = regAddr(c, RSI, d.asz);
  return c.bits === 64 ? (d.seg >= 4 ? a + c.segBase[d.seg] : a) : ((a + c.segBase[d.seg]) >>> 0);
}
export function dstAddr(c: Cpu, d: Insn): number {
  const a = regAddr(c, RDI, d.asz);
  return c.bits === 64 ? a : ((a + c.segBase[ES]) >>> 0);
}
