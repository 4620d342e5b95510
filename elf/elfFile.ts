// Reads ELF64 little-endian x86-64 files: headers, sections, symbols, RELA relocations, notes.
//
// Every offset, size, count and index is checked against the file before it is used, so a
// corrupt or truncated file gives one ElfError naming the file and the problem, never a
// host exception from deeper down. elfy parses the header and section table once the
// bounds are known to be sound; its section names are used, while the numeric fields it
// reads imprecisely (64-bit values as doubles, sh_addralign/sh_entsize from the wrong
// offsets) are read here exactly. See elf/elfyView.ts.

import * as fs from 'fs';
import * as C from './constants';
import { ByteReader } from './byteReader';
import { ElfError } from './elfError';
import { elfySectionNames } from './elfyView';
import type { ElfHeader, ElfNote, ElfProgramHeader, ElfRela, ElfSection, ElfSymbol } from './types';

export { ElfError } from './elfError';

export class ElfFile {
  readonly header: ElfHeader;
  readonly programs: ElfProgramHeader[];
  readonly sections: ElfSection[];
  private readonly reader: ByteReader;
  private symbolCache: ElfSymbol[] | undefined;
  private readonly relaCache = new Map<number, ElfRela[]>();

  /** Reads and parses a file; throws ElfError('<path>: <problem>') on any bad input. */
  static read(path: string): ElfFile {
    let buffer: Buffer;
    try {
      buffer = fs.readFileSync(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'No such file' : code === 'EISDIR' ? 'Is a directory' : String((err as Error).message);
      throw new ElfError(path, why);
    }
    return ElfFile.parse(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length), path);
  }

  /** Parses an ELF image held in memory; `name` is used in error messages. */
  static parse(bytes: Uint8Array, name: string): ElfFile {
    return new ElfFile(bytes, name);
  }

  private constructor(readonly bytes: Uint8Array, readonly name: string) {
    this.reader = new ByteReader(bytes, name);
    this.header = this.readHeader();
    this.sections = this.readSections();
    this.programs = this.readPrograms();
  }

  /** The first section with this name. */
  section(name: string): ElfSection | undefined {
    return this.sections.find((s) => s.name === name);
  }

  sectionData(section: ElfSection): Uint8Array {
    return section.data;
  }

  /** The symbols of .symtab (index 0 is the null symbol); empty when there is none. */
  symbols(): ElfSymbol[] {
    if (!this.symbolCache) {
      const symtab = this.sections.find((s) => s.type === C.SHT_SYMTAB);
      this.symbolCache = symtab ? this.symbolTable(symtab) : [];
    }
    return this.symbolCache;
  }

  /** The .symtab section, if any. */
  symtabSection(): ElfSection | undefined {
    return this.sections.find((s) => s.type === C.SHT_SYMTAB);
  }

  /** Parses one SHT_SYMTAB or SHT_DYNSYM section. */
  symbolTable(symtab: ElfSection): ElfSymbol[] {
    const where = `symbol table ${symtab.name || `[${symtab.index}]`}`;
    if (symtab.entsize !== C.ELF64_SYM_SIZE) {
      throw new ElfError(this.name, `${where} has entry size ${symtab.entsize} (expected ${C.ELF64_SYM_SIZE})`);
    }
    if (symtab.size % C.ELF64_SYM_SIZE !== 0) {
      throw new ElfError(this.name, `${where} size ${symtab.size} is not a multiple of ${C.ELF64_SYM_SIZE}`);
    }
    const strtab = this.linkedStringTable(symtab, where);
    const xindex = this.sections.find((s) => s.type === C.SHT_SYMTAB_SHNDX && s.link === symtab.index);
    const count = symtab.size / C.ELF64_SYM_SIZE;
    const symbols: ElfSymbol[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const at = symtab.offset + i * C.ELF64_SYM_SIZE;
      const nameOffset = this.reader.u32(at);
      const info = this.reader.u8(at + 4);
      const other = this.reader.u8(at + 5);
      let shndx = this.reader.u16(at + 6);
      if (shndx === C.SHN_XINDEX) {
        if (!xindex || (i + 1) * 4 > xindex.size) {
          throw new ElfError(this.name, `symbol ${i} uses SHN_XINDEX but there is no matching .symtab_shndx entry`);
        }
        shndx = this.reader.u32(xindex.offset + i * 4);
      }
      const symName = this.stringAt(strtab, nameOffset, `symbol ${i} name`);
      if (shndx >= this.sections.length && shndx < C.SHN_LORESERVE) {
        throw new ElfError(this.name, `symbol ${i} (${symName}) has section index ${shndx} out of range`);
      }
      symbols[i] = {
        index: i,
        name: symName,
        value: this.reader.u64(at + 8),
        size: this.reader.u64Number(at + 16, `symbol ${i} size`),
        type: info & 0xf,
        bind: info >> 4,
        visibility: other & 0x3,
        shndx,
      };
    }
    return symbols;
  }

  /** The SHT_RELA section that applies to `target` (sh_info === target.index). */
  relaFor(target: ElfSection): ElfSection | undefined {
    return this.sections.find((s) => s.type === C.SHT_RELA && s.info === target.index && (s.flags & C.SHF_ALLOC) === 0);
  }

  /** Parses one SHT_RELA section; symbol indexes are checked against its symbol table. */
  relocations(rela: ElfSection): ElfRela[] {
    const cached = this.relaCache.get(rela.index);
    if (cached) return cached;
    const where = `relocation section ${rela.name || `[${rela.index}]`}`;
    if (rela.type !== C.SHT_RELA) throw new ElfError(this.name, `${where} is not SHT_RELA`);
    if (rela.entsize !== C.ELF64_RELA_SIZE) {
      throw new ElfError(this.name, `${where} has entry size ${rela.entsize} (expected ${C.ELF64_RELA_SIZE})`);
    }
    if (rela.size % C.ELF64_RELA_SIZE !== 0) {
      throw new ElfError(this.name, `${where} size ${rela.size} is not a multiple of ${C.ELF64_RELA_SIZE}`);
    }
    let symbolCount = 0;
    if (rela.link !== 0) {
      const symtab = this.sections[rela.link];
      if (!symtab || (symtab.type !== C.SHT_SYMTAB && symtab.type !== C.SHT_DYNSYM)) {
        throw new ElfError(this.name, `${where} links to section ${rela.link}, which is not a symbol table`);
      }
      symbolCount = symtab.type === C.SHT_SYMTAB && symtab === this.symtabSection()
        ? this.symbols().length
        : this.symbolTable(symtab).length;
    }
    const count = rela.size / C.ELF64_RELA_SIZE;
    const out: ElfRela[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const at = rela.offset + i * C.ELF64_RELA_SIZE;
      const type = this.reader.u32(at + 8);
      const symbolIndex = this.reader.u32(at + 12);
      if (symbolIndex !== 0 && symbolIndex >= symbolCount) {
        throw new ElfError(this.name, `${where} entry ${i} names symbol ${symbolIndex}, past the end of its symbol table`);
      }
      out[i] = { index: i, offset: this.reader.u64(at), type, symbolIndex, addend: this.reader.s64(at + 16) };
    }
    this.relaCache.set(rela.index, out);
    return out;
  }

  /**
   * Notes from SHT_NOTE sections, or from PT_NOTE segments when the file has no sections.
   * `contents` gives a section's bytes (readelf shows a relocatable object's notes relocated).
   */
  notes(contents: (s: ElfSection) => Uint8Array = (s) => s.data): ElfNote[] {
    const notes: ElfNote[] = [];
    const noteSections = this.sections.filter((s) => s.type === C.SHT_NOTE);
    if (noteSections.length > 0 || this.sections.length > 1) {
      for (const s of noteSections) this.readNotes(s.offset, s.size, s.addralign, s.name, notes, contents(s));
    } else {
      for (const p of this.programs) {
        if (p.type === C.PT_NOTE) this.readNotes(p.offset, p.filesz, Number(p.align), `segment ${p.index}`, notes);
      }
    }
    return notes;
  }

  /** A NUL-terminated string at `offset` in a string-table section. */
  stringAt(strtab: ElfSection, offset: number, what = 'string'): string {
    if (offset >= strtab.size && !(offset === 0 && strtab.size === 0)) {
      throw new ElfError(this.name, `${what}: offset ${offset} is past the end of string table ${strtab.name || `[${strtab.index}]`} (size ${strtab.size})`);
    }
    return this.reader.cString(strtab.offset + offset, strtab.offset + strtab.size);
  }

  private linkedStringTable(section: ElfSection, where: string): ElfSection {
    const strtab = this.sections[section.link];
    if (!strtab || strtab.type !== C.SHT_STRTAB) {
      throw new ElfError(this.name, `${where} links to section ${section.link}, which is not a string table`);
    }
    return strtab;
  }

  private readHeader(): ElfHeader {
    const r = this.reader;
    if (this.bytes.length < 16) throw new ElfError(this.name, `file too short (${this.bytes.length} bytes) to be an ELF file`);
    if (r.u8(0) !== 0x7f || r.u8(1) !== 0x45 || r.u8(2) !== 0x4c || r.u8(3) !== 0x46) {
      throw new ElfError(this.name, 'not an ELF file (bad magic)');
    }
    if (r.u8(4) !== C.ELFCLASS64) throw new ElfError(this.name, `not a 64-bit ELF file (class ${r.u8(4)})`);
    if (r.u8(5) !== C.ELFDATA2LSB) throw new ElfError(this.name, `not a little-endian ELF file (data encoding ${r.u8(5)})`);
    if (r.u8(6) !== C.EV_CURRENT) throw new ElfError(this.name, `unsupported ELF identification version ${r.u8(6)}`);
    if (this.bytes.length < C.ELF64_EHDR_SIZE) {
      throw new ElfError(this.name, `file too short (${this.bytes.length} bytes) for an ELF64 header`);
    }
    const header: ElfHeader = {
      osabi: r.u8(7),
      abiVersion: r.u8(8),
      type: r.u16(16),
      machine: r.u16(18),
      version: r.u32(20),
      entry: r.u64(24),
      phoff: r.u64Number(32, 'e_phoff'),
      shoff: r.u64Number(40, 'e_shoff'),
      flags: r.u32(48),
      ehsize: r.u16(52),
      phentsize: r.u16(54),
      phnum: r.u16(56),
      shentsize: r.u16(58),
      shnum: r.u16(60),
      shstrndx: r.u16(62),
    };
    if (header.machine !== C.EM_X86_64) {
      throw new ElfError(this.name, `unsupported machine ${header.machine} (expected ${C.EM_X86_64}, x86-64)`);
    }
    return header;
  }

  private readSections(): ElfSection[] {
    const h = this.header;
    if (h.shoff === 0) return [];
    if (h.shentsize !== C.ELF64_SHDR_SIZE) {
      throw new ElfError(this.name, `section header entry size ${h.shentsize} (expected ${C.ELF64_SHDR_SIZE})`);
    }
    this.reader.need(h.shoff, C.ELF64_SHDR_SIZE, 'section header table');
    // Extended numbering: counts that do not fit in the ELF header live in section 0.
    let shnum = h.shnum;
    if (shnum === 0) shnum = this.reader.u64Number(h.shoff + 32, 'extended section count');
    let shstrndx = h.shstrndx;
    if (shstrndx === C.SHN_XINDEX) shstrndx = this.reader.u32(h.shoff + 40);
    this.reader.need(h.shoff, shnum * C.ELF64_SHDR_SIZE, `section header table (${shnum} entries)`);

    const sections: ElfSection[] = [];
    for (let i = 0; i < shnum; i++) {
      const at = h.shoff + i * C.ELF64_SHDR_SIZE;
      const type = this.reader.u32(at + 4);
      const offset = this.reader.u64Number(at + 24, `section ${i} offset`);
      const size = this.reader.u64Number(at + 32, `section ${i} size`);
      if (type !== C.SHT_NOBITS && type !== C.SHT_NULL) {
        this.reader.need(offset, size, `section ${i} contents`);
      }
      sections.push({
        index: i,
        name: '',
        nameOffset: this.reader.u32(at),
        type,
        flags: this.reader.u64Number(at + 8, `section ${i} flags`),
        addr: this.reader.u64(at + 16),
        offset,
        size,
        link: this.reader.u32(at + 40),
        info: this.reader.u32(at + 44),
        addralign: this.reader.u64Number(at + 48, `section ${i} alignment`),
        entsize: this.reader.u64Number(at + 56, `section ${i} entry size`),
        data: type === C.SHT_NOBITS || type === C.SHT_NULL ? new Uint8Array(0) : this.bytes.subarray(offset, offset + size),
      });
    }
    if (shnum > 0 && shstrndx !== C.SHN_UNDEF) {
      const names = sections[shstrndx];
      if (!names) throw new ElfError(this.name, `section name string table index ${shstrndx} is out of range (${shnum} sections)`);
      if (names.type !== C.SHT_STRTAB) {
        throw new ElfError(this.name, `section name string table [${shstrndx}] is not a string table`);
      }
      for (const s of sections) s.name = this.stringAt(names, s.nameOffset, `section ${s.index} name`);
      // elfy reads the same names; agreeing with it is a cheap consistency check on our reader.
      const fromElfy = elfySectionNames(this.bytes, h.shnum, h.shstrndx);
      if (fromElfy) {
        for (let i = 0; i < fromElfy.length; i++) {
          // elfy decodes names as UTF-8 and klp-lab as bytes, so only ASCII names compare.
          if (/^[\x00-\x7f]*$/.test(sections[i].name) && fromElfy[i] !== sections[i].name) {
            throw new ElfError(this.name, `section ${i} name is ambiguous ('${sections[i].name}' vs elfy '${fromElfy[i]}')`);
          }
        }
      }
    }
    return sections;
  }

  private readPrograms(): ElfProgramHeader[] {
    const h = this.header;
    if (h.phoff === 0 || h.phnum === 0) return [];
    if (h.phentsize !== C.ELF64_PHDR_SIZE) {
      throw new ElfError(this.name, `program header entry size ${h.phentsize} (expected ${C.ELF64_PHDR_SIZE})`);
    }
    let phnum = h.phnum;
    if (phnum === 0xffff && this.sections.length > 0) phnum = this.sections[0].info;
    this.reader.need(h.phoff, phnum * C.ELF64_PHDR_SIZE, `program header table (${phnum} entries)`);
    const programs: ElfProgramHeader[] = [];
    for (let i = 0; i < phnum; i++) {
      const at = h.phoff + i * C.ELF64_PHDR_SIZE;
      const p: ElfProgramHeader = {
        index: i,
        type: this.reader.u32(at),
        flags: this.reader.u32(at + 4),
        offset: this.reader.u64Number(at + 8, `segment ${i} offset`),
        vaddr: this.reader.u64(at + 16),
        paddr: this.reader.u64(at + 24),
        filesz: this.reader.u64Number(at + 32, `segment ${i} file size`),
        memsz: this.reader.u64Number(at + 40, `segment ${i} memory size`),
        align: this.reader.u64(at + 48),
      };
      if (p.type !== C.PT_NULL && p.filesz > 0) this.reader.need(p.offset, p.filesz, `segment ${i} contents`);
      if (p.type === C.PT_LOAD && p.filesz > p.memsz) {
        throw new ElfError(this.name, `segment ${i} file size ${p.filesz} exceeds its memory size ${p.memsz}`);
      }
      programs.push(p);
    }
    return programs;
  }

  private readNotes(offset: number, size: number, align: number, source: string, out: ElfNote[], contents?: Uint8Array): void {
    const step = align === 8 ? 8 : 4;
    const pad = (n: number) => (n + step - 1) & ~(step - 1);
    const end = offset + size;
    let at = offset;
    while (at < end) {
      if (end - at < 12) throw new ElfError(this.name, `note in ${source} is truncated`);
      const namesz = this.reader.u32(at);
      const descsz = this.reader.u32(at + 4);
      const type = this.reader.u32(at + 8);
      const nameAt = at + 12;
      const descAt = nameAt + pad(namesz);
      if (namesz > end - nameAt || descsz > end - descAt || descAt > end) {
        throw new ElfError(this.name, `note in ${source} has sizes past its end (namesz ${namesz}, descsz ${descsz})`);
      }
      const name = namesz === 0 ? '' : this.reader.cString(nameAt, nameAt + namesz);
      const desc = contents ? contents.subarray(descAt - offset, descAt - offset + descsz) : this.bytes.subarray(descAt, descAt + descsz);
      out.push({ name, type, desc, source });
      at = descAt + pad(descsz);
    }
  }
}
