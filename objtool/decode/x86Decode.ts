// tools/objtool/arch/x86/decode.c (6.1): arch_decode_instruction().
//
// Instruction boundaries come from insnLength.ts's opcode tables for the encodings compilers
// emit; anything else goes to iced-x86, which finds the boundary and rejects what cannot be
// decoded (insnLength.test.ts holds the tables to iced-x86's answers). iced-x86 is loaded on the
// first such instruction, so an object of plain compiler output never pays for it. The objtool
// classification itself reads the prefix, REX, opcode and ModRM/SIB bytes directly, as the
// kernel decoder does, so REX-dependent cases (32-bit forms not tracked, xchg %r8,%rax not a
// NOP) come out the same. iced objects are created once per section and freed at once.

import type { Decoder, Instruction as IcedInsn } from 'iced-x86';
import { insnLength } from './insnLength';
import * as C from '../../elf/constants';
import { CFI_BP, CFI_SP, InsnType, OpDest, OpSrc, StackOp, stackOp } from './insnTypes';

export interface DecodedInsn {
  offset: number;
  len: number;
  type: InsnType;
  immediate: number;
  ops: StackOp[];
  /** Register-form LEA: objtool warns "invalid LEA encoding" and carries on. */
  invalidLea?: boolean;
}

export interface DecodeContext {
  /** Symbol type of the symbol containing this offset (for iret), or -1. */
  symbolTypeAt(offset: number): number;
}

/** Shared by every instruction without stack operations (never mutated). */
export const NO_OPS: StackOp[] = [];
// Operation lists shared by every instruction of the same form (ops are never mutated, only
// replaced), so the common pushes and pops allocate nothing per instruction.
const PUSH_REG: StackOp[][] = [];
const POP_REG: StackOp[][] = [];
for (let r = 0; r < 16; r++) {
  PUSH_REG.push([stackOp(OpDest.PUSH, 0, 0, OpSrc.REG, r, 0)]);
  POP_REG.push([stackOp(OpDest.REG, r, 0, OpSrc.POP, 0, 0)]);
}
const PUSH_CONST: StackOp[] = [stackOp(OpDest.PUSH, 0, 0, OpSrc.CONST, 0, 0)];
const POP_MEM: StackOp[] = [stackOp(OpDest.MEM, 0, 0, OpSrc.POP, 0, 0)];
const PUSHF: StackOp[] = [stackOp(OpDest.PUSHF, 0, 0, OpSrc.CONST, 0, 0)];
const POPF: StackOp[] = [stackOp(OpDest.MEM, 0, 0, OpSrc.POPF, 0, 0)];
const LEAVE: StackOp[] = [stackOp(OpDest.REG, CFI_SP, 0, OpSrc.REG, CFI_BP, 0), stackOp(OpDest.REG, CFI_BP, 0, OpSrc.POP, 0, 0)];

const scratch: DecodedInsn = { offset: 0, len: 0, type: InsnType.OTHER, immediate: 0, ops: [], invalidLea: false };

type IcedX86 = typeof import('iced-x86');
let icedModule: IcedX86 | null = null;
/** Instructions measured by iced-x86 rather than the tables, since start-up (for the bench). */
export const decodeCounters = { iced: 0 };

/** iced-x86, required on first use. */
function iced(): IcedX86 {
  return (icedModule ??= require('iced-x86') as IcedX86); // eslint-disable-line @typescript-eslint/no-require-imports
}

const LEGACY_PREFIXES = new Set([0xf0, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65, 0x66, 0x67]);

/**
 * Decodes a whole executable section, handing each instruction to `emit` (the record is
 * reused between calls: copy what you keep). Returns -1, or the offset of the first
 * instruction that cannot be decoded (objtool: "can't decode instruction at").
 */
export function decodeSection(data: Uint8Array, ctx: DecodeContext, emit: (d: DecodedInsn) => void): number {
  if (data.length === 0) return -1;
  let decoder: Decoder | null = null;
  let ins: IcedInsn | null = null;
  try {
    let offset = 0;
    while (offset < data.length) {
      let len = insnLength(data, offset);
      if (len === 0) {
        const x = iced();
        decodeCounters.iced++;
        decoder ??= new x.Decoder(64, data, x.DecoderOptions.None);
        ins ??= new x.Instruction();
        decoder.position = offset;
        decoder.decodeOut(ins);
        len = ins.length;
        if (ins.code === x.Code.INVALID || len === 0 || offset + len > data.length) {
          // The kernel's decoder gives opcodes that are invalid in 64-bit mode (push %es,
          // ljmp ptr16:32, aam, ...) their 32-bit form instead of failing; so does this one.
          len = legacyLength(data, offset, ins);
          if (len === 0) return offset;
        }
      }
      emit(classify(data, offset, len, ctx));
      offset += len;
    }
    return -1;
  } finally {
    ins?.free();
    decoder?.free();
  }
}

/**
 * Length of an instruction that is invalid in 64-bit mode, decoded as its 32-bit form with
 * any legacy prefixes and REX kept (REX only counts as one byte). 0 if that fails too.
 */
function legacyLength(data: Uint8Array, offset: number, ins: IcedInsn): number {
  let p = offset;
  while (p < data.length && LEGACY_PREFIXES.has(data[p])) p++;
  let rex = 0;
  if (p < data.length && (data[p] & 0xf0) === 0x40) {
    rex = 1;
    p++;
  }
  // In 64-bit mode 0x62, 0xc4 and 0xc5 are always EVEX/VEX prefixes (never bound/les/lds):
  // when those don't decode, neither does the kernel's decoder.
  if (p < data.length && (data[p] === 0x62 || data[p] === 0xc4 || data[p] === 0xc5)) return 0;
  // lea with a register operand (ModRM mod 3): no decoder accepts it, the kernel's decodes it
  // by its shape and objtool only warns "invalid LEA encoding".
  if (p + 1 < data.length && data[p] === 0x8d && data[p + 1] >> 6 === 3) return p + 2 - offset;
  const prefixes = data.subarray(offset, p - rex);
  const rest = data.subarray(p, Math.min(data.length, p + 15));
  const buf = new Uint8Array(prefixes.length + rest.length);
  buf.set(prefixes, 0);
  buf.set(rest, prefixes.length);
  const x = iced();
  const d = new x.Decoder(32, buf, x.DecoderOptions.None);
  try {
    d.decodeOut(ins);
    const len = ins.length;
    if (ins.code === x.Code.INVALID || len === 0 || len > buf.length) return 0;
    return len + rex;
  } finally {
    d.free();
  }
}

/** The opcodes whose ModRM byte objtool's decoder looks at. */
function hasModrm(op1: number, op2: number): boolean {
  switch (op1) {
    case 0x01: case 0x29: case 0x80: case 0x81: case 0x82: case 0x83: case 0x88: case 0x89: case 0x8b:
    case 0x8d: case 0xff:
      return true;
    case 0x0f:
      return op2 === 0x01 || op2 === 0x1e;
    default:
      return false;
  }
}

function s8(v: number): number {
  return (v << 24) >> 24;
}

function readS32(d: Uint8Array, at: number): number {
  return (d[at] | (d[at + 1] << 8) | (d[at + 2] << 16) | (d[at + 3] << 24)) | 0;
}

function classify(d: Uint8Array, offset: number, len: number, ctx: DecodeContext): DecodedInsn {
  const out = scratch;
  out.offset = offset;
  out.len = len;
  out.type = InsnType.OTHER;
  out.immediate = 0;
  out.invalidLea = false;
  out.ops = NO_OPS;
  const end = offset + len;
  let p = offset;
  let prefix = 0;
  while (p < end && LEGACY_PREFIXES.has(d[p])) {
    if (!prefix) prefix = d[p];
    p++;
  }
  let rex = 0;
  if (p < end && (d[p] & 0xf0) === 0x40) rex = d[p++];
  const op1 = d[p];
  // VEX/EVEX-encoded instructions: OTHER with no stack operations.
  if (op1 === 0xc4 || op1 === 0xc5 || op1 === 0x62) return out;
  const rexW = (rex >> 3) & 1;
  const rexR = (rex >> 2) & 1;
  const rexX = (rex >> 1) & 1;
  const rexB = rex & 1;
  let op2 = 0;
  let op3 = 0;
  let q = p + 1;
  if (op1 === 0x0f) {
    op2 = d[q++];
    if (op2 === 0x38 || op2 === 0x3a) op3 = d[q++];
  }

  // ModRM/SIB/displacement, decoded up front (objtool reads them only for the opcodes that
  // have one; the values are simply unused otherwise). Plain locals, no closures: this runs
  // for every instruction.
  let modrm = 0;
  let mod = 0;
  let reg = 0;
  let rm = 0;
  let sibIndex = 0;
  let sibBase = 0;
  let haveSib = false;
  let disp = 0;
  if (hasModrm(op1, op2)) {
    modrm = d[q];
    mod = modrm >> 6;
    reg = ((modrm >> 3) & 7) + 8 * rexR;
    rm = (modrm & 7) + 8 * rexB;
    let r = q + 1;
    let sibNoBase = false;
    if (mod !== 3 && (modrm & 7) === 4) {
      haveSib = true;
      const sib = d[r++];
      sibIndex = ((sib >> 3) & 7) + 8 * rexX;
      sibBase = (sib & 7) + 8 * rexB;
      if (mod === 0 && (sib & 7) === 5) {
        disp = readS32(d, r);
        sibNoBase = true;
      }
    }
    if (!sibNoBase) {
      if (mod === 1) disp = s8(d[r]);
      else if (mod === 2 || (mod === 0 && (modrm & 7) === 5)) disp = readS32(d, r);
    }
  }
  const isRip = (rm & 7) === CFI_BP && mod === 0;
  // rm_is(reg) / rm_is_mem(reg) / rm_is_reg(reg) for the two registers objtool asks about
  const rmIsSp = haveSib ? sibBase === CFI_SP && sibIndex === CFI_SP : rm === CFI_SP;
  const rmIsBp = haveSib ? sibBase === CFI_BP && sibIndex === CFI_SP && mod !== 0 : rm === CFI_BP;
  const rmIsMemSp = mod !== 3 && !isRip && rmIsSp;
  const rmIsMemBp = mod !== 3 && !isRip && rmIsBp;
  const rmIsRegSp = mod === 3 && rm === CFI_SP;
  let ops: StackOp[] = NO_OPS;

  switch (op1) {
    case 0x01:
    case 0x29:
      if (rexW && rmIsRegSp) ops = [stackOp(OpDest.REG, CFI_SP, 0, OpSrc.ADD, reg, 0)];
      break;
    case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57:
      ops = PUSH_REG[(op1 & 7) + 8 * rexB];
      break;
    case 0x58: case 0x59: case 0x5a: case 0x5b: case 0x5c: case 0x5d: case 0x5e: case 0x5f:
      ops = POP_REG[(op1 & 7) + 8 * rexB];
      break;
    case 0x68:
    case 0x6a:
      ops = PUSH_CONST;
      break;
    case 0x80: case 0x81: case 0x82: case 0x83: {
      if (!rexW || !rmIsRegSp) break;
      // The immediate is the last field: imm32 for 0x81, imm8 otherwise.
      // The kernel decoder's immediate is signed (imm8 or imm32) in every form.
      const imm = op1 === 0x81 ? readS32(d, end - 4) : s8(d[end - 1]);
      const rawImm = imm;
      switch (reg & 7) {
        case 5:
          ops = [stackOp(OpDest.REG, CFI_SP, 0, OpSrc.ADD, CFI_SP, -imm)];
          break;
        case 0:
          ops = [stackOp(OpDest.REG, CFI_SP, 0, OpSrc.ADD, CFI_SP, imm)];
          break;
        case 4:
          ops = [stackOp(OpDest.REG, CFI_SP, 0, OpSrc.AND, CFI_SP, rawImm)];
          break;
        default:
          break;
      }
      break;
    }
    case 0x89:
    case 0x88: {
      if (!rexW) break;
      if (op1 === 0x89) {
        if (reg === CFI_SP) {
          if (mod === 3) {
            ops = [stackOp(OpDest.REG, rm, 0, OpSrc.REG, CFI_SP, 0)];
            break;
          }
          if (isRip) break;
          let base = rm;
          if (haveSib) {
            base = sibBase;
            if (sibIndex !== CFI_SP) break;
          }
          ops = [stackOp(OpDest.REG_INDIRECT, base, disp, OpSrc.REG, CFI_SP, 0)];
          break;
        }
        if (rmIsRegSp) {
          ops = [stackOp(OpDest.REG, CFI_SP, 0, OpSrc.REG, reg, 0)];
          break;
        }
      }
      if (rmIsMemBp) {
        ops = [stackOp(OpDest.REG_INDIRECT, CFI_BP, disp, OpSrc.REG, reg, 0)];
        break;
      }
      if (rmIsMemSp) {
        ops = [stackOp(OpDest.REG_INDIRECT, CFI_SP, disp, OpSrc.REG, reg, 0)];
        break;
      }
      break;
    }
    case 0x8b:
      if (!rexW) break;
      if (rmIsMemBp) {
        ops = [stackOp(OpDest.REG, reg, 0, OpSrc.REG_INDIRECT, CFI_BP, disp)];
        break;
      }
      if (rmIsMemSp) ops = [stackOp(OpDest.REG, reg, 0, OpSrc.REG_INDIRECT, CFI_SP, disp)];
      break;
    case 0x8d: {
      if (mod === 3) {
        out.invalidLea = true;
        break;
      }
      if (!rexW) break;
      let src = rm;
      if (haveSib) {
        src = sibBase;
        if (sibIndex !== CFI_SP) break;
      }
      if (isRip) break;
      ops = [stackOp(OpDest.REG, reg, 0, disp ? OpSrc.ADD : OpSrc.REG, src, disp)];
      break;
    }
    case 0x8f:
      ops = POP_MEM;
      break;
    case 0x90:
      // 6.1 marks every 0x90 a NOP (including pause and xchg %r8,%rax).
      out.type = InsnType.NOP;
      break;
    case 0x9c:
      ops = PUSHF;
      break;
    case 0x9d:
      ops = POPF;
      break;
    case 0x0f:
      if (op2 === 0x01) {
        if (modrm === 0xca) out.type = InsnType.CLAC;
        else if (modrm === 0xcb) out.type = InsnType.STAC;
      } else if (op2 >= 0x80 && op2 <= 0x8f) {
        out.type = InsnType.JUMP_CONDITIONAL;
        out.immediate = readS32(d, end - 4);
      } else if (op2 === 0x05 || op2 === 0x34 || op2 === 0x07 || op2 === 0x35) {
        out.type = InsnType.CONTEXT_SWITCH;
      } else if (op2 === 0x0b || op2 === 0xb9) {
        out.type = InsnType.BUG;
      } else if (op2 === 0x0d || op2 === 0x1f) {
        out.type = InsnType.NOP;
      } else if (op2 === 0x1e) {
        if (prefix === 0xf3 && (modrm === 0xfa || modrm === 0xfb)) out.type = InsnType.ENDBR;
      } else if (op2 === 0x38 && op3 === 0xf8) {
        // ENQCMD: only a warning in objtool (reported by the caller if needed).
      } else if (op2 === 0xa0 || op2 === 0xa8) {
        ops = PUSH_CONST;
      } else if (op2 === 0xa1 || op2 === 0xa9) {
        ops = POP_MEM;
      }
      break;
    case 0xc9:
      ops = LEAVE;
      break;
    case 0xcc:
      out.type = InsnType.TRAP;
      break;
    case 0xe3:
    case 0xe0:
    case 0xe1:
    case 0xe2:
    case 0x70: case 0x71: case 0x72: case 0x73: case 0x74: case 0x75: case 0x76: case 0x77:
    case 0x78: case 0x79: case 0x7a: case 0x7b: case 0x7c: case 0x7d: case 0x7e: case 0x7f:
      out.type = InsnType.JUMP_CONDITIONAL;
      out.immediate = s8(d[end - 1]);
      break;
    case 0xe9:
      out.type = InsnType.JUMP_UNCONDITIONAL;
      out.immediate = readS32(d, end - 4);
      break;
    case 0xeb:
      out.type = InsnType.JUMP_UNCONDITIONAL;
      out.immediate = s8(d[end - 1]);
      break;
    case 0xc2:
    case 0xc3:
      out.type = InsnType.RETURN;
      break;
    case 0xcf:
      // sync_core()'s IRET-to-self inside a function: add $40,%rsp.
      if (ctx.symbolTypeAt(offset) === C.STT_FUNC) {
        ops = [stackOp(OpDest.REG, CFI_SP, 0, OpSrc.ADD, CFI_SP, 40)];
        break;
      }
      out.type = InsnType.CONTEXT_SWITCH;
      break;
    case 0xca:
    case 0xcb:
      out.type = InsnType.CONTEXT_SWITCH;
      break;
    case 0xe8:
      out.type = InsnType.CALL;
      out.immediate = readS32(d, end - 4);
      ops = PUSH_CONST;
      break;
    case 0xfc:
      out.type = InsnType.CLD;
      break;
    case 0xfd:
      out.type = InsnType.STD;
      break;
    case 0xff:
      if (reg === 2 || reg === 3) out.type = InsnType.CALL_DYNAMIC;
      else if (reg === 4) out.type = InsnType.JUMP_DYNAMIC;
      else if (reg === 5) out.type = InsnType.CONTEXT_SWITCH;
      else if (reg === 6) ops = PUSH_CONST;
      break;
    default:
      break;
  }
  out.ops = ops;
  return out;
}
