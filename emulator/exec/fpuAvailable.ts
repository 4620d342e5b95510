/**
 * Whether the FPU/MMX/SSE units may be used, from CR0.EM/TS/MP and CR4.OSFXSR (Intel SDM vol. 3
 * table 2-2 and the per-instruction exception lists):
 * - x87 instructions: #NM when EM or TS (EM means "emulate the FPU in software").
 * - WAIT/FWAIT: #NM only when both MP and TS.
 * - MMX instructions: #UD when EM, else #NM when TS.
 * - SSE instructions: #UD when EM or when CR4.OSFXSR is clear, else #NM when TS.
 * - FXSAVE/FXRSTOR: #NM when EM or TS.
 */
import type { Cpu } from '../cpu/cpu';
import { CR0_EM, CR0_TS, CR0_MP, CR4_OSFXSR } from '../cpu/modes';
import { GuestFault, UD, NM } from '../interrupts/guestFault';

export function requireX87(c: Cpu): void {
  if ((c.cr0 & (CR0_EM | CR0_TS)) !== 0) throw new GuestFault(NM);
}

export function requireWait(c: Cpu): void {
  if ((c.cr0 & (CR0_MP | CR0_TS)) === (CR0_MP | CR0_TS)) throw new GuestFault(NM);
}

export function requireMmx(c: Cpu): void {
  if ((c.cr0 & CR0_EM) !== 0) throw new GuestFault(UD);
  if ((c.cr0 & CR0_TS) !== 0) throw new GuestFault(NM);
}

export function requireSse(c: Cpu): void {
  if ((c.cr0 & CR0_EM) !== 0 || (c.cr4 & CR4_OSFXSR) === 0) throw new GuestFault(UD);
  if ((c.cr0 & CR0_TS) !== 0) throw new GuestFault(NM);
}

export function requireFxsave(c: Cpu): void {
  if ((c.cr0 & (CR0_EM | CR0_TS)) !== 0) throw new GuestFault(NM);
}
