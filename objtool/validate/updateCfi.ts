// tools/objtool/check.c (6.1): update_cfi_state(), update_cfi_state_regs(), save_reg(),
// restore_reg(): how each stack operation changes the CFI state, including GCC's DRAP
// stack-realignment sequences and stack swizzles.

import {
  calleeSavedReg, CFI_BP, CFI_BP_INDIRECT, CFI_CFA, CFI_SP, CFI_SP_INDIRECT, CFI_UNDEFINED,
  OpDest, OpSrc, StackOp,
} from '../decode/insnTypes';
import type { Instruction } from '../model/instruction';
import { MSG, Reporter } from '../report/warnings';
import {
  BP_SCRATCH, CFA_BASE, CFA_OFFSET, Cfi, DRAP, DRAP_OFFSET, DRAP_REG, initialFuncCfi, REGS, STACK_SIZE, TYPE, VALS,
} from './cfiState';

const HINT_REGS = 1;
const HINT_REGS_PARTIAL = 2;

function saveReg(c: Cfi, reg: number, base: number, offset: number): void {
  if (calleeSavedReg(reg) && c[REGS + 2 * reg] === CFI_UNDEFINED) {
    c[REGS + 2 * reg] = base;
    c[REGS + 2 * reg + 1] = offset;
  }
}

function restoreReg(c: Cfi, reg: number): void {
  c[REGS + 2 * reg] = initialFuncCfi[REGS + 2 * reg];
  c[REGS + 2 * reg + 1] = initialFuncCfi[REGS + 2 * reg + 1];
}

function checkRegFramePos(c: Cfi, reg: number, expected: number): boolean {
  return c[REGS + 2 * reg] === CFI_CFA && c[REGS + 2 * reg + 1] === expected;
}

function updateCfiStateRegs(c: Cfi, op: StackOp): void {
  if (c[CFA_BASE] !== CFI_SP && c[CFA_BASE] !== CFI_SP_INDIRECT) return;
  if (op.destType === OpDest.PUSH || op.destType === OpDest.PUSHF) c[CFA_OFFSET] += 8;
  if (op.srcType === OpSrc.POP || op.srcType === OpSrc.POPF) c[CFA_OFFSET] -= 8;
  if (op.destType === OpDest.REG && op.srcType === OpSrc.ADD && op.destReg === CFI_SP && op.srcReg === CFI_SP) {
    c[CFA_OFFSET] -= op.srcOffset;
  }
}

/** Returns true when a warning was printed (the walk stops). */
export function updateCfiState(
  rep: Reporter, stackval: boolean, insn: Instruction, next: Instruction | null, c: Cfi, op: StackOp,
): boolean {
  const warn = (msg: string): boolean => {
    rep.warnFunc(insn.sec, insn.offset, msg);
    return true;
  };
  if (c[CFA_BASE] === CFI_UNDEFINED) {
    if (insn.func) return warn(MSG.undefinedState);
    return false;
  }
  if (c[TYPE] === HINT_REGS || c[TYPE] === HINT_REGS_PARTIAL) {
    updateCfiStateRegs(c, op);
    return false;
  }
  const regOff = (r: number): number => c[REGS + 2 * r + 1];
  const valBase = (r: number): number => c[VALS + 2 * r];
  const valOff = (r: number): number => c[VALS + 2 * r + 1];

  switch (op.destType) {
    case OpDest.REG:
      switch (op.srcType) {
        case OpSrc.REG:
          if (op.srcReg === CFI_SP && op.destReg === CFI_BP && c[CFA_BASE] === CFI_SP &&
              checkRegFramePos(c, CFI_BP, -c[CFA_OFFSET])) {
            // mov %rsp, %rbp
            c[CFA_BASE] = op.destReg;
            c[BP_SCRATCH] = 0;
          } else if (op.srcReg === CFI_SP && op.destReg === CFI_BP && c[DRAP]) {
            // drap: mov %rsp, %rbp
            c[REGS + 2 * CFI_BP] = CFI_BP;
            c[REGS + 2 * CFI_BP + 1] = -c[STACK_SIZE];
            c[BP_SCRATCH] = 0;
          } else if (op.srcReg === CFI_SP && c[CFA_BASE] === CFI_SP) {
            // mov %rsp, %reg
            c[VALS + 2 * op.destReg] = CFI_CFA;
            c[VALS + 2 * op.destReg + 1] = -c[STACK_SIZE];
          } else if (op.srcReg === CFI_BP && op.destReg === CFI_SP &&
                     (c[CFA_BASE] === CFI_BP || c[CFA_BASE] === c[DRAP_REG])) {
            // mov %rbp, %rsp
            c[STACK_SIZE] = -regOff(CFI_BP);
          } else if (op.destReg === c[CFA_BASE]) {
            // mov %reg, %rsp
            if (c[CFA_BASE] === CFI_SP && valBase(op.srcReg) === CFI_CFA) {
              c[CFA_OFFSET] = -valOff(op.srcReg);
              c[STACK_SIZE] = c[CFA_OFFSET];
            } else if (c[CFA_BASE] === CFI_SP && valBase(op.srcReg) === CFI_SP_INDIRECT &&
                       valOff(op.srcReg) === c[CFA_OFFSET]) {
              // stack swizzle
              c[CFA_BASE] = CFI_SP_INDIRECT;
            } else {
              c[CFA_BASE] = CFI_UNDEFINED;
              c[CFA_OFFSET] = 0;
            }
          } else if (op.destReg === CFI_SP && valBase(op.srcReg) === CFI_SP_INDIRECT &&
                     valOff(op.srcReg) === c[CFA_OFFSET]) {
            // swizzle onto a stack that is not the CFA base: count it as a push
            c[STACK_SIZE] += 8;
          }
          break;

        case OpSrc.ADD:
          if (op.destReg === CFI_SP && op.srcReg === CFI_SP) {
            // add imm, %rsp
            c[STACK_SIZE] -= op.srcOffset;
            if (c[CFA_BASE] === CFI_SP) c[CFA_OFFSET] -= op.srcOffset;
            break;
          }
          if (op.destReg === CFI_SP && op.srcReg === CFI_BP) {
            // lea disp(%rbp), %rsp
            c[STACK_SIZE] = -(op.srcOffset + regOff(CFI_BP));
            break;
          }
          if (!c[DRAP] && op.srcReg === CFI_SP && op.destReg === CFI_BP && c[CFA_BASE] === CFI_SP &&
              checkRegFramePos(c, CFI_BP, -c[CFA_OFFSET] + op.srcOffset)) {
            // lea disp(%rsp), %rbp
            c[CFA_BASE] = CFI_BP;
            c[CFA_OFFSET] -= op.srcOffset;
            c[BP_SCRATCH] = 0;
            break;
          }
          if (op.srcReg === CFI_SP && c[CFA_BASE] === CFI_SP) {
            // drap: lea disp(%rsp), %drap
            c[DRAP_REG] = op.destReg;
            c[VALS + 2 * op.destReg] = CFI_CFA;
            c[VALS + 2 * op.destReg + 1] = -c[STACK_SIZE] + op.srcOffset;
            break;
          }
          if (c[DRAP] && op.destReg === CFI_SP && op.srcReg === c[DRAP_REG]) {
            // drap: lea disp(%drap), %rsp
            c[CFA_BASE] = CFI_SP;
            c[CFA_OFFSET] = -op.srcOffset;
            c[STACK_SIZE] = -op.srcOffset;
            c[DRAP_REG] = CFI_UNDEFINED;
            c[DRAP] = 0;
            break;
          }
          if (op.destReg === c[CFA_BASE] && !(next && next.hint)) return warn(MSG.unsupportedStackMod);
          break;

        case OpSrc.AND:
          if (op.destReg !== CFI_SP ||
              (c[DRAP_REG] !== CFI_UNDEFINED && c[CFA_BASE] !== CFI_SP) ||
              (c[DRAP_REG] === CFI_UNDEFINED && c[CFA_BASE] !== CFI_BP)) {
            return warn(MSG.unsupportedRealign);
          }
          if (c[DRAP_REG] !== CFI_UNDEFINED) {
            // drap: and imm, %rsp
            c[CFA_BASE] = c[DRAP_REG];
            c[CFA_OFFSET] = 0;
            c[STACK_SIZE] = 0;
            c[DRAP] = 1;
          }
          break;

        case OpSrc.POP:
        case OpSrc.POPF:
          if (op.destReg === CFI_SP && c[CFA_BASE] === CFI_SP_INDIRECT) {
            // pop %rsp: back from a stack swizzle
            c[CFA_BASE] = CFI_SP;
            break;
          }
          if (!c[DRAP] && op.destReg === c[CFA_BASE]) {
            // pop %rbp
            c[CFA_BASE] = CFI_SP;
          }
          if (c[DRAP] && c[CFA_BASE] === CFI_BP_INDIRECT && op.destReg === c[DRAP_REG] &&
              c[DRAP_OFFSET] === -c[STACK_SIZE]) {
            // drap: pop %drap
            c[CFA_BASE] = c[DRAP_REG];
            c[CFA_OFFSET] = 0;
            c[DRAP_OFFSET] = -1;
          } else if (c[STACK_SIZE] === -regOff(op.destReg)) {
            // pop %reg
            restoreReg(c, op.destReg);
          }
          c[STACK_SIZE] -= 8;
          if (c[CFA_BASE] === CFI_SP) c[CFA_OFFSET] -= 8;
          break;

        case OpSrc.REG_INDIRECT:
          if (!c[DRAP] && op.destReg === c[CFA_BASE] && op.destReg === CFI_BP) {
            // mov disp(%rsp), %rbp
            c[CFA_BASE] = CFI_SP;
            c[CFA_OFFSET] = c[STACK_SIZE];
          }
          if (c[DRAP] && op.srcReg === CFI_BP && op.srcOffset === c[DRAP_OFFSET]) {
            // drap: mov disp(%rbp), %drap
            c[CFA_BASE] = c[DRAP_REG];
            c[CFA_OFFSET] = 0;
            c[DRAP_OFFSET] = -1;
          }
          if (c[DRAP] && op.srcReg === CFI_BP && op.srcOffset === regOff(op.destReg)) {
            // drap: mov disp(%rbp), %reg
            restoreReg(c, op.destReg);
          } else if (op.srcReg === c[CFA_BASE] && op.srcOffset === regOff(op.destReg) + c[CFA_OFFSET]) {
            // mov disp(%rbp), %reg / mov disp(%rsp), %reg
            restoreReg(c, op.destReg);
          } else if (op.srcReg === CFI_SP && op.srcOffset === regOff(op.destReg) + c[STACK_SIZE]) {
            // mov disp(%rsp), %reg
            restoreReg(c, op.destReg);
          }
          break;

        default:
          return warn(MSG.unknownStackInsn);
      }
      break;

    case OpDest.PUSH:
    case OpDest.PUSHF:
      c[STACK_SIZE] += 8;
      if (c[CFA_BASE] === CFI_SP) c[CFA_OFFSET] += 8;
      if (op.srcType !== OpSrc.REG) break;
      if (c[DRAP]) {
        if (op.srcReg === c[CFA_BASE] && op.srcReg === c[DRAP_REG]) {
          // drap: push %drap
          c[CFA_BASE] = CFI_BP_INDIRECT;
          c[CFA_OFFSET] = -c[STACK_SIZE];
          c[DRAP_OFFSET] = -c[STACK_SIZE];
        } else if (op.srcReg === CFI_BP && c[CFA_BASE] === c[DRAP_REG]) {
          // drap: push %rbp
          c[STACK_SIZE] = 0;
        } else {
          // drap: push %reg
          saveReg(c, op.srcReg, CFI_BP, -c[STACK_SIZE]);
        }
      } else {
        // push %reg
        saveReg(c, op.srcReg, CFI_CFA, -c[STACK_SIZE]);
      }
      // detect when asm code uses rbp as a scratch register
      if (stackval && insn.func && op.srcReg === CFI_BP && c[CFA_BASE] !== CFI_BP) c[BP_SCRATCH] = 1;
      break;

    case OpDest.REG_INDIRECT:
      if (c[DRAP]) {
        if (op.srcReg === c[CFA_BASE] && op.srcReg === c[DRAP_REG]) {
          // drap: mov %drap, disp(%rbp)
          c[CFA_BASE] = CFI_BP_INDIRECT;
          c[CFA_OFFSET] = op.destOffset;
          c[DRAP_OFFSET] = op.destOffset;
        } else {
          // drap: mov reg, disp(%rbp)
          saveReg(c, op.srcReg, CFI_BP, op.destOffset);
        }
      } else if (op.destReg === c[CFA_BASE]) {
        // mov reg, disp(%rbp) / mov reg, disp(%rsp)
        saveReg(c, op.srcReg, CFI_CFA, op.destOffset - c[CFA_OFFSET]);
      } else if (op.destReg === CFI_SP) {
        // mov reg, disp(%rsp)
        saveReg(c, op.srcReg, CFI_CFA, op.destOffset - c[STACK_SIZE]);
      } else if (op.srcReg === CFI_SP && op.destOffset === 0) {
        // mov %rsp, (%reg): set up a stack swizzle
        c[VALS + 2 * op.destReg] = CFI_SP_INDIRECT;
        c[VALS + 2 * op.destReg + 1] = c[CFA_OFFSET];
      }
      break;

    case OpDest.MEM:
      if (op.srcType !== OpSrc.POP && op.srcType !== OpSrc.POPF) return warn(MSG.unknownStackMem);
      // pop mem
      c[STACK_SIZE] -= 8;
      if (c[CFA_BASE] === CFI_SP) c[CFA_OFFSET] -= 8;
      break;

    default:
      return warn(MSG.unknownStackInsn);
  }
  return false;
}
