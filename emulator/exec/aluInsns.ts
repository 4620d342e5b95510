/**
 * ALU instruction forms (ADD OR ADC SBB AND SUB XOR CMP TEST INC DEC NEG NOT): operand access here, the
 * arithmetic and the flags in the pure operations of arith.ts / logic.ts (EMULATOR-CONTRACT.md).
 * One handler per operation (blink kAlu's operation axis); the operand-form axis is the Insn record.
 */
import type { Cpu } from '../cpu/cpu';
import type { Insn } from '../decode/insn';
import * as A from './arith';
import * as L from './logic';
import { res } from './aluResult';
import { readRmw0, readOp0, readOp1, writeOp0 } from './operands';

export function addRm(c: Cpu, d: Insn): void {
  const a = readRmw0(c, d), aHi = c.aHi, b = readOp1(c, d);
  A.add(c.flags, d.size, a, aHi, b, c.bHi); writeOp0(c, d, res.lo, res.hi);
}
export function orRm(c: Cpu, d: Insn): void {
  const a = readRmw0(c, d), aHi = c.aHi, b = readOp1(c, d);
  L.or(c.flags, d.size, a, aHi, b, c.bHi); writeOp0(c, d, res.lo, res.hi);
}
export function adcRm(c: Cpu, d: Insn): void {
  const a = readRmw0(c, d), aHi = c.aHi, b = readOp1(c, d);
  A.adc(c.flags, d.size, a, aHi, b, c.bHi); writeOp0(c, d, res.lo, res.hi);
}
export function sbbRm(c: Cpu, d: Insn): void {
  const a = readRmw0(c, d), aHi = c.aHi, b = readOp1(c, d);
  A.sbb(c.flags, d.size, a, aHi, b, c.bHi); writeOp0(c, d, res.lo, res.hi);
}
export function andRm(c: Cpu, d: Insn): void {
  const a = readRmw0(c, d), aHi = c.aHi, b = readOp1(c, d);
  L.and(c.flags, d.size, a, aHi, b, c.bHi); writeOp0(c, d, res.lo, res.hi);
}
export function subRm(c: Cpu, d: Insn): void {
  const a = readRmw0(c, d), aHi = c.aHi, b = readOp1(c, d);
  A.sub(c.flags, d.size, a, aHi, b, c.bHi); writeOp0(c, d, res.lo, res.hi);
}
export function xorRm(c: Cpu, d: Insn): void {
  const a = readRmw0(c, d), aHi = c.aHi, b = readOp1(c, d);
  L.xor(c.flags, d.size, a, aHi, b, c.bHi); writeOp0(c, d, res.lo, res.hi);
}
export function cmpRm(c: Cpu, d: Insn): void {
  const a = readOp0(c, d), aHi = c.aHi, b = readOp1(c, d);
  A.cmp(c.flags, d.size, a, aHi, b, c.bHi);
}
export function testRm(c: Cpu, d: Insn): void {
  const a = readOp0(c, d), aHi = c.aHi, b = readOp1(c, d);
  L.test(c.flags, d.size, a, aHi, b, c.bHi);
}
export function incRm(c: Cpu, d: Insn): void {
  const a = readRmw0(c, d);
  A.inc(c.flags, d.size, a, c.aHi); writeOp0(c, d, res.lo, res.hi);
}
export function decRm(c: Cpu, d: Insn): void {
  const a = readRmw0(c, d);
  A.dec(c.flags, d.size, a, c.aHi); writeOp0(c, d, res.lo, res.hi);
}
export function negRm(c: Cpu, d: Insn): void {
  const a = readRmw0(c, d);
  A.neg(c.flags, d.size, a, c.aHi); writeOp0(c, d, res.lo, res.hi);
}
export function notRm(c: Cpu, d: Insn): void {
  const a = readRmw0(c, d);
  L.not(c.flags, d.size, a, c.aHi); writeOp0(c, d, res.lo, res.hi);
}
