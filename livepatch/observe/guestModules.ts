// The modules loaded in a stopped Linux guest, read from its memory as the kernel itself finds them:
// the `modules` list (kernel/module/main.c), each struct module's core_layout (its text), the
// symbols load_module() kept (mod->kallsyms: Elf64_Sym entries and their string table) and the ORC
// tables unwind_module_init() sorted in place (mod->arch.orc_unwind_ip, orc_unwind, num_orcs).
// Offsets come from the image's BTF (Linux 6.1: struct module_layout core_layout). They join the
// kernel image (KernelImage.addModule), so the unwinders symbolize and unwind through module text.
import type { ElfFile } from '../../elf/elfFile';
import { Btf } from '../../elf/btf';
import type { Field, KernelLayout } from '../../emulator/kernel/kernelLayout';
import { btfField } from '../../emulator/kernel/linuxLayout';
import { ORC_ENTRY_SIZE } from '../../objtool/orc/orcTypes';
import type { KernelImage, ImageModule } from '../unwind/kernelImage';
import { OrcTable } from '../unwind/orcTable';
import type { KsymInput } from '../unwind/textSymbols';
import type { MachineGuestView } from './machineGuestView';

const ELF64_SYM_SIZE = 24;
const MAX_MODULES = 512;
/** More entries than any module has: a corrupt count is not followed. */
const MAX_ENTRIES = 1 << 20;

interface ModuleFields {
  list: Field;
  name: Field;
  base: Field;
  textSize: Field;
  numOrcs: Field;
  orcUnwindIp: Field;
  orcUnwind: Field;
  kallsyms: Field;
  symtab: Field;
  numSymtab: Field;
  strtab: Field;
}

export class GuestModules {
  /** "name@base" of the modules last read, to skip re-reading an unchanged list */
  private loaded = new Map<string, string>();

  constructor(private readonly modulesHead: number, private readonly f: ModuleFields) {}

  /** The reader for a Linux image, or null when it has no BTF struct module or no `modules` list. */
  static fromElf(elf: ElfFile, layout: KernelLayout): GuestModules | null {
    const sec = elf.section('.BTF');
    const head = layout.symbol('modules');
    if (sec === undefined || head === undefined) return null;
    const btf = Btf.parse(sec.data, elf.name);
    const m = (p: string): Field => btfField(btf, 'module', p, elf.name);
    const k = (p: string): Field => btfField(btf, 'mod_kallsyms', p, elf.name);
    return new GuestModules(head, {
      list: m('list'), name: m('name'), base: m('core_layout.base'), textSize: m('core_layout.text_size'),
      numOrcs: m('arch.num_orcs'), orcUnwindIp: m('arch.orc_unwind_ip'), orcUnwind: m('arch.orc_unwind'), kallsyms: m('kallsyms'),
      symtab: k('symtab'), numSymtab: k('num_symtab'), strtab: k('strtab'),
    });
  }

  /** A reader with the same offsets and nothing read yet (for another guest of the same image). */
  fresh(): GuestModules {
    return new GuestModules(this.modulesHead, this.f);
  }

  /** Brings the image's modules in line with the guest's list; returns the names of those loaded. */
  sync(view: MachineGuestView, image: KernelImage): string[] {
    const found = this.list(view);
    const now = new Map(found.map((x) => [x.name, `${x.name}@${x.addr}`]));
    for (const [name] of this.loaded) if (!now.has(name)) image.removeModule(name);
    for (const x of found) {
      if (this.loaded.get(x.name) === now.get(x.name)) continue;
      const m = this.read(view, x.addr, x.name);
      if (m !== null) image.addModule(m);
    }
    this.loaded = now;
    return found.map((x) => x.name);
  }

  private list(view: MachineGuestView): { addr: number; name: string }[] {
    const out: { addr: number; name: string }[] = [];
    const f = this.f;
    let link = view.readWord(this.modulesHead);
    while (link !== undefined && link !== this.modulesHead && out.length < MAX_MODULES) {
      const mod = link - f.list.offset;
      const nameBytes = view.readBytes(mod + f.name.offset, f.name.size);
      if (nameBytes === null) break;
      const end = nameBytes.indexOf(0);
      out.push({ addr: mod, name: Buffer.from(nameBytes.subarray(0, end < 0 ? nameBytes.length : end)).toString('latin1') });
      link = view.readWord(link);
    }
    return out;
  }

  /** One module's text, symbols and ORC table, or null when its struct cannot be read. */
  read(view: MachineGuestView, mod: number, name: string): ImageModule | null {
    const f = this.f;
    const base = view.readWord(mod + f.base.offset);
    const textSize = view.readField(mod, f.textSize);
    if (base === undefined || textSize === undefined) return null;
    const textEnd = base + textSize;
    return { name, textStart: base, textEnd, symbols: this.symbols(view, mod, base, textEnd), orc: this.orc(view, mod) };
  }

  private symbols(view: MachineGuestView, mod: number, start: number, end: number): KsymInput[] {
    const f = this.f;
    const ks = view.readWord(mod + f.kallsyms.offset);
    if (ks === undefined || ks === 0) return [];
    const symtab = view.readWord(ks + f.symtab.offset);
    const num = view.readField(ks, f.numSymtab);
    const strtab = view.readWord(ks + f.strtab.offset);
    if (symtab === undefined || num === undefined || strtab === undefined || num > MAX_ENTRIES) return [];
    const table = view.readBytes(symtab, num * ELF64_SYM_SIZE);
    if (table === null) return [];
    const dv = new DataView(table.buffer, table.byteOffset, table.byteLength);
    const out: KsymInput[] = [];
    for (let i = 0; i < num; i++) {
      const at = i * ELF64_SYM_SIZE;
      const addr = Number(dv.getBigInt64(at + 8, true));
      if (addr < start || addr >= end) continue;
      const nameAt = strtab + dv.getUint32(at, true);
      const bytes = view.readBytes(nameAt, 128);
      if (bytes === null) continue;
      const stop = bytes.indexOf(0);
      const sym = Buffer.from(bytes.subarray(0, stop < 0 ? bytes.length : stop)).toString('latin1');
      if (sym !== '') out.push({ name: sym, addr });
    }
    return out;
  }

  private orc(view: MachineGuestView, mod: number): OrcTable | null {
    const f = this.f;
    const num = view.readField(mod, f.numOrcs);
    const ipAt = view.readWord(mod + f.orcUnwindIp.offset);
    const orcAt = view.readWord(mod + f.orcUnwind.offset);
    if (num === undefined || ipAt === undefined || orcAt === undefined || ipAt === 0 || orcAt === 0 || num === 0 || num > MAX_ENTRIES) return null;
    const ips = view.readBytes(ipAt, num * 4);
    const entries = view.readBytes(orcAt, num * ORC_ENTRY_SIZE);
    if (ips === null || entries === null) return null;
    return OrcTable.fromMemory(ips, ipAt, entries);
  }
}
