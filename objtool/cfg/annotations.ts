// tools/objtool/check.c (6.1): the annotations objtool reads from .discard.* sections:
// add_ignores() (STACK_FRAME_NON_STANDARD), add_dead_ends() (unreachable/reachable),
// read_unwind_hints() (UNWIND_HINT_*).

import * as C from '../../elf/constants';
import type { CheckContext } from '../model/context';
import type { Instruction } from '../model/instruction';
import { FatalError, findFuncByOffset, findSymbolByOffset, ObjSection, ObjSymbol } from '../model/objectFile';
import { MSG } from '../report/warnings';
import { CFA_BASE, CFA_OFFSET, END, initCfi, setFuncState, TYPE, type Cfi } from '../validate/cfiState';
import { InsnType } from '../decode/insnTypes';
import { CFI_BP, CFI_DI, CFI_DX, CFI_R10, CFI_R13, CFI_SP, CFI_SP_INDIRECT, CFI_UNDEFINED } from '../decode/insnTypes';
import { funcInsns } from './noreturns';

import {
  UNWIND_HINT_TYPE_CALL, UNWIND_HINT_TYPE_ENTRY, UNWIND_HINT_TYPE_FUNC,
  UNWIND_HINT_TYPE_REGS_PARTIAL, UNWIND_HINT_TYPE_RESTORE, UNWIND_HINT_TYPE_SAVE,
} from '../orc/orcTypes';
const UNWIND_HINT_SIZE = 12;

function fail(ctx: CheckContext, msg: string): never {
  ctx.rep.warn(msg);
  throw new FatalError(msg);
}

/** The relocation section objtool reads for an annotation (".rela" + name). */
function relaSection(ctx: CheckContext, name: string): ObjSection | null {
  const rela = ctx.file.sectionByName(name);
  if (!rela) return null;
  return ctx.file.sections[rela.elf.info] ?? null;
}

export function addIgnores(ctx: CheckContext): void {
  const name = '.rela.discard.func_stack_frame_non_standard';
  const base = relaSection(ctx, name);
  if (!base) return;
  for (const reloc of base.relocs) {
    let func: ObjSymbol | null;
    if (reloc.sym.type === C.STT_FUNC) func = reloc.sym;
    else if (reloc.sym.type === C.STT_SECTION) {
      func = reloc.sym.sec ? findFuncByOffset(reloc.sym.sec, reloc.addend) : null;
      if (!func) continue;
    } else {
      ctx.rep.warn(MSG.relocSymTypeN(name, reloc.sym.type));
      continue;
    }
    for (const insn of funcInsns(ctx, func)) insn.ignore = true;
  }
}

function findLastInsn(ctx: CheckContext, sec: ObjSection): Instruction | null {
  const end = sec.size > 10 ? sec.size - 10 : 0;
  for (let off = sec.size - 1; off >= end; off--) {
    const insn = ctx.file.findInsn(sec, off);
    if (insn) return insn;
  }
  return null;
}

function markDeadEnds(ctx: CheckContext, name: string, value: boolean): void {
  const base = relaSection(ctx, name);
  if (!base) return;
  for (const reloc of base.relocs) {
    if (reloc.sym.type !== C.STT_SECTION || !reloc.sym.sec) fail(ctx, MSG.relocSymType(name));
    const sec = reloc.sym.sec;
    let insn = ctx.file.findInsn(sec, reloc.addend);
    const missing = value ? MSG.noUnreachableInsn(sec.name, reloc.addend) : MSG.noReachableInsn(sec.name, reloc.addend);
    if (insn) insn = ctx.file.prevInsn(insn);
    else if (reloc.addend === sec.size) {
      insn = findLastInsn(ctx, sec);
      if (!insn) fail(ctx, missing);
    } else fail(ctx, missing);
    if (insn) insn.deadEnd = value;
  }
}

export function addDeadEnds(ctx: CheckContext): void {
  markDeadEnds(ctx, '.rela.discard.unreachable', true);
  markDeadEnds(ctx, '.rela.discard.reachable', false);
}

/** arch_decode_hint_reg(): ORC register number → CFI base, or null if unsupported. */
function decodeHintReg(spReg: number): number | null {
  switch (spReg) {
    case 0: return CFI_UNDEFINED;
    case 5: return CFI_SP;
    case 4: return CFI_BP;
    case 9: return CFI_SP_INDIRECT;
    case 6: return CFI_R10;
    case 7: return CFI_R13;
    case 3: return CFI_DI;
    case 2: return CFI_DX;
    default: return null;
  }
}

export function readUnwindHints(ctx: CheckContext, funcCfi: Cfi): void {
  const file = ctx.file;
  const sec = file.sectionByName('.discard.unwind_hints');
  if (!sec) return;
  if (!sec.rela) fail(ctx, MSG.missingHintRela);
  if (sec.size % UNWIND_HINT_SIZE) fail(ctx, MSG.hintSize);
  file.hints = true;
  // The scratch state is reused across hints and only refreshed from an existing insn->cfi.
  let cfi = initCfi();
  const dv = new DataView(sec.data.buffer, sec.data.byteOffset, sec.data.byteLength);
  for (let i = 0; i < sec.size / UNWIND_HINT_SIZE; i++) {
    const at = i * UNWIND_HINT_SIZE;
    const spOffset = dv.getInt16(at + 4, true);
    const spReg = dv.getUint8(at + 6);
    let type = dv.getUint8(at + 7);
    const end = dv.getUint8(at + 8);
    const reloc = file.relocAt(sec, at);
    if (!reloc) fail(ctx, MSG.hintNoReloc(i));
    const insn = file.findInsn(reloc.sym.sec, reloc.addend);
    if (!insn) fail(ctx, MSG.hintNoInsn(i));
    insn.hint = true;
    if (type === UNWIND_HINT_TYPE_SAVE) {
      insn.hint = false;
      insn.save = true;
      continue;
    }
    if (type === UNWIND_HINT_TYPE_RESTORE) {
      insn.restore = true;
      continue;
    }
    if (type === UNWIND_HINT_TYPE_REGS_PARTIAL) {
      const sym = findSymbolByOffset(insn.sec, insn.offset);
      if (sym && sym.bind === C.STB_GLOBAL) insn.entry = true;
    }
    if (type === UNWIND_HINT_TYPE_ENTRY) {
      type = UNWIND_HINT_TYPE_CALL;
      insn.entry = true;
    }
    if (type === UNWIND_HINT_TYPE_FUNC) {
      insn.cfi = funcCfi;
      continue;
    }
    if (insn.cfi) cfi = new Int32Array(insn.cfi);
    const base = decodeHintReg(spReg);
    if (base === null) {
      ctx.rep.warnFunc(insn.sec, insn.offset, MSG.hintSpReg(spReg));
      throw new FatalError('hint');
    }
    cfi[CFA_BASE] = base;
    cfi[CFA_OFFSET] = spOffset;
    cfi[TYPE] = type;
    cfi[END] = end;
    insn.cfi = ctx.cfis.findOrAdd(cfi);
  }
}

/** func_cfi: the state UNWIND_HINT_FUNC installs. */
export function makeFuncCfi(): Cfi {
  const c = initCfi();
  setFuncState(c);
  return c;
}

/** read_retpoline_hints(): ANNOTATE_RETPOLINE_SAFE sites. */
export function readRetpolineHints(ctx: CheckContext): void {
  const name = '.rela.discard.retpoline_safe';
  const base = relaSection(ctx, name);
  if (!base) return;
  for (const reloc of base.relocs) {
    if (reloc.sym.type !== C.STT_SECTION || !reloc.sym.sec) fail(ctx, MSG.relocSymType(name));
    const insn = ctx.file.findInsn(reloc.sym.sec, reloc.addend);
    if (!insn) fail(ctx, 'bad .discard.retpoline_safe entry');
    if (insn.type !== InsnType.JUMP_DYNAMIC && insn.type !== InsnType.CALL_DYNAMIC && insn.type !== InsnType.RETURN &&
        insn.type !== InsnType.NOP) {
      ctx.rep.warnFunc(insn.sec, insn.offset, 'retpoline_safe hint not an indirect jump/call/ret/nop');
      throw new FatalError('retpoline_safe');
    }
    insn.retpolineSafe = true;
  }
}

/**
 * read_intra_function_calls(): ANNOTATE_INTRA_FUNCTION_CALL sites become jumps that keep
 * the call's push (add_call_destinations() would otherwise strip it).
 */
export function readIntraFunctionCalls(ctx: CheckContext): void {
  const name = '.rela.discard.intra_function_calls';
  const base = relaSection(ctx, name);
  if (!base) return;
  for (const reloc of base.relocs) {
    if (reloc.sym.type !== C.STT_SECTION || !reloc.sym.sec) fail(ctx, MSG.relocSymType(name));
    const insn = ctx.file.findInsn(reloc.sym.sec, reloc.addend);
    if (!insn) fail(ctx, 'bad .discard.intra_function_call entry');
    if (insn.type !== InsnType.CALL) {
      ctx.rep.warnFunc(insn.sec, insn.offset, 'intra_function_call not a direct call');
      throw new FatalError('intra_function_call');
    }
    insn.type = InsnType.JUMP_UNCONDITIONAL;
    const destOff = insn.offset + insn.len + insn.immediate;
    insn.jumpDest = ctx.file.findInsn(insn.sec, destOff);
    if (!insn.jumpDest) {
      ctx.rep.warnFunc(insn.sec, insn.offset, `can't find call dest at ${insn.sec.name}+0x${destOff.toString(16)}`);
      throw new FatalError('intra_function_call');
    }
  }
}
