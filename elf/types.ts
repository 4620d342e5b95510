// The ELF64 little-endian object model shared by the emulator's loader, objtool and livepatch.
//
// Where bigint is used: every field that holds a virtual address or an addend
// (e_entry, sh_addr, p_vaddr/p_paddr, st_value, r_offset of linked files, r_addend),
// because kernel addresses such as 0xffffffff81000123 are not exact as JS numbers.
// File offsets and sizes are numbers: they are checked against the file length on
// reading, so they are always exact.

export interface ElfHeader {
  /** e_ident[EI_OSABI] */
  osabi: number;
  abiVersion: number;
  /** ET_REL 1, ET_EXEC 2, ET_DYN 3, ET_CORE 4 */
  type: number;
  /** EM_X86_64 = 62 */
  machine: number;
  version: number;
  entry: bigint;
  phoff: number;
  shoff: number;
  flags: number;
  ehsize: number;
  phentsize: number;
  phnum: number;
  shentsize: number;
  shnum: number;
  shstrndx: number;
}

export interface ElfProgramHeader {
  index: number;
  /** PT_LOAD 1, PT_NOTE 4, ... */
  type: number;
  /** PF_X 1, PF_W 2, PF_R 4 */
  flags: number;
  offset: number;
  vaddr: bigint;
  paddr: bigint;
  filesz: number;
  memsz: number;
  align: bigint;
}

export interface ElfSection {
  index: number;
  name: string;
  /** sh_name: offset of the name in the section-header string table */
  nameOffset: number;
  type: number;
  /** SHF_* bits; every defined flag fits in 32 bits */
  flags: number;
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
  /** The section's bytes (a view into the file; empty for SHT_NOBITS). */
  data: Uint8Array;
}

export interface ElfSymbol {
  /** Index in its symbol table. */
  index: number;
  name: string;
  value: bigint;
  size: number;
  /** STT_NOTYPE 0, OBJECT 1, FUNC 2, SECTION 3, FILE 4 */
  type: number;
  /** STB_LOCAL 0, GLOBAL 1, WEAK 2 */
  bind: number;
  /** STV_DEFAULT 0, INTERNAL 1, HIDDEN 2, PROTECTED 3 */
  visibility: number;
  /** st_shndx: SHN_UNDEF 0, SHN_ABS 0xfff1, SHN_COMMON 0xfff2, else a section index */
  shndx: number;
}

export interface ElfRela {
  /** Index in its relocation section. */
  index: number;
  offset: bigint;
  type: number;
  /** Symbol index in the symbol table named by the relocation section's sh_link. */
  symbolIndex: number;
  addend: bigint;
}

export interface ElfNote {
  name: string;
  type: number;
  desc: Uint8Array;
  /** The section or program header the note came from. */
  source: string;
}
