// tools/objtool/check.c + arch/x86/special.c (6.1): switch jump tables found through
// relocations: mark_func_jump_tables(), find_jump_table(), arch_find_switch_table(),
// add_jump_table(), add_jump_table_alts().

import * as C from '../../elf/constants';
import { R_X86_64 } from '../../elf/relocTypes';
import { InsnType } from '../decode/insnTypes';
import type { CheckContext } from '../model/context';
import type { Instruction } from '../model/instruction';
import { FatalError, findSymbolContaining, ObjReloc, ObjSymbol } from '../model/objectFile';
import { MSG } from '../report/warnings';
import { nextInsnSameFunc } from './noreturns';
import { insnReloc } from './destinations';

/** arch_find_switch_table() */
function archFindSwitchTable(ctx: CheckContext, insn: Instruction): ObjReloc | null {
  const textReloc = insnReloc(ctx, insn);
  if (!textReloc || textReloc.sym.type !== C.STT_SECTION || !textReloc.sym.sec || !textReloc.sym.sec.rodata) return null;
  const tableSec = textReloc.sym.sec;
  let tableOffset = textReloc.addend;
  if (textReloc.type === R_X86_64.PC32) tableOffset += 4;
  // Make sure the .rodata address isn't associated with a symbol (GCC jump tables are
  // anonymous data); C jump tables are exempt.
  if (findSymbolContaining(tableSec, tableOffset) && tableSec.name !== '.rodata..c_jump_table') return null;
  const rodataReloc = ctx.file.relocAt(tableSec, tableOffset);
  if (!rodataReloc) return null;
  // Use of RIP-relative switch jumps is quite rare, and indicates a rare GCC quirk/bug
  // which can leave dead code behind.
  if (textReloc.type === R_X86_64.PC32) ctx.file.ignoreUnreachables = true;
  return rodataReloc;
}

function prevInsnSameSym(ctx: CheckContext, insn: Instruction): Instruction | null {
  const prev = ctx.file.prevInsn(insn);
  return prev && prev.func === insn.func ? prev : null;
}

function findJumpTable(ctx: CheckContext, func: ObjSymbol, orig: Instruction): ObjReloc | null {
  for (let insn: Instruction | null = orig; insn && insn.func && insn.func.pfunc === func;
    insn = insn.firstJumpSrc ?? prevInsnSameSym(ctx, insn)) {
    if (insn !== orig && insn.type === InsnType.JUMP_DYNAMIC) break;
    // allow small jumps within the range
    if (insn.type === InsnType.JUMP_UNCONDITIONAL && insn.jumpDest &&
        (insn.jumpDest.offset <= insn.offset || insn.jumpDest.offset > orig.offset)) break;
    const tableReloc = archFindSwitchTable(ctx, insn);
    if (!tableReloc) continue;
    const dest = ctx.file.findInsn(tableReloc.sym.sec, tableReloc.addend);
    if (!dest || !dest.func || dest.func.pfunc !== func) continue;
    return tableReloc;
  }
  return null;
}

function markFuncJumpTables(ctx: CheckContext, func: ObjSymbol): void {
  let last: Instruction | null = null;
  for (let insn = ctx.file.findInsn(func.sec, func.offset); insn; insn = nextInsnSameFunc(ctx, insn)) {
    if (!last) last = insn;
    if (insn.type === InsnType.JUMP_UNCONDITIONAL && insn.jumpDest && insn.offset > last.offset &&
        insn.jumpDest.offset > insn.offset && !insn.jumpDest.firstJumpSrc) {
      insn.jumpDest.firstJumpSrc = insn;
      last = insn.jumpDest;
    }
    if (insn.type !== InsnType.JUMP_DYNAMIC) continue;
    const reloc = findJumpTable(ctx, func, insn);
    if (reloc) {
      reloc.jumpTableStart = true;
      insn.jumpTable = reloc;
    }
  }
}

function addJumpTable(ctx: CheckContext, insn: Instruction, table: ObjReloc): void {
  const pfunc = insn.func!.pfunc;
  const list = table.base.relocs;
  let prevOffset = 0;
  for (let i = table.index; i < list.length; i++) {
    const reloc = list[i];
    if (reloc !== table && reloc.jumpTableStart) break;
    if (prevOffset && reloc.offset !== prevOffset + 8) break;
    if (reloc.sym.sec === pfunc.sec && reloc.addend === pfunc.offset) break;
    const dest = ctx.file.findInsn(reloc.sym.sec, reloc.addend);
    if (!dest) break;
    if (!dest.func || dest.func.pfunc !== pfunc) break;
    (insn.alts ??= []).push({ insn: dest, skipOrig: false });
    prevOffset = reloc.offset;
  }
  if (!prevOffset) {
    ctx.rep.warnFunc(insn.sec, insn.offset, MSG.noJumpTable);
    throw new FatalError(MSG.noJumpTable);
  }
}

export function addJumpTableAlts(ctx: CheckContext): void {
  if (!ctx.file.rodata) return;
  for (const sec of ctx.file.sections) {
    for (const func of sec.symbols) {
      if (func.type !== C.STT_FUNC) continue;
      markFuncJumpTables(ctx, func);
      for (let insn = ctx.file.findInsn(func.sec, func.offset); insn; insn = nextInsnSameFunc(ctx, insn)) {
        if (insn.jumpTable) addJumpTable(ctx, insn, insn.jumpTable);
      }
    }
  }
}
