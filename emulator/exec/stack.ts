/** Stack instructions: PUSH, POP, ENTER, LEAVE, PUSHF, POPF (SDM vol. 2). */
import type { Cpu } from '../cpu/cpu';
import { Insn, OK_REG, OK_MEM, OK_IMM, OK_SEG } from '../decode/insn';
import { RSP, RBP } from '../cpu/registers';
import { ea, readOp0 } from './operands';
import { IF, IOPL, VM, RF, AC, ID, NT, TF, DF, STATUS_FLAGS, VIF, VIP } from '../cpu/flags';
import { GuestFault, GP } from '../interrupts/guestFault';

export function push(c: Cpu, d: Insn): void {
  const s = d.ssz;
  let lo: number, hi = 0;
  if (d.k0 === OK_IMM) { lo = d.immLo; hi = d.immHi; }
  else if (d.k0 === OK_SEG) { lo = c.sel[d.r0]; }
  else if (d.k0 === OK_REG) { lo = c.regs.read(s, d.r0); hi = s === 8 ? c.regs.u32[(d.r0 << 1) | 1] : 0; }
  else { lo = c.mmu.read(s, ea(c, d)); hi = s === 8 ? c.mmu.hi : 0; }
  if (s === 2) lo &= 0xffff;
  c.push(s, lo, hi);
}

/** PUSH r64, the common form. */
export function pushR64(c: Cpu, d: Insn): void {
  const u = c.regs.u32;
  c.push64(u[d.r0 << 1], u[(d.r0 << 1) | 1]);
}

export function pop(c: Cpu, d: Insn): void {
  const s = d.ssz;
  if (d.k0 === OK_SEG) {
    const v = c.mmu.read(s, c.spAddr(0));
    c.loadSegment(d.r0, v & 0xffff);
    c.addSp(s);
    return;
  }
  const lo = c.pop(s), hi = c.mmu.hi;
  if (d.k0 === OK_REG) c.regs.write(s, d.r0, lo, hi);
  else c.mmu.write(s, ea(c, d), lo, hi); // address computed after RSP was incremented (SDM "POP")
}

export function popR64(c: Cpu, d: Insn): void {
  if (c.bits !== 64) { pop(c, d); return; }
  const lo = c.pop64(), hi = c.mmu.hi;
  const u = c.regs.u32;
  u[d.r0 << 1] = lo; u[(d.r0 << 1) | 1] = hi;
}

export function enter(c: Cpu, d: Insn): void {
  const s = d.ssz, alloc = d.immLo & 0xffff, level = d.imm2 & 31;
  const g = c.regs;
  c.push(s, g.read(s, RBP), s === 8 ? g.u32[(RBP << 1) | 1] : 0);
  const frameLo = g.u32[RSP << 1], frameHi = g.u32[(RSP << 1) | 1];
  for (let i = 1; i < level; i++) {
    const va = s === 8 ? g.addr(RBP) - i * s : ((g.u32[RBP << 1] - i * s) >>> 0);
    const v = c.mmu.read(s, va);
    c.push(s, v, s === 8 ? c.mmu.hi : 0);
  }
  if (level > 0) c.push(s, frameLo, s === 8 ? frameHi : 0);
  if (s === 8) g.set64(RBP, frameLo, frameHi); else g.write(s, RBP, frameLo, 0);
  c.addSp(-alloc);
}

export function leave(c: Cpu, d: Insn): void {
  const g = c.regs, s = d.ssz;
  if (c.bits === 64) g.set64(RSP, g.u32[RBP << 1], g.u32[(RBP << 1) | 1]);
  else g.u32[RSP << 1] = g.u32[RBP << 1];
  const lo = c.pop(s);
  g.write(s, RBP, lo, c.mmu.hi);
}

export function pushf(c: Cpu, d: Insn): void {
  const v = c.flags.get() & ~(VM | RF);
  c.push(d.ssz, d.ssz === 2 ? v & 0xffff : v, 0);
}

export function popf(c: Cpu, d: Insn): void {
  const s = d.ssz;
  let v = c.pop(s);
  if (s === 2) v = (c.flags.get() & 0xffff0000) | (v & 0xffff);
  const old = c.flags.get();
  let mask = STATUS_FLAGS | TF | DF | NT | AC | ID;
  const iopl = (old & IOPL) >>> 12;
  if (c.cpl === 0) mask |= IOPL | IF;
  else if (c.cpl <= iopl) mask |= IF;
  const nv = (old & ~mask) | (v & mask);
  c.flags.set((nv & ~(RF | VIF | VIP)) | (old & (VIF | VIP)));
  c.exit = true;
}

/** PUSH/POP of a 16-bit value when the operand form is unsupported (kept for #GP symmetry). */
export function badStack(): void { throw new GuestFault(GP, 0); }
void readOp0; void OK_MEM;
