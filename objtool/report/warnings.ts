// tools/objtool/include/objtool/warn.h and the messages of check.c/orc_gen.c (6.1 wording).
//
// Every message objtool prints lives here, so the wording can be checked against 6.1 in one
// place. WARN lines are "<objname>: warning: objtool: <text>"; WARN_FUNC prefixes the text
// with offstr(): "sym+0xoff" (and " (sec+0xoff)" with --sec-address) or "sec+0xoff".

import * as C from '../../elf/constants';
import type { ObjSection } from '../model/objectFile';
import { findFuncContaining, findSymbolContaining } from '../model/objectFile';

export const MSG = {
  callWithoutFrame: 'call without frame pointer save/setup',
  returnModified: 'return with modified stack frame',
  bpScratch: 'BP used as a scratch register',
  siblingModified: 'sibling call from callable instruction with modified stack frame',
  mismatchCfa: (b1: number, o1: number, b2: number, o2: number) => `stack state mismatch: cfa1=${b1}${signed(o1)} cfa2=${b2}${signed(o2)}`,
  mismatchReg: (i: number, b1: number, o1: number, b2: number, o2: number) =>
    `stack state mismatch: reg1[${i}]=${b1}${signed(o1)} reg2[${i}]=${b2}${signed(o2)}`,
  mismatchType: (t1: number, t2: number) => `stack state mismatch: type1=${t1} type2=${t2}`,
  mismatchDrap: (d1: number, r1: number, f1: number, d2: number, r2: number, f2: number) =>
    `stack state mismatch: drap1=${d1}(${r1},${f1}) drap2=${d2}(${r2},${f2})`,
  fallsThrough: (f: string, g: string) => `${f}() falls through to next function ${g}()`,
  endOfSection: (sec: string) => `${sec}: unexpected end of section`,
  undefinedState: 'undefined stack state',
  unsupportedStackMod: 'unsupported stack register modification',
  unsupportedRealign: 'unsupported stack pointer realignment',
  unknownStackInsn: 'unknown stack-related instruction',
  unknownStackMem: 'unknown stack-related memory operation',
  contextSwitch: 'unsupported instruction in callable function',
  ignoredBug: 'BUG: why am I validating an ignored function?',
  noSave: 'no corresponding CFI save for CFI restore',
  saveRestoreCombo: "objtool isn't smart enough to handle this CFI save/restore combo",
  cfiMissing: 'CFI missing',
  missingSize: (f: string) => `${f}() is missing an ELF size annotation`,
  unreachable: 'unreachable instruction',
  cantDecode: (sec: string, off: number) => `can't decode instruction at ${sec}:0x${off.toString(16)}`,
  invalidLea: (sec: string, off: number) => `invalid LEA encoding at ${sec}:0x${off.toString(16)}`,
  machine: (m: number) => `unexpected ELF machine type ${m}`,
  noStart: (f: string) => `${f}(): can't find starting instruction`,
  noJumpDest: (sec: string, off: number) => `can't find jump dest instruction at ${sec}+0x${off.toString(16)}`,
  intraFunctionCall: 'unannotated intra-function call',
  callNonFunction: 'unsupported call to non-function',
  noCallDest: (sec: string, off: number) => `can't find call dest symbol at ${sec}+0x${off.toString(16)}`,
  noJumpTable: "can't find switch jump table",
  missingHintRela: 'missing .rela.discard.unwind_hints section',
  hintSize: 'struct unwind_hint size mismatch',
  hintNoReloc: (i: number) => `can't find reloc for unwind_hints[${i}]`,
  hintNoInsn: (i: number) => `can't find insn for unwind_hints[${i}]`,
  hintSpReg: (r: number) => `unsupported unwind_hint sp base reg ${r}`,
  relocSymType: (sec: string) => `unexpected relocation symbol type in ${sec}`,
  relocSymTypeN: (sec: string, t: number) => `unexpected relocation symbol type in ${sec}: ${t}`,
  noUnreachableInsn: (sec: string, off: number) => `can't find unreachable insn at ${sec}+0x${off.toString(16)}`,
  noReachableInsn: (sec: string, off: number) => `can't find reachable insn at ${sec}+0x${off.toString(16)}`,
  unknownCfaBase: (r: number) => `unknown CFA base reg ${r}`,
  unknownBpBase: (r: number) => `unknown BP base reg ${r}`,
  hasOrc: 'file already has .orc_unwind section, skipping',
  badOrcSize: 'bad .orc_unwind section size',
  noParent: (f: string) => `${f}(): can't find parent function`,
};

function signed(n: number): string {
  return n >= 0 ? `+${n}` : `${n}`;
}

/** Collects stderr lines in objtool's format. */
export class Reporter {
  readonly lines: string[] = [];
  constructor(
    readonly objname: string,
    readonly secAddress: boolean,
  ) {}

  warn(text: string): void {
    this.lines.push(`${this.objname}: warning: objtool: ${text}`);
  }

  /** offstr() */
  offstr(sec: ObjSection, offset: number): string {
    let sym = (sec.flags & C.SHF_EXECINSTR) !== 0 ? findFuncContaining(sec, offset) : null;
    if (!sym) sym = findSymbolContaining(sec, offset);
    if (sym) {
      let s = `${sym.name}+0x${(offset - sym.offset).toString(16)}`;
      if (this.secAddress) s += ` (${sec.name}+0x${offset.toString(16)})`;
      return s;
    }
    return `${sec.name}+0x${offset.toString(16)}`;
  }

  warnFunc(sec: ObjSection, offset: number, text: string): void {
    this.warn(`${this.offstr(sec, offset)}: ${text}`);
  }

  /** BT_FUNC(): one --backtrace line. */
  backtrace(sec: ObjSection, offset: number, text: string): void {
    this.warn(`  ${this.offstr(sec, offset)}: ${text}`);
  }
}
