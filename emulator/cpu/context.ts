/**
 * CPU context save/restore (unicorn uc_context_save/restore): every register the guest can see —
 * GPRs, XMM, RFLAGS, RIP, segment state, control registers, descriptor-table registers, MSRs, CPL and
 * mode — but not memory, devices or virtual time. Restoring flushes the TLB (CR3 may differ).
 */
import type { Cpu } from './cpu';

export interface CpuContext {
  readonly gpr: Uint32Array; readonly xmm: Uint32Array; readonly rflags: number; readonly rip: number;
  readonly sel: Uint16Array; readonly segBase: Float64Array; readonly segLimit: Float64Array; readonly segAttr: Uint16Array;
  readonly scalars: Record<string, number>;
  readonly msrs: Uint32Array;
}

const SCALARS = ['cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'efer', 'gdtBase', 'gdtLimit', 'idtBase', 'idtLimit',
  'ldtSel', 'ldtBase', 'ldtLimit', 'trSel', 'trBase', 'trLimit', 'starLo', 'starHi', 'lstar', 'cstar', 'sfmask',
  'kernelGsBase', 'tscAux', 'apicBase', 'tscOffset', 'mxcsr', 'shadowUntil'] as const;

export function saveContext(c: Cpu): CpuContext {
  const scalars: Record<string, number> = {};
  for (const k of SCALARS) scalars[k] = c[k];
  scalars.halted = c.halted ? 1 : 0;
  scalars.cpl = c.cpl;
  return {
    gpr: c.regs.u32.slice(), xmm: c.regs.xmm.slice(), rflags: c.flags.get(), rip: c.rip,
    sel: c.sel.slice(), segBase: c.segBase.slice(), segLimit: c.segLimit.slice(), segAttr: c.segAttr.slice(), scalars, msrs: c.msrStore.values.slice(),
  };
}

export function restoreContext(c: Cpu, x: CpuContext): void {
  c.regs.u32.set(x.gpr); c.regs.xmm.set(x.xmm);
  c.flags.set(x.rflags);
  c.rip = x.rip;
  c.sel.set(x.sel); c.segBase.set(x.segBase); c.segLimit.set(x.segLimit); c.segAttr.set(x.segAttr);
  for (const k of SCALARS) (c as unknown as Record<string, number>)[k] = x.scalars[k];
  c.msrStore.values.set(x.msrs);
  c.halted = x.scalars.halted === 1;
  c.setCpl(x.scalars.cpl);
  c.mmu.setUser(c.cpl === 3);
  c.mmu.flush();
  c.updateMode();
  c.exit = true;
}
