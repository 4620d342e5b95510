// tools/objtool/check.c (6.1): validate_branch() and its callers validate_functions(),
// validate_unwind_hints(), plus validate_reachable_instructions().
//
// The walk stops at the first warning: every nested call returns at once on non-zero, so a
// function gets at most one warning (plus --backtrace lines on the way out).

import * as C from '../../elf/constants';
import { CFI_BP, CFI_NUM_REGS, CFI_RA, CFI_UNDEFINED, InsnType, OpDest, OpSrc } from '../decode/insnTypes';
import type { CheckContext } from '../model/context';
import { Instruction, VISITED_BRANCH, VISITED_BRANCH_MASK } from '../model/instruction';
import { findSymbolHoleContaining, type ObjSection, type ObjSymbol } from '../model/objectFile';
import { MSG } from '../report/warnings';
import { deadEndFunction, funcInsns, isSiblingCall } from '../cfg/noreturns';
import {
  BP_SCRATCH, CFA_BASE, CFA_OFFSET, Cfi, cfiEqual, DRAP, DRAP_OFFSET, DRAP_REG, initCfi, initialFuncCfi, REGS,
  setFuncState, STACK_SIZE, TYPE,
} from './cfiState';
import { updateCfiState } from './updateCfi';

interface InsnState {
  cfi: Cfi;
  uaccess: boolean;
  uaccessStack: number;
  df: boolean;
}

/**
 * States for nested walks, one per recursion depth: validate_branch() passes its state by
 * value, and a callee's copy is dead once it returns, so depth d can always reuse slot d.
 */
const statePool: InsnState[] = [];

function copyState(s: InsnState, depth: number): InsnState {
  let c = statePool[depth];
  if (!c) {
    c = { cfi: new Int32Array(s.cfi.length), uaccess: false, uaccessStack: 0, df: false };
    statePool[depth] = c;
  }
  c.cfi.set(s.cfi);
  c.uaccess = s.uaccess;
  c.uaccessStack = s.uaccessStack;
  c.df = s.df;
  return c;
}

function hasModifiedStackFrame(c: Cfi): boolean {
  if (c[CFA_BASE] !== initialFuncCfi[CFA_BASE] || c[DRAP]) return true;
  if (c[CFA_OFFSET] !== initialFuncCfi[CFA_OFFSET]) return true;
  if (c[STACK_SIZE] !== initialFuncCfi[CFA_OFFSET]) return true;
  for (let i = REGS; i < REGS + 2 * CFI_NUM_REGS; i++) if (c[i] !== initialFuncCfi[i]) return true;
  return false;
}

function hasValidStackFrame(c: Cfi): boolean {
  const bpBase = c[REGS + 2 * CFI_BP];
  const bpOff = c[REGS + 2 * CFI_BP + 1];
  if (c[CFA_BASE] === CFI_BP && bpBase === -2 && bpOff === -c[CFA_OFFSET] &&
      c[REGS + 2 * CFI_RA] === -2 && c[REGS + 2 * CFI_RA + 1] === -c[CFA_OFFSET] + 8) return true;
  if (c[DRAP] && bpBase === CFI_BP) return true;
  return false;
}

function insnCfiMatch(ctx: CheckContext, insn: Instruction, c2: Cfi): boolean {
  const c1 = insn.cfi;
  if (!c1) {
    ctx.rep.warn(MSG.cfiMissing);
    return false;
  }
  const w = (m: string): boolean => {
    ctx.rep.warnFunc(insn.sec, insn.offset, m);
    return false;
  };
  if (c1[CFA_BASE] !== c2[CFA_BASE] || c1[CFA_OFFSET] !== c2[CFA_OFFSET]) {
    return w(MSG.mismatchCfa(c1[CFA_BASE], c1[CFA_OFFSET], c2[CFA_BASE], c2[CFA_OFFSET]));
  }
  for (let i = 0; i < CFI_NUM_REGS; i++) {
    const b = REGS + 2 * i;
    if (c1[b] !== c2[b] || c1[b + 1] !== c2[b + 1]) return w(MSG.mismatchReg(i, c1[b], c1[b + 1], c2[b], c2[b + 1]));
  }
  if (c1[TYPE] !== c2[TYPE]) return w(MSG.mismatchType(c1[TYPE], c2[TYPE]));
  if (c1[DRAP] !== c2[DRAP] || (c1[DRAP] && c1[DRAP_REG] !== c2[DRAP_REG]) || (c1[DRAP] && c1[DRAP_OFFSET] !== c2[DRAP_OFFSET])) {
    return w(MSG.mismatchDrap(c1[DRAP], c1[DRAP_REG], c1[DRAP_OFFSET], c2[DRAP], c2[DRAP_REG], c2[DRAP_OFFSET]));
  }
  return true;
}

function validateReturn(ctx: CheckContext, func: ObjSymbol | null, insn: Instruction, s: InsnState): number {
  const uaccessSafe = func ? func.uaccessSafe : false;
  const w = (m: string): number => {
    ctx.rep.warnFunc(insn.sec, insn.offset, m);
    return 1;
  };
  if (s.uaccess && !uaccessSafe) return w('return with UACCESS enabled');
  if (!s.uaccess && uaccessSafe) return w('return with UACCESS disabled from a UACCESS-safe function');
  if (s.df) return w('return with DF set');
  if (func && hasModifiedStackFrame(s.cfi)) return w(MSG.returnModified);
  if (s.cfi[BP_SCRATCH]) return w(MSG.bpScratch);
  return 0;
}

function callDestName(insn: Instruction): string {
  return insn.callDest ? insn.callDest.name : '{dynamic}';
}

function validateCall(ctx: CheckContext, insn: Instruction, s: InsnState): number {
  if (s.uaccess && !(insn.callDest && insn.callDest.uaccessSafe)) {
    ctx.rep.warnFunc(insn.sec, insn.offset, `call to ${callDestName(insn)}() with UACCESS enabled`);
    return 1;
  }
  if (s.df) {
    ctx.rep.warnFunc(insn.sec, insn.offset, `call to ${callDestName(insn)}() with DF set`);
    return 1;
  }
  return 0;
}

function validateSiblingCall(ctx: CheckContext, insn: Instruction, s: InsnState): number {
  if (hasModifiedStackFrame(s.cfi)) {
    ctx.rep.warnFunc(insn.sec, insn.offset, MSG.siblingModified);
    return 1;
  }
  return validateCall(ctx, insn, s);
}

function isFentryCall(insn: Instruction): boolean {
  return insn.type === InsnType.CALL && insn.callDest !== null && insn.callDest.fentry;
}

/** next_insn_same_sec() */
function nextInsnSameSec(ctx: CheckContext, insn: Instruction): Instruction | null {
  const next = ctx.file.nextInsn(insn);
  return next && next.sec === insn.sec ? next : null;
}

/** next_insn_to_validate(): the end of a replacement group continues after the original group. */
function nextInsnToValidate(ctx: CheckContext, insn: Instruction): Instruction | null {
  const g = insn.altGroup;
  if (g && insn === g.lastInsn && g.origGroup) return nextInsnSameSec(ctx, g.origGroup.lastInsn);
  return nextInsnSameSec(ctx, insn);
}

/** propagate_alt_cfi(): every stream of an alternative must agree at each byte offset. */
function propagateAltCfi(ctx: CheckContext, insn: Instruction): boolean {
  const g = insn.altGroup;
  if (!g) return false;
  if (!insn.cfi) {
    ctx.rep.warn(MSG.cfiMissing);
    return true;
  }
  const off = insn.offset - g.firstInsn.offset;
  const have = g.cfi[off];
  if (!have) g.cfi[off] = insn.cfi;
  else if (!cfiEqual(have, insn.cfi)) {
    ctx.rep.warnFunc(insn.sec, insn.offset, 'stack layout conflict in alternatives');
    return true;
  }
  return false;
}

export function validateBranch(ctx: CheckContext, func: ObjSymbol | null, start: Instruction, state: InsnState, depth = 0): number {
  const rep = ctx.rep;
  const sec = start.sec;
  let insn = start;
  let prev: Instruction | null = null;
  for (;;) {
    const next = nextInsnToValidate(ctx, insn);
    if (func && insn.func && func !== insn.func.pfunc) {
      // KCFI type preambles always fall through.
      if (func.name.startsWith('__cfi_') || func.name.startsWith('__pfx_')) return 0;
      // 6.1 stable: --no-unreachable (or a RIP-relative switch) also silences this.
      if (ctx.file.ignoreUnreachables) return 0;
      rep.warn(MSG.fallsThrough(func.name, insn.func.name));
      return 1;
    }
    if (func && insn.ignore) {
      rep.warnFunc(sec, insn.offset, MSG.ignoredBug);
      return 1;
    }
    const visited = VISITED_BRANCH << (state.uaccess ? 1 : 0);
    if (insn.visited & VISITED_BRANCH_MASK) {
      if (!insn.hint && !insnCfiMatch(ctx, insn, state.cfi)) return 1;
      if (insn.visited & visited) return 0;
    } else {
      ctx.nrInsnsVisited++;
    }
    if (insn.hint) {
      if (insn.restore) {
        let save: Instruction | null = null;
        if (func) {
          // sym_for_each_insn_continue_reverse(func)
          for (let i = ctx.file.prevInsn(insn); i && i.sec === func.sec && i.offset >= func.offset; i = ctx.file.prevInsn(i)) {
            if (i.save) {
              save = i;
              break;
            }
          }
        }
        if (!save) {
          rep.warnFunc(sec, insn.offset, MSG.noSave);
          return 1;
        }
        if (!save.visited) {
          rep.warnFunc(sec, insn.offset, MSG.saveRestoreCombo);
          return 1;
        }
        insn.cfi = save.cfi;
        ctx.cfis.nrCfiReused++;
      }
      state.cfi.set(insn.cfi!);
    } else if (prev && prev.cfi && cfiEqual(prev.cfi, state.cfi)) {
      insn.cfi = prev.cfi;
      ctx.cfis.nrCfiReused++;
    } else {
      insn.cfi = ctx.cfis.findOrAdd(state.cfi);
    }
    insn.visited |= visited;

    if (propagateAltCfi(ctx, insn)) return 1;

    if (!insn.ignoreAlts && insn.alts) {
      let skipOrig = false;
      for (const alt of insn.alts) {
        if (alt.skipOrig) skipOrig = true;
        const ret = validateBranch(ctx, func, alt.insn, copyState(state, depth + 1), depth + 1);
        if (ret) {
          if (ctx.opts.backtrace) rep.backtrace(insn.sec, insn.offset, '(alt)');
          return ret;
        }
      }
      if (skipOrig) return 0;
    }

    // handle_insn_ops()
    for (const op of insn.ops) {
      if (updateCfiState(rep, ctx.opts.stackval, insn, next, state.cfi, op)) return 1;
      if (!insn.altGroup) continue;
      if (op.destType === OpDest.PUSHF) {
        if (!state.uaccessStack) state.uaccessStack = 1;
        else if (state.uaccessStack >>> 31) {
          rep.warnFunc(insn.sec, insn.offset, 'PUSHF stack exhausted');
          return 1;
        }
        state.uaccessStack = ((state.uaccessStack << 1) | (state.uaccess ? 1 : 0)) >>> 0;
      }
      if (op.srcType === OpSrc.POPF && state.uaccessStack) {
        state.uaccess = (state.uaccessStack & 1) === 1;
        state.uaccessStack >>>= 1;
        if (state.uaccessStack === 1) state.uaccessStack = 0;
      }
    }

    switch (insn.type) {
      case InsnType.RETURN:
        return validateReturn(ctx, func, insn, state);
      case InsnType.CALL:
      case InsnType.CALL_DYNAMIC: {
        const ret = validateCall(ctx, insn, state);
        if (ret) return ret;
        if (ctx.opts.stackval && func && !isFentryCall(insn) && !hasValidStackFrame(state.cfi)) {
          rep.warnFunc(sec, insn.offset, MSG.callWithoutFrame);
          return 1;
        }
        if (insn.deadEnd) return 0;
        break;
      }
      case InsnType.JUMP_CONDITIONAL:
      case InsnType.JUMP_UNCONDITIONAL:
        if (isSiblingCall(insn)) {
          const ret = validateSiblingCall(ctx, insn, state);
          if (ret) return ret;
        } else if (insn.jumpDest) {
          const ret = validateBranch(ctx, func, insn.jumpDest, copyState(state, depth + 1), depth + 1);
          if (ret) {
            if (ctx.opts.backtrace) rep.backtrace(insn.sec, insn.offset, '(branch)');
            return ret;
          }
        }
        if (insn.type === InsnType.JUMP_UNCONDITIONAL) return 0;
        break;
      case InsnType.JUMP_DYNAMIC:
      case InsnType.JUMP_DYNAMIC_CONDITIONAL:
        if (isSiblingCall(insn)) {
          const ret = validateSiblingCall(ctx, insn, state);
          if (ret) return ret;
        }
        if (insn.type === InsnType.JUMP_DYNAMIC) return 0;
        break;
      case InsnType.CONTEXT_SWITCH:
        if (func && (!next || !next.hint)) {
          rep.warnFunc(sec, insn.offset, MSG.contextSwitch);
          return 1;
        }
        return 0;
      case InsnType.STAC:
        if (state.uaccess) {
          rep.warnFunc(sec, insn.offset, 'recursive UACCESS enable');
          return 1;
        }
        state.uaccess = true;
        break;
      case InsnType.CLAC:
        if (!state.uaccess && func) {
          rep.warnFunc(sec, insn.offset, 'redundant UACCESS disable');
          return 1;
        }
        if (func && func.uaccessSafe && !state.uaccessStack) {
          rep.warnFunc(sec, insn.offset, 'UACCESS-safe disables UACCESS');
          return 1;
        }
        state.uaccess = false;
        break;
      case InsnType.STD:
        if (state.df) {
          rep.warnFunc(sec, insn.offset, 'recursive STD');
          return 1;
        }
        state.df = true;
        break;
      case InsnType.CLD:
        if (!state.df && func) {
          rep.warnFunc(sec, insn.offset, 'redundant CLD');
          return 1;
        }
        state.df = false;
        break;
      default:
        break;
    }
    if (insn.deadEnd) return 0;
    if (!next) {
      if (state.cfi[CFA_BASE] === CFI_UNDEFINED) return 0;
      if (ctx.file.ignoreUnreachables) return 0;
      rep.warn(MSG.endOfSection(sec.name));
      return 1;
    }
    prev = insn;
    insn = next;
  }
}

function newState(): InsnState {
  return { cfi: initCfi(), uaccess: false, uaccessStack: 0, df: false };
}

function validateSymbol(ctx: CheckContext, sec: ObjSection, sym: ObjSymbol, state: InsnState): number {
  if (!sym.len) {
    ctx.rep.warn(MSG.missingSize(sym.name));
    return 1;
  }
  if (sym.pfunc !== sym || sym.alias !== sym) return 0;
  const insn = ctx.file.findInsn(sec, sym.offset);
  if (!insn || insn.ignore || insn.visited) return 0;
  state.uaccess = sym.uaccessSafe;
  const ret = validateBranch(ctx, insn.func, insn, state);
  if (ret && ctx.opts.backtrace) ctx.rep.backtrace(insn.sec, insn.offset, '<=== (sym)');
  return ret;
}

export function validateFunctions(ctx: CheckContext): number {
  let warnings = 0;
  for (const sec of ctx.file.sections) {
    if (!(sec.flags & C.SHF_EXECINSTR)) continue;
    for (const func of sec.symbols) {
      if (func.type !== C.STT_FUNC) continue;
      const state = newState();
      setFuncState(state.cfi);
      warnings += validateSymbol(ctx, sec, func, state);
    }
  }
  return warnings;
}

export function validateUnwindHints(ctx: CheckContext): number {
  if (!ctx.file.hints) return 0;
  let warnings = 0;
  for (const insn of ctx.file.insns) {
    if (insn.hint && !insn.visited && !insn.ignore) {
      const ret = validateBranch(ctx, insn.func, insn, newState());
      if (ret && ctx.opts.backtrace) ctx.rep.backtrace(insn.sec, insn.offset, '<=== (hint)');
      warnings += ret;
    }
  }
  return warnings;
}

function isKasanOrUbsan(insn: Instruction): boolean {
  if (insn.type !== InsnType.CALL || !insn.callDest) return false;
  const n = insn.callDest.name;
  return n === '__asan_handle_no_return' || n === '__ubsan_handle_builtin_unreachable';
}

function ignoreUnreachableInsn(ctx: CheckContext, start: Instruction): boolean {
  let insn = start;
  if (insn.ignore || insn.type === InsnType.NOP || insn.type === InsnType.TRAP) return true;
  if (insn.sec.name === '.altinstr_replacement' || insn.sec.name === '.altinstr_aux') return true;
  if (ctx.opts.link && !insn.func) {
    const size = findSymbolHoleContaining(insn.sec, insn.offset);
    const end = insn.offset + size;
    if (!size) return false;
    if (size < 0) return true;
    for (let i = nextInsnSameSecOf(ctx, insn); i; i = nextInsnSameSecOf(ctx, i)) {
      if (i.visited) return true;
      if (i.offset >= end) break;
      if (i.jumpDest && i.jumpDest.func && i.jumpDest.func.name.includes('.cold')) {
        for (const d of funcInsns(ctx, i.jumpDest.func)) d.ignore = true;
      }
    }
    return false;
  }
  if (!insn.func) return false;
  if (insn.func.staticCallTramp) return true;
  const prev = ctx.file.prevInsn(insn);
  if (prev && (prev.deadEnd || deadEndFunction(ctx, prev.callDest)) &&
      (insn.type === InsnType.BUG ||
       (insn.type === InsnType.JUMP_UNCONDITIONAL && insn.jumpDest && insn.jumpDest.type === InsnType.BUG))) {
    return true;
  }
  for (let i = 0; i < 5; i++) {
    if (isKasanOrUbsan(insn)) return true;
    if (insn.type === InsnType.JUMP_UNCONDITIONAL) {
      if (insn.jumpDest && insn.jumpDest.func === insn.func) {
        insn = insn.jumpDest;
        continue;
      }
      break;
    }
    if (insn.offset + insn.len >= insn.func!.offset + insn.func!.len) break;
    const n = ctx.file.nextInsn(insn);
    if (!n) break;
    insn = n;
  }
  return false;
}

function nextInsnSameSecOf(ctx: CheckContext, insn: Instruction): Instruction | null {
  return nextInsnSameSec(ctx, insn);
}

export function validateReachableInstructions(ctx: CheckContext): number {
  if (ctx.file.ignoreUnreachables) return 0;
  for (const insn of ctx.file.insns) {
    if (insn.visited || ignoreUnreachableInsn(ctx, insn)) continue;
    ctx.rep.warnFunc(insn.sec, insn.offset, MSG.unreachable);
    return 1;
  }
  return 0;
}
