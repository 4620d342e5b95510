// What the unwinders know about a linked kernel image (vmlinux): its text ranges
// (__kernel_text_address), its symbols (kallsyms), its ORC tables with the lookup-block table,
// and the few symbols the unwinders name (ret_from_fork). Built from the ELF file once.

import * as C from '../../elf/constants';
import type { ElfFile } from '../../elf/elfFile';
import { Kallsyms, type KsymInput } from './kallsyms';
import { KernelText, type TextRange } from './kernelText';
import { OrcTable } from './orcTable';

export interface KernelImageParts {
  text: KernelText;
  kallsyms: Kallsyms;
  orc: OrcTable | null;
  retFromFork: number;
  /** every symbol by name (first definition), for the guest view's layout lookups */
  symbols?: Map<string, number>;
}

function addrOf(v: bigint): number {
  return Number(BigInt.asIntN(64, v));
}

export class KernelImage {
  readonly text: KernelText;
  readonly kallsyms: Kallsyms;
  readonly orc: OrcTable | null;
  readonly retFromFork: number;
  readonly symbols: Map<string, number>;

  constructor(parts: KernelImageParts) {
    this.text = parts.text;
    this.kallsyms = parts.kallsyms;
    this.orc = parts.orc;
    this.retFromFork = parts.retFromFork;
    this.symbols = parts.symbols ?? new Map();
  }

  symbol(name: string): number | undefined {
    return this.symbols.get(name);
  }

  static fromElf(file: ElfFile): KernelImage {
    const symbols = new Map<string, number>();
    const syms = file.symbols();
    for (const s of syms) {
      if (s.name === '' || s.type === C.STT_SECTION || s.type === C.STT_FILE || s.shndx === C.SHN_UNDEF) continue;
      if (!symbols.has(s.name)) symbols.set(s.name, addrOf(s.value));
    }
    const execSections = file.sections.filter(
      (s) => (s.flags & C.SHF_EXECINSTR) !== 0 && (s.flags & C.SHF_ALLOC) !== 0 && s.size > 0,
    );
    const stext = symbols.get('_stext');
    const etext = symbols.get('_etext');
    const ranges: TextRange[] = [];
    if (stext !== undefined && etext !== undefined && etext > stext) {
      ranges.push({ start: stext, end: etext, name: '_stext' });
    } else {
      for (const s of execSections) ranges.push({ start: addrOf(s.addr), end: addrOf(s.addr) + s.size, name: s.name });
    }
    const text = new KernelText(ranges);

    const ksyms: KsymInput[] = [];
    for (const s of syms) {
      if (s.name === '' || s.name.startsWith('.L')) continue;
      if (s.type !== C.STT_FUNC && s.type !== C.STT_NOTYPE) continue;
      if (s.shndx === C.SHN_UNDEF || s.shndx >= C.SHN_LORESERVE) continue;
      const sec = file.sections[s.shndx];
      if (!sec || (sec.flags & C.SHF_EXECINSTR) === 0) continue;
      ksyms.push({ name: s.name, addr: addrOf(s.value) });
    }
    const kallsyms = new Kallsyms();
    for (const r of text.ranges()) kallsyms.addRange(r.start, r.end, ksyms);

    const orc = OrcTable.fromElf(file);
    if (orc !== null) {
      if (stext !== undefined && etext !== undefined && etext > stext) {
        const slow = execSections
          .map((s) => ({ start: addrOf(s.addr), stop: addrOf(s.addr) + s.size }))
          .filter((r) => r.stop <= stext || r.start >= etext);
        orc.setLookupRange({ start: stext, stop: etext }, slow);
      }
    }
    return new KernelImage({ text, kallsyms, orc, retFromFork: symbols.get('ret_from_fork') ?? 0, symbols });
  }
}
