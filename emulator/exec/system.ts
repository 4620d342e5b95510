/**
 * System instructions: MOV to/from CRn/DRn, LGDT/LIDT/LTR/LLDT/SGDT/SIDT/STR/SLDT, RDMSR/WRMSR,
 * RDTSC/RDTSCP, CLI/STI (with the one-instruction shadow), HLT, CLTS, INVLPG, SWAPGS, SYSCALL/SYSRET,
 * IRET, INT n/INT3/INTO, UD2, IN/OUT, RD/WR FS/GS BASE, and the no-ops (fences, prefetch, endbr64...).
 */
import type { Cpu } from '../cpu/cpu';
import { ATTR_P, ATTR_S, ATTR_L, ATTR_DB, ATTR_G } from '../cpu/cpu';
import { Insn, OK_REG, OK_CR, OK_DR, OK_IMM, OK_SEG, OK_MEM } from '../decode/insn';
import { RCX, R11, RSP } from '../cpu/registers';
import { CS, SS, DS, ES, FS, GS, CR4_SUPPORTED, CR4_FSGSBASE, CR4_SMAP, EFER_SCE, EFER_LMA, CR0_TS } from '../cpu/modes';
import * as MSR from '../cpu/msr';
import { IF, IOPL, RF, VM, AC as AC_FLAG } from '../cpu/flags';
import { ea, readOp0, readOp1, storeOp0 } from './operands';
import { GuestFault, GP, UD, BP, OF as OF_VEC } from '../interrupts/guestFault';
import { EV_SOFT_INT, EV_TRAP } from '../interrupts/delivery';

function requireCpl0(c: Cpu): void { if (c.cpl !== 0) throw new GuestFault(GP, 0); }

// ---- control and debug registers ------------------------------------------------------------------
export function movCr(c: Cpu, d: Insn): void {
  requireCpl0(c);
  const u = c.regs.u32;
  if (d.k0 === OK_CR) {
    const r = d.r1, lo = u[r << 1], hi = c.bits === 64 ? u[(r << 1) | 1] : 0;
    const v = hi * 4294967296 + lo;
    switch (d.r0) {
      case 0: c.writeCr0(lo); break;
      case 2: c.cr2 = (hi | 0) * 4294967296 + lo; break;
      case 3: c.writeCr3(v); break;
      case 4:
        if ((lo & ~CR4_SUPPORTED) !== 0 || hi !== 0) throw new GuestFault(GP, 0);
        c.writeCr4(lo); break;
      case 8: c.cr8 = lo & 0xf; break;
      default: throw new GuestFault(UD);
    }
    return;
  }
  let v: number;
  switch (d.r1) {
    case 0: v = c.cr0; break;
    case 2: v = c.cr2; break;
    case 3: v = c.cr3; break;
    case 4: v = c.cr4; break;
    case 8: v = c.cr8; break;
    default: throw new GuestFault(UD);
  }
  if (c.bits === 64) c.regs.setAddr(d.r0, v); else c.regs.set32(d.r0, v >>> 0);
}

export function movDr(c: Cpu, d: Insn): void {
  requireCpl0(c);
  if (d.k0 === OK_DR) c.dr[d.r0] = c.regs.addr(d.r1);
  else c.regs.setAddr(d.r0, d.r1 === 6 ? 0xffff0ff0 : d.r1 === 7 ? 0x400 : c.dr[d.r1]);
}

export function clts(c: Cpu): void { requireCpl0(c); c.cr0 &= ~CR0_TS; }

// ---- descriptor tables ----------------------------------------------------------------------------
function loadTableRegister(c: Cpu, d: Insn, idt: boolean): void {
  requireCpl0(c);
  const va = ea(c, d);
  const limit = c.mmu.read16(va);
  const base = c.bits === 64 ? readAddr64(c, va + 2) : c.mmu.read32(va + 2);
  if (idt) { c.idtBase = base; c.idtLimit = limit; } else { c.gdtBase = base; c.gdtLimit = limit; }
}
export function lgdt(c: Cpu, d: Insn): void { loadTableRegister(c, d, false); }
export function lidt(c: Cpu, d: Insn): void { loadTableRegister(c, d, true); }

function readAddr64(c: Cpu, va: number): number {
  const lo = c.mmu.read32(va), hi = c.mmu.read32(va + 4);
  return (hi | 0) * 4294967296 + lo;
}

export function sgdt(c: Cpu, d: Insn, idt: boolean): void {
  const va = ea(c, d);
  const base = idt ? c.idtBase : c.gdtBase, limit = idt ? c.idtLimit : c.gdtLimit;
  c.mmu.write16(va, limit);
  c.mmu.write32(va + 2, base >>> 0);
  if (c.bits === 64) c.mmu.write32(va + 6, Math.floor(base / 4294967296) >>> 0);
}
export function sgdtH(c: Cpu, d: Insn): void { sgdt(c, d, false); }
export function sidtH(c: Cpu, d: Insn): void { sgdt(c, d, true); }

/** Read a system-segment descriptor (16 bytes in long mode) → base/limit; returns the high dword. */
function systemDescriptor(c: Cpu, sel: number): { base: number; limit: number; hi: number; addr: number } {
  if ((sel & 4) !== 0 || (sel & ~7) + (c.longMode ? 15 : 7) > c.gdtLimit) throw new GuestFault(GP, sel & 0xfffc);
  const addr = c.gdtBase + (sel & ~7);
  const lo = c.mmu.sysRead32(addr), hi = c.mmu.sysRead32(addr + 4);
  let base = ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
  if (c.longMode) base += (c.mmu.sysRead32(addr + 8) | 0) * 4294967296;
  let limit = (lo & 0xffff) | (hi & 0xf0000);
  if (hi & 0x800000) limit = limit * 4096 + 0xfff;
  return { base, limit, hi, addr };
}

export function ltr(c: Cpu, d: Insn): void {
  requireCpl0(c);
  const sel = readOp0(c, d) & 0xffff;
  if ((sel & ~3) === 0) throw new GuestFault(GP, 0);
  const s = systemDescriptor(c, sel);
  const type = (s.hi >>> 8) & 0xf;
  if (type !== 0x9 || (s.hi & 0x1000) !== 0) throw new GuestFault(GP, sel & 0xfffc); // available TSS
  if ((s.hi & 0x8000) === 0) throw new GuestFault(11, sel & 0xfffc);
  c.mmu.sysWrite32(s.addr + 4, (s.hi | 0x200) >>> 0); // mark busy
  c.trSel = sel; c.trBase = s.base; c.trLimit = s.limit;
}

export function lldt(c: Cpu, d: Insn): void {
  requireCpl0(c);
  const sel = readOp0(c, d) & 0xffff;
  if ((sel & ~3) === 0) { c.ldtSel = 0; c.ldtBase = 0; c.ldtLimit = 0; return; }
  const s = systemDescriptor(c, sel);
  if (((s.hi >>> 8) & 0x1f) !== 0x2) throw new GuestFault(GP, sel & 0xfffc);
  c.ldtSel = sel; c.ldtBase = s.base; c.ldtLimit = s.limit;
}

export function strH(c: Cpu, d: Insn): void { storeSel(c, d, c.trSel); }
export function sldt(c: Cpu, d: Insn): void { storeSel(c, d, c.ldtSel); }
function storeSel(c: Cpu, d: Insn, v: number): void {
  if (d.k0 === OK_MEM) c.mmu.write16(ea(c, d), v); else c.regs.write(d.size, d.r0, v, 0);
}

/** MOV Sreg, r/m16 and MOV r/m, Sreg. */
export function movSreg(c: Cpu, d: Insn): void {
  if (d.k0 === OK_SEG) {
    if (d.r0 === CS) throw new GuestFault(UD);
    const v = readOp1(c, d) & 0xffff;
    c.loadSegment(d.r0, v);
    if (d.r0 === SS) c.shadowUntil = c.icount + 1;
    c.exit = true;
    return;
  }
  const v = c.sel[d.r1];
  if (d.k0 === OK_MEM) c.mmu.write16(ea(c, d), v); else c.regs.write(d.size, d.r0, v, 0);
}

// ---- MSRs and time --------------------------------------------------------------------------------
export function tsc(c: Cpu): number { return c.icount + c.tscOffset; }

const msrScratch = new Uint32Array(2);

/** RDMSR as QEMU's TCG does it: the MSRs it knows, 0 for any other (no #GP). */
export function rdmsr(c: Cpu): void {
  requireCpl0(c);
  const g = c.regs, idx = g.u32[RCX << 1];
  let v = 0, lo = -1, hi = 0;
  switch (idx) {
    case MSR.MSR_EFER: v = c.efer; break;
    case MSR.MSR_STAR: lo = c.starLo; hi = c.starHi; break;
    case MSR.MSR_LSTAR: v = c.lstar; break;
    case MSR.MSR_CSTAR: v = c.cstar; break;
    case MSR.MSR_SFMASK: v = c.sfmask; break;
    case MSR.MSR_FS_BASE: v = c.segBase[FS]; break;
    case MSR.MSR_GS_BASE: v = c.segBase[GS]; break;
    case MSR.MSR_KERNEL_GS_BASE: v = c.kernelGsBase; break;
    case MSR.MSR_TSC_AUX: v = c.tscAux; break;
    case MSR.MSR_APIC_BASE: v = c.apicBase; break;
    default:
      if (c.msrStore.read(idx, msrScratch)) { lo = msrScratch[0]; hi = msrScratch[1]; } else v = 0;
  }
  if (lo < 0) { lo = v >>> 0; hi = Math.floor(v / 4294967296) >>> 0; }
  g.set32(0, lo); g.set32(2, hi);
}

/** EFER bits WRMSR may change on qemu64 (SYSCALL, LM, NX, SVM); LMA and the rest are kept. */
const EFER_WRITABLE = 0x1 | 0x100 | 0x800 | 0x1000;

/** WRMSR as QEMU's TCG does it: unknown MSRs and reserved EFER bits are ignored, not #GP. */
export function wrmsr(c: Cpu): void {
  requireCpl0(c);
  const g = c.regs, idx = g.u32[RCX << 1], lo = g.u32[0], hi = g.u32[4];
  const v = (hi | 0) * 4294967296 + lo; // sign-extended for canonical address MSRs
  // QEMU stores these unchecked; a non-canonical value #GPs on hardware, and would make later
  // addresses meaningless here, so the architectural check stays (Linux never writes one).
  const canonicalOrGp = (): void => { if (v < -0x800000000000 || v >= 0x800000000000) throw new GuestFault(GP, 0); };
  switch (idx) {
    case MSR.MSR_EFER: c.writeEfer((c.efer & ~EFER_WRITABLE) | (lo & EFER_WRITABLE)); break;
    case MSR.MSR_STAR: c.starLo = lo; c.starHi = hi; break;
    case MSR.MSR_LSTAR: canonicalOrGp(); c.lstar = v; break;
    case MSR.MSR_CSTAR: canonicalOrGp(); c.cstar = v; break;
    case MSR.MSR_SFMASK: c.sfmask = lo; break;
    case MSR.MSR_FS_BASE: canonicalOrGp(); c.segBase[FS] = v; break;
    case MSR.MSR_GS_BASE: canonicalOrGp(); c.segBase[GS] = v; break;
    case MSR.MSR_KERNEL_GS_BASE: canonicalOrGp(); c.kernelGsBase = v; break;
    case MSR.MSR_TSC_AUX: c.tscAux = lo; break;
    case MSR.MSR_APIC_BASE: c.apicBase = v; break;
    default:
      if (c.msrStore.write(idx, lo, hi) === MSR.MSR_WRITE_GP) throw new GuestFault(GP, 0);
  }
  c.exit = true;
}

export function rdtsc(c: Cpu): void {
  const t = tsc(c);
  c.regs.set32(0, t >>> 0); c.regs.set32(2, Math.floor(t / 4294967296) >>> 0);
}
export function rdtscp(c: Cpu): void { rdtsc(c); c.regs.set32(RCX, c.tscAux); }

// ---- interrupts flag, halt ------------------------------------------------------------------------
function iopl(c: Cpu): number { return (c.flags.bits & IOPL) >>> 12; }
export function cli(c: Cpu): void {
  if (c.cpl > iopl(c)) throw new GuestFault(GP, 0);
  c.flags.setBit(IF, false);
}
export function sti(c: Cpu): void {
  if (c.cpl > iopl(c)) throw new GuestFault(GP, 0);
  if ((c.flags.bits & IF) === 0) c.shadowUntil = c.icount + 1; // blocked until after the next instruction
  c.flags.setBit(IF, true);
  c.exit = true;
}
export function hlt(c: Cpu): void {
  requireCpl0(c);
  c.halted = true;
  c.exit = true;
}

export function invlpg(c: Cpu, d: Insn): void {
  requireCpl0(c);
  c.mmu.invlpg(ea(c, d));
  c.exit = true;
}

export function swapgs(c: Cpu): void {
  if (c.bits !== 64) throw new GuestFault(UD);
  requireCpl0(c);
  const t = c.segBase[GS];
  c.segBase[GS] = c.kernelGsBase;
  c.kernelGsBase = t;
}

export function rdfsgsbase(c: Cpu, d: Insn, gs: boolean): void {
  if (c.bits !== 64 || (c.cr4 & CR4_FSGSBASE) === 0) throw new GuestFault(UD);
  const v = c.segBase[gs ? GS : FS];
  if (d.size === 8) c.regs.setAddr(d.r0, v); else c.regs.set32(d.r0, v >>> 0);
}
export function wrfsgsbase(c: Cpu, d: Insn, gs: boolean): void {
  if (c.bits !== 64 || (c.cr4 & CR4_FSGSBASE) === 0) throw new GuestFault(UD);
  const v = d.size === 8 ? c.regs.addr(d.r0) : c.regs.u32[d.r0 << 1];
  if (v < -0x800000000000 || v >= 0x800000000000) throw new GuestFault(GP, 0);
  c.segBase[gs ? GS : FS] = v;
}

// ---- SYSCALL / SYSRET (SDM vol. 2 "SYSCALL", "SYSRET") ---------------------------------------------------
const CODE64 = ATTR_P | ATTR_S | ATTR_L | ATTR_G | 0xb;
const DATA = ATTR_P | ATTR_S | ATTR_DB | ATTR_G | 0x3;
const CODE32 = ATTR_P | ATTR_S | ATTR_DB | ATTR_G | 0xb;

export function syscall(c: Cpu): void {
  if ((c.efer & EFER_SCE) === 0 || (c.efer & EFER_LMA) === 0) throw new GuestFault(UD);
  const rip = c.rip;
  c.regs.setAddr(RCX, rip);
  const fl = c.flags.get();
  c.regs.set64(R11, fl & ~RF, 0);
  const sel = c.starHi & 0xffff;
  c.setFlatSegment(CS, sel & 0xfffc, CODE64);
  c.setFlatSegment(SS, (sel + 8) & 0xfffc, DATA);
  c.flags.set(fl & ~(c.sfmask | RF));
  c.setCpl(0);
  c.updateMode();
  c.rip = c.lstar;
  c.exit = true;
}

export function sysretq(c: Cpu): void { sysret(c, true); }
export function sysretd(c: Cpu): void { sysret(c, false); }

function sysret(c: Cpu, to64: boolean): void {
  if ((c.efer & EFER_SCE) === 0) throw new GuestFault(UD);
  if (c.cpl !== 0 || c.bits !== 64) throw new GuestFault(GP, 0);
  const sel = c.starHi >>> 16;
  let target: number;
  if (to64) {
    target = c.regs.addr(RCX);
    if (target < -0x800000000000 || target >= 0x800000000000) throw new GuestFault(GP, 0);
    c.setFlatSegment(CS, ((sel + 16) & 0xfffc) | 3, CODE64);
  } else {
    target = c.regs.u32[RCX << 1];
    c.setFlatSegment(CS, sel | 3, CODE32);
  }
  c.setFlatSegment(SS, ((sel + 8) & 0xfffc) | 3, DATA);
  c.flags.set((c.regs.u32[R11 << 1] & 0x3c7fd7) | 2);
  c.setCpl(3);
  c.updateMode();
  c.rip = target;
  c.exit = true;
}

// ---- IRET, INT, UD2 ---------------------------------------------------------------------------------
export function iret(c: Cpu, d: Insn): void {
  if (!c.longMode) throw new GuestFault(UD);
  c.intr.iret(d.ssz);
}

/** INT n / INT3 / INTO: software interrupts delivered with RIP after the instruction. */
export function intN(c: Cpu, d: Insn): void { c.softInterrupt(d.immLo & 0xff, EV_SOFT_INT); }
export function int1(c: Cpu): void { c.softInterrupt(1, EV_TRAP); }
export function int3(c: Cpu): void { c.softInterrupt(BP, EV_TRAP); }
export function into(c: Cpu): void { if (c.bits === 64) throw new GuestFault(UD); if (c.flags.of()) c.softInterrupt(OF_VEC, EV_TRAP); }
export function ud(): void { throw new GuestFault(UD); }

// ---- port I/O ----------------------------------------------------------------------------------------
function ioAllowed(c: Cpu): void { if (c.cpl > iopl(c)) throw new GuestFault(GP, 0); }
export function inH(c: Cpu, d: Insn): void {
  ioAllowed(c);
  const port = d.k1 === OK_IMM ? d.immLo & 0xff : c.regs.u16[2 << 2];
  const v = c.io.read(port, d.size);
  c.regs.write(d.size, 0, v, 0);
  c.exit = true;
}
export function outH(c: Cpu, d: Insn): void {
  ioAllowed(c);
  const port = d.k0 === OK_IMM ? d.immLo & 0xff : c.regs.u16[2 << 2];
  const size = d.s1;
  c.io.write(port, size, c.regs.read(size, 0));
  c.exit = true;
}

// ---- misc ----------------------------------------------------------------------------------------------
export function wbinvd(c: Cpu): void { requireCpl0(c); }
export function xgetbv(c: Cpu): void {
  if (c.regs.u32[RCX << 1] !== 0) throw new GuestFault(GP, 0);
  c.regs.set32(0, 3); c.regs.set32(2, 0);
}
void OK_REG; void storeOp0; void DS; void ES; void VM; void RSP;

/** STAC/CLAC: set/clear RFLAGS.AC for SMAP (CPL 0, CR4.SMAP). */
export function stac(c: Cpu): void { smapCheck(c); c.flags.setBit(AC_FLAG, true); }
export function clac(c: Cpu): void { smapCheck(c); c.flags.setBit(AC_FLAG, false); }
function smapCheck(c: Cpu): void {
  if ((c.cr4 & CR4_SMAP) === 0) throw new GuestFault(UD);
  requireCpl0(c);
}
