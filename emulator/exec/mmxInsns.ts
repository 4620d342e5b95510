/**
 * MMX instructions on the mm registers (SDM vol. 1 ch. 9, plus the SSE additions on mm: PAVGB/W,
 * PMIN/MAX UB/SW, PMULHUW, PSADBW, PSHUFW, PINSRW, PEXTRW, PMOVMSKB, MASKMOVQ, MOVNTQ; SSE2:
 * PADDQ, PSUBQ, PMULUDQ, MOVQ2DQ, MOVDQ2Q). MMi is the significand of x87 physical register i;
 * every MMX instruction except EMMS sets TOP = 0 and tags every register valid, and a write to MMi
 * sets that register's sign and exponent to all ones (SDM 9.5). EMMS tags every register empty.
 */
import { Mnemonic, Register } from 'iced-x86';
import type { Cpu } from '../cpu/cpu';
import type { Insn } from '../decode/insn';
import { OK_MEM, OK_REG, OK_XMM, OK_IMM } from '../decode/insn';
import { TAG_VALID, TAG_EMPTY } from '../cpu/x87State';
import { ea } from './operands';
import { requireMmx } from './fpuAvailable';
import { checkPending } from './x87Core';
import { RDI } from '../cpu/registers';

const MM0 = Register.MM0;
const bufA = new ArrayBuffer(8), bufB = new ArrayBuffer(8), bufR = new ArrayBuffer(8);
const A = new DataView(bufA), B = new DataView(bufB), R = new DataView(bufR);

/** Entry of every MMX instruction but EMMS: availability, pending x87 exception, TOP = 0, tags valid. */
function enterMmx(c: Cpu): void {
  requireMmx(c);
  checkPending(c);
  c.x87.top = 0;
  c.x87.tags.fill(TAG_VALID);
}

function getMm(c: Cpu, i: number, v: DataView): void {
  const m = c.x87.m[i];
  v.setUint32(0, Number(m & 0xffffffffn), true);
  v.setUint32(4, Number(m >> 32n), true);
}
function setMm(c: Cpu, i: number, v: DataView): void {
  c.x87.m[i] = (BigInt(v.getUint32(4, true)) << 32n) | BigInt(v.getUint32(0, true));
  c.x87.se[i] = 0xffff;
  c.x87.tags[i] = TAG_VALID;
}

/** Load operand `i` (mm, xmm low half, GPR or memory of its size) into v, zero-extended to 8 bytes. */
function load(c: Cpu, d: Insn, i: number, v: DataView): void {
  const k = i === 0 ? d.k0 : i === 1 ? d.k1 : d.k2;
  const r = i === 0 ? d.r0 : i === 1 ? d.r1 : d.r2;
  const s = i === 0 ? d.s0 : i === 1 ? d.s1 : d.s2;
  v.setUint32(0, 0, true); v.setUint32(4, 0, true);
  if (k === OK_MEM) {
    const va = ea(c, d);
    if (s === 2) v.setUint16(0, c.mmu.read16(va), true);
    else if (s === 4) v.setUint32(0, c.mmu.read32(va), true);
    else { v.setUint32(0, c.mmu.read64(va), true); v.setUint32(4, c.mmu.hi, true); }
  } else if (k === OK_REG) {
    v.setUint32(0, c.regs.u32[r << 1], true);
    if (s === 8) v.setUint32(4, c.regs.u32[(r << 1) | 1], true);
    else if (s === 2) v.setUint32(0, c.regs.u16[r << 2], true);
  } else if (k === OK_XMM) {
    v.setUint32(0, c.regs.xmm[r * 4], true); v.setUint32(4, c.regs.xmm[r * 4 + 1], true);
  } else getMm(c, r - MM0, v);
}

/** Store v into operand 0 (mm, GPR zero-extended, or memory of its size). */
function store(c: Cpu, d: Insn, v: DataView): void {
  if (d.k0 === OK_MEM) {
    const va = ea(c, d);
    if (d.s0 === 4) c.mmu.write32(va, v.getUint32(0, true));
    else c.mmu.write64(va, v.getUint32(0, true), v.getUint32(4, true));
  } else if (d.k0 === OK_REG) {
    c.regs.write(d.s0, d.r0, v.getUint32(0, true), d.s0 === 8 ? v.getUint32(4, true) : 0);
  } else if (d.k0 === OK_XMM) {
    const x = c.regs.xmm, r = d.r0;
    x[r * 4] = v.getUint32(0, true); x[r * 4 + 1] = v.getUint32(4, true); x[r * 4 + 2] = 0; x[r * 4 + 3] = 0;
  } else setMm(c, d.r0 - MM0, v);
}

/** MOVD/MOVQ/MOVNTQ/MOVQ2DQ/MOVDQ2Q between mm, xmm, GPRs and memory. */
export function mmxMov(c: Cpu, d: Insn): void {
  enterMmx(c);
  load(c, d, 1, R);
  store(c, d, R);
}

export function emms(c: Cpu): void {
  requireMmx(c);
  checkPending(c);
  c.x87.tags.fill(TAG_EMPTY);
}

// ---- lane arithmetic ----------------------------------------------------------------------------

type Lane = (a: number, b: number) => number;
const sat = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);

/** Element-wise op over lanes of `w` bytes; `signed` reads lanes as signed. Result written truncated. */
function lanes(w: number, signed: boolean, f: Lane): void {
  for (let o = 0; o < 8; o += w) {
    let a: number, b: number;
    if (w === 1) { a = signed ? A.getInt8(o) : A.getUint8(o); b = signed ? B.getInt8(o) : B.getUint8(o); }
    else if (w === 2) { a = signed ? A.getInt16(o, true) : A.getUint16(o, true); b = signed ? B.getInt16(o, true) : B.getUint16(o, true); }
    else { a = signed ? A.getInt32(o, true) : A.getUint32(o, true); b = signed ? B.getInt32(o, true) : B.getUint32(o, true); }
    const r = f(a, b);
    if (w === 1) R.setUint8(o, r & 0xff); else if (w === 2) R.setUint16(o, r & 0xffff, true); else R.setUint32(o, r >>> 0, true);
  }
}

const BINARY: Record<number, () => void> = {
  [Mnemonic.Paddb]: () => lanes(1, false, (a, b) => a + b), [Mnemonic.Paddw]: () => lanes(2, false, (a, b) => a + b),
  [Mnemonic.Paddd]: () => lanes(4, false, (a, b) => a + b),
  [Mnemonic.Psubb]: () => lanes(1, false, (a, b) => a - b), [Mnemonic.Psubw]: () => lanes(2, false, (a, b) => a - b),
  [Mnemonic.Psubd]: () => lanes(4, false, (a, b) => a - b),
  [Mnemonic.Paddq]: () => q64((a, b) => a + b), [Mnemonic.Psubq]: () => q64((a, b) => a - b),
  [Mnemonic.Paddsb]: () => lanes(1, true, (a, b) => sat(a + b, -128, 127)),
  [Mnemonic.Paddsw]: () => lanes(2, true, (a, b) => sat(a + b, -32768, 32767)),
  [Mnemonic.Psubsb]: () => lanes(1, true, (a, b) => sat(a - b, -128, 127)),
  [Mnemonic.Psubsw]: () => lanes(2, true, (a, b) => sat(a - b, -32768, 32767)),
  [Mnemonic.Paddusb]: () => lanes(1, false, (a, b) => sat(a + b, 0, 255)),
  [Mnemonic.Paddusw]: () => lanes(2, false, (a, b) => sat(a + b, 0, 65535)),
  [Mnemonic.Psubusb]: () => lanes(1, false, (a, b) => sat(a - b, 0, 255)),
  [Mnemonic.Psubusw]: () => lanes(2, false, (a, b) => sat(a - b, 0, 65535)),
  [Mnemonic.Pmullw]: () => lanes(2, true, (a, b) => Math.imul(a, b)),
  [Mnemonic.Pmulhw]: () => lanes(2, true, (a, b) => (a * b) >> 16),
  [Mnemonic.Pmulhuw]: () => lanes(2, false, (a, b) => (a * b) >>> 16),
  [Mnemonic.Pavgb]: () => lanes(1, false, (a, b) => (a + b + 1) >> 1),
  [Mnemonic.Pavgw]: () => lanes(2, false, (a, b) => (a + b + 1) >> 1),
  [Mnemonic.Pminub]: () => lanes(1, false, Math.min), [Mnemonic.Pmaxub]: () => lanes(1, false, Math.max),
  [Mnemonic.Pminsw]: () => lanes(2, true, Math.min), [Mnemonic.Pmaxsw]: () => lanes(2, true, Math.max),
  [Mnemonic.Pcmpeqb]: () => lanes(1, false, (a, b) => (a === b ? -1 : 0)),
  [Mnemonic.Pcmpeqw]: () => lanes(2, false, (a, b) => (a === b ? -1 : 0)),
  [Mnemonic.Pcmpeqd]: () => lanes(4, false, (a, b) => (a === b ? -1 : 0)),
  [Mnemonic.Pcmpgtb]: () => lanes(1, true, (a, b) => (a > b ? -1 : 0)),
  [Mnemonic.Pcmpgtw]: () => lanes(2, true, (a, b) => (a > b ? -1 : 0)),
  [Mnemonic.Pcmpgtd]: () => lanes(4, true, (a, b) => (a > b ? -1 : 0)),
  [Mnemonic.Pand]: () => lanes(4, false, (a, b) => a & b), [Mnemonic.Pandn]: () => lanes(4, false, (a, b) => ~a & b),
  [Mnemonic.Por]: () => lanes(4, false, (a, b) => a | b), [Mnemonic.Pxor]: () => lanes(4, false, (a, b) => a ^ b),
  [Mnemonic.Pmuludq]: () => { const p = BigInt(A.getUint32(0, true)) * BigInt(B.getUint32(0, true)); R.setBigUint64(0, p, true); },
  [Mnemonic.Pmaddwd]: () => {
    for (let o = 0; o < 8; o += 4) {
      const v = A.getInt16(o, true) * B.getInt16(o, true) + A.getInt16(o + 2, true) * B.getInt16(o + 2, true);
      R.setUint32(o, v >>> 0, true);
    }
  },
  [Mnemonic.Psadbw]: () => {
    let s = 0;
    for (let o = 0; o < 8; o++) s += Math.abs(A.getUint8(o) - B.getUint8(o));
    R.setUint32(0, s, true); R.setUint32(4, 0, true);
  },
  [Mnemonic.Packsswb]: () => pack(2, (v) => sat(v, -128, 127), 1),
  [Mnemonic.Packssdw]: () => pack(4, (v) => sat(v, -32768, 32767), 2),
  [Mnemonic.Packuswb]: () => pack(2, (v) => sat(v, 0, 255), 1),
  [Mnemonic.Punpcklbw]: () => unpack(1, 0), [Mnemonic.Punpcklwd]: () => unpack(2, 0), [Mnemonic.Punpckldq]: () => unpack(4, 0),
  [Mnemonic.Punpckhbw]: () => unpack(1, 4), [Mnemonic.Punpckhwd]: () => unpack(2, 4), [Mnemonic.Punpckhdq]: () => unpack(4, 4),
};

function q64(f: (a: bigint, b: bigint) => bigint): void {
  R.setBigUint64(0, BigInt.asUintN(64, f(A.getBigUint64(0, true), B.getBigUint64(0, true))), true);
}

/** PACKSSWB/PACKSSDW/PACKUSWB: signed source lanes of `w` bytes saturated into `n`-byte lanes (A then B). */
function pack(w: number, f: (v: number) => number, n: number): void {
  let o = 0;
  for (const src of [A, B]) {
    for (let i = 0; i < 8; i += w) {
      const v = f(w === 2 ? src.getInt16(i, true) : src.getInt32(i, true));
      if (n === 1) R.setUint8(o, v & 0xff); else R.setUint16(o, v & 0xffff, true);
      o += n;
    }
  }
}

/** PUNPCKL and PUNPCKH: interleave lanes of `w` bytes from the low (from = 0) or high (4) halves. */
function unpack(w: number, from: number): void {
  let o = 0;
  for (let i = from; i < from + 4; i += w) {
    for (const src of [A, B]) {
      for (let k = 0; k < w; k++) R.setUint8(o + k, src.getUint8(i + k));
      o += w;
    }
  }
}

/** Two-operand lane instructions: mm = op(mm, mm/m64) (m32 for the PUNPCKL forms). */
export function mmxBinary(c: Cpu, d: Insn): void {
  enterMmx(c);
  load(c, d, 1, B);
  load(c, d, 0, A);
  BINARY[d.mnemonic]();
  setMm(c, d.r0 - MM0, R);
}

/** PSLL/PSRL/PSRA W/D/Q by imm8 or by mm/m64 (the whole 64-bit count). */
export function mmxShift(c: Cpu, d: Insn): void {
  enterMmx(c);
  let count: number;
  if (d.k1 === OK_IMM) count = d.immLo & 0xff;
  else { load(c, d, 1, B); count = B.getUint32(4, true) !== 0 ? 0xffff : B.getUint32(0, true); }
  load(c, d, 0, A);
  const m = d.mnemonic;
  const w = m === Mnemonic.Psllw || m === Mnemonic.Psrlw || m === Mnemonic.Psraw ? 2
    : m === Mnemonic.Pslld || m === Mnemonic.Psrld || m === Mnemonic.Psrad ? 4 : 8;
  const bits = w * 8;
  const left = m === Mnemonic.Psllw || m === Mnemonic.Pslld || m === Mnemonic.Psllq;
  const arith = m === Mnemonic.Psraw || m === Mnemonic.Psrad;
  if (w === 8) {
    const v = A.getBigUint64(0, true);
    R.setBigUint64(0, count > 63 ? 0n : BigInt.asUintN(64, left ? v << BigInt(count) : v >> BigInt(count)), true);
  } else {
    for (let o = 0; o < 8; o += w) {
      let r: number;
      if (arith) {
        const v = w === 2 ? A.getInt16(o, true) : A.getInt32(o, true);
        r = v >> Math.min(count, bits - 1);
      } else {
        const v = w === 2 ? A.getUint16(o, true) : A.getUint32(o, true);
        r = count >= bits ? 0 : left ? v << count : v >>> count;
      }
      if (w === 2) R.setUint16(o, r & 0xffff, true); else R.setUint32(o, r >>> 0, true);
    }
  }
  setMm(c, d.r0 - MM0, R);
}

/** PSHUFW mm, mm/m64, imm8. */
export function pshufw(c: Cpu, d: Insn): void {
  enterMmx(c);
  load(c, d, 1, B);
  const imm = d.immLo & 0xff;
  for (let i = 0; i < 4; i++) R.setUint16(2 * i, B.getUint16(2 * ((imm >> (2 * i)) & 3), true), true);
  setMm(c, d.r0 - MM0, R);
}

/** PINSRW mm, r32/m16, imm8. */
export function pinsrw(c: Cpu, d: Insn): void {
  enterMmx(c);
  load(c, d, 1, B);
  load(c, d, 0, A);
  A.setUint16(2 * (d.immLo & 3), B.getUint16(0, true), true);
  setMm(c, d.r0 - MM0, A);
}

/** PEXTRW r32/r64, mm, imm8 (zero-extended). */
export function pextrw(c: Cpu, d: Insn): void {
  enterMmx(c);
  load(c, d, 1, B);
  c.regs.write(d.s0, d.r0, B.getUint16(2 * (d.immLo & 3), true), 0);
}

/** PMOVMSKB r32/r64, mm. */
export function pmovmskbMm(c: Cpu, d: Insn): void {
  enterMmx(c);
  load(c, d, 1, B);
  let m = 0;
  for (let i = 0; i < 8; i++) m |= (B.getUint8(i) >> 7) << i;
  c.regs.write(d.s0, d.r0, m, 0);
}

/** MASKMOVQ mm1, mm2: the bytes of mm1 whose mask byte in mm2 has bit 7 set, to DS:[rDI]. */
export function maskmovq(c: Cpu, d: Insn): void {
  enterMmx(c);
  load(c, d, 1, A);
  load(c, d, 2, B);
  // The destination is DS:[rDI] (or its segment override), addressed by the address size.
  const u = c.regs.u32;
  const va = d.asz === 8 ? c.regs.addr(RDI) + c.segBase[d.seg] : u[RDI << 1] + c.segBase[d.seg];
  for (let i = 0; i < 8; i++) if ((B.getUint8(i) & 0x80) !== 0) c.mmu.write8(va + i, A.getUint8(i));
}
