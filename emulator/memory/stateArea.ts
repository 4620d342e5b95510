/**
 * The machine state that translated WebAssembly code reads and writes in place (emulator/jit/wasm):
 * it lives in the same WebAssembly.Memory as guest RAM, in four 64 KiB pages after it (a wasm module
 * has one memory). The JS side keeps its typed arrays, now views of that memory: the register file
 * (cpu/registers.ts), the TLB (memory/tlb.ts), and the slots where wasm code leaves its exit state.
 * Offsets are from PhysicalMemory.stateBase.
 */

/** 16 GPRs, lo/hi uint32 halves (cpu/registers.ts RegisterFile's views). */
export const STATE_REGS = 0;
/**
 * A status-flag record that translated code hands to the FlagState (jit/wasm/wasmTier.ts applyFlags): int32
 * slots, FLAG_* below. Only read when FLAG_DIRTY is 1.
 */
export const STATE_FLAGS = 128;
export const FLAG_DIRTY = 0, FLAG_KIND = 1, FLAG_SIZE = 2, FLAG_A_LO = 3, FLAG_A_HI = 4, FLAG_B_LO = 5, FLAG_B_HI = 6,
  FLAG_R_LO = 7, FLAG_R_HI = 8, FLAG_CIN = 9, FLAG_EAGER = 10, FLAG_MASK = 11;
/** Exit slots: float64 RIP, instruction start and icount at a block's exit (translated code writes them). */
export const STATE_EXIT_RIP = 192, STATE_EXIT_START = 200, STATE_EXIT_ICOUNT = 208;
/** int32 slots: the high half of a slow-path read, c.exit after a slow path or handler, CPL 3 (1) or not. */
export const STATE_HI = 216, STATE_EXIT_FLAG = 220, STATE_USER = 224;
/** Entries of the TLB (memory/tlb.ts TLB_SIZE). */
export const TLB_ENTRIES = 1024;
/** The TLB's arrays (memory/tlb.ts), each TLB_ENTRIES entries. */
export const STATE_TLB = 1024;
export const TLB_SUP_R = STATE_TLB, TLB_SUP_W = TLB_SUP_R + TLB_ENTRIES * 8, TLB_SUP_X = TLB_SUP_W + TLB_ENTRIES * 8,
  TLB_USR_R = TLB_SUP_X + TLB_ENTRIES * 8, TLB_USR_W = TLB_USR_R + TLB_ENTRIES * 8, TLB_USR_X = TLB_USR_W + TLB_ENTRIES * 8,
  TLB_VPAGE = TLB_USR_X + TLB_ENTRIES * 8, TLB_PHYS = TLB_VPAGE + TLB_ENTRIES * 8;
/**
 * The WebAssembly tier's jump cache (jit/wasm/wasmChain.ts): JUMP_CACHE_ENTRIES entries of 16 bytes
 * (float64 RIP; int32 physical address of the block; int32 table slot << 8 | instruction count).
 */
export const STATE_JUMP_CACHE = 65536, JUMP_CACHE_ENTRIES = 2048, JUMP_ENTRY_BYTES = 16;
export const JUMP_RIP = 0, JUMP_PHYS = 8, JUMP_BLOCK = 12;
/**
 * int32 per table slot (modulo EXEC_COUNT_SLOTS): the executions of the slot's block that wasm code
 * counted (chained entries and a loop's iterations), which the run loop adds to the block's count
 * (jit/wasm/wasmTier.ts credit); and the count at which wasm code stops running it, so that the run
 * loop's next entry hands it to the JS translator.
 */
export const STATE_EXEC_COUNTS = 98304, STATE_EXEC_LIMITS = 163840, EXEC_COUNT_SLOTS = 16384;
export const STATE_END = STATE_EXEC_LIMITS + EXEC_COUNT_SLOTS * 4;
export const STATE_BYTES = 262144;
if (TLB_PHYS + TLB_ENTRIES * 4 > STATE_JUMP_CACHE || STATE_JUMP_CACHE + JUMP_CACHE_ENTRIES * JUMP_ENTRY_BYTES > STATE_EXEC_COUNTS ||
  STATE_EXEC_COUNTS + EXEC_COUNT_SLOTS * 4 > STATE_EXEC_LIMITS || STATE_END > STATE_BYTES) throw new Error('state area overflows its pages');
