// tools/objtool/check.c (6.1): __dead_end_function() and its global noreturn list.

import * as C from '../../elf/constants';
import { InsnType } from '../decode/insnTypes';
import type { CheckContext } from '../model/context';
import type { Instruction } from '../model/instruction';
import type { ObjSymbol } from '../model/objectFile';

/** Global functions that never return; the noreturn attribute is not in ELF data. */
export const GLOBAL_NORETURNS: ReadonlySet<string> = new Set([
  '__invalid_creds',
  '__module_put_and_kthread_exit',
  '__reiserfs_panic',
  '__stack_chk_fail',
  '__ubsan_handle_builtin_unreachable',
  'cpu_bringup_and_idle',
  'cpu_startup_entry',
  'do_exit',
  'do_group_exit',
  'do_task_dead',
  'ex_handler_msr_mce',
  'fortify_panic',
  'kthread_complete_and_exit',
  'kthread_exit',
  'kunit_try_catch_throw',
  'lbug_with_loc',
  'machine_real_restart',
  'make_task_dead',
  'panic',
  'rewind_stack_and_make_dead',
  'sev_es_terminate',
  'snp_abort',
  'stop_this_cpu',
  'usercopy_abort',
  'xen_start_kernel',
]);

/** is_static_jump() */
export function isStaticJump(insn: Instruction): boolean {
  return insn.type === InsnType.JUMP_CONDITIONAL || insn.type === InsnType.JUMP_UNCONDITIONAL;
}

/** is_jump_table_jump(): a table jump, or the retpoline alternative of one. */
function isJumpTableJump(insn: Instruction): boolean {
  if (insn.jumpTable) return true;
  const g = insn.altGroup;
  return !!(g && g.origGroup && g.origGroup.firstInsn.jumpTable);
}

/** is_sibling_call() */
export function isSiblingCall(insn: Instruction): boolean {
  if (!insn.func) return false;
  if (insn.type === InsnType.JUMP_DYNAMIC) return !isJumpTableJump(insn);
  return isStaticJump(insn) && insn.callDest !== null;
}

/** func_for_each_insn(): the function, then its .cold part. */
export function* funcInsns(ctx: CheckContext, func: ObjSymbol): Generator<Instruction> {
  let insn = ctx.file.findInsn(func.sec, func.offset);
  while (insn) {
    yield insn;
    insn = nextInsnSameFunc(ctx, insn);
  }
}

/** next_insn_same_func() */
export function nextInsnSameFunc(ctx: CheckContext, insn: Instruction): Instruction | null {
  const func = insn.func;
  if (!func) return null;
  const next = ctx.file.nextInsn(insn);
  if (next && next.func === func) return next;
  if (func === func.cfunc) return null;
  return ctx.file.findInsn(func.cfunc.sec, func.cfunc.offset);
}

export function deadEndFunction(ctx: CheckContext, func: ObjSymbol | null, recursion = 0): boolean {
  if (!func) return false;
  if (func.bind === C.STB_WEAK) return false;
  if (func.bind === C.STB_GLOBAL && GLOBAL_NORETURNS.has(func.name)) return true;
  if (!func.len) return false;
  const first = ctx.file.findInsn(func.sec, func.offset);
  if (!first || !first.func) return false;
  // func_for_each_insn() loops written out: this runs for every call site.
  for (let insn: Instruction | null = first; insn; insn = nextInsnSameFunc(ctx, insn)) {
    if (insn.type === InsnType.RETURN) return false;
  }
  for (let insn: Instruction | null = first; insn; insn = nextInsnSameFunc(ctx, insn)) {
    if (isSiblingCall(insn)) {
      const dest = insn.jumpDest;
      if (!dest) return false;
      if (recursion === 5) return false;
      return deadEndFunction(ctx, dest.func, recursion + 1);
    }
  }
  return true;
}
