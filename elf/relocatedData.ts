// A relocatable object's section contents with its relocations applied, as GNU readelf shows
// them when it dumps notes of an ET_REL file (its apply_relocations): absolute relocations
// store S + A, PC-relative ones S + A - P, with every section at address 0.

import * as C from './constants';
import type { ElfFile } from './elfFile';
import { R_X86_64 } from './relocTypes';
import type { ElfSection } from './types';

export function relocatedSectionData(file: ElfFile, section: ElfSection): Uint8Array {
  const rela = file.header.type === C.ET_REL ? file.relaFor(section) : undefined;
  if (!rela) return section.data;
  const out = section.data.slice();
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const symbols = file.symbols();
  for (const r of file.relocations(rela)) {
    const offset = Number(r.offset);
    const s = symbols[r.symbolIndex];
    let value = (s ? s.value : 0n) + r.addend;
    switch (r.type) {
      case R_X86_64['64']:
        if (offset + 8 <= out.length) view.setBigUint64(offset, BigInt.asUintN(64, value), true);
        break;
      case R_X86_64['32']:
      case R_X86_64['32S']:
        if (offset + 4 <= out.length) view.setUint32(offset, Number(BigInt.asUintN(32, value)), true);
        break;
      case R_X86_64.PC32:
      case R_X86_64.PLT32:
        value -= BigInt(offset);
        if (offset + 4 <= out.length) view.setUint32(offset, Number(BigInt.asUintN(32, value)), true);
        break;
      case R_X86_64.PC64:
        value -= BigInt(offset);
        if (offset + 8 <= out.length) view.setBigUint64(offset, BigInt.asUintN(64, value), true);
        break;
      default:
        break; // readelf leaves other types alone (with a warning)
    }
  }
  return out;
}
