// An object's ORC sections in the form the golden files record them: the raw bytes in hex, the
// relocations by symbol name (a section symbol by its section's name). Shared by the objtool golden
// tests and the fixture patch modules' ORC tests.
import * as C from '../../elf/constants';
import { ElfFile } from '../../elf/elfFile';

export interface OrcTables {
  '.orc_unwind'?: string;
  '.orc_unwind_ip'?: string;
  /** [offset, type, symbol (a section symbol by its section's name), addend] */
  '.rela.orc_unwind_ip'?: [number, number, string, number][];
}

/** An object's ORC sections: raw bytes in hex, relocations by symbol name. */
export function orcTablesOf(file: string | ElfFile): OrcTables {
  const elf = typeof file === 'string' ? ElfFile.read(file) : file;
  const out: OrcTables = {};
  const orc = elf.section('.orc_unwind');
  const ip = elf.section('.orc_unwind_ip');
  const rela = elf.section('.rela.orc_unwind_ip');
  if (orc) out['.orc_unwind'] = Buffer.from(orc.data).toString('hex');
  if (ip) out['.orc_unwind_ip'] = Buffer.from(ip.data).toString('hex');
  if (rela) {
    const syms = elf.symbols();
    out['.rela.orc_unwind_ip'] = elf.relocations(rela).map((r) => {
      const s = syms[r.symbolIndex];
      return [Number(r.offset), r.type, s.type === C.STT_SECTION ? elf.sections[s.shndx].name : s.name, Number(r.addend)];
    });
  }
  return out;
}
