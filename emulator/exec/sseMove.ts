/**
 * The SSE2 subset gcc emits for copying and zeroing in freestanding code: MOVD/MOVQ, MOVDQA/MOVDQU,
 * MOVAPS/MOVUPS/MOVAPD/MOVUPD, MOVLPS/MOVHPS/MOVLPD/MOVHPD, MOVSS/MOVSD (moves only), PXOR/XORPS/XORPD,
 * POR/ORPS, PAND/ANDPS, PANDN/ANDNPS, PUNPCKL/H{BW,WD,DQ,QDQ}, PSHUFD, PCMPEQB/W/D, PMOVMSKB,
 * LDMXCSR/STMXCSR. XMM registers are 4 uint32 lanes (RegisterFile.xmm). Aligned forms check alignment.
 */
import type { Cpu } from '../cpu/cpu';
import { Insn, OK_XMM, OK_MEM, OK_REG } from '../decode/insn';
import { ea } from './operands';
import { GuestFault, GP, UD } from '../interrupts/guestFault';
import { CR0_EM, CR0_TS, CR4_OSFXSR } from '../cpu/modes';

const tmp = new Uint32Array(4);
const tmpB = new Uint8Array(tmp.buffer);
const tmp2 = new Uint32Array(4);
const tmp2B = new Uint8Array(tmp2.buffer);

function check(c: Cpu): void {
  if ((c.cr0 & CR0_EM) !== 0 || (c.cr4 & CR4_OSFXSR) === 0) throw new GuestFault(UD);
  if ((c.cr0 & CR0_TS) !== 0) throw new GuestFault(7);
}

/** Load operand `i` (XMM or memory of `bytes`) into tmp (zero-filled above `bytes`). */
function load(c: Cpu, d: Insn, i: number, bytes: number, aligned: boolean, out: Uint32Array): void {
  const k = i === 0 ? d.k0 : d.k1, r = i === 0 ? d.r0 : d.r1;
  if (k === OK_XMM) { const x = c.regs.xmm; out[0] = x[r * 4]; out[1] = x[r * 4 + 1]; out[2] = x[r * 4 + 2]; out[3] = x[r * 4 + 3]; return; }
  if (k === OK_REG) {
    const s = i === 0 ? d.s0 : d.s1;
    out[0] = c.regs.u32[r << 1]; out[1] = s === 8 ? c.regs.u32[(r << 1) | 1] : 0; out[2] = 0; out[3] = 0; return;
  }
  if (k !== OK_MEM) throw new GuestFault(UD);
  const va = ea(c, d);
  if (aligned && (va % 16) !== 0) throw new GuestFault(GP, 0);
  out[0] = 0; out[1] = 0; out[2] = 0; out[3] = 0;
  if (bytes === 4) out[0] = c.mmu.read32(va);
  else { for (let w = 0; w < bytes / 8; w++) { out[2 * w] = c.mmu.read64(va + 8 * w); out[2 * w + 1] = c.mmu.hi; } }
}

function storeXmm(c: Cpu, r: number, v: Uint32Array): void {
  const x = c.regs.xmm; x[r * 4] = v[0]; x[r * 4 + 1] = v[1]; x[r * 4 + 2] = v[2]; x[r * 4 + 3] = v[3];
}

function storeMem(c: Cpu, d: Insn, bytes: number, aligned: boolean, v: Uint32Array): void {
  const va = ea(c, d);
  if (aligned && (va % 16) !== 0) throw new GuestFault(GP, 0);
  if (bytes === 4) { c.mmu.write32(va, v[0]); return; }
  c.mmu.probeWrite(va, bytes);
  for (let w = 0; w < bytes / 8; w++) c.mmu.write64(va + 8 * w, v[2 * w], v[2 * w + 1]);
}

/** 128-bit moves: MOVDQA/MOVDQU/MOVAPS/MOVUPS/MOVAPD/MOVUPD. */
function move128(c: Cpu, d: Insn, aligned: boolean): void {
  check(c);
  load(c, d, 1, 16, aligned, tmp);
  if (d.k0 === OK_XMM) storeXmm(c, d.r0, tmp); else storeMem(c, d, 16, aligned, tmp);
}
export function movAligned(c: Cpu, d: Insn): void { move128(c, d, true); }
export function movUnaligned(c: Cpu, d: Insn): void { move128(c, d, false); }

/** MOVD/MOVQ in every direction: to XMM zero-extends to 128 bits; to GPR/memory stores the low 32/64. */
export function movdq(c: Cpu, d: Insn): void {
  check(c);
  const bytes = d.k0 === OK_XMM ? (d.k1 === OK_XMM ? 8 : (d.k1 === OK_MEM ? d.msize : d.s1)) : (d.k0 === OK_MEM ? d.msize : d.s0);
  load(c, d, 1, bytes, false, tmp);
  if (d.k0 === OK_XMM) {
    if (bytes === 4) { tmp[1] = 0; }
    tmp[2] = 0; tmp[3] = 0;
    storeXmm(c, d.r0, tmp);
  } else if (d.k0 === OK_REG) {
    c.regs.write(bytes, d.r0, tmp[0], tmp[1]);
  } else storeMem(c, d, bytes, false, tmp);
}

/** MOVSS/MOVSD (data movement only): reg-reg merges the low lane(s); a load zeroes the rest; a store writes the low lane(s). */
function movScalar(c: Cpu, d: Insn, bytes: number): void {
  check(c);
  if (d.k0 === OK_XMM && d.k1 === OK_XMM) {
    const x = c.regs.xmm, n = bytes / 4;
    for (let i = 0; i < n; i++) x[d.r0 * 4 + i] = x[d.r1 * 4 + i];
    return;
  }
  if (d.k0 === OK_XMM) { load(c, d, 1, bytes, false, tmp); storeXmm(c, d.r0, tmp); return; }
  load(c, d, 1, 16, false, tmp);
  storeMem(c, d, bytes, false, tmp);
}
export function movss(c: Cpu, d: Insn): void { movScalar(c, d, 4); }
export function movsdXmm(c: Cpu, d: Insn): void { movScalar(c, d, 8); }

/** MOVLPS/MOVLPD/MOVHPS/MOVHPD/MOVHLPS/MOVLHPS: 64-bit halves. `high` selects the XMM half. */
function half(c: Cpu, d: Insn, dstHigh: boolean, srcHigh: boolean): void {
  check(c);
  const x = c.regs.xmm;
  if (d.k0 === OK_XMM) {
    load(c, d, 1, d.k1 === OK_MEM ? 8 : 16, false, tmp);
    const s = srcHigh && d.k1 === OK_XMM ? 2 : 0, t = dstHigh ? 2 : 0;
    x[d.r0 * 4 + t] = tmp[s]; x[d.r0 * 4 + t + 1] = tmp[s + 1];
  } else {
    const s = srcHigh ? 2 : 0;
    tmp[0] = x[d.r1 * 4 + s]; tmp[1] = x[d.r1 * 4 + s + 1];
    storeMem(c, d, 8, false, tmp);
  }
}
export function movlp(c: Cpu, d: Insn): void { half(c, d, false, false); }
export function movhp(c: Cpu, d: Insn): void { half(c, d, d.k0 === OK_XMM, d.k0 !== OK_XMM); }
export function movhlps(c: Cpu, d: Insn): void { half(c, d, false, true); }
export function movlhps(c: Cpu, d: Insn): void { half(c, d, true, false); }

function logic(c: Cpu, d: Insn, op: number): void {
  check(c);
  load(c, d, 1, 16, d.k1 === OK_MEM, tmp);
  const x = c.regs.xmm, b = d.r0 * 4;
  for (let i = 0; i < 4; i++) {
    const a = x[b + i], v = tmp[i];
    x[b + i] = op === 0 ? a ^ v : op === 1 ? a | v : op === 2 ? a & v : ~a & v;
  }
}
export function pxor(c: Cpu, d: Insn): void { logic(c, d, 0); }
export function por(c: Cpu, d: Insn): void { logic(c, d, 1); }
export function pand(c: Cpu, d: Insn): void { logic(c, d, 2); }
export function pandn(c: Cpu, d: Insn): void { logic(c, d, 3); }

/** PUNPCKL/H: interleave elements of `esize` bytes from the low or high halves. */
function unpack(c: Cpu, d: Insn, esize: number, high: boolean): void {
  check(c);
  load(c, d, 1, 16, d.k1 === OK_MEM, tmp2);
  load(c, d, 0, 16, false, tmp);
  const out = new Uint8Array(16);
  const start = high ? 8 : 0;
  for (let i = 0, o = 0; i < 8; i += esize) {
    for (let k = 0; k < esize; k++) out[o++] = tmpB[start + i + k];
    for (let k = 0; k < esize; k++) out[o++] = tmp2B[start + i + k];
  }
  const x = new Uint32Array(out.buffer);
  storeXmm(c, d.r0, x);
}
export function punpcklbw(c: Cpu, d: Insn): void { unpack(c, d, 1, false); }
export function punpcklwd(c: Cpu, d: Insn): void { unpack(c, d, 2, false); }
export function punpckldq(c: Cpu, d: Insn): void { unpack(c, d, 4, false); }
export function punpcklqdq(c: Cpu, d: Insn): void { unpack(c, d, 8, false); }
export function punpckhbw(c: Cpu, d: Insn): void { unpack(c, d, 1, true); }
export function punpckhwd(c: Cpu, d: Insn): void { unpack(c, d, 2, true); }
export function punpckhdq(c: Cpu, d: Insn): void { unpack(c, d, 4, true); }
export function punpckhqdq(c: Cpu, d: Insn): void { unpack(c, d, 8, true); }

export function pshufd(c: Cpu, d: Insn): void {
  check(c);
  load(c, d, 1, 16, d.k1 === OK_MEM, tmp);
  const x = c.regs.xmm, imm = d.immLo & 0xff;
  for (let i = 0; i < 4; i++) x[d.r0 * 4 + i] = tmp[(imm >>> (2 * i)) & 3];
}

function pcmpeq(c: Cpu, d: Insn, esize: number): void {
  check(c);
  load(c, d, 1, 16, d.k1 === OK_MEM, tmp2);
  load(c, d, 0, 16, false, tmp);
  for (let i = 0; i < 16; i += esize) {
    let eq = true;
    for (let k = 0; k < esize; k++) if (tmpB[i + k] !== tmp2B[i + k]) eq = false;
    for (let k = 0; k < esize; k++) tmpB[i + k] = eq ? 0xff : 0;
  }
  storeXmm(c, d.r0, tmp);
}
export function pcmpeqb(c: Cpu, d: Insn): void { pcmpeq(c, d, 1); }
export function pcmpeqw(c: Cpu, d: Insn): void { pcmpeq(c, d, 2); }
export function pcmpeqd(c: Cpu, d: Insn): void { pcmpeq(c, d, 4); }

export function pmovmskb(c: Cpu, d: Insn): void {
  check(c);
  load(c, d, 1, 16, false, tmp);
  let m = 0;
  for (let i = 0; i < 16; i++) if (tmpB[i] & 0x80) m |= 1 << i;
  c.regs.write(d.size, d.r0, m, 0);
}

export function ldmxcsr(c: Cpu, d: Insn): void {
  check(c);
  const v = c.mmu.read32(ea(c, d));
  if (v & 0xffff0000) throw new GuestFault(GP, 0);
  c.mxcsr = v;
}
export function stmxcsr(c: Cpu, d: Insn): void { check(c); c.mmu.write32(ea(c, d), c.mxcsr); }
