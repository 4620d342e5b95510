// tools/objtool/orc_gen.c + elf.c (6.1): writing .orc_unwind, .orc_unwind_ip and
// .rela.orc_unwind_ip (one R_X86_64_PC32 per entry against the text section's section
// symbol, addend = instruction offset).
//
// When a text section has no section symbol, objtool's elf_create_section_symbol() adds one
// as a LOCAL symbol: the new symbol takes the slot of the first global (sh_info), that global
// moves to the end of .symtab, and every relocation naming it is renumbered. Done here on
// copies of .symtab and the relocation sections, so the input stays untouched on failure.

import * as C from '../../elf/constants';
import { R_X86_64 } from '../../elf/relocTypes';
import { ObjectWriter } from '../../elf/writer';
import type { ObjectFile, ObjSection } from '../model/objectFile';
import type { OrcRow } from './orcGen';
import { ORC_ENTRY_SIZE, packOrc } from './orcTypes';

const SYM_SIZE = 24;
const RELA_SIZE = 24;

export function buildOrcObject(file: ObjectFile, rows: OrcRow[]): Uint8Array {
  const elf = file.elf;
  const w = new ObjectWriter(elf);
  const symtab = elf.symtabSection();
  if (!symtab) throw new Error('missing .symtab');
  let symData: Uint8Array | null = null;
  const relaEdits = new Map<number, Uint8Array>();
  let firstGlobal = symtab.info;
  let symCount = symtab.size / SYM_SIZE;
  const secSymIndex = new Map<ObjSection, number>();
  for (const sec of file.sections) if (sec.sectionSym) secSymIndex.set(sec, sec.sectionSym.idx);

  for (const row of rows) {
    if (secSymIndex.has(row.sec)) continue;
    // elf_create_section_symbol(): new LOCAL STT_SECTION symbol at index firstGlobal.
    if (!symData) symData = new Uint8Array(symtab.data);
    const grown: Uint8Array = new Uint8Array(symData.length + SYM_SIZE);
    grown.set(symData, 0);
    const newIdx = firstGlobal;
    const moved = symCount;
    if (newIdx < symCount) {
      // Move the first global to the end and renumber relocations that use it.
      grown.set(symData.subarray(newIdx * SYM_SIZE, newIdx * SYM_SIZE + SYM_SIZE), moved * SYM_SIZE);
      for (const rs of elf.sections) {
        if (rs.type !== C.SHT_RELA || rs.link !== symtab.index) continue;
        const data = relaEdits.get(rs.index) ?? new Uint8Array(rs.data);
        const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
        for (let at = 0; at + RELA_SIZE <= data.length; at += RELA_SIZE) {
          if (dv.getUint32(at + 12, true) === newIdx) dv.setUint32(at + 12, moved, true);
        }
        relaEdits.set(rs.index, data);
      }
    }
    const dv = new DataView(grown.buffer);
    const at = newIdx * SYM_SIZE;
    grown.fill(0, at, at + SYM_SIZE);
    dv.setUint8(at + 4, (C.STB_LOCAL << 4) | C.STT_SECTION);
    dv.setUint16(at + 6, row.sec.idx, true);
    symData = grown;
    symCount++;
    firstGlobal++;
    secSymIndex.set(row.sec, newIdx);
    // Any later lookups of the moved symbol's old index now point at the moved slot.
    for (const [s, idx] of secSymIndex) if (idx === newIdx && s !== row.sec) secSymIndex.set(s, moved);
  }
  if (symData) {
    w.replaceSectionData(symtab.index, symData);
    w.updateSectionHeader(symtab.index, { info: firstGlobal });
    for (const [idx, data] of relaEdits) w.replaceSectionData(idx, data);
  }

  const n = rows.length;
  const orc = new Uint8Array(n * ORC_ENTRY_SIZE);
  const ip = new Uint8Array(n * 4);
  const rela = new Uint8Array(n * RELA_SIZE);
  const rv = new DataView(rela.buffer);
  rows.forEach((row, i) => {
    packOrc(row.entry, orc, i * ORC_ENTRY_SIZE);
    const at = i * RELA_SIZE;
    // r_offset and r_addend as two 32-bit halves (both are below 2^32 here; no bigint per row).
    rv.setUint32(at, i * 4, true);
    rv.setUint32(at + 4, 0, true);
    rv.setUint32(at + 8, R_X86_64.PC32, true);
    rv.setUint32(at + 12, secSymIndex.get(row.sec)!, true);
    rv.setUint32(at + 16, row.offset >>> 0, true);
    rv.setUint32(at + 20, Math.floor(row.offset / 0x100000000), true);
  });
  w.addSection({ name: '.orc_unwind', type: C.SHT_PROGBITS, flags: C.SHF_ALLOC, link: 0, info: 0, addralign: 1, entsize: ORC_ENTRY_SIZE, data: orc });
  const ipIdx = w.addSection({ name: '.orc_unwind_ip', type: C.SHT_PROGBITS, flags: C.SHF_ALLOC, link: 0, info: 0, addralign: 1, entsize: 4, data: ip });
  w.addSection({
    name: '.rela.orc_unwind_ip', type: C.SHT_RELA, flags: C.SHF_INFO_LINK, link: symtab.index, info: ipIdx, addralign: 8,
    entsize: RELA_SIZE, data: rela,
  });
  return w.build();
}
