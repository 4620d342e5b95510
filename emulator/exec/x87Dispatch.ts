/**
 * Code-name rules for the x87, MMX and FXSAVE/FXRSTOR handlers, checked before the mnemonic table
 * (exec/table.ts puts them first), so that the mm forms of mnemonics shared with SSE (PADDB mm vs
 * PADDB xmm ...) reach the MMX handlers.
 */
import type { Handler } from '../decode/insn';
import * as ar from './x87Arith';
import * as ld from './x87Load';
import * as ctl from './x87Control';
import * as tr from './x87Transcendental';
import * as mmx from './mmxInsns';

export const X87_MMX_CODE_RULES: [RegExp, Handler][] = [
  [/^Wait$/, ctl.fwait],
  [/^Fi?(add|sub|subr|mul|div|divr)p?_/, ar.farith],
  [/^(Fu?comi?p{0,2}|Ficomp?)(_|$)/, ar.fcom],
  [/^Ftst$/, ar.ftst], [/^Fxam$/, ar.fxam], [/^Fchs$/, ar.fchs], [/^Fabs$/, ar.fabs], [/^Fsqrt$/, ar.fsqrt],
  [/^Frndint$/, ar.frndint], [/^Fscale$/, ar.fscale], [/^Fprem$/, ar.fprem], [/^Fprem1$/, ar.fprem1],
  [/^Fxtract$/, ar.fxtract],
  [/^Fld_/, ld.fld], [/^(Fst|Fstp|Fstpnce)_(m|sti)/, ld.fst], [/^Fild_/, ld.fild], [/^Fis(t|tp|ttp)_/, ld.fist],
  [/^Fbld_/, ld.fbld], [/^Fbstp_/, ld.fbstp], [/^Fld(1|z|pi|l2e|l2t|lg2|ln2)$/, ld.fldConst],
  [/^Fxch_/, ld.fxch], [/^Fcmov/, ld.fcmov], [/^Ffreep?_/, ld.ffree], [/^Fincstp$/, ld.fincstp],
  [/^Fdecstp$/, ld.fdecstp], [/^Fnop$/, ld.fnop],
  // 8087/287 control instructions the 387 and later execute as no-operations.
  [/^Fn?(eni|disi|setpm)$/, ld.fnop],
  [/^Fn?init$/, ctl.fninit], [/^Fn?clex$/, ctl.fnclex], [/^Fldcw_/, ctl.fldcw], [/^Fn?stcw_/, ctl.fnstcw],
  [/^Fn?stsw_/, ctl.fnstsw], [/^Fn?stenv_/, ctl.fnstenv], [/^Fldenv_/, ctl.fldenv], [/^Fn?save_/, ctl.fnsave],
  [/^Frstor_/, ctl.frstor], [/^Fxsave(64)?_/, ctl.fxsave], [/^Fxrstor(64)?_/, ctl.fxrstor],
  [/^Fsin$/, tr.fsin], [/^Fcos$/, tr.fcos], [/^Fsincos$/, tr.fsincos], [/^Fptan$/, tr.fptan], [/^Fpatan$/, tr.fpatan],
  [/^F2xm1$/, tr.f2xm1], [/^Fyl2x$/, tr.fyl2x], [/^Fyl2xp1$/, tr.fyl2xp1],
  // MMX (and the SSE/SSE2 instructions that operate on mm registers).
  [/^Emms$/, mmx.emms],
  [/^(Movd|Movq)_(mm_rm(32|64)|rm(32|64)_mm|mm_mmm64|mmm64_mm)$|^Movntq_m64_mm$|^Movq2dq_xmm_mm$|^Movdq2q_mm_xmm$/, mmx.mmxMov],
  [/^Ps(ll|rl|ra)[wdq]_mm_(imm8|mmm64)$/, mmx.mmxShift],
  [/^Pshufw_mm_mmm64_imm8$/, mmx.pshufw], [/^Pinsrw_mm_/, mmx.pinsrw], [/^Pextrw_r(32|64)_mm_imm8$/, mmx.pextrw],
  [/^Pmovmskb_r(32|64)_mm$/, mmx.pmovmskbMm], [/^Maskmovq_rDI_mm_mm$/, mmx.maskmovq],
  [/^(Padd[bwdq]|Padds[bw]|Paddus[bw]|Psub[bwdq]|Psubs[bw]|Psubus[bw]|Pmullw|Pmulhw|Pmulhuw|Pmuludq|Pmaddwd|Psadbw|Pavg[bw]|Pminub|Pmaxub|Pminsw|Pmaxsw|Pcmp(eq|gt)[bwd]|Pand|Pandn|Por|Pxor|Packsswb|Packssdw|Packuswb|Punpck[lh](bw|wd|dq))_mm_mmm(64|32)$/, mmx.mmxBinary],
];

/** mm forms that qemu64 does not have (SSSE3, Cyrix extensions): #UD, even if an SSE rule has the mnemonic. */
export const MMX_NOT_PRESENT = /^(?!Cvt).*(_mm_|_mm$)/;
