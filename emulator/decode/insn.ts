/**
 * The compact host form of one decoded instruction: a fixed-shape record of numbers (plus the handler
 * reference), every field set in the constructor in one order so V8 keeps a single hidden class
 * (TypeScript `objectAllocator` habit). Built once from iced-x86's Instruction, whose wasm object is
 * reused through `decodeOut` and never kept.
 *
 * Register operands: for GPRs of size 1 `r` is the byte offset into RegisterFile.u8 (AH = 1), for other
 * GPR sizes the GPR number; for XMM/segment/control/debug registers the register number.
 * Position independence: branch targets and RIP-relative displacements are stored relative to the
 * next instruction, so a block is valid at any virtual address that maps its physical page.
 */
import type { Cpu } from '../cpu/cpu';

export type Handler = (c: Cpu, d: Insn) => void;

/** Operand kinds. */
export const OK_NONE = 0, OK_REG = 1, OK_MEM = 2, OK_IMM = 3, OK_XMM = 4, OK_SEG = 5, OK_CR = 6,
  OK_DR = 7, OK_STR = 8, OK_BRANCH = 9, OK_OTHER = 10;

/** Block-end reasons recorded in Insn.end. */
export const END_NONE = 0, END_BRANCH = 1, END_SERIALIZING = 2, END_INVALID = 3;

function noHandler(): void { /* replaced when the instruction is bound to its form */ }

/**
 * Binds a decoded instruction to its form in the instruction table: sets `form`, `fn`, `op`, and
 * `end` when the form ends a block (exec/table.ts bindForm). Passed in, so that decoding does not
 * depend on the handlers.
 */
export type InsnBinder = (d: Insn, truth: boolean) => void;

export class Insn {
  fn: Handler;
  code: number;
  mnemonic: number;
  len: number;
  /** Operand size in bytes of the operation (op0's size for most instructions). */
  size: number;
  k0: number; k1: number; k2: number;
  r0: number; r1: number; r2: number;
  s0: number; s1: number; s2: number;
  /** Memory operand: base/index GPR number or -1; ripRel 1 when RIP-relative. */
  base: number;
  index: number;
  scale: number;
  dispLo: number;
  dispHi: number;
  /** Signed displacement as a number (RIP-relative: relative to the next instruction). */
  disp: number;
  ripRel: number;
  seg: number;
  /** Address size in bytes (4 or 8). */
  asz: number;
  /** Size in bytes of the memory operand. */
  msize: number;
  immLo: number;
  immHi: number;
  /** Second immediate (enter's nesting level, far branch selector). */
  imm2: number;
  /** Branch displacement from the next instruction. */
  target: number;
  /** Condition code 0..15 for jcc/setcc/cmovcc, -1 otherwise. */
  cc: number;
  /** 0 none, 1 rep/repe, 2 repne. */
  rep: number;
  lock: number;
  /** Stack operand size in bytes for push/pop/call/ret/enter/leave/iret/pushf/popf. */
  ssz: number;
  end: number;
  /** 32 or 64: the bitness the instruction was decoded for. */
  bits: number;
  /** 1 when the memory operand can use ea()'s fast path (64-bit addressing, no FS/GS). */
  eaFast: number;
  /** Small id of a hot handler the run loop calls directly (so V8 can inline it); 0 = call fn. */
  op: number;
  /** The instruction's row in the instruction table (exec/table.ts FORMS). */
  form: number;

  constructor() {
    this.fn = noHandler;
    this.code = 0; this.mnemonic = 0; this.len = 0; this.size = 0;
    this.k0 = 0; this.k1 = 0; this.k2 = 0;
    this.r0 = 0; this.r1 = 0; this.r2 = 0;
    this.s0 = 0; this.s1 = 0; this.s2 = 0;
    this.base = -1; this.index = -1; this.scale = 1; this.dispLo = 0; this.dispHi = 0; this.disp = 0;
    this.ripRel = 0; this.seg = 3; this.asz = 8; this.msize = 0;
    this.immLo = 0; this.immHi = 0; this.imm2 = 0; this.target = 0;
    this.cc = -1; this.rep = 0; this.lock = 0; this.ssz = 8; this.end = 0; this.bits = 64; this.eaFast = 0; this.op = 0; this.form = 0;
  }
}
