// What klp-lab takes from elfy, and where it stops.
//
// elfy (1.0) parses the ELF header and the section and program header tables. Its limits,
// which the tests in test/elf/elfy.test.ts pin down:
// - 64-bit fields are read into JS numbers, exact only below 2^53 (kernel addresses such as
//   0xffffffff81000123 are not);
// - it reads sh_addralign and sh_entsize of ELF64 section headers from offsets 46 and 54
//   instead of 48 and 56;
// - it parses no symbols, relocations or notes, and its errors are host exceptions.
// So klp-lab validates every bound first (elf/elfFile.ts), reads the numeric fields itself, and
// asks elfy only for the section names, which it resolves correctly once the file is sound.

// eslint-disable-next-line @typescript-eslint/no-var-requires
const elfy = require('elfy') as { parse(buf: Buffer): ElfyFile };

export interface ElfySection {
  name: string;
  type: string | number;
  off: number;
  size: number;
  link: number;
  info: number;
  addr: number;
  addralign: number;
  entsize: number;
}

export interface ElfyFile {
  class: string;
  endian: string;
  machine: string;
  entry: number;
  shnum: number;
  body: { sections: ElfySection[]; programs: unknown[] };
}

/** The full elfy parse; only for files the caller has already validated. */
export function elfyParse(bytes: Uint8Array): ElfyFile {
  return elfy.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/**
 * Section names as elfy resolves them, or undefined where elfy cannot be used: extended
 * section numbering (elfy knows only e_shnum), or no section name table.
 */
export function elfySectionNames(bytes: Uint8Array, eShnum: number, eShstrndx: number): string[] | undefined {
  if (eShnum === 0 || eShstrndx === 0 || eShstrndx >= eShnum) return undefined;
  try {
    return elfyParse(bytes).body.sections.map((s) => s.name);
  } catch {
    return undefined;
  }
}
