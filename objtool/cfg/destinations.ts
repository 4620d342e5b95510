// tools/objtool/check.c (6.1): add_jump_destinations(), add_call_destinations(),
// add_call_dest()/annotate_call_site(): resolve every direct jump and call, decide which
// jumps are sibling calls, link .cold children to parents, mark calls to noreturn functions.

import * as C from '../../elf/constants';
import { InsnType } from '../decode/insnTypes';
import { NO_OPS } from '../decode/x86Decode';
import type { CheckContext } from '../model/context';
import type { Instruction } from '../model/instruction';
import { FatalError, findFuncByOffset, findSymbolByOffset, ObjReloc, ObjSection, ObjSymbol } from '../model/objectFile';
import { MSG } from '../report/warnings';
import { deadEndFunction, isStaticJump } from './noreturns';

/** insn_reloc(): the first relocation inside the instruction's bytes (cached). */
export function insnReloc(ctx: CheckContext, insn: Instruction): ObjReloc | null {
  if (insn.reloc === undefined) insn.reloc = ctx.file.relocInRange(insn.sec, insn.offset, insn.len);
  return insn.reloc;
}

/** arch_dest_reloc_offset() */
function destRelocOffset(addend: number): number {
  return addend + 4;
}

function fatal(ctx: CheckContext, sec: ObjSection, offset: number, msg: string): never {
  ctx.rep.warnFunc(sec, offset, msg);
  throw new FatalError(msg);
}

function annotateCallSite(ctx: CheckContext, insn: Instruction, sibling: boolean): void {
  const sym = insn.callDest;
  if (!sym) return;
  if (insn.sec.name === '.altinstr_replacement') return;
  // --mcount would nop out __fentry__ calls here; this port does not implement --mcount.
  if (!sibling && deadEndFunction(ctx, sym)) insn.deadEnd = true;
}

function addCallDest(ctx: CheckContext, insn: Instruction, dest: ObjSymbol | null, sibling: boolean): void {
  insn.callDest = dest;
  if (!dest) return;
  insn.ops = NO_OPS;
  annotateCallSite(ctx, insn, sibling);
}

/** add_retpoline_call(): thunk calls and jumps are indirect ones in disguise. */
function addRetpolineCall(ctx: CheckContext, insn: Instruction): void {
  if (insn.type === InsnType.CALL) insn.type = InsnType.CALL_DYNAMIC;
  else if (insn.type === InsnType.JUMP_UNCONDITIONAL) insn.type = InsnType.JUMP_DYNAMIC;
  else if (insn.type === InsnType.JUMP_CONDITIONAL) insn.type = InsnType.JUMP_DYNAMIC_CONDITIONAL;
  else return;
  insn.retpolineSafe = true;
  insn.ops = NO_OPS;
}

function sameFunction(a: Instruction, b: Instruction): boolean {
  return a.func!.pfunc === b.func!.pfunc;
}

function isFirstFuncInsn(insn: Instruction): boolean {
  return insn.offset === insn.func!.offset;
}

export function addJumpDestinations(ctx: CheckContext): void {
  const file = ctx.file;
  for (const insn of file.insns) {
    if (insn.jumpDest) continue;
    if (!isStaticJump(insn)) continue;
    const reloc = insnReloc(ctx, insn);
    let destSec: ObjSection | null;
    let destOff: number;
    if (!reloc) {
      destSec = insn.sec;
      destOff = insn.offset + insn.len + insn.immediate;
    } else if (reloc.sym.type === C.STT_SECTION) {
      destSec = reloc.sym.sec;
      destOff = destRelocOffset(reloc.addend);
    } else if (reloc.sym.retpolineThunk) {
      addRetpolineCall(ctx, insn);
      continue;
    } else if (reloc.sym.returnThunk) {
      // add_return_call(): a tail call to the return thunk is a return in disguise.
      insn.type = InsnType.RETURN;
      insn.retpolineSafe = true;
      continue;
    } else if (insn.func) {
      // External sibling call or internal sibling call with an STT_FUNC relocation.
      addCallDest(ctx, insn, reloc.sym, true);
      continue;
    } else if (reloc.sym.sec && reloc.sym.sec.idx) {
      destSec = reloc.sym.sec;
      destOff = reloc.sym.offset + destRelocOffset(reloc.addend);
    } else {
      // non-function asm code jumping to another file
      continue;
    }
    const jumpDest = file.findInsn(destSec, destOff);
    if (!jumpDest) fatal(ctx, insn.sec, insn.offset, MSG.noJumpDest(destSec!.name, destOff));
    if (insn.func && jumpDest.func && insn.func !== jumpDest.func) {
      if (!insn.func.name.includes('.cold') && jumpDest.func.name.includes('.cold')) {
        insn.func.cfunc = jumpDest.func;
        jumpDest.func.pfunc = insn.func;
      } else if (!sameFunction(insn, jumpDest) && isFirstFuncInsn(jumpDest)) {
        // Internal sibling call without a relocation or with a section relocation.
        addCallDest(ctx, insn, jumpDest.func, true);
        continue;
      }
    }
    insn.jumpDest = jumpDest;
  }
}

function findCallDestination(sec: ObjSection | null, offset: number): ObjSymbol | null {
  if (!sec) return null;
  return findFuncByOffset(sec, offset) ?? findSymbolByOffset(sec, offset);
}

export function addCallDestinations(ctx: CheckContext): void {
  for (const insn of ctx.file.insns) {
    if (insn.type !== InsnType.CALL) continue;
    const reloc = insnReloc(ctx, insn);
    if (!reloc) {
      const destOff = insn.offset + insn.len + insn.immediate;
      addCallDest(ctx, insn, findCallDestination(insn.sec, destOff), false);
      if (insn.ignore) continue;
      if (!insn.callDest) fatal(ctx, insn.sec, insn.offset, MSG.intraFunctionCall);
      if (insn.func && insn.callDest.type !== C.STT_FUNC) fatal(ctx, insn.sec, insn.offset, MSG.callNonFunction);
    } else if (reloc.sym.type === C.STT_SECTION) {
      const destOff = destRelocOffset(reloc.addend);
      const dest = findCallDestination(reloc.sym.sec, destOff);
      if (!dest) fatal(ctx, insn.sec, insn.offset, MSG.noCallDest(reloc.sym.sec?.name ?? '', destOff));
      addCallDest(ctx, insn, dest, false);
    } else if (reloc.sym.retpolineThunk) {
      addRetpolineCall(ctx, insn);
    } else {
      addCallDest(ctx, insn, reloc.sym, false);
    }
  }
}
