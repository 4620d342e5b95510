// x86-64 relocation types (System V x86-64 psABI, table "Relocation Types").

export const R_X86_64 = {
  NONE: 0, '64': 1, PC32: 2, GOT32: 3, PLT32: 4, COPY: 5, GLOB_DAT: 6, JUMP_SLOT: 7,
  RELATIVE: 8, GOTPCREL: 9, '32': 10, '32S': 11, '16': 12, PC16: 13, '8': 14, PC8: 15,
  DTPMOD64: 16, DTPOFF64: 17, TPOFF64: 18, TLSGD: 19, TLSLD: 20, DTPOFF32: 21,
  GOTTPOFF: 22, TPOFF32: 23, PC64: 24, GOTOFF64: 25, GOTPC32: 26, GOT64: 27,
  GOTPCREL64: 28, GOTPC64: 29, GOTPLT64: 30, PLTOFF64: 31, SIZE32: 32, SIZE64: 33,
  GOTPC32_TLSDESC: 34, TLSDESC_CALL: 35, TLSDESC: 36, IRELATIVE: 37, RELATIVE64: 38,
  GOTPCRELX: 41, REX_GOTPCRELX: 42,
} as const;

const namesByNumber: string[] = [];
for (const [name, value] of Object.entries(R_X86_64)) namesByNumber[value] = `R_X86_64_${name}`;

/** The psABI name of an x86-64 relocation type, or undefined for an unknown type. */
export function relocTypeName(type: number): string | undefined {
  return namesByNumber[type];
}
