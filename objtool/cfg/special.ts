// tools/objtool/special.c, arch/x86/special.c and check.c (6.1): the special sections whose
// entries are other possible paths: .altinstructions (alternatives, patched in place),
// __jump_table (static branches: a jmp or a nop) and __ex_table (exception fixups).
// special_get_alts(), get_alt_entry(), arch_handle_alternative(), add_special_section_alts(),
// handle_group_alt(), handle_jump_alt(), add_ignore_alternatives().

import { InsnType } from '../decode/insnTypes';
import { NO_OPS } from '../decode/x86Decode';
import type { CheckContext } from '../model/context';
import { AltGroup, Instruction } from '../model/instruction';
import { FatalError, ObjSection } from '../model/objectFile';
import { insnReloc } from './destinations';
import { isStaticJump } from './noreturns';

interface SpecialEntry {
  sec: string;
  group: boolean;
  jumpOrNop: boolean;
  size: number;
  orig: number;
  new: number;
  origLen?: number;
  newLen?: number;
  feature?: number;
  key?: number;
}

/** arch/x86/include/arch/special.h */
const ENTRIES: SpecialEntry[] = [
  { sec: '.altinstructions', group: true, jumpOrNop: false, size: 12, orig: 0, new: 4, feature: 8, origLen: 10, newLen: 11 },
  { sec: '__jump_table', group: false, jumpOrNop: true, size: 16, orig: 0, new: 4, key: 8 },
  { sec: '__ex_table', group: false, jumpOrNop: false, size: 12, orig: 0, new: 4 },
];

const X86_FEATURE_POPCNT = 4 * 32 + 23;
const X86_FEATURE_SMAP = 9 * 32 + 20;

interface SpecialAlt {
  group: boolean;
  jumpOrNop: boolean;
  skipOrig: boolean;
  skipAlt: boolean;
  origSec: ObjSection;
  origOff: number;
  newSec: ObjSection | null;
  newOff: number;
  origLen: number;
  newLen: number;
  keyAddend: number;
}

function fatalFunc(ctx: CheckContext, sec: ObjSection, off: number, msg: string): never {
  ctx.rep.warnFunc(sec, off, msg);
  throw new FatalError(msg);
}

function specialGetAlts(ctx: CheckContext): SpecialAlt[] {
  const alts: SpecialAlt[] = [];
  for (const entry of ENTRIES) {
    const sec = ctx.file.sectionByName(entry.sec);
    if (!sec) continue;
    if (sec.size % entry.size !== 0) {
      ctx.rep.warn(`${sec.name} size not a multiple of ${entry.size}`);
      throw new FatalError('special');
    }
    for (let idx = 0; idx < sec.size / entry.size; idx++) {
      const offset = idx * entry.size;
      const alt: SpecialAlt = {
        group: entry.group, jumpOrNop: entry.jumpOrNop, skipOrig: false, skipAlt: false,
        origSec: sec, origOff: 0, newSec: null, newOff: 0, origLen: 0, newLen: 0, keyAddend: 0,
      };
      if (entry.group) {
        alt.origLen = sec.data[offset + entry.origLen!];
        alt.newLen = sec.data[offset + entry.newLen!];
      }
      if (entry.feature !== undefined) {
        const feature = sec.data[offset + entry.feature] | (sec.data[offset + entry.feature + 1] << 8);
        if (feature === X86_FEATURE_SMAP) {
          if (ctx.opts.uaccess) alt.skipOrig = true;
          else alt.skipAlt = true;
        } else if (feature === X86_FEATURE_POPCNT) {
          alt.skipOrig = true;
        }
      }
      const origReloc = ctx.file.relocAt(sec, offset + entry.orig);
      if (!origReloc || !origReloc.sym.sec) fatalFunc(ctx, sec, offset + entry.orig, "can't find orig reloc");
      alt.origSec = origReloc.sym.sec;
      alt.origOff = origReloc.sym.offset + origReloc.addend;
      if (!entry.group || alt.newLen) {
        const newReloc = ctx.file.relocAt(sec, offset + entry.new);
        if (!newReloc || !newReloc.sym.sec) fatalFunc(ctx, sec, offset + entry.new, "can't find new reloc");
        alt.newSec = newReloc.sym.sec;
        alt.newOff = newReloc.sym.offset + newReloc.addend;
        // _ASM_EXTABLE_EX hack
        if (alt.newOff >= 0x7ffffff0) alt.newOff -= 0x7ffffff0;
      }
      if (entry.key !== undefined) {
        const keyReloc = ctx.file.relocAt(sec, offset + entry.key);
        if (!keyReloc) fatalFunc(ctx, sec, offset + entry.key, "can't find key reloc");
        alt.keyAddend = keyReloc.addend;
      }
      alts.push(alt);
    }
  }
  return alts;
}

function isJump(insn: Instruction): boolean {
  return isStaticJump(insn) || insn.type === InsnType.JUMP_DYNAMIC || insn.type === InsnType.JUMP_DYNAMIC_CONDITIONAL;
}

function nextInsnSameSec(ctx: CheckContext, insn: Instruction): Instruction | null {
  const next = ctx.file.nextInsn(insn);
  return next && next.sec === insn.sec ? next : null;
}

/** Inserts an instruction into the file-wide list after `after` (list_add). */
function insertAfter(ctx: CheckContext, after: Instruction, insn: Instruction): void {
  const list = ctx.file.insns;
  list.splice(after.idx + 1, 0, insn);
  for (let i = after.idx + 1; i < list.length; i++) list[i].idx = i;
}

function handleGroupAlt(ctx: CheckContext, sa: SpecialAlt, orig: Instruction, newInsn: Instruction | null): Instruction {
  const origGroup = { origGroup: null, firstInsn: orig, lastInsn: orig, cfi: new Array(sa.origLen).fill(null) } as AltGroup;
  let lastOrig: Instruction | null = null;
  for (let insn: Instruction | null = orig; insn; insn = nextInsnSameSec(ctx, insn)) {
    if (insn.offset >= sa.origOff + sa.origLen) break;
    insn.altGroup = origGroup;
    lastOrig = insn;
  }
  origGroup.lastInsn = lastOrig!;
  const newGroup = { origGroup, firstInsn: orig, lastInsn: orig, cfi: origGroup.cfi } as AltGroup;
  let nop: Instruction | null = null;
  if (sa.newLen < sa.origLen) {
    // A fake nop pads the replacement to the original's size, so the state after its last
    // instruction reaches the shared CFI array.
    nop = new Instruction(sa.newSec ?? orig.sec, sa.newOff + sa.newLen, sa.origLen - sa.newLen, NO_OPS);
    nop.type = InsnType.NOP;
    nop.func = orig.func;
    nop.altGroup = newGroup;
    nop.ignore = orig.ignoreAlts;
  }
  if (!sa.newLen) {
    newGroup.firstInsn = nop!;
    newGroup.lastInsn = nop!;
    return nop!;
  }
  let lastNew: Instruction | null = null;
  for (let insn: Instruction | null = newInsn; insn; insn = nextInsnSameSec(ctx, insn)) {
    if (insn.offset >= sa.newOff + sa.newLen) break;
    lastNew = insn;
    insn.ignore = orig.ignoreAlts;
    insn.func = orig.func;
    insn.altGroup = newGroup;
    const reloc = insnReloc(ctx, insn);
    if (reloc && !(insn.offset === sa.newOff && (insn.type === InsnType.CALL || isJump(insn)))) {
      fatalFunc(ctx, insn.sec, insn.offset, 'unsupported relocation in alternatives section');
    }
    if (!isStaticJump(insn) || !insn.immediate) continue;
    const destOff = insn.offset + insn.len + insn.immediate;
    if (destOff === sa.newOff + sa.newLen) {
      insn.jumpDest = nextInsnSameSec(ctx, lastOrig!);
      if (!insn.jumpDest) fatalFunc(ctx, insn.sec, insn.offset, "can't find alternative jump destination");
    }
  }
  if (!lastNew) fatalFunc(ctx, sa.newSec!, sa.newOff, "can't find last new alternative instruction");
  if (nop) insertAfter(ctx, lastNew, nop);
  newGroup.firstInsn = newInsn!;
  newGroup.lastInsn = nop ?? lastNew;
  return newInsn!;
}

function handleJumpAlt(ctx: CheckContext, orig: Instruction, newInsn: Instruction | null): Instruction | null {
  if (orig.type !== InsnType.JUMP_UNCONDITIONAL && orig.type !== InsnType.NOP) {
    fatalFunc(ctx, orig.sec, orig.offset, 'unsupported instruction at jump label');
  }
  if (orig.type === InsnType.NOP) {
    if (orig.len === 2) ctx.file.jlNopShort++;
    else ctx.file.jlNopLong++;
    return newInsn;
  }
  if (orig.len === 2) ctx.file.jlShort++;
  else ctx.file.jlLong++;
  return ctx.file.nextInsn(orig);
}

export function addSpecialSectionAlts(ctx: CheckContext): void {
  for (const sa of specialGetAlts(ctx)) {
    const orig = ctx.file.findInsn(sa.origSec, sa.origOff);
    if (!orig) fatalFunc(ctx, sa.origSec, sa.origOff, "special: can't find orig instruction");
    let newInsn: Instruction | null = null;
    if (!sa.group || sa.newLen) {
      newInsn = ctx.file.findInsn(sa.newSec, sa.newOff);
      if (!newInsn) fatalFunc(ctx, sa.newSec!, sa.newOff, "special: can't find new instruction");
    }
    if (sa.group) {
      if (!sa.origLen) {
        ctx.rep.warnFunc(orig.sec, orig.offset, 'empty alternative entry');
        continue;
      }
      newInsn = handleGroupAlt(ctx, sa, orig, newInsn);
    } else if (sa.jumpOrNop) {
      newInsn = handleJumpAlt(ctx, orig, newInsn);
    }
    if (!newInsn) continue;
    (orig.alts ??= []).push({ insn: newInsn, skipOrig: sa.skipOrig });
    orig.ignoreAlts ||= sa.skipAlt;
  }
}

/** add_ignore_alternatives(): ANNOTATE_IGNORE_ALTERNATIVE sites. */
export function addIgnoreAlternatives(ctx: CheckContext): void {
  const rela = ctx.file.sectionByName('.rela.discard.ignore_alts');
  if (!rela) return;
  const base = ctx.file.sections[rela.elf.info];
  if (!base) return;
  for (const reloc of base.relocs) {
    if (reloc.sym.type !== 3 /* STT_SECTION */ || !reloc.sym.sec) {
      ctx.rep.warn('unexpected relocation symbol type in .rela.discard.ignore_alts');
      throw new FatalError('ignore_alts');
    }
    const insn = ctx.file.findInsn(reloc.sym.sec, reloc.addend);
    if (!insn) {
      ctx.rep.warn('bad .discard.ignore_alts entry');
      throw new FatalError('ignore_alts');
    }
    insn.ignoreAlts = true;
  }
}
