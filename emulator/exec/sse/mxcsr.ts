/**
 * MXCSR bits (Intel SDM vol. 1, 10.2.3) and the SSE availability and exception-delivery rules shared
 * by every XMM instruction.
 */
import type { Cpu } from '../../cpu/cpu';
import { GuestFault, UD, NM, XM } from '../../interrupts/guestFault';
import { CR0_EM, CR0_TS, CR4_OSFXSR, CR4_OSXMMEXCPT } from '../../cpu/modes';

export const MX_IE = 0x1, MX_DE = 0x2, MX_ZE = 0x4, MX_OE = 0x8, MX_UE = 0x10, MX_PE = 0x20;
export const MX_FLAGS = 0x3f;
export const MX_DAZ = 0x40;
/** Mask bits sit 7 above their flags (IM = IE << 7 ...). */
export const MX_MASK_SHIFT = 7;
export const MX_RC_SHIFT = 13;
export const MX_FTZ = 0x8000;
/** MXCSR_MASK as FXSAVE reports it for a CPU with DAZ (QEMU's qemu64: 0x0000ffff). */
export const MXCSR_MASK = 0xffff;

/** Rounding-control values. */
export const RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_ZERO = 3;

/** #UD without CR4.OSFXSR or with CR0.EM, #NM with CR0.TS (SDM vol. 3, 13.1 and table 2-2). */
export function sseAvailable(c: Cpu): void {
  if ((c.cr0 & CR0_EM) !== 0 || (c.cr4 & CR4_OSFXSR) === 0) throw new GuestFault(UD);
  if ((c.cr0 & CR0_TS) !== 0) throw new GuestFault(NM);
}

/**
 * Commit the exception flags of one SSE floating-point instruction. `pre` are the flags found before
 * computing (IE DE ZE), `post` those of the results (OE UE PE). An unmasked pre-computation exception
 * stops before the post-computation flags are recorded (SDM vol. 1, 11.5.1); any unmasked exception
 * leaves the destination unchanged and raises #XM, or #UD when CR4.OSXMMEXCPT is clear. Returns
 * normally when the caller may write its result.
 */
export function commitFlags(c: Cpu, pre: number, post: number): void {
  const unmasked = ~(c.mxcsr >>> MX_MASK_SHIFT) & MX_FLAGS;
  if ((pre & unmasked) !== 0) { c.mxcsr |= pre; raiseSimd(c); }
  c.mxcsr |= pre | post;
  if ((post & unmasked) !== 0) raiseSimd(c);
}

function raiseSimd(c: Cpu): never {
  throw new GuestFault((c.cr4 & CR4_OSXMMEXCPT) !== 0 ? XM : UD);
}
