/**
 * Operand access for XMM instructions: the destination must be an XMM register (the MMX forms have
 * their own handlers; anything else is #UD), the source an XMM register or memory. Legacy-encoded
 * 128-bit memory operands must be 16-byte aligned (#GP(0)); scalar and 64-bit ones need not be.
 */
import type { Cpu } from '../../cpu/cpu';
import { Insn, OK_XMM, OK_MEM } from '../../decode/insn';
import { ea } from '../operands';
import { GuestFault, GP, UD } from '../../interrupts/guestFault';

/** Scratch lanes for the source operand and for results built before the write-back. */
export const src = new Uint32Array(4);
export const srcBytes = new Uint8Array(src.buffer);
export const dst = new Uint32Array(4);
export const dstBytes = new Uint8Array(dst.buffer);
export const res = new Uint32Array(4);
export const resBytes = new Uint8Array(res.buffer);

export function requireXmmDest(d: Insn): void { if (d.k0 !== OK_XMM) throw new GuestFault(UD); }

/**
 * Load operand 1 into `src`: all 16 bytes of an XMM register, or `bytes` (4, 8 or 16) from memory
 * with the rest zero. `aligned` demands 16-byte alignment of a memory operand.
 */
export function loadSource(c: Cpu, d: Insn, bytes: number, aligned: boolean): void {
  if (d.k1 === OK_XMM) {
    const x = c.regs.xmm, r = d.r1 * 4;
    src[0] = x[r]; src[1] = x[r + 1]; src[2] = x[r + 2]; src[3] = x[r + 3];
    return;
  }
  if (d.k1 !== OK_MEM) throw new GuestFault(UD);
  const va = ea(c, d);
  if (aligned && va % 16 !== 0) throw new GuestFault(GP, 0);
  src[0] = 0; src[1] = 0; src[2] = 0; src[3] = 0;
  if (bytes === 4) { src[0] = c.mmu.read32(va); return; }
  src[0] = c.mmu.read64(va); src[1] = c.mmu.hi;
  if (bytes === 16) { src[2] = c.mmu.read64(va + 8); src[3] = c.mmu.hi; }
}

/** Copy the destination XMM register into `dst`. */
export function loadDest(c: Cpu, d: Insn): void {
  const x = c.regs.xmm, r = d.r0 * 4;
  dst[0] = x[r]; dst[1] = x[r + 1]; dst[2] = x[r + 2]; dst[3] = x[r + 3];
}

/** Write `v` to the destination XMM register. */
export function storeDest(c: Cpu, d: Insn, v: Uint32Array): void {
  const x = c.regs.xmm, r = d.r0 * 4;
  x[r] = v[0]; x[r + 1] = v[1]; x[r + 2] = v[2]; x[r + 3] = v[3];
}
