// tools/objtool/include/objtool/check.h: struct instruction.

import type { Cfi } from '../validate/cfiState';
import { InsnType, StackOp } from '../decode/insnTypes';
import type { ObjSection, ObjSymbol, ObjReloc } from './objectFile';

export const VISITED_BRANCH = 0x01;
export const VISITED_BRANCH_UACCESS = 0x02;
export const VISITED_BRANCH_MASK = 0x03;

/** struct alternative: another path objtool follows from an instruction. */
export interface Alternative {
  insn: Instruction;
  /** The original instruction's own path is not followed (X86_FEATURE_SMAP with --uaccess, POPCNT). */
  skipOrig: boolean;
}

/** struct alt_group: the instructions of one side of an alternative, sharing a per-byte CFI array. */
export interface AltGroup {
  /** For a replacement group: the original group it patches. */
  origGroup: AltGroup | null;
  firstInsn: Instruction;
  lastInsn: Instruction;
  cfi: (Cfi | null)[];
}

export class Instruction {
  /** Position in the file-wide instruction list (section order, then offset). */
  idx = 0;
  type: InsnType = InsnType.OTHER;
  /** Branch displacement or other immediate, as the kernel decoder reports it. */
  immediate = 0;
  ops: StackOp[];
  func: ObjSymbol | null = null;
  deadEnd = false;
  ignore = false;
  ignoreAlts = false;
  retpolineSafe = false;
  hint = false;
  save = false;
  restore = false;
  entry = false;
  visited = 0;
  /** -1 unknown, 0 none, 1 found (cached insn_reloc()). */
  relocState = -1;
  reloc: ObjReloc | null = null;
  cfi: Cfi | null = null;
  jumpDest: Instruction | null = null;
  callDest: ObjSymbol | null = null;
  alts: Alternative[] | null = null;
  altGroup: AltGroup | null = null;
  jumpTable: ObjReloc | null = null;
  firstJumpSrc: Instruction | null = null;

  constructor(
    readonly sec: ObjSection,
    readonly offset: number,
    public len: number,
    ops: StackOp[],
  ) {
    this.ops = ops;
  }
}
