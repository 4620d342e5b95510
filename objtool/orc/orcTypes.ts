// arch/x86/include/asm/orc_types.h (6.1): the 6-byte ORC entry and register numbers.

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
export const ORC_ENTRY_SIZE = 6;

/** Unwind hint types (include/linux/objtool.h); 6.1 has no ORC_TYPE_*: an entry's `type` holds these. */
export const UNWIND_HINT_TYPE_CALL = 0;
export const UNWIND_HINT_TYPE_REGS = 1;
export const UNWIND_HINT_TYPE_REGS_PARTIAL = 2;
export const UNWIND_HINT_TYPE_FUNC = 3;
export const UNWIND_HINT_TYPE_ENTRY = 4;
export const UNWIND_HINT_TYPE_SAVE = 5;
export const UNWIND_HINT_TYPE_RESTORE = 6;

export interface OrcEntry {
  spOffset: number;
  bpOffset: number;
  spReg: number;
  bpReg: number;
  type: number;
  end: number;
}

export function orcEqual(a: OrcEntry, b: OrcEntry): boolean {
  return a.spOffset === b.spOffset && a.bpOffset === b.bpOffset && a.spReg === b.spReg && a.bpReg === b.bpReg &&
    a.type === b.type && a.end === b.end;
}

/** Little-endian packing: s16 sp_offset, s16 bp_offset, sp_reg:4|bp_reg:4, type:2|end:1. */
export function packOrc(e: OrcEntry, out: Uint8Array, at: number): void {
  out[at] = e.spOffset & 0xff;
  out[at + 1] = (e.spOffset >> 8) & 0xff;
  out[at + 2] = e.bpOffset & 0xff;
  out[at + 3] = (e.bpOffset >> 8) & 0xff;
  out[at + 4] = (e.spReg & 0xf) | ((e.bpReg & 0xf) << 4);
  out[at + 5] = (e.type & 0x3) | ((e.end & 1) << 2);
}

export function unpackOrc(b: Uint8Array, at: number): OrcEntry {
  return {
    spOffset: ((b[at] | (b[at + 1] << 8)) << 16) >> 16,
    bpOffset: ((b[at + 2] | (b[at + 3] << 8)) << 16) >> 16,
    spReg: b[at + 4] & 0xf,
    bpReg: b[at + 4] >> 4,
    type: b[at + 5] & 0x3,
    end: (b[at + 5] >> 2) & 1,
  };
}
