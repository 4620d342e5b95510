/**
 * Multiply and divide: MUL, IMUL (one-, two- and three-operand forms), DIV, IDIV (Intel SDM vol. 2).
 *
 * Result placement (see aluResult.ts):
 * - mul1/imul1: res.lo/hi = low half (AL, AX, EAX, RAX), res.lo2/hi2 = high half (AH, DX, EDX, RDX).
 *   For size 8 that is the 128-bit product (hi2:lo2:hi:lo).
 * - imul2 (two- and three-operand IMUL): res.lo/hi = the product truncated to size.
 * - div/idiv: the dividend is passed as its low half (AL/AX/EAX/RAX) and high half (AH/DX/EDX/RDX),
 *   each truncated to size; res.lo/hi = quotient, res.lo2/hi2 = remainder. They return false for #DE
 *   (divisor 0 or quotient out of range); res and flags are then untouched.
 *
 * Flags: MUL/IMUL set CF = OF = (the high half is significant); SF, ZF, AF, PF are undefined and this
 * code leaves them unchanged. DIV/IDIV leave all six undefined; this code sets SF = ZF = PF = 0, AF = 1
 * and keeps CF and OF. Both choices are what the AMD EPYC host that recorded the goldens does
 * (hostCpuUndefined.test.ts); the differential tests mask undefined flags, so an Intel host passes too.
 *
 * No bigint: a 32x32 product is Math.imul for the low word plus the rounded double product for the
 * high word (see mul32), 64x64 -> 128 is four of those; 128/64 division is long division on 16-bit
 * limbs when the divisor fits in 32 bits and shift-subtract on (lo, hi) halves otherwise. Measured
 * (Node 20, this 2-core machine under load, best of 7 runs of 2M ops, random operands): MUL r64
 * 90 ns vs 234 ns for the same product with bigint; IMUL r64 of two sign-extended 32-bit values 9 ns
 * (fast path), of full 64-bit values 204 ns; DIV r64 with a 32-bit divisor 124 ns, with a wider one
 * 449 ns vs 390 ns with bigint (division is rare; kept number-only so the hot path never touches bigint).
 */
import { FlagState, CF, OF, AF, SF, ZF, PF } from '../cpu/flags';
import { res, SIZE_MASK } from './aluResult';

const CF_OF = CF | OF;
const DIV_FLAGS = SF | ZF | AF | PF;

// Scratch outputs (module-level so that nothing allocates).
let pLo = 0, pHi = 0; // 64-bit product of mul32
let w0 = 0, w1 = 0, w2 = 0, w3 = 0; // 128-bit value, 32-bit words, w0 least significant
let qLo = 0, qHi = 0, rmLo = 0, rmHi = 0; // 64-bit quotient / remainder

/**
 * Unsigned 32x32 -> 64 into pLo/pHi. The low word is exact from Math.imul. The double product a*b is
 * within 2^11 of the true product (53-bit mantissa, product < 2^64), so (a*b - low) / 2^32 is within
 * 2^-21 of the integer high word and rounding recovers it exactly.
 */
function mul32(a: number, b: number): void {
  a >>>= 0; b >>>= 0;
  const lo = Math.imul(a, b) >>> 0;
  pLo = lo;
  pHi = Math.round((a * b - lo) / 0x100000000) >>> 0;
}

/** Unsigned 64x64 -> 128 into w0..w3. */
function mul64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  mul32(aLo, bLo);
  const x0 = pLo, x1 = pHi;
  mul32(aLo, bHi);
  const y0 = pLo, y1 = pHi;
  mul32(aHi, bLo);
  const z0 = pLo, z1 = pHi;
  mul32(aHi, bHi);
  const u0 = pLo, u1 = pHi;
  w0 = x0;
  let s = x1 + y0 + z0; // < 3 * 2^32
  w1 = s >>> 0;
  s = Math.floor(s / 0x100000000) + y1 + z1 + u0;
  w2 = s >>> 0;
  w3 = (Math.floor(s / 0x100000000) + u1) >>> 0;
}

/** Two's complement of the 128-bit w0..w3 in place. */
function neg128(): void {
  w0 = ~w0 >>> 0; w1 = ~w1 >>> 0; w2 = ~w2 >>> 0; w3 = ~w3 >>> 0;
  let s = w0 + 1; w0 = s >>> 0;
  if (s > 0xffffffff) { s = w1 + 1; w1 = s >>> 0; if (s > 0xffffffff) { s = w2 + 1; w2 = s >>> 0; if (s > 0xffffffff) w3 = (w3 + 1) >>> 0; } }
}

/** CF = OF = overflow; SF, ZF, AF, PF unchanged. */
function mulFlags(f: FlagState, overflow: boolean): void {
  f.setStatus(CF_OF, overflow ? CF_OF : 0);
}

/** One-operand MUL: (high:low) = a * b, unsigned. */
export function mul1(f: FlagState, size: number, aLo: number, aHi: number, bLo: number, bHi: number): void {
  let lo: number, hi: number, lo2: number, hi2: number;
  if (size === 8) {
    mul64(aLo >>> 0, aHi >>> 0, bLo >>> 0, bHi >>> 0);
    lo = w0; hi = w1; lo2 = w2; hi2 = w3;
  } else if (size === 4) {
    mul32(aLo, bLo);
    lo = pLo; hi = 0; lo2 = pHi; hi2 = 0;
  } else {
    const p = (aLo & SIZE_MASK[size]) * (bLo & SIZE_MASK[size]); // < 2^32
    const sh = size === 1 ? 8 : 16;
    lo = p & SIZE_MASK[size]; hi = 0; lo2 = p >>> sh; hi2 = 0;
  }
  res.lo = lo; res.hi = hi; res.lo2 = lo2; res.hi2 = hi2;
  mulFlags(f, (lo2 | hi2) !== 0);
}

/** Signed 64x64 -> 128 into w0..w3 (inputs as uint32 halves). */
function imul64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  const na = (aHi & 0x80000000) !== 0, nb = (bHi & 0x80000000) !== 0;
  if (na) { aLo = (~aLo + 1) >>> 0; aHi = (~aHi + (aLo === 0 ? 1 : 0)) >>> 0; }
  if (nb) { bLo = (~bLo + 1) >>> 0; bHi = (~bHi + (bLo === 0 ? 1 : 0)) >>> 0; }
  mul64(aLo >>> 0, aHi >>> 0, bLo >>> 0, bHi >>> 0);
  if (na !== nb) neg128();
}

/**
 * Whether the signed 64x64 product does not fit in 64 bits (IMUL r64's CF and OF), number-only; the
 * 128-bit product is left in w0..w3.
 */
export function imul64Overflows(aLo: number, aHi: number, bLo: number, bHi: number): boolean {
  imul64(aLo >>> 0, aHi >>> 0, bLo >>> 0, bHi >>> 0);
  const ext = (w1 & 0x80000000) !== 0 ? 0xffffffff : 0;
  return w2 !== ext || w3 !== ext;
}

/** Signed 32x32 -> 64 into pLo/pHi. */
function imul32(a: number, b: number): void {
  const sa = a | 0, sb = b | 0;
  mul32(Math.abs(sa), Math.abs(sb));
  if ((sa < 0) !== (sb < 0)) {
    pLo = (~pLo + 1) >>> 0;
    pHi = (~pHi + (pLo === 0 ? 1 : 0)) >>> 0;
  }
}

/** Sign-extend an 8- or 16-bit value. */
function sext(x: number, size: number): number {
  return size === 1 ? (x << 24) >> 24 : size === 2 ? (x << 16) >> 16 : x | 0;
}

/** One-operand IMUL: (high:low) = a * b, signed. */
export function imul1(f: FlagState, size: number, aLo: number, aHi: number, bLo: number, bHi: number): void {
  let lo: number, hi: number, lo2: number, hi2: number, overflow: boolean;
  if (size === 8) {
    overflow = imul64Overflows(aLo, aHi, bLo, bHi); // the 128-bit product stays in w0..w3
    lo = w0; hi = w1; lo2 = w2; hi2 = w3;
  } else if (size === 4) {
    imul32(aLo, bLo);
    lo = pLo; hi = 0; lo2 = pHi; hi2 = 0;
    overflow = pHi !== ((pLo & 0x80000000) !== 0 ? 0xffffffff : 0);
  } else {
    const p = sext(aLo, size) * sext(bLo, size); // |p| <= 2^30
    const m = SIZE_MASK[size], sh = size === 1 ? 8 : 16;
    lo = p & m; hi = 0; lo2 = (p >> sh) & m; hi2 = 0;
    overflow = sext(lo, size) !== p;
  }
  res.lo = lo; res.hi = hi; res.lo2 = lo2; res.hi2 = hi2;
  mulFlags(f, overflow);
}

/** Two- and three-operand IMUL: the product truncated to size (2, 4 or 8; 1 is accepted too). */
export function imul2(f: FlagState, size: number, aLo: number, aHi: number, bLo: number, bHi: number): void {
  if (size === 8 && (aHi >>> 0) === ((aLo >> 31) >>> 0) && (bHi >>> 0) === ((bLo >> 31) >>> 0)) {
    // Both operands are sign-extended 32-bit values (the common case: indexes, sizes, small
    // constants): the 64-bit product of two int32 never overflows 64 bits.
    imul32(aLo, bLo);
    res.lo = pLo; res.hi = pHi; res.lo2 = 0; res.hi2 = 0;
    mulFlags(f, false);
    return;
  }
  imul1(f, size, aLo, aHi, bLo, bHi);
  // imul1 already left the truncated product in res.lo/hi and the flags; the high half is not a result.
  res.lo2 = 0; res.hi2 = 0;
}

/** The quotient's high half and the remainder of udiv32 (beside its return value). */
export const divOut = { hi: 0, rem: 0 };

/**
 * (r:aHi:aLo) / d for uint32 inputs with r < d, d > 0: returns the low 32 bits of the quotient (as
 * int32); divOut gets its high half and the remainder. Long division by four 16-bit digits: each
 * step divides r * 2^16 + digit < 2^48 by d, exact in doubles. The JIT's inline DIV calls it too.
 */
export function udiv32(r: number, aHi: number, aLo: number, d: number): number {
  let x = r * 65536 + (aHi >>> 16);
  const q3 = Math.floor(x / d); r = x - q3 * d;
  x = r * 65536 + (aHi & 0xffff);
  const q2 = Math.floor(x / d); r = x - q2 * d;
  x = r * 65536 + (aLo >>> 16);
  const q1 = Math.floor(x / d); r = x - q1 * d;
  x = r * 65536 + (aLo & 0xffff);
  const q0 = Math.floor(x / d);
  divOut.rem = x - q0 * d;
  divOut.hi = (q3 << 16) | q2;
  return (q1 << 16) | q0;
}

/**
 * Unsigned (n3:n2:n1:n0) / (dHi:dLo), 32-bit words, assuming (n3:n2) < (dHi:dLo) so the quotient fits in
 * 64 bits. Quotient into qLo/qHi, remainder into rmLo/rmHi.
 */
function udiv128by64(n0: number, n1: number, n2: number, n3: number, dLo: number, dHi: number): void {
  if ((n3 | n2) === 0 && n1 < 0x100000 && dHi < 0x100000) {
    // Dividend and divisor below 2^52 (the common case: divisions of small values): one double
    // division. Both are exact, the rounded quotient's floor is off by at most one, and
    // q * d <= dividend + d < 2^53 stays exact, so the remainder corrects it.
    const n = n1 * 0x100000000 + n0, d = dHi * 0x100000000 + dLo;
    let q = Math.floor(n / d);
    let r = n - q * d;
    if (r < 0) { q--; r += d; } else if (r >= d) { q++; r -= d; }
    qLo = q >>> 0; qHi = Math.floor(q / 0x100000000); rmLo = r >>> 0; rmHi = Math.floor(r / 0x100000000);
    return;
  }
  if (dHi === 0) {
    // (n3:n2) < d < 2^32, so n3 = 0 and n2 is the first remainder.
    qLo = udiv32(n2, n1, n0, dLo) >>> 0; qHi = divOut.hi >>> 0; rmLo = divOut.rem; rmHi = 0;
    return;
  }
  // Shift-subtract, one quotient bit per step, remainder kept in (rH:rL) with a 65th bit `top`.
  let rL = n2 >>> 0, rH = n3 >>> 0;
  let ql = 0, qh = 0;
  for (let i = 63; i >= 0; i--) {
    const inBit = i >= 32 ? (n1 >>> (i - 32)) & 1 : (n0 >>> i) & 1;
    const top = rH >>> 31;
    rH = ((rH << 1) | (rL >>> 31)) >>> 0;
    rL = ((rL << 1) | inBit) >>> 0;
    if (top !== 0 || rH > dHi || (rH === dHi && rL >= dLo)) {
      const s = rL - dLo;
      rL = s >>> 0;
      rH = (rH - dHi - (s < 0 ? 1 : 0)) >>> 0;
      if (i >= 32) qh |= 1 << (i - 32); else ql |= 1 << i;
    }
  }
  qLo = ql >>> 0; qHi = qh >>> 0; rmLo = rL; rmHi = rH;
}

/** Unsigned DIV of (hi:lo) by b. Returns false for #DE. */
export function div(f: FlagState, size: number, loLo: number, loHi: number, hiLo: number, hiHi: number,
  bLo: number, bHi: number): boolean {
  if (size === 8) {
    bLo >>>= 0; bHi >>>= 0; hiLo >>>= 0; hiHi >>>= 0;
    if ((bLo | bHi) === 0) return false;
    // The quotient fits in 64 bits iff the high half of the dividend is below the divisor.
    if (hiHi > bHi || (hiHi === bHi && hiLo >= bLo)) return false;
    udiv128by64(loLo >>> 0, loHi >>> 0, hiLo, hiHi, bLo, bHi);
    res.lo = qLo; res.hi = qHi; res.lo2 = rmLo; res.hi2 = rmHi;
    f.setStatus(DIV_FLAGS, AF);
    return true;
  }
  const m = SIZE_MASK[size];
  const d = (bLo & m) >>> 0;
  if (d === 0) return false;
  const h = (hiLo & m) >>> 0;
  if (h >= d) return false;
  if (size === 4) {
    udiv128by64(loLo >>> 0, h, 0, 0, d, 0);
    res.lo = qLo; res.hi = 0; res.lo2 = rmLo; res.hi2 = 0;
    f.setStatus(DIV_FLAGS, AF);
    return true;
  }
  const n = h * (size === 1 ? 0x100 : 0x10000) + (loLo & m); // < 2^32
  const q = Math.floor(n / d);
  res.lo = q; res.hi = 0; res.lo2 = n - q * d; res.hi2 = 0;
  f.setStatus(DIV_FLAGS, AF);
  return true;
}

/** Signed IDIV of (hi:lo) by b (quotient rounds toward 0, remainder has the dividend's sign). False for #DE. */
export function idiv(f: FlagState, size: number, loLo: number, loHi: number, hiLo: number, hiHi: number,
  bLo: number, bHi: number): boolean {
  if (size === 8) {
    if ((hiLo | 0) === (loHi >> 31) && (hiHi | 0) === (loHi >> 31) && (loHi | 0) >= -0x100000 && (loHi | 0) < 0x100000 &&
      (bHi | 0) >= -0x100000 && (bHi | 0) < 0x100000 && (bLo | bHi) !== 0) {
      // (hi:lo) is lo sign-extended (CQO's dividend) and |lo|, |b| < 2^52: one double division,
      // truncated toward zero, exact as in udiv128by64; the quotient cannot overflow.
      const n = (loHi | 0) * 0x100000000 + (loLo >>> 0), d = (bHi | 0) * 0x100000000 + (bLo >>> 0);
      let q = Math.trunc(n / d);
      let r = n - q * d;
      // The remainder takes the dividend's sign and is smaller than |d|.
      const ad = Math.abs(d), sq = (n < 0) !== (d < 0) ? -1 : 1;
      if (r !== 0 && (r < 0) !== (n < 0)) { q -= sq; r += sq * d; } else if (Math.abs(r) >= ad) { q += sq; r -= sq * d; }
      res.lo = q >>> 0; res.hi = Math.floor(q / 0x100000000) >>> 0; res.lo2 = r >>> 0; res.hi2 = Math.floor(r / 0x100000000) >>> 0;
      f.setStatus(DIV_FLAGS, AF);
      return true;
    }
    let n0 = loLo >>> 0, n1 = loHi >>> 0, n2 = hiLo >>> 0, n3 = hiHi >>> 0;
    let dLo = bLo >>> 0, dHi = bHi >>> 0;
    if ((dLo | dHi) === 0) return false;
    const nNeg = (n3 & 0x80000000) !== 0, dNeg = (dHi & 0x80000000) !== 0;
    if (nNeg) { w0 = n0; w1 = n1; w2 = n2; w3 = n3; neg128(); n0 = w0; n1 = w1; n2 = w2; n3 = w3; }
    if (dNeg) { dLo = (~dLo + 1) >>> 0; dHi = (~dHi + (dLo === 0 ? 1 : 0)) >>> 0; }
    // |n| / |d| must fit in 64 bits unsigned first, then in the signed range.
    if (n3 > dHi || (n3 === dHi && n2 >= dLo)) return false;
    udiv128by64(n0, n1, n2, n3, dLo, dHi);
    let ql = qLo, qh = qHi, rl = rmLo, rh = rmHi;
    if (nNeg !== dNeg) {
      if (qh > 0x80000000 || (qh === 0x80000000 && ql !== 0)) return false; // below -2^63
      ql = (~ql + 1) >>> 0; qh = (~qh + (ql === 0 ? 1 : 0)) >>> 0;
    } else if (qh >= 0x80000000) return false; // above 2^63 - 1
    if (nNeg) { rl = (~rl + 1) >>> 0; rh = (~rh + (rl === 0 ? 1 : 0)) >>> 0; }
    res.lo = ql; res.hi = qh; res.lo2 = rl; res.hi2 = rh;
    f.setStatus(DIV_FLAGS, AF);
    return true;
  }
  const m = SIZE_MASK[size];
  const d = size === 4 ? bLo | 0 : sext(bLo & m, size);
  if (d === 0) return false;
  if (size === 4) {
    // 64-bit signed dividend (hi:lo): magnitude via halves, then the 16-bit-limb unsigned division.
    let nLo = loLo >>> 0, nHi = hiLo >>> 0;
    const nNeg = (nHi & 0x80000000) !== 0;
    if (nNeg) { nLo = (~nLo + 1) >>> 0; nHi = (~nHi + (nLo === 0 ? 1 : 0)) >>> 0; }
    const ad = Math.abs(d);
    if (nHi >= ad) return false; // |quotient| >= 2^32
    udiv128by64(nLo, nHi, 0, 0, ad, 0);
    const neg = nNeg !== (d < 0);
    if (neg ? qLo > 0x80000000 : qLo > 0x7fffffff) return false;
    res.lo = (neg ? -qLo : qLo) >>> 0; res.hi = 0;
    res.lo2 = (nNeg ? -rmLo : rmLo) >>> 0; res.hi2 = 0;
    f.setStatus(DIV_FLAGS, AF);
    return true;
  }
  const sh = size === 1 ? 8 : 16;
  const n = sext(hiLo & m, size) * (1 << sh) + (loLo & m); // signed double-width dividend
  const q = Math.trunc(n / d);
  const lim = size === 1 ? 0x80 : 0x8000;
  if (q >= lim || q < -lim) return false;
  const r = n - q * d;
  res.lo = q & m; res.hi = 0; res.lo2 = r & m; res.hi2 = 0;
  f.setStatus(DIV_FLAGS, AF);
  return true;
}
