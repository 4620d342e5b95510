// arch/x86/include/asm/orc_types.h (6.1): the 6-byte ORC entry and its register and type codes,
// plus tools/objtool/orc_dump.c's text form of an entry (for comparing with `objtool --dump=orc`).

export const ORC_REG_UNDEFINED = 0;
export const ORC_REG_PREV_SP = 1;
export const ORC_REG_DX = 2;
export const ORC_REG_DI = 3;
export const ORC_REG_BP = 4;
export const ORC_REG_SP = 5;
export const ORC_REG_R10 = 6;
export const ORC_REG_R13 = 7;
export const ORC_REG_BP_INDIRECT = 8;
export const ORC_REG_SP_INDIRECT = 9;
export const ORC_REG_MAX = 15;

/** 6.1 has no ORC_TYPE_* names: `type` holds the unwind hint type. */
export const UNWIND_HINT_TYPE_CALL = 0;
export const UNWIND_HINT_TYPE_REGS = 1;
export const UNWIND_HINT_TYPE_REGS_PARTIAL = 2;

/** sizeof(struct orc_entry) */
export const ORC_ENTRY_SIZE = 6;

export interface OrcEntry {
  spOffset: number;
  bpOffset: number;
  spReg: number;
  bpReg: number;
  type: number;
  end: number;
}

/** Decodes the packed little-endian entry at `off`. */
export function decodeOrcEntry(bytes: Uint8Array, off: number): OrcEntry {
  const sp = bytes[off] | (bytes[off + 1] << 8);
  const bp = bytes[off + 2] | (bytes[off + 3] << 8);
  return {
    spOffset: (sp << 16) >> 16,
    bpOffset: (bp << 16) >> 16,
    spReg: bytes[off + 4] & 0xf,
    bpReg: bytes[off + 4] >> 4,
    type: bytes[off + 5] & 3,
    end: (bytes[off + 5] >> 2) & 1,
  };
}

export function encodeOrcEntry(e: OrcEntry, out: Uint8Array, off: number): void {
  out[off] = e.spOffset & 0xff;
  out[off + 1] = (e.spOffset >> 8) & 0xff;
  out[off + 2] = e.bpOffset & 0xff;
  out[off + 3] = (e.bpOffset >> 8) & 0xff;
  out[off + 4] = (e.spReg & 0xf) | ((e.bpReg & 0xf) << 4);
  out[off + 5] = (e.type & 3) | ((e.end & 1) << 2);
}

function regName(reg: number): string {
  switch (reg) {
    case ORC_REG_PREV_SP:
      return 'prevsp';
    case ORC_REG_DX:
      return 'dx';
    case ORC_REG_DI:
      return 'di';
    case ORC_REG_BP:
      return 'bp';
    case ORC_REG_SP:
      return 'sp';
    case ORC_REG_R10:
      return 'r10';
    case ORC_REG_R13:
      return 'r13';
    default:
      return '?';
  }
}

function signed(n: number): string {
  return n < 0 ? `${n}` : `+${n}`;
}

/** orc_dump.c print_reg() */
export function formatOrcReg(reg: number, offset: number): string {
  if (reg === ORC_REG_UNDEFINED) return '(und)';
  if (reg === ORC_REG_BP_INDIRECT) return `(bp${signed(offset)})`;
  if (reg === ORC_REG_SP_INDIRECT) return `(sp)${signed(offset)}`;
  return `${regName(reg)}${signed(offset)}`;
}

export function orcTypeName(type: number): string {
  switch (type) {
    case UNWIND_HINT_TYPE_CALL:
      return 'call';
    case UNWIND_HINT_TYPE_REGS:
      return 'regs';
    case UNWIND_HINT_TYPE_REGS_PARTIAL:
      return 'regs (partial)';
    default:
      return '?';
  }
}

/** The part of an `objtool --dump=orc` line after the address: `sp:... bp:... type:... end:N` */
export function formatOrcEntry(e: OrcEntry): string {
  return `sp:${formatOrcReg(e.spReg, e.spOffset)} bp:${formatOrcReg(e.bpReg, e.bpOffset)} type:${orcTypeName(e.type)} end:${e.end}`;
}
