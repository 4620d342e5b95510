/**
 * Register access by name for the host API (unicorn uc_reg_read/uc_reg_write). bigint only here, at the
 * boundary; inside the core everything is number halves.
 */
import type { Cpu } from './cpu/cpu';
import { GPR_NAMES } from './cpu/registers';
import { SEG_NAMES, FS, GS } from './cpu/modes';

export type RegisterId =
  | 'rax' | 'rcx' | 'rdx' | 'rbx' | 'rsp' | 'rbp' | 'rsi' | 'rdi'
  | 'r8' | 'r9' | 'r10' | 'r11' | 'r12' | 'r13' | 'r14' | 'r15'
  | 'rip' | 'rflags' | 'es' | 'cs' | 'ss' | 'ds' | 'fs' | 'gs'
  | 'fs_base' | 'gs_base' | 'kernel_gs_base' | 'cr0' | 'cr2' | 'cr3' | 'cr4' | 'cr8' | 'efer'
  | 'star' | 'lstar' | 'cstar' | 'sfmask' | 'gdtr_base' | 'gdtr_limit' | 'idtr_base' | 'idtr_limit'
  | 'tr' | 'tr_base' | 'cpl' | 'tsc';

export const ALL_REGISTER_IDS: RegisterId[] = [...GPR_NAMES as RegisterId[], 'rip', 'rflags',
  'es', 'cs', 'ss', 'ds', 'fs', 'gs', 'fs_base', 'gs_base', 'kernel_gs_base', 'cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'efer',
  'star', 'lstar', 'cstar', 'sfmask', 'gdtr_base', 'gdtr_limit', 'idtr_base', 'idtr_limit', 'tr', 'tr_base', 'cpl', 'tsc'];

const U64 = (1n << 64n) - 1n;
function big(n: number): bigint { return BigInt.asUintN(64, BigInt(Math.trunc(n))); }
function num(v: bigint): number { return Number(BigInt.asIntN(64, v & U64)); }

export function readRegister(c: Cpu, id: RegisterId): bigint {
  const g = GPR_NAMES.indexOf(id);
  if (g >= 0) return c.regs.getBig(g);
  const s = SEG_NAMES.indexOf(id);
  if (s >= 0) return BigInt(c.sel[s]);
  switch (id) {
    case 'rip': return big(c.rip);
    case 'rflags': return BigInt(c.flags.get() >>> 0);
    case 'fs_base': return big(c.segBase[FS]);
    case 'gs_base': return big(c.segBase[GS]);
    case 'kernel_gs_base': return big(c.kernelGsBase);
    case 'cr0': return BigInt(c.cr0 >>> 0);
    case 'cr2': return big(c.cr2);
    case 'cr3': return big(c.cr3);
    case 'cr4': return BigInt(c.cr4 >>> 0);
    case 'cr8': return BigInt(c.cr8);
    case 'efer': return BigInt(c.efer);
    case 'star': return (BigInt(c.starHi >>> 0) << 32n) | BigInt(c.starLo >>> 0);
    case 'lstar': return big(c.lstar);
    case 'cstar': return big(c.cstar);
    case 'sfmask': return BigInt(c.sfmask >>> 0);
    case 'gdtr_base': return big(c.gdtBase);
    case 'gdtr_limit': return BigInt(c.gdtLimit);
    case 'idtr_base': return big(c.idtBase);
    case 'idtr_limit': return BigInt(c.idtLimit);
    case 'tr': return BigInt(c.trSel);
    case 'tr_base': return big(c.trBase);
    case 'cpl': return BigInt(c.cpl);
    case 'tsc': return big(c.icount + c.tscOffset);
    default: throw new Error(`unknown register ${id}`);
  }
}

export function writeRegister(c: Cpu, id: RegisterId, v: bigint): void {
  const g = GPR_NAMES.indexOf(id);
  if (g >= 0) { c.regs.setBig(g, v); return; }
  c.exit = true;
  switch (id) {
    case 'rip': c.rip = num(v); return;
    case 'rflags': c.flags.set(Number(v & 0xffffffffn)); return;
    case 'fs_base': c.segBase[FS] = num(v); return;
    case 'gs_base': c.segBase[GS] = num(v); return;
    case 'kernel_gs_base': c.kernelGsBase = num(v); return;
    case 'cr2': c.cr2 = num(v); return;
    case 'cr3': c.writeCr3(Number(v)); return;
    case 'cr8': c.cr8 = Number(v) & 0xf; return;
    case 'star': c.starLo = Number(v & 0xffffffffn); c.starHi = Number((v >> 32n) & 0xffffffffn); return;
    case 'lstar': c.lstar = num(v); return;
    case 'cstar': c.cstar = num(v); return;
    case 'sfmask': c.sfmask = Number(v & 0xffffffffn); return;
    default: throw new Error(`register ${id} is read-only through the host API`);
  }
}
