/**
 * SSE/SSE2/SSE3 shuffles, element moves and masks on XMM registers: SHUFPS/SHUFPD, PSHUFLW/PSHUFHW,
 * PINSRW/PEXTRW (XMM forms), MOVMSKPS/MOVMSKPD, MOVDDUP/MOVSHDUP/MOVSLDUP and MASKMOVDQU.
 * (UNPCKL/H PS/PD are the PUNPCKL/H DQ/QDQ handlers in sseMove.ts.)
 */
import type { Cpu } from '../cpu/cpu';
import { Insn, OK_REG, OK_MEM, OK_XMM } from '../decode/insn';
import { GuestFault, UD } from '../interrupts/guestFault';
import { ea } from './operands';
import { sseAvailable } from './sse/mxcsr';
import { src, dst, res, loadSource, loadDest, storeDest, requireXmmDest } from './sse/xmmOperands';

const su16 = new Uint16Array(src.buffer), ru16 = new Uint16Array(res.buffer);

export function shufps(c: Cpu, d: Insn): void {
  sseAvailable(c); requireXmmDest(d);
  loadSource(c, d, 16, true); loadDest(c, d);
  const imm = d.immLo & 0xff;
  res[0] = dst[imm & 3]; res[1] = dst[(imm >>> 2) & 3]; res[2] = src[(imm >>> 4) & 3]; res[3] = src[(imm >>> 6) & 3];
  storeDest(c, d, res);
}
export function shufpd(c: Cpu, d: Insn): void {
  sseAvailable(c); requireXmmDest(d);
  loadSource(c, d, 16, true); loadDest(c, d);
  const a = (d.immLo & 1) * 2, b = ((d.immLo >>> 1) & 1) * 2;
  res[0] = dst[a]; res[1] = dst[a + 1]; res[2] = src[b]; res[3] = src[b + 1];
  storeDest(c, d, res);
}
/** PSHUFLW/PSHUFHW: shuffle the words of one source half, copy the other half. */
function pshufHalf(c: Cpu, d: Insn, high: boolean): void {
  sseAvailable(c); requireXmmDest(d);
  loadSource(c, d, 16, true);
  res[0] = src[0]; res[1] = src[1]; res[2] = src[2]; res[3] = src[3];
  const base = high ? 4 : 0, imm = d.immLo & 0xff;
  for (let i = 0; i < 4; i++) ru16[base + i] = su16[base + ((imm >>> (2 * i)) & 3)];
  storeDest(c, d, res);
}
export const pshuflw = (c: Cpu, d: Insn): void => pshufHalf(c, d, false);
export const pshufhw = (c: Cpu, d: Insn): void => pshufHalf(c, d, true);

export function pinsrw(c: Cpu, d: Insn): void {
  sseAvailable(c); requireXmmDest(d);
  let v: number;
  if (d.k1 === OK_REG) v = c.regs.u32[d.r1 << 1] & 0xffff;
  else if (d.k1 === OK_MEM) v = c.mmu.read16(ea(c, d));
  else throw new GuestFault(UD);
  loadDest(c, d);
  res[0] = dst[0]; res[1] = dst[1]; res[2] = dst[2]; res[3] = dst[3];
  ru16[d.immLo & 7] = v;
  storeDest(c, d, res);
}
export function pextrw(c: Cpu, d: Insn): void {
  sseAvailable(c);
  if (d.k0 !== OK_REG || d.k1 !== OK_XMM) throw new GuestFault(UD);
  const x = c.regs.xmm, w = d.immLo & 7;
  const v = (x[d.r1 * 4 + (w >>> 1)] >>> (16 * (w & 1))) & 0xffff;
  c.regs.write(d.s0 === 8 ? 8 : 4, d.r0, v, 0);
}
/** MOVMSKPS/MOVMSKPD r32|r64, xmm: the sign bits of the lanes. */
function movmsk(c: Cpu, d: Insn, double: boolean): void {
  sseAvailable(c);
  if (d.k0 !== OK_REG || d.k1 !== OK_XMM) throw new GuestFault(UD);
  const x = c.regs.xmm, r = d.r1 * 4;
  const m = double ? (x[r + 1] >>> 31) | ((x[r + 3] >>> 31) << 1)
    : (x[r] >>> 31) | ((x[r + 1] >>> 31) << 1) | ((x[r + 2] >>> 31) << 2) | ((x[r + 3] >>> 31) << 3);
  c.regs.write(d.s0 === 8 ? 8 : 4, d.r0, m, 0);
}
export const movmskps = (c: Cpu, d: Insn): void => movmsk(c, d, false);
export const movmskpd = (c: Cpu, d: Insn): void => movmsk(c, d, true);

export function movddup(c: Cpu, d: Insn): void {
  sseAvailable(c); requireXmmDest(d);
  loadSource(c, d, 8, false);
  res[0] = src[0]; res[1] = src[1]; res[2] = src[0]; res[3] = src[1];
  storeDest(c, d, res);
}
export function movshdup(c: Cpu, d: Insn): void {
  sseAvailable(c); requireXmmDest(d);
  loadSource(c, d, 16, true);
  res[0] = src[1]; res[1] = src[1]; res[2] = src[3]; res[3] = src[3];
  storeDest(c, d, res);
}
export function movsldup(c: Cpu, d: Insn): void {
  sseAvailable(c); requireXmmDest(d);
  loadSource(c, d, 16, true);
  res[0] = src[0]; res[1] = src[0]; res[2] = src[2]; res[3] = src[2];
  storeDest(c, d, res);
}

/**
 * MASKMOVDQU xmm1, xmm2: store the bytes of xmm1 whose mask byte in xmm2 has its top bit set to
 * DS:rDI (only those bytes are written; a zero mask writes nothing).
 */
export function maskmovdqu(c: Cpu, d: Insn): void {
  sseAvailable(c);
  // Operands: 0 = DS:rDI, 1 = data, 2 = mask.
  if (d.k1 !== OK_XMM || d.k2 !== OK_XMM) throw new GuestFault(UD);
  const u = c.regs.u32;
  let va = d.asz === 8 ? c.regs.addr(7) : u[14];
  if (c.bits === 64) { if (d.seg >= 4) va += c.segBase[d.seg]; } else va = (va + c.segBase[d.seg]) >>> 0;
  const x = c.regs.xmm;
  for (let i = 0; i < 16; i++) {
    const mask = (x[d.r2 * 4 + (i >>> 2)] >>> (8 * (i & 3))) & 0x80;
    if (mask !== 0) c.mmu.write8(va + i, (x[d.r1 * 4 + (i >>> 2)] >>> (8 * (i & 3))) & 0xff);
  }
}
