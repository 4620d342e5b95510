/** MUL/IMUL/DIV/IDIV forms: accumulator plumbing here, arithmetic in muldiv.ts; #DE on divide error. */
import type { Cpu } from '../cpu/cpu';
import { Insn, OK_IMM } from '../decode/insn';
import * as M from './muldiv';
import { res } from './aluResult';
import { readOp0, readOp1, readAny, storeOp0 } from './operands';
import { GuestFault, DE } from '../interrupts/guestFault';

/** Write the double-width result of one-operand MUL/IMUL or the quotient/remainder of DIV/IDIV. */
function writeAccPair(c: Cpu, size: number, lo: number, hi: number, lo2: number, hi2: number): void {
  const g = c.regs;
  if (size === 1) { g.u8[0] = lo; g.u8[1] = lo2; return; }
  g.write(size, 0, lo, hi);   // AX / EAX / RAX
  g.write(size, 2, lo2, hi2); // DX / EDX / RDX
}

export function mulRm(c: Cpu, d: Insn): void {
  const b = readOp0(c, d), bHi = c.aHi, s = d.size;
  const a = c.regs.read(s, 0), aHi = s === 8 ? c.regs.u32[1] : 0;
  M.mul1(c.flags, s, a, aHi, b, bHi);
  writeAccPair(c, s, res.lo, res.hi, res.lo2, res.hi2);
}

export function imulRm(c: Cpu, d: Insn): void {
  const s = d.size;
  if (d.k1 === 0) {
    // One-operand form: double-width product into the accumulator pair.
    const b = readOp0(c, d), bHi = c.aHi;
    const a = c.regs.read(s, 0), aHi = s === 8 ? c.regs.u32[1] : 0;
    M.imul1(c.flags, s, a, aHi, b, bHi);
    writeAccPair(c, s, res.lo, res.hi, res.lo2, res.hi2);
    return;
  }
  let a: number, aHi: number, b: number, bHi: number;
  if (d.k2 === OK_IMM) {
    a = readOp1(c, d); aHi = c.bHi; b = d.immLo; bHi = d.immHi;
  } else {
    a = readOp0(c, d); aHi = c.aHi; b = readAny(c, d, 1); bHi = c.bHi;
  }
  M.imul2(c.flags, s, a, aHi, b, bHi);
  storeOp0(c, d, res.lo, res.hi);
}

function dividend(c: Cpu, s: number): void {
  const g = c.regs;
  if (s === 1) { lo = g.u8[0]; loHi = 0; hi = g.u8[1]; hiHi = 0; return; }
  lo = g.read(s, 0); loHi = s === 8 ? g.u32[1] : 0;
  hi = g.read(s, 2); hiHi = s === 8 ? g.u32[5] : 0;
}
let lo = 0, loHi = 0, hi = 0, hiHi = 0;

export function divRm(c: Cpu, d: Insn): void {
  const b = readOp0(c, d), bHi = c.aHi, s = d.size;
  dividend(c, s);
  if (!M.div(c.flags, s, lo, loHi, hi, hiHi, b, bHi)) throw new GuestFault(DE);
  writeAccPair(c, s, res.lo, res.hi, res.lo2, res.hi2);
}

export function idivRm(c: Cpu, d: Insn): void {
  const b = readOp0(c, d), bHi = c.aHi, s = d.size;
  dividend(c, s);
  if (!M.idiv(c.flags, s, lo, loHi, hi, hiHi, b, bHi)) throw new GuestFault(DE);
  writeAccPair(c, s, res.lo, res.hi, res.lo2, res.hi2);
}
