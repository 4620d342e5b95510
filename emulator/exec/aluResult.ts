/**
 * The one place every pure ALU operation writes its result, so that no op allocates.
 * Values are uint32 halves truncated to the operand size (hi is 0 unless the size is 8).
 * lo2/hi2 carry a second result: the high half of one-operand MUL/IMUL (AH, DX, EDX or RDX)
 * and the remainder of DIV/IDIV.
 */
export const res = { lo: 0, hi: 0, lo2: 0, hi2: 0 };

/** Operand-size masks indexed by size in bytes (1, 2, 4; for 8 each half uses the 4-byte mask). */
export const SIZE_MASK: readonly number[] = [0, 0xff, 0xffff, 0, 0xffffffff, 0, 0, 0, 0xffffffff];

/** Operand width in bits indexed by size in bytes. */
export const SIZE_BITS: readonly number[] = [0, 8, 16, 0, 32, 0, 0, 0, 64];
