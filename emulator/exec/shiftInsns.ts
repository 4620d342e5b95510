/**
 * Shift and rotate instruction forms (count from imm8, CL or the implicit 1); semantics in shift.ts.
 * One table along the operation axis (the /r order of the C0/C1/D0-D3 group: ROL ROR RCL RCR SHL SHR,
 * then SAR, SHLD, SHRD), each handler instantiated from its arity's template (handlerTemplate.ts).
 */
import type { Cpu } from '../cpu/cpu';
import { Insn, OK_IMM, type Handler } from '../decode/insn';
import * as S from './shift';
import { res } from './aluResult';
import { readRmw0, readOp1, writeOp0 } from './operands';
import { instantiate } from './handlerTemplate';

function count1(c: Cpu, d: Insn): number { return d.k1 === OK_IMM ? d.immLo & 0xff : c.regs.u8[8]; }
function count2(c: Cpu, d: Insn): number { return d.k2 === OK_IMM ? d.immLo & 0xff : c.regs.u8[8]; }

export const SH_ROL = 0, SH_ROR = 1, SH_RCL = 2, SH_RCR = 3, SH_SHL = 4, SH_SHR = 5, SH_SAR = 6, SH_SHLD = 7, SH_SHRD = 8;
const OPS = [
  { name: 'rol', op: S.rol }, { name: 'ror', op: S.ror }, { name: 'rcl', op: S.rcl }, { name: 'rcr', op: S.rcr },
  { name: 'shl', op: S.shl }, { name: 'shr', op: S.shr }, { name: 'sar', op: S.sar },
] as const;
const DOUBLE_OPS = [{ name: 'shld', op: S.shld }, { name: 'shrd', op: S.shrd }] as const;

const BINDINGS = { readRmw0, readOp1, writeOp0, res, count1, count2 };

/** `op r/m, count` and `op r/m, r, count` by operation (rolRm ... sarRm, shldRm, shrdRm). */
export const SHIFT_RM: readonly Handler[] = [
  ...OPS.map(({ name, op }) => instantiate(`${name}Rm`,
    'const a = readRmw0(c, d);\nop(c.flags, d.size, a, c.aHi, count1(c, d)); writeOp0(c, d, res.lo, res.hi);', { ...BINDINGS, op })),
  ...DOUBLE_OPS.map(({ name, op }) => instantiate(`${name}Rm`,
    'const a = readRmw0(c, d), aHi = c.aHi, b = readOp1(c, d);\nop(c.flags, d.size, a, aHi, b, c.bHi, count2(c, d)); writeOp0(c, d, res.lo, res.hi);',
    { ...BINDINGS, op })),
];
