// tools/objtool/orc_gen.c (6.1): init_orc_entry() and orc_create(): one entry per change of
// state in each text section, plus a terminator at the section end.

import { CFI_BP, CFI_BP_INDIRECT, CFI_CFA, CFI_DI, CFI_DX, CFI_R10, CFI_R13, CFI_SP, CFI_SP_INDIRECT, CFI_UNDEFINED } from '../decode/insnTypes';
import type { CheckContext } from '../model/context';
import type { Instruction } from '../model/instruction';
import { FatalError, type ObjSection } from '../model/objectFile';
import { MSG } from '../report/warnings';
import { CFA_BASE, CFA_OFFSET, END, REGS, TYPE, type Cfi } from '../validate/cfiState';
import * as O from './orcTypes';

export interface OrcRow {
  entry: O.OrcEntry;
  sec: ObjSection;
  offset: number;
}

function initOrcEntry(ctx: CheckContext, cfi: Cfi | null, insn: Instruction): O.OrcEntry {
  const orc: O.OrcEntry = { spOffset: 0, bpOffset: 0, spReg: O.ORC_REG_UNDEFINED, bpReg: 0, type: 0, end: 0 };
  if (!cfi) return orc;
  orc.end = cfi[END];
  if (cfi[CFA_BASE] === CFI_UNDEFINED) return orc;
  switch (cfi[CFA_BASE]) {
    case CFI_SP: orc.spReg = O.ORC_REG_SP; break;
    case CFI_SP_INDIRECT: orc.spReg = O.ORC_REG_SP_INDIRECT; break;
    case CFI_BP: orc.spReg = O.ORC_REG_BP; break;
    case CFI_BP_INDIRECT: orc.spReg = O.ORC_REG_BP_INDIRECT; break;
    case CFI_R10: orc.spReg = O.ORC_REG_R10; break;
    case CFI_R13: orc.spReg = O.ORC_REG_R13; break;
    case CFI_DI: orc.spReg = O.ORC_REG_DI; break;
    case CFI_DX: orc.spReg = O.ORC_REG_DX; break;
    default:
      ctx.rep.warnFunc(insn.sec, insn.offset, MSG.unknownCfaBase(cfi[CFA_BASE]));
      throw new FatalError('orc');
  }
  const bpBase = cfi[REGS + 2 * CFI_BP];
  switch (bpBase) {
    case CFI_UNDEFINED: orc.bpReg = O.ORC_REG_UNDEFINED; break;
    case CFI_CFA: orc.bpReg = O.ORC_REG_PREV_SP; break;
    case CFI_BP: orc.bpReg = O.ORC_REG_BP; break;
    default:
      ctx.rep.warnFunc(insn.sec, insn.offset, MSG.unknownBpBase(bpBase));
      throw new FatalError('orc');
  }
  orc.spOffset = cfi[CFA_OFFSET];
  orc.bpOffset = cfi[REGS + 2 * CFI_BP + 1];
  orc.type = cfi[TYPE];
  return orc;
}

/** The deduplicated ORC list for the whole file (orc_create() before writing). */
export function orcCreate(ctx: CheckContext): OrcRow[] {
  const rows: OrcRow[] = [];
  const zero: O.OrcEntry = { spOffset: 0, bpOffset: 0, spReg: 0, bpReg: 0, type: 0, end: 0 };
  for (const sec of ctx.file.sections) {
    if (!sec.text) continue;
    let prev = zero;
    let empty = true;
    const insns = sec.insns;
    for (let k = 0; k < insns.length; k++) {
      const insn = insns[k];
      const g = insn.altGroup;
      if (!g) {
        const orc = initOrcEntry(ctx, insn.cfi, insn);
        if (O.orcEqual(prev, orc)) continue;
        rows.push({ entry: orc, sec, offset: insn.offset });
        prev = orc;
        empty = false;
        continue;
      }
      // An alternative: use the group's flattened per-byte CFI, then skip to its end.
      const len = g.lastInsn.offset + g.lastInsn.len - g.firstInsn.offset;
      for (let i = 0; i < len; i++) {
        const cfi = g.cfi[i];
        if (!cfi) continue;
        const orc = initOrcEntry(ctx, cfi, insn);
        if (O.orcEqual(prev, orc)) continue;
        rows.push({ entry: orc, sec: insn.sec, offset: insn.offset + i });
        prev = orc;
        empty = false;
      }
      while (k < insns.length && insns[k] !== g.lastInsn) k++;
    }
    if (!empty) rows.push({ entry: { ...zero }, sec, offset: sec.size });
  }
  return rows;
}
