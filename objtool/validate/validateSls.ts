// tools/objtool/check.c (6.1): validate_sls(), the straight-line-speculation check (--sls):
// every ret and indirect jump must be followed by an int3.

import { InsnType } from '../decode/insnTypes';
import type { CheckContext } from '../model/context';

export function validateSls(ctx: CheckContext): number {
  let warnings = 0;
  for (const insn of ctx.file.insns) {
    const next = ctx.file.nextInsn(insn);
    const nextSameSec = next && next.sec === insn.sec ? next : null;
    if (insn.retpolineSafe) continue;
    if (insn.type === InsnType.RETURN || insn.type === InsnType.JUMP_DYNAMIC) {
      if (!nextSameSec || nextSameSec.type !== InsnType.TRAP) {
        ctx.rep.warnFunc(insn.sec, insn.offset, insn.type === InsnType.RETURN ? 'missing int3 after ret' : 'missing int3 after indirect jump');
        warnings++;
      }
    }
  }
  return warnings;
}
