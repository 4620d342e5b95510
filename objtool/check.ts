// tools/objtool/check.c (6.1): decode_sections() and check(), the ordered pass pipeline.
//
// Ordering constraints, as objtool states them:
// - decode_instructions before everything (the instruction list and insn->func);
// - add_ignores before the destinations (ignored calls skip the intra-function check);
// - classify_symbols before add_{jump,call}_destinations;
// - add_jump_destinations before add_call_destinations (sibling calls feed the noreturn
//   inference that annotate_call_site runs);
// - add_dead_ends after add_call_destinations, so annotations override the inference;
// - add_jump_table_alts after add_jump_destinations (first_jump_src uses jump_dest);
// - read_unwind_hints last.
// Any error in decode_sections is fatal: one warning, no validation, no ORC.

import * as C from '../elf/constants';
import { decodeSection } from './decode/x86Decode';
import { addDeadEnds, addIgnores, makeFuncCfi, readIntraFunctionCalls, readRetpolineHints, readUnwindHints } from './cfg/annotations';
import { validateSls } from './validate/validateSls';
import { addCallDestinations, addJumpDestinations } from './cfg/destinations';
import { addJumpTableAlts } from './cfg/jumpTables';
import { addIgnoreAlternatives, addSpecialSectionAlts } from './cfg/special';
import { addUaccessSafe } from './cfg/uaccessSafe';
import { InsnType } from './decode/insnTypes';
import type { CheckContext } from './model/context';
import { Instruction } from './model/instruction';
import { FatalError, findSymbolContaining } from './model/objectFile';
import { MSG } from './report/warnings';
import { validateFunctions, validateReachableInstructions, validateUnwindHints } from './validate/validateBranch';
import { initCfi, type Cfi } from './validate/cfiState';
import { orcCreate, type OrcRow } from './orc/orcGen';

const PROFILING_PREFIXES = ['__sanitizer_cov_'];

function markRodata(ctx: CheckContext): void {
  let found = false;
  for (const sec of ctx.file.sections) {
    if (sec.name.startsWith('.rodata') && !sec.name.includes('.str1.')) {
      sec.rodata = true;
      found = true;
    }
  }
  ctx.file.rodata = found;
}

function decodeInstructions(ctx: CheckContext): void {
  const file = ctx.file;
  for (const sec of file.sections) {
    if (!(sec.flags & C.SHF_EXECINSTR)) continue;
    if (sec.name !== '.altinstr_replacement' && sec.name !== '.altinstr_aux' && !sec.name.startsWith('.discard.')) sec.text = true;
    if (sec.name === '.noinstr.text' || sec.name === '.entry.text' || sec.name.startsWith('.text.__x86.')) sec.noinstr = true;
    const data = sec.type === C.SHT_NOBITS ? new Uint8Array(sec.size) : sec.data;
    sec.insnAt = new Int32Array(sec.size);
    const insnAt = sec.insnAt;
    const badOffset = decodeSection(data, { symbolTypeAt: (off) => findSymbolContaining(sec, off)?.type ?? -1 }, (d) => {
      if (d.invalidLea) ctx.rep.warn(MSG.invalidLea(sec.name, d.offset));
      const insn = new Instruction(sec, d.offset, d.len, d.ops);
      insn.type = d.type;
      insn.immediate = d.immediate;
      // ud2 is a dead end unless annotated otherwise (GCC 7 emits it for divide-by-zero).
      if (insn.type === InsnType.BUG) insn.deadEnd = true;
      insn.idx = file.insns.length;
      file.insns.push(insn);
      sec.insns.push(insn);
      insnAt[d.offset] = sec.insns.length;
    });
    if (badOffset >= 0) {
      ctx.rep.warn(MSG.cantDecode(sec.name, badOffset));
      throw new FatalError('decode');
    }
    for (const func of sec.symbols) {
      if (func.type !== C.STT_FUNC || func.alias !== func) continue;
      if (!file.findInsn(sec, func.offset)) {
        ctx.rep.warn(MSG.noStart(func.name));
        throw new FatalError('start');
      }
      for (let insn = file.findInsn(sec, func.offset); insn && insn.sec === sec && insn.offset < func.offset + func.len;
        insn = file.nextInsn(insn)) {
        insn.func = func;
      }
    }
  }
}

function decodeInstructionsStats(ctx: CheckContext): void {
  ctx.stats?.push(`nr_insns: ${ctx.file.sections.reduce((n, s) => n + s.insns.length, 0)}`);
}

function classifySymbols(ctx: CheckContext): void {
  // 6.1 classifies every global symbol, whatever its type (weak ones are skipped).
  for (const sym of ctx.file.symbols) {
    if (sym.bind !== C.STB_GLOBAL) continue;
    if (sym.name.startsWith('__SCT__')) sym.staticCallTramp = true;
    if (sym.name.startsWith('__x86_indirect_thunk_') || sym.name.startsWith('__x86_indirect_call_thunk_') ||
        sym.name.startsWith('__x86_indirect_jump_thunk_')) sym.retpolineThunk = true;
    if (sym.name === '__x86_return_thunk') sym.returnThunk = true;
    if (sym.name === '__fentry__') sym.fentry = true;
    if (PROFILING_PREFIXES.some((p) => sym.name.startsWith(p))) sym.profilingFunc = true;
  }
}

function decodeSections(ctx: CheckContext, funcCfi: Cfi): void {
  markRodata(ctx);
  decodeInstructions(ctx);
  decodeInstructionsStats(ctx);
  addIgnores(ctx);
  addUaccessSafe(ctx);
  addIgnoreAlternatives(ctx);
  classifySymbols(ctx);
  // Before add_jump_destinations(), which needs 'func' set for replacement instructions.
  addSpecialSectionAlts(ctx);
  const f = ctx.file;
  ctx.stats?.push('jl\\\tNOP\tJMP', `short:\t${f.jlNopShort}\t${f.jlShort}`, `long:\t${f.jlNopLong}\t${f.jlLong}`);
  addJumpDestinations(ctx);
  // Before add_call_destinations(): it turns annotated CALLs into JUMPs.
  readIntraFunctionCalls(ctx);
  addCallDestinations(ctx);
  addDeadEnds(ctx);
  addJumpTableAlts(ctx);
  readUnwindHints(ctx, funcCfi);
  readRetpolineHints(ctx);
}

export interface CheckResult {
  /** ORC rows to write (empty when --orc is off, nothing was emitted, or a fatal error). */
  orc: OrcRow[];
  /** The file already had .orc_unwind (warned; nothing written). */
  orcSkipped: boolean;
  fatal: boolean;
}

/** check(): returns what to write; warnings go to ctx.rep. */
export function check(ctx: CheckContext): CheckResult {
  const res: CheckResult = { orc: [], orcSkipped: false, fatal: false };
  const funcCfi = makeFuncCfi();
  ctx.cfis.add(initCfi());
  ctx.cfis.add(funcCfi);
  try {
    decodeSections(ctx, funcCfi);
  } catch (e) {
    if (e instanceof FatalError) {
      res.fatal = true;
      return res;
    }
    throw e;
  }
  if (ctx.file.insns.length === 0) return res;
  let warnings = 0;
  try {
    if (ctx.opts.stackval || ctx.opts.orc || ctx.opts.uaccess) {
      warnings += validateFunctions(ctx);
      warnings += validateUnwindHints(ctx);
      if (!warnings) warnings += validateReachableInstructions(ctx);
    }
    if (ctx.opts.sls) warnings += validateSls(ctx);
    if (ctx.opts.orc) {
      const rows = orcCreate(ctx);
      if (rows.length) {
        if (ctx.file.sectionByName('.orc_unwind')) {
          ctx.rep.warn(MSG.hasOrc);
          res.orcSkipped = true;
        } else {
          res.orc = rows;
        }
      }
    }
  } catch (e) {
    if (e instanceof FatalError) {
      res.fatal = true;
      return res;
    }
    throw e;
  }
  ctx.stats?.push(`nr_insns_visited: ${ctx.nrInsnsVisited}`, `nr_cfi: ${ctx.cfis.nrCfi}`,
    `nr_cfi_reused: ${ctx.cfis.nrCfiReused}`, `nr_cfi_cache: ${ctx.cfis.nrCfiCache}`);
  return res;
}
