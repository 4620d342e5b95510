/** Shift and rotate instruction forms (count from imm8, CL or the implicit 1); semantics in shift.ts. */
import type { Cpu } from '../cpu/cpu';
import { Insn, OK_IMM } from '../decode/insn';
import * as S from './shift';
import { res } from './aluResult';
import { readRmw0, readOp1, writeOp0 } from './operands';

function count1(c: Cpu, d: Insn): number { return d.k1 === OK_IMM ? d.immLo & 0xff : c.regs.u8[8]; }
function count2(c: Cpu, d: Insn): number { return d.k2 === OK_IMM ? d.immLo & 0xff : c.regs.u8[8]; }

export function shlRm(c: Cpu, d: Insn): void { const a = readRmw0(c, d); S.shl(c.flags, d.size, a, c.aHi, count1(c, d)); writeOp0(c, d, res.lo, res.hi); }
export function shrRm(c: Cpu, d: Insn): void { const a = readRmw0(c, d); S.shr(c.flags, d.size, a, c.aHi, count1(c, d)); writeOp0(c, d, res.lo, res.hi); }
export function sarRm(c: Cpu, d: Insn): void { const a = readRmw0(c, d); S.sar(c.flags, d.size, a, c.aHi, count1(c, d)); writeOp0(c, d, res.lo, res.hi); }
export function rolRm(c: Cpu, d: Insn): void { const a = readRmw0(c, d); S.rol(c.flags, d.size, a, c.aHi, count1(c, d)); writeOp0(c, d, res.lo, res.hi); }
export function rorRm(c: Cpu, d: Insn): void { const a = readRmw0(c, d); S.ror(c.flags, d.size, a, c.aHi, count1(c, d)); writeOp0(c, d, res.lo, res.hi); }
export function rclRm(c: Cpu, d: Insn): void { const a = readRmw0(c, d); S.rcl(c.flags, d.size, a, c.aHi, count1(c, d)); writeOp0(c, d, res.lo, res.hi); }
export function rcrRm(c: Cpu, d: Insn): void { const a = readRmw0(c, d); S.rcr(c.flags, d.size, a, c.aHi, count1(c, d)); writeOp0(c, d, res.lo, res.hi); }
export function shldRm(c: Cpu, d: Insn): void {
  const a = readRmw0(c, d), aHi = c.aHi, b = readOp1(c, d);
  S.shld(c.flags, d.size, a, aHi, b, c.bHi, count2(c, d)); writeOp0(c, d, res.lo, res.hi);
}
export function shrdRm(c: Cpu, d: Insn): void {
  const a = readRmw0(c, d), aHi = c.aHi, b = readOp1(c, d);
  S.shrd(c.flags, d.size, a, aHi, b, c.bHi, count2(c, d)); writeOp0(c, d, res.lo, res.hi);
}
