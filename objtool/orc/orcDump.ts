// tools/objtool/orc_dump.c (6.1): --dump=orc prints every ORC entry in table order.

import * as C from '../../elf/constants';
import type { ElfFile } from '../../elf/elfFile';
import type { ElfSection } from '../../elf/types';
import * as O from './orcTypes';

function regName(reg: number): string {
  switch (reg) {
    case O.ORC_REG_PREV_SP: return 'prevsp';
    case O.ORC_REG_DX: return 'dx';
    case O.ORC_REG_DI: return 'di';
    case O.ORC_REG_BP: return 'bp';
    case O.ORC_REG_SP: return 'sp';
    case O.ORC_REG_R10: return 'r10';
    case O.ORC_REG_R13: return 'r13';
    default: return '?';
  }
}

function typeName(type: number): string {
  switch (type) {
    case O.UNWIND_HINT_TYPE_CALL: return 'call';
    case O.UNWIND_HINT_TYPE_REGS: return 'regs';
    case O.UNWIND_HINT_TYPE_REGS_PARTIAL: return 'regs (partial)';
    default: return '?';
  }
}

function signed(n: number): string {
  return n >= 0 ? `+${n}` : `${n}`;
}

/** orc_dump.c print_reg(). */
export function formatOrcReg(reg: number, offset: number): string {
  if (reg === O.ORC_REG_BP_INDIRECT) return `(bp${signed(offset)})`;
  if (reg === O.ORC_REG_SP_INDIRECT) return `(sp)${signed(offset)}`;
  if (reg === O.ORC_REG_UNDEFINED) return '(und)';
  return `${regName(reg)}${signed(offset)}`;
}

/** The part of a `--dump=orc` line after the address: `sp:... bp:... type:... end:N`. */
export function formatOrcEntry(e: O.OrcEntry): string {
  return `sp:${formatOrcReg(e.spReg, e.spOffset)} bp:${formatOrcReg(e.bpReg, e.bpOffset)} type:${typeName(e.type)} end:${e.end}`;
}

/** Returns stdout text, or an error line (objtool WARN format without the object prefix). */
export function orcDump(elf: ElfFile): { out: string; error?: string } {
  let symtab: ElfSection | undefined;
  let strtab: ElfSection | undefined;
  let orc: ElfSection | undefined;
  let orcIp: ElfSection | undefined;
  let rela: ElfSection | undefined;
  for (const s of elf.sections) {
    if (s.name === '.symtab') symtab = s;
    else if (s.name === '.strtab') strtab = s;
    else if (s.name === '.orc_unwind') orc = s;
    else if (s.name === '.orc_unwind_ip') orcIp = s;
    else if (s.name === '.rela.orc_unwind_ip') rela = s;
  }
  if (!symtab || !strtab || strtab.index === 0 || !orc || !orcIp) return { out: '' };
  if (orc.size % O.ORC_ENTRY_SIZE !== 0) return { out: '', error: 'bad .orc_unwind section size' };
  const n = orc.size / O.ORC_ENTRY_SIZE;
  const lines: string[] = [];
  const relocs = rela ? elf.relocations(rela) : null;
  const syms = rela ? elf.symbolTable(symtab) : null;
  const ipView = new DataView(orcIp.data.buffer, orcIp.data.byteOffset, orcIp.data.byteLength);
  for (let i = 0; i < n; i++) {
    let head: string;
    if (relocs && syms) {
      const r = relocs[i];
      if (!r) return { out: lines.join(''), error: 'gelf_getrela: invalid `Elf\' handle' };
      const sym = syms[r.symbolIndex];
      let name: string;
      if (sym.type === C.STT_SECTION) name = elf.sections[sym.shndx]?.name ?? '';
      else name = sym.name;
      head = `${name}+${BigInt.asUintN(64, r.addend).toString(16)}:`;
    } else {
      const rel = i * 4 + 4 <= orcIp.size ? ipView.getInt32(i * 4, true) : 0;
      head = `${BigInt.asUintN(64, orcIp.addr + BigInt(i * 4) + BigInt(rel)).toString(16)}:`;
    }
    const e = O.unpackOrc(orc.data, i * O.ORC_ENTRY_SIZE);
    lines.push(`${head} ${formatOrcEntry(e)}\n`);
  }
  return { out: lines.join('') };
}
