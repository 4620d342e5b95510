/**
 * x87 control and state management (SDM vol. 1 8.3.11-8.3.13, vol. 2 FXSAVE/FXRSTOR): FNINIT/FINIT,
 * FNCLEX/FCLEX, FLDCW, FNSTCW, FNSTSW (m16 and AX), FNSTENV/FLDENV, FNSAVE/FRSTOR in the 14/28 and
 * 94/108-byte formats, WAIT/FWAIT, FXSAVE/FXRSTOR (32-bit and REX.W 64-bit layouts).
 *
 * FXSAVE follows QEMU's `-cpu qemu64` (target/i386 tcg): MXCSR_MASK reads 0x0000FFFF; FIP/FDP/FOP
 * are always written; MXCSR and the XMM registers are saved and restored only when CR4.OSFXSR is set.
 */
import { Mnemonic } from 'iced-x86';
import type { Cpu } from '../cpu/cpu';
import type { Insn } from '../decode/insn';
import { OK_MEM } from '../decode/insn';
import { SW_ES, SW_B, X87State } from '../cpu/x87State';
import { CR4_OSFXSR } from '../cpu/modes';
import { GuestFault, GP } from '../interrupts/guestFault';
import { ea } from './operands';
import { enter, enterNoWait, checkPending, readMem80, writeMem80 } from './x87Core';
import { requireWait, requireFxsave } from './fpuAvailable';

/** FNINIT (and FINIT, which waits first). */
export function fninit(c: Cpu, d: Insn): void {
  if (d.mnemonic === Mnemonic.Finit) enter(c, d, true); else enterNoWait(c);
  c.x87.init();
}

/** FNCLEX/FCLEX: clear the exception flags, SF, ES and B. */
export function fnclex(c: Cpu, d: Insn): void {
  const x = d.mnemonic === Mnemonic.Fclex ? enter(c, d, true) : enterNoWait(c);
  x.sw &= ~(0xff | SW_B);
}

/** Recompute ES/B from the exception flags and masks (after the masks change). */
function updateSummary(x: X87State): void {
  if ((x.sw & 0x3f & ~x.cw) !== 0) x.sw |= SW_ES | SW_B; else x.sw &= ~(SW_ES | SW_B);
}

export function fldcw(c: Cpu, d: Insn): void {
  const x = enter(c, d, true);
  x.cw = c.mmu.read16(ea(c, d)) & 0x1f7f | 0x40;
  updateSummary(x);
}

export function fnstcw(c: Cpu, d: Insn): void {
  const x = d.mnemonic === Mnemonic.Fstcw ? enter(c, d, true) : enterNoWait(c);
  c.mmu.write16(ea(c, d), x.cw);
}

/** FNSTSW m16 / AX. */
export function fnstsw(c: Cpu, d: Insn): void {
  const x = d.mnemonic === Mnemonic.Fstsw ? enter(c, d, true) : enterNoWait(c);
  const v = x.statusWord();
  if (d.k0 === OK_MEM) c.mmu.write16(ea(c, d), v);
  else c.regs.u16[0] = v;
}

/** Bytes of the environment image: 14 (16-bit operand size) or 28. */
const envBytes = (d: Insn): number => (d.msize === 14 || d.msize === 94 ? 14 : 28);

function storeEnv(c: Cpu, va: number, small: boolean): void {
  const x = c.x87, m = c.mmu;
  if (small) {
    m.write16(va, x.cw); m.write16(va + 2, x.statusWord()); m.write16(va + 4, x.tagWord());
    m.write16(va + 6, x.fip & 0xffff); m.write16(va + 8, x.fcs); m.write16(va + 10, x.fdp & 0xffff); m.write16(va + 12, x.fds);
    return;
  }
  m.write32(va, x.cw | 0xffff0000); m.write32(va + 4, x.statusWord() | 0xffff0000); m.write32(va + 8, x.tagWord() | 0xffff0000);
  m.write32(va + 12, x.fip >>> 0); m.write32(va + 16, x.fcs | (x.fop << 16)); m.write32(va + 20, x.fdp >>> 0);
  m.write32(va + 24, x.fds | 0xffff0000);
}

function loadEnv(c: Cpu, va: number, small: boolean): void {
  const x = c.x87, m = c.mmu;
  let cw: number, sw: number, tw: number;
  if (small) {
    cw = m.read16(va); sw = m.read16(va + 2); tw = m.read16(va + 4);
    x.fip = m.read16(va + 6); x.fcs = m.read16(va + 8); x.fdp = m.read16(va + 10); x.fds = m.read16(va + 12); x.fop = 0;
  } else {
    cw = m.read16(va); sw = m.read16(va + 4); tw = m.read16(va + 8);
    x.fip = m.read32(va + 12); const w = m.read32(va + 16); x.fcs = w & 0xffff; x.fop = (w >>> 16) & 0x7ff;
    x.fdp = m.read32(va + 20); x.fds = m.read16(va + 24);
  }
  x.cw = (cw & 0x1f7f) | 0x40;
  x.setStatusWord(sw);
  x.setTagWord(tw);
}

/** FNSTENV: store the environment, then mask every exception. */
export function fnstenv(c: Cpu, d: Insn): void {
  const x = d.mnemonic === Mnemonic.Fstenv ? enter(c, d, true) : enterNoWait(c);
  const va = ea(c, d);
  c.mmu.probeWrite(va, envBytes(d));
  storeEnv(c, va, envBytes(d) === 14);
  x.cw |= 0x3f;
}

export function fldenv(c: Cpu, d: Insn): void {
  enter(c, d, true);
  loadEnv(c, ea(c, d), envBytes(d) === 14);
}

/** FNSAVE: environment and the eight registers in ST order, then FNINIT. */
export function fnsave(c: Cpu, d: Insn): void {
  const x = d.mnemonic === Mnemonic.Fsave ? enter(c, d, true) : enterNoWait(c);
  const va = ea(c, d);
  const n = envBytes(d);
  c.mmu.probeWrite(va, n + 80);
  storeEnv(c, va, n === 14);
  for (let i = 0; i < 8; i++) {
    const p = x.phys(i);
    writeMem80(c, va + n + 10 * i, { s: x.se[p] >> 15, e: x.se[p] & 0x7fff, m: x.m[p] });
  }
  x.init();
}

export function frstor(c: Cpu, d: Insn): void {
  const x = enter(c, d, true);
  const va = ea(c, d);
  const n = envBytes(d);
  const regs = [];
  for (let i = 0; i < 8; i++) regs.push(readMem80(c, va + n + 10 * i));
  const tw = n === 14 ? c.mmu.read16(va + 4) : c.mmu.read16(va + 8);
  loadEnv(c, va, n === 14);
  for (let i = 0; i < 8; i++) { const p = x.phys(i); x.se[p] = (regs[i].s << 15) | regs[i].e; x.m[p] = regs[i].m; }
  x.setTagWord(tw);
}

/** WAIT/FWAIT: #NM when CR0.MP and TS; #MF when an unmasked exception is pending. */
export function fwait(c: Cpu): void {
  requireWait(c);
  checkPending(c);
}

// ---- FXSAVE / FXRSTOR ---------------------------------------------------------------------------

export const MXCSR_MASK = 0x0000ffff;

function fxAddress(c: Cpu, d: Insn): number {
  requireFxsave(c);
  const va = ea(c, d);
  if ((va & 15) !== 0) throw new GuestFault(GP, 0);
  return va;
}

const REX_W_FORM = (d: Insn): boolean => d.mnemonic === Mnemonic.Fxsave64 || d.mnemonic === Mnemonic.Fxrstor64;

export function fxsave(c: Cpu, d: Insn): void {
  const va = fxAddress(c, d);
  const x = c.x87, m = c.mmu;
  m.probeWrite(va, 512);
  m.write16(va, x.cw); m.write16(va + 2, x.statusWord());
  m.write8(va + 4, x.abridgedTags()); m.write8(va + 5, 0); m.write16(va + 6, x.fop);
  if (REX_W_FORM(d)) {
    writeAddr64(c, va + 8, x.fip); writeAddr64(c, va + 16, x.fdp);
  } else {
    m.write32(va + 8, x.fip >>> 0); m.write16(va + 12, x.fcs); m.write16(va + 14, 0);
    m.write32(va + 16, x.fdp >>> 0); m.write16(va + 20, x.fds); m.write16(va + 22, 0);
  }
  const sse = (c.cr4 & CR4_OSFXSR) !== 0;
  if (sse) { m.write32(va + 24, c.mxcsr); m.write32(va + 28, MXCSR_MASK); }
  for (let i = 0; i < 8; i++) {
    const p = x.phys(i);
    writeMem80(c, va + 32 + 16 * i, { s: x.se[p] >> 15, e: x.se[p] & 0x7fff, m: x.m[p] });
    m.write16(va + 42 + 16 * i, 0); m.write32(va + 44 + 16 * i, 0);
  }
  if (sse) {
    const xmm = c.regs.xmm;
    const n = c.bits === 64 ? 16 : 8;
    for (let r = 0; r < n; r++) for (let w = 0; w < 4; w++) m.write32(va + 160 + 16 * r + 4 * w, xmm[r * 4 + w]);
  }
}

export function fxrstor(c: Cpu, d: Insn): void {
  const va = fxAddress(c, d);
  const x = c.x87, m = c.mmu;
  const sse = (c.cr4 & CR4_OSFXSR) !== 0;
  const mxcsr = m.read32(va + 24);
  if (sse && (mxcsr & ~MXCSR_MASK) !== 0) throw new GuestFault(GP, 0);
  const regs = [];
  for (let i = 0; i < 8; i++) regs.push(readMem80(c, va + 32 + 16 * i));
  const xmmWords: number[] = [];
  const n = c.bits === 64 ? 16 : 8;
  if (sse) for (let k = 0; k < n * 4; k++) xmmWords.push(m.read32(va + 160 + 4 * k));
  x.cw = (m.read16(va) & 0x1f7f) | 0x40;
  x.setStatusWord(m.read16(va + 2));
  const tags = m.read8(va + 4);
  x.fop = m.read16(va + 6) & 0x7ff;
  if (REX_W_FORM(d)) {
    x.fip = readAddr64(c, va + 8); x.fdp = readAddr64(c, va + 16); x.fcs = 0; x.fds = 0;
  } else {
    x.fip = m.read32(va + 8); x.fcs = m.read16(va + 12); x.fdp = m.read32(va + 16); x.fds = m.read16(va + 20);
  }
  for (let i = 0; i < 8; i++) { const p = x.phys(i); x.se[p] = (regs[i].s << 15) | regs[i].e; x.m[p] = regs[i].m; }
  x.setAbridgedTags(tags);
  if (sse) {
    c.mxcsr = mxcsr;
    const xmm = c.regs.xmm;
    for (let k = 0; k < xmmWords.length; k++) xmm[k] = xmmWords[k];
  }
}

/** 64-bit pointer fields as signed numbers (canonical addresses fit a double exactly). */
function writeAddr64(c: Cpu, va: number, v: number): void {
  const lo = v >>> 0;
  const hi = Math.floor(v / 4294967296) >>> 0;
  c.mmu.write64(va, v < 0 ? (v - Math.floor(v / 4294967296) * 4294967296) >>> 0 : lo, hi);
}
function readAddr64(c: Cpu, va: number): number {
  const lo = c.mmu.read64(va);
  return (c.mmu.hi | 0) * 4294967296 + lo;
}
