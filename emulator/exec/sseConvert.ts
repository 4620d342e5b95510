/**
 * SSE/SSE2 conversions on XMM registers: CVTSI2SS/SD (32- and 64-bit integer sources), CVT(T)SS2SI
 * and CVT(T)SD2SI (32- and 64-bit destinations), CVTSS2SD/CVTSD2SS, CVTPS2PD/CVTPD2PS,
 * CVTDQ2PS/CVT(T)PS2DQ, CVTDQ2PD/CVT(T)PD2DQ. Float-to-integer conversions that are invalid (NaN,
 * infinity, out of range) raise IE and give the "integer indefinite" 0x80000000 (0x8000000000000000);
 * they take DAZ but raise no DE. The forms with an MMX register (CVTPI2PS/PD, CVT(T)PS2PI, CVT(T)PD2PI)
 * reach the MMX state through an MmxAccess the dispatcher supplies.
 */
import { Register } from 'iced-x86';
import type { Cpu } from '../cpu/cpu';
import { Insn, OK_REG, OK_MEM, OK_XMM, OK_OTHER } from '../decode/insn';
import { GuestFault, UD } from '../interrupts/guestFault';
import { ea } from './operands';
import { sseAvailable, commitFlags, MX_DE, MX_IE, MX_PE } from './sse/mxcsr';
import { beginFp, fp, narrow, roundToInt, BINARY32, BINARY64 } from './sse/softFloat';
import { in32, in64, out32, put64, out64, isNaN32, isSNaN32, isNaN64, isSNaN64 } from './sse/floatLanes';
import { src, dst, res, loadSource, loadDest, storeDest, requireXmmDest } from './sse/xmmOperands';

const TWO32 = 4294967296;

/** The signed integer lo/hi (64-bit when `is64`) rounded to `double` or binary32 under MXCSR. */
function fromInt(lo: number, hi: number, is64: boolean, double: boolean): number {
  if (!is64) {
    const v = lo | 0;
    return double ? v : narrow(v, 0, BINARY32);
  }
  const neg = hi >= 0x80000000;
  let mLo = lo >>> 0, mHi = hi >>> 0;
  if (neg) { mLo = (~lo + 1) >>> 0; mHi = (~hi + (mLo === 0 ? 1 : 0)) >>> 0; }
  const m = mHi * TWO32 + mLo; // round to nearest
  const err = (mHi * TWO32 - m) + mLo; // exact (Sterbenz), the sign of the rounding error
  return narrow(neg ? -m : m, Math.sign(err), double ? BINARY64 : BINARY32);
}

/** A source lane as a number for an integer conversion: DAZ applies, DE is not raised. */
function noDenormalFlag(pre: number): void { fp.pre = (fp.pre & ~MX_DE) | (pre & MX_DE); }

const intOut = { lo: 0, hi: 0 };
/** v (a finite or infinite non-NaN number) to a 32- or 64-bit integer in intOut. */
function toInt(v: number, truncate: boolean, is64: boolean): void {
  const r = Number.isFinite(v) ? roundToInt(v, truncate) : NaN;
  const ok = is64 ? r >= -9223372036854775808 && r < 9223372036854775808 : r >= -2147483648 && r <= 2147483647;
  if (!ok) { fp.pre |= MX_IE; intOut.lo = is64 ? 0 : 0x80000000; intOut.hi = is64 ? 0x80000000 : 0; return; }
  if (r !== v) fp.post |= MX_PE;
  const hi = Math.floor(r / TWO32);
  intOut.lo = (r - hi * TWO32) >>> 0;
  intOut.hi = is64 ? hi >>> 0 : 0;
}
function lane32ToInt(a: number, truncate: boolean, is64: boolean): void {
  if (isNaN32(a)) { toInt(NaN, truncate, is64); return; }
  const pre = fp.pre;
  const v = in32(a);
  noDenormalFlag(pre);
  toInt(v, truncate, is64);
}
function lane64ToInt(lo: number, hi: number, truncate: boolean, is64: boolean): void {
  if (isNaN64(hi, lo)) { toInt(NaN, truncate, is64); return; }
  const pre = fp.pre;
  const v = in64(hi, lo);
  noDenormalFlag(pre);
  toInt(v, truncate, is64);
}

/** binary32 lane to binary64 (exact; an SNaN is quieted with IE, the payload kept). */
function widen(a: number): void {
  if (isNaN32(a)) {
    if (isSNaN32(a)) fp.pre |= MX_IE;
    const frac = a & 0x7fffff;
    out64.hi = ((a & 0x80000000) | 0x7ff80000 | (frac >>> 3)) >>> 0;
    out64.lo = ((frac & 7) << 29) >>> 0;
    return;
  }
  put64(in32(a));
}
/** binary64 lane to binary32 under MXCSR (an SNaN is quieted with IE, the payload's top bits kept). */
function shorten(lo: number, hi: number): number {
  if (isNaN64(hi, lo)) {
    if (isSNaN64(hi, lo)) fp.pre |= MX_IE;
    const frac = ((hi & 0xfffff) << 3) | (lo >>> 29);
    return ((hi & 0x80000000) | 0x7fc00000 | frac) >>> 0;
  }
  return out32(narrow(in64(hi, lo), 0, BINARY32));
}

/** CVTSI2SS/CVTSI2SD xmm, r/m32|r/m64. */
function cvtsi2(c: Cpu, d: Insn, double: boolean): void {
  sseAvailable(c);
  requireXmmDest(d);
  let lo: number, hi = 0, is64: boolean;
  if (d.k1 === OK_REG) { is64 = d.s1 === 8; lo = c.regs.u32[d.r1 << 1]; if (is64) hi = c.regs.u32[(d.r1 << 1) | 1]; }
  else if (d.k1 === OK_MEM) {
    const va = ea(c, d);
    is64 = d.msize === 8;
    if (is64) { lo = c.mmu.read64(va); hi = c.mmu.hi; } else lo = c.mmu.read32(va);
  } else throw new GuestFault(UD);
  loadDest(c, d);
  beginFp(c.mxcsr);
  res[0] = dst[0]; res[1] = dst[1]; res[2] = dst[2]; res[3] = dst[3];
  const v = fromInt(lo, hi, is64, double);
  if (double) { put64(v); res[0] = out64.lo; res[1] = out64.hi; } else res[0] = out32(v);
  commitFlags(c, fp.pre, fp.post);
  storeDest(c, d, res);
}
export const cvtsi2ss = (c: Cpu, d: Insn): void => cvtsi2(c, d, false);
export const cvtsi2sd = (c: Cpu, d: Insn): void => cvtsi2(c, d, true);

/** CVT(T)SS2SI / CVT(T)SD2SI r32|r64, xmm/m32|m64. */
function cvt2si(c: Cpu, d: Insn, double: boolean, truncate: boolean): void {
  sseAvailable(c);
  if (d.k0 !== OK_REG || (d.k1 !== OK_XMM && d.k1 !== OK_MEM)) throw new GuestFault(UD);
  loadSource(c, d, double ? 8 : 4, false);
  beginFp(c.mxcsr);
  const is64 = d.s0 === 8;
  if (double) lane64ToInt(src[0], src[1], truncate, is64); else lane32ToInt(src[0], truncate, is64);
  commitFlags(c, fp.pre, fp.post);
  c.regs.write(is64 ? 8 : 4, d.r0, intOut.lo, intOut.hi);
}
export const cvtss2si = (c: Cpu, d: Insn): void => cvt2si(c, d, false, false);
export const cvttss2si = (c: Cpu, d: Insn): void => cvt2si(c, d, false, true);
export const cvtsd2si = (c: Cpu, d: Insn): void => cvt2si(c, d, true, false);
export const cvttsd2si = (c: Cpu, d: Insn): void => cvt2si(c, d, true, true);

/** Float-to-float conversions: scalar forms merge into the destination, packed narrowing zeroes the top. */
function cvtFloat(c: Cpu, d: Insn, kind: 'ss2sd' | 'sd2ss' | 'ps2pd' | 'pd2ps'): void {
  sseAvailable(c);
  requireXmmDest(d);
  loadSource(c, d, kind === 'ss2sd' ? 4 : kind === 'sd2ss' || kind === 'ps2pd' ? 8 : 16, kind === 'pd2ps');
  loadDest(c, d);
  beginFp(c.mxcsr);
  res[0] = dst[0]; res[1] = dst[1]; res[2] = dst[2]; res[3] = dst[3];
  switch (kind) {
    case 'ss2sd': widen(src[0]); res[0] = out64.lo; res[1] = out64.hi; break;
    case 'sd2ss': res[0] = shorten(src[0], src[1]); break;
    case 'ps2pd': {
      const a = src[0], b = src[1];
      widen(a); res[0] = out64.lo; res[1] = out64.hi;
      widen(b); res[2] = out64.lo; res[3] = out64.hi;
      break;
    }
    default:
      res[0] = shorten(src[0], src[1]); res[1] = shorten(src[2], src[3]); res[2] = 0; res[3] = 0;
  }
  commitFlags(c, fp.pre, fp.post);
  storeDest(c, d, res);
}
export const cvtss2sd = (c: Cpu, d: Insn): void => cvtFloat(c, d, 'ss2sd');
export const cvtsd2ss = (c: Cpu, d: Insn): void => cvtFloat(c, d, 'sd2ss');
export const cvtps2pd = (c: Cpu, d: Insn): void => cvtFloat(c, d, 'ps2pd');
export const cvtpd2ps = (c: Cpu, d: Insn): void => cvtFloat(c, d, 'pd2ps');

/** Packed integer <-> float conversions. */
function cvtPacked(c: Cpu, d: Insn, kind: 'dq2ps' | 'ps2dq' | 'tps2dq' | 'dq2pd' | 'pd2dq' | 'tpd2dq'): void {
  sseAvailable(c);
  requireXmmDest(d);
  loadSource(c, d, kind === 'dq2pd' ? 8 : 16, kind !== 'dq2pd');
  beginFp(c.mxcsr);
  switch (kind) {
    case 'dq2ps': for (let i = 0; i < 4; i++) res[i] = out32(fromInt(src[i], 0, false, false)); break;
    case 'ps2dq': case 'tps2dq':
      for (let i = 0; i < 4; i++) { lane32ToInt(src[i], kind === 'tps2dq', false); res[i] = intOut.lo; }
      break;
    case 'dq2pd': {
      const a = src[0] | 0, b = src[1] | 0;
      put64(a); res[0] = out64.lo; res[1] = out64.hi;
      put64(b); res[2] = out64.lo; res[3] = out64.hi;
      break;
    }
    default:
      for (let i = 0; i < 2; i++) { lane64ToInt(src[2 * i], src[2 * i + 1], kind === 'tpd2dq', false); res[i] = intOut.lo; }
      res[2] = 0; res[3] = 0;
  }
  commitFlags(c, fp.pre, fp.post);
  storeDest(c, d, res);
}
export const cvtdq2ps = (c: Cpu, d: Insn): void => cvtPacked(c, d, 'dq2ps');
export const cvtps2dq = (c: Cpu, d: Insn): void => cvtPacked(c, d, 'ps2dq');
export const cvttps2dq = (c: Cpu, d: Insn): void => cvtPacked(c, d, 'tps2dq');
export const cvtdq2pd = (c: Cpu, d: Insn): void => cvtPacked(c, d, 'dq2pd');
export const cvtpd2dq = (c: Cpu, d: Insn): void => cvtPacked(c, d, 'pd2dq');
export const cvttpd2dq = (c: Cpu, d: Insn): void => cvtPacked(c, d, 'tpd2dq');

/**
 * Access to the MMX registers, which live in the x87 state: supplied by the dispatcher, so that these
 * mixed SSE/MMX conversions need no knowledge of how that state is kept.
 */
export interface MmxAccess {
  /** The x87-to-MMX transition an MMX register operand causes (TOP = 0, all tags valid; #MF if pending). */
  enter(c: Cpu): void;
  /** MMX register r as lo/hi uint32 halves into out[0], out[1]. */
  read(c: Cpu, r: number, out: Uint32Array): void;
  write(c: Cpu, r: number, lo: number, hi: number): void;
}
type Handler = (c: Cpu, d: Insn) => void;
const mmxHalves = new Uint32Array(2);

/**
 * CVTPI2PS/CVTPI2PD xmm, mm/m64: two int32 into the low two binary32 lanes (upper half kept, rounded
 * under MXCSR) or into both binary64 lanes (exact). A memory source involves no MMX state; an MMX
 * register source needs `mmx` (without it the form counts as unimplemented through `missing`).
 */
function cvtpi2(c: Cpu, d: Insn, double: boolean, mmx: MmxAccess | null, missing: Handler): void {
  sseAvailable(c);
  requireXmmDest(d);
  let a: number, b: number;
  if (d.k1 === OK_MEM) {
    const va = ea(c, d);
    a = c.mmu.read64(va) | 0; b = c.mmu.hi | 0;
  } else if (d.k1 === OK_OTHER && mmx !== null) {
    mmx.enter(c);
    mmx.read(c, d.r1 - Register.MM0, mmxHalves);
    a = mmxHalves[0] | 0; b = mmxHalves[1] | 0;
  } else { missing(c, d); return; }
  loadDest(c, d);
  beginFp(c.mxcsr);
  res[0] = dst[0]; res[1] = dst[1]; res[2] = dst[2]; res[3] = dst[3];
  if (double) {
    put64(a); res[0] = out64.lo; res[1] = out64.hi;
    put64(b); res[2] = out64.lo; res[3] = out64.hi;
  } else {
    res[0] = out32(fromInt(a, 0, false, false)); res[1] = out32(fromInt(b, 0, false, false));
  }
  commitFlags(c, fp.pre, fp.post);
  storeDest(c, d, res);
}
export function makeCvtpi2(double: boolean, mmx: MmxAccess | null, missing: Handler): Handler {
  return (c, d) => cvtpi2(c, d, double, mmx, missing);
}

/**
 * CVT(T)PS2PI mm, xmm/m64 and CVT(T)PD2PI mm, xmm/m128: two binary32 or binary64 lanes to two int32
 * in an MMX register (integer indefinite on invalid). The destination is always MMX state, so
 * without `mmx` the instruction counts as unimplemented through `missing`.
 */
function cvt2pi(c: Cpu, d: Insn, double: boolean, truncate: boolean, mmx: MmxAccess | null, missing: Handler): void {
  if (mmx === null || d.k0 !== OK_OTHER) { missing(c, d); return; }
  sseAvailable(c);
  loadSource(c, d, double ? 16 : 8, double);
  mmx.enter(c);
  beginFp(c.mxcsr);
  let lo: number, hi: number;
  if (double) {
    lane64ToInt(src[0], src[1], truncate, false); lo = intOut.lo;
    lane64ToInt(src[2], src[3], truncate, false); hi = intOut.lo;
  } else {
    lane32ToInt(src[0], truncate, false); lo = intOut.lo;
    lane32ToInt(src[1], truncate, false); hi = intOut.lo;
  }
  commitFlags(c, fp.pre, fp.post);
  mmx.write(c, d.r0 - Register.MM0, lo, hi);
}
export function makeCvt2pi(double: boolean, truncate: boolean, mmx: MmxAccess | null, missing: Handler): Handler {
  return (c, d) => cvt2pi(c, d, double, truncate, mmx, missing);
}
