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

// Bits of Instruction.bits: the kind, the visited marks and the one-bit flags of struct
// instruction. A big object has ~50k instructions per MB of text; packing them (and keeping the
// rarely set links in a side record) halves each instruction's size, and with it the young
// generation's copying work.
const TYPE_MASK = 0x1f;
const VISITED_SHIFT = 5;
const DEAD_END = 1 << 7;
const IGNORE = 1 << 8;
const IGNORE_ALTS = 1 << 9;
const RETPOLINE_SAFE = 1 << 10;
const HINT = 1 << 11;
const SAVE = 1 << 12;
const RESTORE = 1 << 13;
const ENTRY = 1 << 14;

/** The links only alternatives and jump tables set. */
interface InsnLinks {
  alts: Alternative[] | null;
  altGroup: AltGroup | null;
  jumpTable: ObjReloc | null;
  firstJumpSrc: Instruction | null;
}

export class Instruction {
  /** Position in the file-wide instruction list (section order, then offset). */
  idx = 0;
  private bits: number = InsnType.OTHER;
  /** Branch displacement or other immediate, as the kernel decoder reports it. */
  immediate = 0;
  ops: StackOp[];
  func: ObjSymbol | null = null;
  /** Cached insn_reloc(): undefined until looked up, then the relocation or null. */
  reloc: ObjReloc | null | undefined = undefined;
  cfi: Cfi | null = null;
  jumpDest: Instruction | null = null;
  callDest: ObjSymbol | null = null;
  private links: InsnLinks | null = null;

  constructor(
    readonly sec: ObjSection,
    readonly offset: number,
    public len: number,
    ops: StackOp[],
  ) {
    this.ops = ops;
  }

  get type(): InsnType {
    return this.bits & TYPE_MASK;
  }
  set type(t: InsnType) {
    this.bits = (this.bits & ~TYPE_MASK) | t;
  }
  /** VISITED_BRANCH* marks. */
  get visited(): number {
    return (this.bits >> VISITED_SHIFT) & VISITED_BRANCH_MASK;
  }
  set visited(v: number) {
    this.bits = (this.bits & ~(VISITED_BRANCH_MASK << VISITED_SHIFT)) | ((v & VISITED_BRANCH_MASK) << VISITED_SHIFT);
  }
  private flag(f: number, on: boolean): void {
    this.bits = on ? this.bits | f : this.bits & ~f;
  }
  get deadEnd(): boolean { return (this.bits & DEAD_END) !== 0; }
  set deadEnd(v: boolean) { this.flag(DEAD_END, v); }
  get ignore(): boolean { return (this.bits & IGNORE) !== 0; }
  set ignore(v: boolean) { this.flag(IGNORE, v); }
  get ignoreAlts(): boolean { return (this.bits & IGNORE_ALTS) !== 0; }
  set ignoreAlts(v: boolean) { this.flag(IGNORE_ALTS, v); }
  get retpolineSafe(): boolean { return (this.bits & RETPOLINE_SAFE) !== 0; }
  set retpolineSafe(v: boolean) { this.flag(RETPOLINE_SAFE, v); }
  get hint(): boolean { return (this.bits & HINT) !== 0; }
  set hint(v: boolean) { this.flag(HINT, v); }
  get save(): boolean { return (this.bits & SAVE) !== 0; }
  set save(v: boolean) { this.flag(SAVE, v); }
  get restore(): boolean { return (this.bits & RESTORE) !== 0; }
  set restore(v: boolean) { this.flag(RESTORE, v); }
  get entry(): boolean { return (this.bits & ENTRY) !== 0; }
  set entry(v: boolean) { this.flag(ENTRY, v); }

  private link(): InsnLinks {
    return (this.links ??= { alts: null, altGroup: null, jumpTable: null, firstJumpSrc: null });
  }
  get alts(): Alternative[] | null { return this.links ? this.links.alts : null; }
  set alts(v: Alternative[] | null) { if (v || this.links) this.link().alts = v; }
  get altGroup(): AltGroup | null { return this.links ? this.links.altGroup : null; }
  set altGroup(v: AltGroup | null) { if (v || this.links) this.link().altGroup = v; }
  get jumpTable(): ObjReloc | null { return this.links ? this.links.jumpTable : null; }
  set jumpTable(v: ObjReloc | null) { if (v || this.links) this.link().jumpTable = v; }
  get firstJumpSrc(): Instruction | null { return this.links ? this.links.firstJumpSrc : null; }
  set firstJumpSrc(v: Instruction | null) { if (v || this.links) this.link().firstJumpSrc = v; }
}
