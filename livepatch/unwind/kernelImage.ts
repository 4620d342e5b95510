// What the unwinders know about a linked kernel image (vmlinux): its text ranges
// (__kernel_text_address), its symbols (kallsyms), its ORC tables with the lookup-block table,
// the few symbols the unwinders name (ret_from_fork), and the kernel's layout description
// (emulator/kernel/). Built from the ELF file once: from its symbol table, or for a stripped
// Linux image from the kallsyms tables inside it. Loaded modules join it (addModule): their text,
// symbols and ORC tables, as load_module() adds them to the kernel's own lookups.

import * as C from '../../elf/constants';
import type { ElfFile } from '../../elf/elfFile';
import { readKallsyms } from '../../elf/kallsyms';
import type { KernelLayout } from '../../emulator/kernel/kernelLayout';
import { kernelLayoutOf } from '../../emulator/kernel/layoutOf';
import { TextSymbols, type KsymInput } from './textSymbols';
import { KernelText, type TextRange } from './kernelText';
import { OrcTable } from './orcTable';

export interface KernelImageParts {
  text: KernelText;
  kallsyms: TextSymbols;
  orc: OrcTable | null;
  retFromFork: number;
  /** every symbol by name (first definition), for the guest view's layout lookups */
  symbols?: Map<string, number>;
  /** the kernel's layout (tasks, per-CPU variables), when the image describes one */
  layout?: KernelLayout | null;
}

/** A loaded module as the unwinders need it: its core text, its symbols and its ORC table. */
export interface ImageModule {
  name: string;
  textStart: number;
  /** one past the last byte of its text */
  textEnd: number;
  symbols: readonly KsymInput[];
  orc: OrcTable | null;
}

function addrOf(v: bigint): number {
  return Number(BigInt.asIntN(64, v));
}

export class KernelImage {
  readonly text: KernelText;
  readonly kallsyms: TextSymbols;
  readonly orc: OrcTable | null;
  readonly retFromFork: number;
  readonly symbols: Map<string, number>;
  readonly layout: KernelLayout | null;

  constructor(parts: KernelImageParts) {
    this.text = parts.text;
    this.kallsyms = parts.kallsyms;
    this.orc = parts.orc;
    this.retFromFork = parts.retFromFork;
    this.symbols = parts.symbols ?? new Map();
    this.layout = parts.layout ?? null;
  }

  /**
   * load_module(): the module's text becomes kernel text, its symbols symbolize, and its ORC
   * table serves ips in its text (unwind_module_init). A module of the same name is replaced.
   */
  addModule(m: ImageModule): void {
    this.removeModule(m.name);
    this.text.add({ start: m.textStart, end: m.textEnd, name: `[${m.name}]` });
    this.kallsyms.addRange(m.textStart, m.textEnd, m.symbols, m.name);
    if (m.orc !== null) this.orc?.addModule(m.name, m.textStart, m.textEnd, m.orc);
  }

  removeModule(name: string): void {
    this.text.remove(`[${name}]`);
    this.kallsyms.removeModule(name);
    this.orc?.removeModule(name);
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
    const layout = kernelLayoutOf(file);
    // A stripped Linux image: its symbols are the kallsyms tables the layout was read from.
    const fromKallsyms = symbols.size === 0 && layout !== null && layout.source === 'btf-kallsyms' ? readKallsyms(file) : null;
    if (fromKallsyms !== null) {
      for (const s of fromKallsyms) if (s.type !== 'A' && s.type !== 'a' && !symbols.has(s.name)) symbols.set(s.name, s.address);
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
    if (fromKallsyms !== null) {
      for (const s of fromKallsyms) if (/^[TtWw]$/.test(s.type)) ksyms.push({ name: s.name, addr: s.address });
    }
    for (const s of syms) {
      if (s.name === '' || s.name.startsWith('.L')) continue;
      if (s.type !== C.STT_FUNC && s.type !== C.STT_NOTYPE) continue;
      if (s.shndx === C.SHN_UNDEF || s.shndx >= C.SHN_LORESERVE) continue;
      const sec = file.sections[s.shndx];
      if (!sec || (sec.flags & C.SHF_EXECINSTR) === 0) continue;
      ksyms.push({ name: s.name, addr: addrOf(s.value) });
    }
    const kallsyms = new TextSymbols();
    for (const r of text.ranges()) kallsyms.addRange(r.start, r.end, ksyms);
    // Linux frees its init text after boot (no longer kernel text), but the idle task's stack
    // still returns into start_kernel: name those addresses as kallsyms would.
    const sinit = symbols.get('_sinittext'), einit = symbols.get('_einittext');
    if (fromKallsyms !== null && sinit !== undefined && einit !== undefined && einit > sinit) kallsyms.addRange(sinit, einit, ksyms);

    const orc = OrcTable.fromElf(file);
    if (orc !== null) {
      if (stext !== undefined && etext !== undefined && etext > stext) {
        const slow = execSections
          .map((s) => ({ start: addrOf(s.addr), stop: addrOf(s.addr) + s.size }))
          .filter((r) => r.stop <= stext || r.start >= etext);
        orc.setLookupRange({ start: stext, stop: etext }, slow);
      }
    }
    return new KernelImage({ text, kallsyms, orc, retFromFork: symbols.get('ret_from_fork') ?? 0, symbols, layout });
  }
}
