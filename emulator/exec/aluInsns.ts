/**
 * ALU instruction forms (ADD OR ADC SBB AND SUB XOR CMP TEST INC DEC NEG NOT) on any operand shape:
 * operand access here, the arithmetic and the flags in the pure operations of arith.ts / logic.ts
 * (EMULATOR-CONTRACT.md). One table along the operation axis (blink's kAlu order, then TEST); the
 * operand-form axis is the Insn record, the width its `size`. Handlers come from one template per
 * arity (handlerTemplate.ts), so each operation keeps call sites of its own.
 */
import type { FlagState } from '../cpu/flags';
import type { Handler } from '../decode/insn';
import * as A from './arith';
import * as L from './logic';
import { res } from './aluResult';
import { readRmw0, readOp0, readOp1, writeOp0 } from './operands';
import { instantiate } from './handlerTemplate';

export type BinaryOp = (f: FlagState, size: number, aLo: number, aHi: number, bLo: number, bHi: number) => void;
export type UnaryOp = (f: FlagState, size: number, aLo: number, aHi: number) => void;

/** The operation axis of the two-operand ALU forms: blink's kAlu order (ADD OR ADC SBB AND SUB XOR CMP), then TEST. */
export const ALU_ADD = 0, ALU_OR = 1, ALU_ADC = 2, ALU_SBB = 3, ALU_AND = 4, ALU_SUB = 5, ALU_XOR = 6, ALU_CMP = 7, ALU_TEST = 8;
/** Name, pure operation, and whether it writes its destination (CMP and TEST only set flags). */
export const ALU_OPS: readonly { name: string; op: BinaryOp; writes: boolean }[] = [
  { name: 'add', op: A.add, writes: true }, { name: 'or', op: L.or, writes: true },
  { name: 'adc', op: A.adc, writes: true }, { name: 'sbb', op: A.sbb, writes: true },
  { name: 'and', op: L.and, writes: true }, { name: 'sub', op: A.sub, writes: true },
  { name: 'xor', op: L.xor, writes: true }, { name: 'cmp', op: A.cmp, writes: false },
  { name: 'test', op: L.test, writes: false },
];

/** One-operand forms: INC DEC NEG NOT. */
export const ALU1_INC = 0, ALU1_DEC = 1, ALU1_NEG = 2, ALU1_NOT = 3;
export const ALU1_OPS: readonly { name: string; op: UnaryOp }[] = [
  { name: 'inc', op: A.inc }, { name: 'dec', op: A.dec }, { name: 'neg', op: A.neg }, { name: 'not', op: L.not },
];

const OPERANDS = { readRmw0, readOp0, readOp1, writeOp0, res };

/** `op r/m, r/m|imm` on any shape and width, by operation (addRm, orRm, ...). */
export const ALU_RM: readonly Handler[] = ALU_OPS.map(({ name, op, writes }) => instantiate(`${name}Rm`, writes
  ? 'const a = readRmw0(c, d), aHi = c.aHi, b = readOp1(c, d);\nop(c.flags, d.size, a, aHi, b, c.bHi); writeOp0(c, d, res.lo, res.hi);'
  : 'const a = readOp0(c, d), aHi = c.aHi, b = readOp1(c, d);\nop(c.flags, d.size, a, aHi, b, c.bHi);',
{ ...OPERANDS, op }));

/** `op r/m` by operation (incRm, decRm, negRm, notRm). */
export const ALU1_RM: readonly Handler[] = ALU1_OPS.map(({ name, op }) => instantiate(`${name}Rm`,
  'const a = readRmw0(c, d);\nop(c.flags, d.size, a, c.aHi); writeOp0(c, d, res.lo, res.hi);', { ...OPERANDS, op }));
