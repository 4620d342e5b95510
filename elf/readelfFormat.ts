// Prints what the ELF layer read, laid out as GNU readelf prints it in wide mode (-W), so the
// two outputs can be compared line for line (test/elf/readelf.test.ts).

import * as C from './constants';
import { relocTypeName } from './relocTypes';
import type { ElfFile } from './elfFile';
import { relocatedSectionData } from './relocatedData';
import type { ElfNote, ElfSymbol } from './types';

const hex = (v: bigint | number, width: number) => v.toString(16).padStart(width, '0');

const FILE_TYPES: Record<number, string> = {
  [C.ET_NONE]: 'NONE (None)',
  [C.ET_REL]: 'REL (Relocatable file)',
  [C.ET_EXEC]: 'EXEC (Executable file)',
  [C.ET_DYN]: 'DYN (Shared object file)',
  [C.ET_CORE]: 'CORE (Core file)',
};

const OS_ABIS: Record<number, string> = {
  0: 'UNIX - System V', 1: 'UNIX - HP-UX', 2: 'UNIX - NetBSD', 3: 'UNIX - GNU', 6: 'UNIX - Solaris',
  7: 'UNIX - AIX', 8: 'UNIX - IRIX', 9: 'UNIX - FreeBSD', 10: 'UNIX - TRU64', 12: 'UNIX - OpenBSD',
  255: 'Standalone App',
};

const SECTION_TYPES: Record<number, string> = {
  [C.SHT_NULL]: 'NULL', [C.SHT_PROGBITS]: 'PROGBITS', [C.SHT_SYMTAB]: 'SYMTAB', [C.SHT_STRTAB]: 'STRTAB',
  [C.SHT_RELA]: 'RELA', [C.SHT_HASH]: 'HASH', [C.SHT_DYNAMIC]: 'DYNAMIC', [C.SHT_NOTE]: 'NOTE',
  [C.SHT_NOBITS]: 'NOBITS', [C.SHT_REL]: 'REL', [C.SHT_SHLIB]: 'SHLIB', [C.SHT_DYNSYM]: 'DYNSYM',
  [C.SHT_INIT_ARRAY]: 'INIT_ARRAY', [C.SHT_FINI_ARRAY]: 'FINI_ARRAY', [C.SHT_PREINIT_ARRAY]: 'PREINIT_ARRAY',
  [C.SHT_GROUP]: 'GROUP', [C.SHT_SYMTAB_SHNDX]: 'SYMTAB SECTION INDICES', [C.SHT_GNU_HASH]: 'GNU_HASH',
  [C.SHT_GNU_verdef]: 'VERDEF', [C.SHT_GNU_verneed]: 'VERNEED', [C.SHT_GNU_versym]: 'VERSYM',
  [C.SHT_GNU_ATTRIBUTES]: 'GNU_ATTRIBUTES', [C.SHT_X86_64_UNWIND]: 'X86_64_UNWIND',
};

const SYMBOL_TYPES = ['NOTYPE', 'OBJECT', 'FUNC', 'SECTION', 'FILE', 'COMMON', 'TLS'];
const SYMBOL_BINDS = ['LOCAL', 'GLOBAL', 'WEAK'];
const VISIBILITIES = ['DEFAULT', 'INTERNAL', 'HIDDEN', 'PROTECTED'];

/** readelf's section flag letters, in the order it prints them (lowest bit first). */
const SECTION_FLAG_LETTERS: Array<[number, string]> = [
  [C.SHF_WRITE, 'W'], [C.SHF_ALLOC, 'A'], [C.SHF_EXECINSTR, 'X'], [C.SHF_MERGE, 'M'],
  [C.SHF_STRINGS, 'S'], [C.SHF_INFO_LINK, 'I'], [C.SHF_LINK_ORDER, 'L'],
  [C.SHF_OS_NONCONFORMING, 'O'], [C.SHF_GROUP, 'G'], [C.SHF_TLS, 'T'], [C.SHF_COMPRESSED, 'C'],
  [C.SHF_GNU_RETAIN, 'R'], [C.SHF_X86_64_LARGE, 'l'], [C.SHF_EXCLUDE, 'E'],
];

export function formatFileHeader(f: ElfFile): string {
  const h = f.header;
  const ident = Array.from(f.bytes.subarray(0, 16), (b) => hex(b, 2)).join(' ');
  const row = (label: string, value: string) => `  ${(label + ':').padEnd(35)}${value}\n`;
  let out = 'ELF Header:\n';
  out += `  Magic:   ${ident} \n`;
  out += row('Class', 'ELF64');
  out += row('Data', "2's complement, little endian");
  out += row('Version', `${f.bytes[6]} (current)`);
  out += row('OS/ABI', OS_ABIS[h.osabi] ?? `<unknown: ${hex(h.osabi, 0)}>`);
  out += row('ABI Version', String(h.abiVersion));
  out += row('Type', FILE_TYPES[h.type] ?? `<unknown>: ${hex(h.type, 0)}`);
  out += row('Machine', 'Advanced Micro Devices X86-64');
  out += row('Version', `0x${hex(h.version, 0)}`);
  out += row('Entry point address', `0x${hex(h.entry, 0)}`);
  out += row('Start of program headers', `${h.phoff} (bytes into file)`);
  out += row('Start of section headers', `${h.shoff} (bytes into file)`);
  out += row('Flags', `0x${hex(h.flags, 0)}`);
  out += row('Size of this header', `${h.ehsize} (bytes)`);
  out += row('Size of program headers', `${h.phentsize} (bytes)`);
  out += row('Number of program headers', String(h.phnum));
  out += row('Size of section headers', `${h.shentsize} (bytes)`);
  out += row('Number of section headers', h.shnum === 0 && f.sections.length > 0 ? `0 (${f.sections.length})` : String(h.shnum));
  out += row('Section header string table index', h.shstrndx === C.SHN_XINDEX ? `${h.shstrndx} (${f.sections[0]?.link})` : String(h.shstrndx));
  return out;
}

function sectionTypeName(type: number): string {
  const known = SECTION_TYPES[type];
  if (known) return known;
  if (type >= 0x70000000 && type <= 0x7fffffff) return `LOPROC+0x${hex(type - 0x70000000, 0)}`;
  if (type >= 0x60000000 && type <= 0x6fffffff) return `LOOS+0x${hex(type - 0x60000000, 0)}`;
  if (type >= 0x80000000) return `LOUSER+0x${hex(type - 0x80000000, 0)}`;
  return `<unknown>: ${hex(type, 0)}`;
}

function sectionFlags(flags: number): string {
  let out = '';
  let known = 0;
  for (const [bit, letter] of SECTION_FLAG_LETTERS) {
    // Division, not &, because SHF_EXCLUDE is bit 31 and JS bit operators are signed 32-bit.
    if (Math.floor(flags / bit) % 2 === 1) {
      out += letter;
      known += bit;
    }
  }
  if (flags !== known) out += 'x';
  return out;
}

/** `afterFileHeader`: readelf drops its count line when the file header was just printed. */
export function formatSectionHeaders(f: ElfFile, afterFileHeader = false): string {
  const h = f.header;
  if (f.sections.length === 0) return '\nThere are no sections in this file.\n';
  let out = afterFileHeader
    ? '\n'
    : `There are ${f.sections.length} section headers, starting at offset 0x${hex(h.shoff, 0)}:\n\n`;
  out += 'Section Headers:\n';
  out += '  [Nr] Name              Type            Address          Off    Size   ES Flg Lk Inf Al\n';
  for (const s of f.sections) {
    out += `  [${String(s.index).padStart(2)}] ${s.name.padEnd(17)} ${sectionTypeName(s.type).padEnd(15)} ` +
      `${hex(s.addr, 16)} ${hex(s.offset, 6)} ${hex(s.size, 6)} ${hex(s.entsize, 2)} ` +
      `${sectionFlags(s.flags).padStart(3)} ${String(s.link).padStart(2)} ${String(s.info).padStart(3)} ${String(s.addralign).padStart(2)}\n`;
  }
  out += 'Key to Flags:\n';
  out += '  W (write), A (alloc), X (execute), M (merge), S (strings), I (info),\n';
  out += '  L (link order), O (extra OS processing required), G (group), T (TLS),\n';
  out += '  C (compressed), x (unknown), o (OS specific), E (exclude),\n';
  out += '  D (mbind), l (large), p (processor specific)\n';
  return out;
}

function symbolIndexName(shndx: number): string {
  if (shndx === C.SHN_UNDEF) return 'UND';
  if (shndx === C.SHN_ABS) return 'ABS';
  if (shndx === C.SHN_COMMON) return 'COM';
  if (shndx >= C.SHN_LORESERVE) return `RSV[0x${hex(shndx, 4)}]`;
  return String(shndx);
}

/** The name readelf shows: section symbols without a name take their section's name. */
export function displaySymbolName(f: ElfFile, sym: ElfSymbol): string {
  if (sym.type === C.STT_SECTION && sym.name === '' && sym.shndx < f.sections.length) {
    return f.sections[sym.shndx].name;
  }
  return sym.name;
}

export function formatSymbols(f: ElfFile): string {
  let out = '';
  for (const table of f.sections.filter((s) => s.type === C.SHT_SYMTAB || s.type === C.SHT_DYNSYM)) {
    const symbols = table === f.symtabSection() ? f.symbols() : f.symbolTable(table);
    out += `\nSymbol table '${table.name}' contains ${symbols.length} ${symbols.length === 1 ? 'entry' : 'entries'}:\n`;
    out += '   Num:    Value          Size Type    Bind   Vis      Ndx Name\n';
    for (const s of symbols) {
      const type = SYMBOL_TYPES[s.type] ?? (s.type === C.STT_GNU_IFUNC ? 'IFUNC' : `<unknown>: ${s.type}`);
      const bind = SYMBOL_BINDS[s.bind] ?? (s.bind === C.STB_GNU_UNIQUE ? 'UNIQUE' : `<unknown>: ${s.bind}`);
      // readelf's DEC_5: decimal when it fits in five digits, else hexadecimal.
      const size = s.size <= 99999 ? String(s.size).padStart(5) : `0x${hex(s.size, 0)}`;
      out += `${String(s.index).padStart(6)}: ${hex(s.value, 16)} ${size} ${type.padEnd(7)} ` +
        `${bind.padEnd(6)} ${VISIBILITIES[s.visibility].padEnd(7)} ${symbolIndexName(s.shndx).padStart(4)} ${displaySymbolName(f, s)}\n`;
    }
  }
  return out;
}

export function formatRelocations(f: ElfFile): string {
  const relas = f.sections.filter((s) => s.type === C.SHT_RELA);
  if (relas.length === 0) return '\nThere are no relocations in this file.\n';
  let out = '';
  for (const rela of relas) {
    const entries = f.relocations(rela);
    const symtab = f.sections[rela.link];
    const symbols = symtab && symtab === f.symtabSection() ? f.symbols() : symtab ? f.symbolTable(symtab) : [];
    out += `\nRelocation section '${rela.name}' at offset 0x${hex(rela.offset, 0)} contains ${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}:\n`;
    out += "    Offset             Info             Type               Symbol's Value  Symbol's Name + Addend\n";
    for (const r of entries) {
      const info = (BigInt(r.symbolIndex) << 32n) | BigInt(r.type);
      const known = relocTypeName(r.type);
      const typeName = known ? known.padEnd(22) : `unrecognized: ${hex(r.type, 0).padEnd(7)}`;
      let line = `${hex(r.offset, 16)}  ${hex(info, 16)} ${typeName}`;
      const sign = r.addend < 0n ? '-' : '+';
      const magnitude = hex(r.addend < 0n ? -r.addend : r.addend, 0);
      if (r.symbolIndex === 0) {
        line += `${''.padEnd(16)}   ${r.addend < 0n ? '-' : ''}${magnitude}`;
      } else {
        const sym = symbols[r.symbolIndex];
        line += ` ${hex(sym.value, 16)} ${displaySymbolName(f, sym)} ${sign} ${magnitude}`;
      }
      out += line + '\n';
    }
  }
  return out;
}

function noteDescription(n: ElfNote): string {
  if (n.name === 'GNU') {
    if (n.type === 3) {
      return `NT_GNU_BUILD_ID (unique build ID bitstring)\n    Build ID: ${Array.from(n.desc, (b) => hex(b, 2)).join('')}`;
    }
  }
  const data = Array.from(n.desc, (b) => hex(b, 2) + ' ').join('');
  return `Unknown note type: (0x${hex(n.type, 8)})\t   description data: ${data}`;
}

export function formatNotes(f: ElfFile): string {
  let out = '';
  let source = '';
  for (const n of f.notes((s) => relocatedSectionData(f, s))) {
    if (n.source !== source) {
      source = n.source;
      out += `\nDisplaying notes found in: ${source}\n`;
      out += '  Owner                Data size \tDescription\n';
    }
    out += `  ${n.name.padEnd(20)} 0x${hex(n.desc.length, 8)}\t${noteDescription(n)}\n`;
  }
  return out;
}

export type ReadelfPart = 'file-header' | 'section-headers' | 'symbols' | 'relocs' | 'notes';

/** The parts in the order readelf prints them, whatever order they were asked for in. */
export function formatReadelf(f: ElfFile, parts: Set<ReadelfPart>): string {
  let out = '';
  if (parts.has('file-header')) out += formatFileHeader(f);
  if (parts.has('section-headers')) out += formatSectionHeaders(f, parts.has('file-header'));
  if (parts.has('relocs')) out += formatRelocations(f);
  if (parts.has('symbols')) out += formatSymbols(f);
  if (parts.has('notes')) out += formatNotes(f);
  return out;
}
