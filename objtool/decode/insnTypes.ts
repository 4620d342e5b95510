// tools/objtool/include/objtool/arch.h: instruction kinds and stack operations (6.1).
//
// The x86 decoder turns bytes into one InsnType plus a short list of StackOps; the
// generic CFI machine (validate/updateCfi.ts) only ever looks at those.

export const enum InsnType {
  JUMP_CONDITIONAL = 0,
  JUMP_UNCONDITIONAL,
  JUMP_DYNAMIC,
  JUMP_DYNAMIC_CONDITIONAL,
  CALL,
  CALL_DYNAMIC,
  RETURN,
  CONTEXT_SWITCH,
  BUG,
  NOP,
  STAC,
  CLAC,
  STD,
  CLD,
  TRAP,
  ENDBR,
  OTHER,
}

export const enum OpDest {
  REG = 0,
  REG_INDIRECT,
  MEM,
  PUSH,
  PUSHF,
}

export const enum OpSrc {
  REG = 0,
  REG_INDIRECT,
  CONST,
  ADD,
  POP,
  POPF,
  AND,
}

/** One stack effect of an instruction (struct stack_op). */
export interface StackOp {
  destType: OpDest;
  destReg: number;
  destOffset: number;
  srcType: OpSrc;
  srcReg: number;
  srcOffset: number;
}

export function stackOp(destType: OpDest, destReg: number, destOffset: number, srcType: OpSrc, srcReg: number, srcOffset: number): StackOp {
  return { destType, destReg, destOffset, srcType, srcReg, srcOffset };
}

/** CFI register numbers (tools/objtool/arch/x86/include/arch/cfi_regs.h and cfi.h). */
export const CFI_UNDEFINED = -1;
export const CFI_CFA = -2;
export const CFI_SP_INDIRECT = -3;
export const CFI_BP_INDIRECT = -4;
export const CFI_AX = 0;
export const CFI_CX = 1;
export const CFI_DX = 2;
export const CFI_BX = 3;
export const CFI_SP = 4;
export const CFI_BP = 5;
export const CFI_SI = 6;
export const CFI_DI = 7;
export const CFI_R10 = 10;
export const CFI_R12 = 12;
export const CFI_R13 = 13;
export const CFI_R14 = 14;
export const CFI_R15 = 15;
export const CFI_RA = 16;
export const CFI_NUM_REGS = 17;

/** arch_callee_saved_reg(): the only registers whose saves are tracked. */
export function calleeSavedReg(reg: number): boolean {
  return reg === CFI_BP || reg === CFI_BX || reg === CFI_R12 || reg === CFI_R13 || reg === CFI_R14 || reg === CFI_R15;
}
