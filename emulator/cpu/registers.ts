/**
 * The general-purpose register file: one ArrayBuffer with interleaved lo/hi uint32 halves per GPR
 * (RAX = 0 ... R15 = 15, the x86 encoding order), aliased by 8- and 16-bit views (the v86 reg8/16/32
 * idea). Writes follow the architecture: a 32-bit write zeroes the high half, 8- and 16-bit writes
 * leave the rest of the register alone.
 *
 * 8-bit operands are addressed by byte offset into `u8`: AL = 0, CL = 8, ..., AH = 1, CH = 9, ... so a
 * decoded instruction carries the byte offset for size-1 operands and the GPR number otherwise.
 */
export const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;
export const R8 = 8, R9 = 9, R10 = 10, R11 = 11, R12 = 12, R13 = 13, R14 = 14, R15 = 15;
export const GPR_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

export class RegisterFile {
  /** u32[2*i] = low half of GPR i, u32[2*i+1] = high half. */
  readonly u32: Uint32Array;
  readonly u16: Uint16Array;
  readonly u8: Uint8Array;
  /** The 128 bytes at `offset` of `buffer` (a machine's state area, memory/stateArea.ts), or its own. */
  constructor(buffer: ArrayBuffer = new ArrayBuffer(16 * 8), offset = 0) {
    this.u32 = new Uint32Array(buffer, offset, 32);
    this.u16 = new Uint16Array(buffer, offset, 64);
    this.u8 = new Uint8Array(buffer, offset, 128);
  }
  /** XMM0-15 as 4 uint32 lanes each (lane 0 least significant). */
  readonly xmm = new Uint32Array(16 * 4);

  lo(i: number): number { return this.u32[i << 1]; }
  hi(i: number): number { return this.u32[(i << 1) | 1]; }
  set64(i: number, lo: number, hi: number): void { this.u32[i << 1] = lo; this.u32[(i << 1) | 1] = hi; }
  set32(i: number, v: number): void { this.u32[i << 1] = v; this.u32[(i << 1) | 1] = 0; }

  /** Read a GPR operand of `size` bytes; `r` is a byte offset for size 1, else the GPR number. */
  read(size: number, r: number): number {
    switch (size) {
      case 1: return this.u8[r];
      case 2: return this.u16[r << 2];
      default: return this.u32[r << 1];
    }
  }
  /** Write the low 32 bits of a `size`-byte GPR operand with the architectural zero-extension. */
  write(size: number, r: number, lo: number, hi: number): void {
    switch (size) {
      case 1: this.u8[r] = lo; return;
      case 2: this.u16[r << 2] = lo; return;
      case 4: this.u32[r << 1] = lo; this.u32[(r << 1) | 1] = 0; return;
      default: this.u32[r << 1] = lo; this.u32[(r << 1) | 1] = hi; return;
    }
  }

  /** 64-bit value as a signed number (exact when it is a canonical address or small). */
  addr(i: number): number { return (this.u32[(i << 1) | 1] | 0) * 4294967296 + this.u32[i << 1]; }
  setAddr(i: number, v: number): void {
    this.u32[i << 1] = v >>> 0;
    this.u32[(i << 1) | 1] = Math.floor(v / 4294967296) >>> 0;
  }

  /** BigInt view for the host API boundary. */
  getBig(i: number): bigint { return (BigInt(this.u32[(i << 1) | 1]) << 32n) | BigInt(this.u32[i << 1]); }
  setBig(i: number, v: bigint): void {
    this.u32[i << 1] = Number(v & 0xffffffffn);
    this.u32[(i << 1) | 1] = Number((v >> 32n) & 0xffffffffn);
  }
}

/** Byte offset in RegisterFile.u8 of an 8-bit register given its encoding (0-15) and REX presence. */
export function byteRegOffset(enc: number, rex: boolean): number {
  if (!rex && enc >= 4 && enc < 8) return ((enc - 4) << 3) | 1; // AH, CH, DH, BH
  return enc << 3;
}
