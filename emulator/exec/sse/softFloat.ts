/**
 * IEEE 754 binary32/binary64 arithmetic as SSE computes it under MXCSR (Intel SDM vol. 1, 4.8-4.9
 * and 11.5): the four rounding modes, tininess detected after rounding, FTZ, DAZ, and the six
 * exception flags. Values travel as JS numbers (a binary32 is a double that happens to be exact in
 * 24 bits); NaNs never reach the arithmetic here: the bit-level wrappers in floatLanes.ts handle them.
 *
 * How it stays exact with doubles: each operation reduces its operands to significands in [1, 2)
 * and an exponent, computes the round-to-nearest double `m` of the exact result's significand and
 * the sign of the error (exact minus m) with an error-free transformation (TwoSum, Dekker's
 * TwoProduct, or the remainder of a division or square root). `roundResult` then rounds that pair to
 * the destination format: since `m` carries 53 bits and the destination grid is never finer, knowing
 * the error's sign is enough to break ties and to choose the directed neighbour exactly.
 */
import { MX_IE, MX_OE, MX_PE, MX_UE, MX_ZE, MX_MASK_SHIFT, MX_FTZ, MX_RC_SHIFT, RC_DOWN, RC_UP, RC_ZERO, RC_NEAREST } from './mxcsr';

/** A destination format: precision in bits and the exponent range of normal numbers. */
export interface FloatFormat {
  readonly p: number; readonly emin: number; readonly emax: number; readonly max: number;
  /** [2^(emin+1), 2^emax): results the round-to-nearest fast path may take. */
  readonly fastLow: number; readonly fastHigh: number;
}
export const BINARY32: FloatFormat = { p: 24, emin: -126, emax: 127, max: 3.4028234663852886e38, fastLow: 2 ** -125, fastHigh: 2 ** 127 };
export const BINARY64: FloatFormat = { p: 53, emin: -1022, emax: 1023, max: Number.MAX_VALUE, fastLow: 2 ** -1021, fastHigh: 2 ** 1023 };

/**
 * The running state of one instruction: its MXCSR (rounding, FTZ, masks) and the flags raised so far,
 * split into pre-computation (IE DE ZE) and post-computation (OE UE PE) for commitFlags.
 */
export const fp = { mxcsr: 0x1f80, pre: 0, post: 0 };

export function beginFp(mxcsr: number): void { fp.mxcsr = mxcsr; fp.pre = 0; fp.post = 0; }
function rc(): number { return (fp.mxcsr >>> MX_RC_SHIFT) & 3; }

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** 2^n exactly for -1022 <= n <= 1023. */
function pow2(n: number): number { u32[0] = 0; u32[1] = (n + 1023) << 20; return f64[0]; }
/** x * 2^n, exact whenever the result is representable (steps keep every intermediate normal). */
export function ldexp(x: number, n: number): number {
  while (n > 1000) { x *= pow2(1000); n -= 1000; }
  while (n < -1000) { x *= pow2(-1000); n += 1000; }
  return x * pow2(n);
}
/** floor(log2(|x|)) for a finite nonzero double (subnormals included). */
export function exponentOf(x: number): number {
  f64[0] = x;
  const e = (u32[1] >>> 20) & 0x7ff;
  if (e !== 0) return e - 1023;
  f64[0] = x * 18446744073709551616; // 2^64: a subnormal becomes normal
  return ((u32[1] >>> 20) & 0x7ff) - 1023 - 64;
}

// Dekker's TwoProduct for operands below 2^996: p + err == a * b exactly.
let prodErr = 0;
const SPLIT = 134217729; // 2^27 + 1
function twoProduct(a: number, b: number): number {
  const p = a * b;
  let t = SPLIT * a; const ah = t - (t - a), al = a - ah;
  t = SPLIT * b; const bh = t - (t - b), bl = b - bh;
  prodErr = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
  return p;
}

let inexact = false;
/**
 * Round m * 2^s (m positive, with `e` the sign of the exact value minus m) to an integer in the
 * magnitude direction the rounding mode asks for the given sign. Sets `inexact`.
 */
function roundToInteger(neg: boolean, m: number, s: number, e: number): number {
  const mode = rc();
  const awayMode = (mode === RC_UP && !neg) || (mode === RC_DOWN && neg);
  const towardMode = mode === RC_ZERO || (mode === RC_UP && neg) || (mode === RC_DOWN && !neg);
  if (exponentOf(m) + s < -60) { // far below one unit: m*2^s < 2^-59
    inexact = true;
    return awayMode ? 1 : 0;
  }
  const t = ldexp(m, s);
  const n = Math.floor(t), frac = t - n;
  if (frac === 0) {
    inexact = e !== 0;
    if (e > 0 && awayMode) return n + 1;
    if (e < 0 && towardMode) return n - 1;
    return n;
  }
  inexact = true;
  if (awayMode) return n + 1;
  if (towardMode) return n;
  if (frac < 0.5) return n;
  if (frac > 0.5) return n + 1;
  if (e > 0) return n + 1;
  if (e < 0) return n;
  return n % 2 === 0 ? n : n + 1;
}

/**
 * The destination-format result for the exact value (-1)^neg * (m + err) * 2^k, where m is a positive
 * normal double, err has the sign `e` and is below half an ulp of m. Raises OE/UE/PE as SSE does:
 * tininess after rounding, UE with masked underflow only when also inexact, FTZ flushing a tiny
 * result to zero (with UE and PE) when underflow is masked.
 */
export function roundResult(neg: boolean, m: number, k: number, e: number, fmt: FloatFormat): number {
  const p = fmt.p;
  // Fast path: round to nearest, a result well inside the normal range. m is the nearest double of
  // the exact value, so for binary64 it is the answer; for binary32 Math.fround rounds it again,
  // which is right unless m lies on a binary32 midpoint with a nonzero error (the tie then needs e).
  // w is a midpoint exactly when its mirror image 2w - f (exact in double) is a binary32 too.
  const w = k === 0 ? m : k >= -1022 && k <= 1023 ? m * pow2(k) : 0;
  if ((fp.mxcsr & (3 << MX_RC_SHIFT)) === 0 && w >= fmt.fastLow && w < fmt.fastHigh) {
    if (p === 53) {
      if (e !== 0) fp.post |= MX_PE;
      return neg ? -w : w;
    }
    const f = Math.fround(w);
    const mirror = w + (w - f);
    if (f === w || e === 0 || Math.fround(mirror) !== mirror) {
      if (f !== w || e !== 0) fp.post |= MX_PE;
      return neg ? -f : f;
    }
  }
  const ex = exponentOf(m) + k;
  let q = ex - p + 1;
  let n = roundToInteger(neg, m, k - q, e);
  let roundedExp = n >= pow2(p) ? ex + 1 : ex;
  if (n < pow2(p - 1)) { // stepped down from a power of two: the binade below has twice the resolution
    n = pow2(p) - 1; q -= 1; roundedExp = ex - 1;
  }
  const masks = fp.mxcsr >>> MX_MASK_SHIFT;
  // An unmasked overflow or underflow traps; PE then says whether rounding to the destination's
  // precision (exponent unbounded, as a handler would see the scaled result) was inexact.
  const trapPE = inexact ? MX_PE : 0;
  if (roundedExp < fmt.emin) {
    if ((masks & MX_UE) === 0) { fp.post |= MX_UE | trapPE; return neg ? -0 : 0; }
    if ((fp.mxcsr & MX_FTZ) !== 0) {
      fp.post |= MX_UE | MX_PE;
      return neg ? -0 : 0;
    }
    q = fmt.emin - p + 1;
    n = roundToInteger(neg, m, k - q, e);
    if (inexact) fp.post |= MX_UE | MX_PE;
    const v = ldexp(n, q);
    return neg ? -v : v;
  }
  if (roundedExp > fmt.emax) {
    fp.post |= (masks & MX_OE) === 0 ? MX_OE | trapPE : MX_OE | MX_PE;
    const mode = rc();
    const toInf = mode === RC_NEAREST || (mode === RC_UP && !neg) || (mode === RC_DOWN && neg);
    const v = toInf ? Infinity : fmt.max;
    return neg ? -v : v;
  }
  if (inexact) fp.post |= MX_PE;
  const v = ldexp(n, q);
  return neg ? -v : v;
}

/** The sign a zero result of an exact cancellation takes: -0 only when rounding down. */
function cancelZero(): number { return rc() === RC_DOWN ? -0 : 0; }

/** a + b for finite or infinite non-NaN operands; NaN means "invalid, default NaN" (IE raised). */
export function add(a: number, b: number, fmt: FloatFormat): number {
  if (a === Infinity || a === -Infinity || b === Infinity || b === -Infinity) {
    if (a === -b) { fp.pre |= MX_IE; return NaN; }
    return a === Infinity || a === -Infinity ? a : b;
  }
  if (a === 0 && b === 0) return Object.is(a, b) ? a : cancelZero();
  if (a === 0) return roundExact(b, fmt);
  if (b === 0) return roundExact(a, fmt);
  let s = a + b, k = 0, x = a, y = b;
  let bv = s - x;
  // TwoSum needs s and s - x finite: the sum, or the part of it TwoSum attributes to y (as for
  // 1.6e307 - DBL_MAX), can overflow when both operands are above 2^970, and then halving is exact.
  if (!Number.isFinite(s) || !Number.isFinite(bv)) { x = a / 2; y = b / 2; s = x + y; k = 1; bv = s - x; }
  if (s === 0) return cancelZero();
  const err = (x - (s - bv)) + (y - bv); // TwoSum
  const neg = s < 0;
  const e = err === 0 ? 0 : (err > 0) !== neg ? 1 : -1;
  return roundResult(neg, Math.abs(s), k, e, fmt);
}

/** An operand that must pass through the destination rounding unchanged (it is already in format). */
function roundExact(a: number, fmt: FloatFormat): number {
  return roundResult(a < 0, Math.abs(a), 0, 0, fmt);
}

/** |x| in [1e-120, 1e120]: products, quotients and their error terms stay normal doubles. */
function inFastRange(x: number): boolean { return (x > 1e-120 && x < 1e120) || (x < -1e-120 && x > -1e120); }

export function mul(a: number, b: number, fmt: FloatFormat): number {
  const neg = (a < 0 || Object.is(a, -0)) !== (b < 0 || Object.is(b, -0));
  const ai = a === Infinity || a === -Infinity, bi = b === Infinity || b === -Infinity;
  if (ai || bi) {
    if (a === 0 || b === 0) { fp.pre |= MX_IE; return NaN; }
    return neg ? -Infinity : Infinity;
  }
  if (a === 0 || b === 0) return neg ? -0 : 0;
  if (inFastRange(a) && inFastRange(b)) { // no scaling needed: Dekker's split cannot overflow or underflow
    const m = twoProduct(Math.abs(a), Math.abs(b));
    return roundResult(neg, m, 0, Math.sign(prodErr), fmt);
  }
  const ea = exponentOf(a), eb = exponentOf(b);
  const ma = ldexp(Math.abs(a), -ea), mb = ldexp(Math.abs(b), -eb);
  const m = twoProduct(ma, mb);
  return roundResult(neg, m, ea + eb, Math.sign(prodErr), fmt);
}

export function div(a: number, b: number, fmt: FloatFormat): number {
  const neg = (a < 0 || Object.is(a, -0)) !== (b < 0 || Object.is(b, -0));
  const ai = a === Infinity || a === -Infinity, bi = b === Infinity || b === -Infinity;
  if (ai && bi) { fp.pre |= MX_IE; return NaN; }
  if (ai) return neg ? -Infinity : Infinity;
  if (bi) return neg ? -0 : 0;
  if (b === 0) {
    if (a === 0) { fp.pre |= MX_IE; return NaN; }
    fp.pre |= MX_ZE;
    return neg ? -Infinity : Infinity;
  }
  if (a === 0) return neg ? -0 : 0;
  if (inFastRange(a) && inFastRange(b)) {
    const x = Math.abs(a), y = Math.abs(b), q = x / y;
    const ph = twoProduct(q, y);
    return roundResult(neg, q, 0, Math.sign((x - ph) - prodErr), fmt);
  }
  const ea = exponentOf(a), eb = exponentOf(b);
  const ma = ldexp(Math.abs(a), -ea), mb = ldexp(Math.abs(b), -eb);
  const q = ma / mb;
  const ph = twoProduct(q, mb);
  const r = (ma - ph) - prodErr; // sign of ma - q*mb, the sign of the quotient's error
  return roundResult(neg, q, ea - eb, Math.sign(r), fmt);
}

export function sqrt(a: number, fmt: FloatFormat): number {
  if (a === 0) return a;
  if (a < 0) { fp.pre |= MX_IE; return NaN; }
  if (a === Infinity) return a;
  if (a > 1e-250 && a < 1e250) {
    const q = Math.sqrt(a);
    const ph = twoProduct(q, q);
    return roundResult(false, q, 0, Math.sign((a - ph) - prodErr), fmt);
  }
  let ea = exponentOf(a);
  let ma = ldexp(a, -ea);
  if (ea % 2 !== 0) { ma *= 2; ea -= 1; }
  const q = Math.sqrt(ma);
  const ph = twoProduct(q, q);
  const r = (ma - ph) - prodErr;
  return roundResult(false, q, ea / 2, Math.sign(r), fmt);
}

/** A double (exact value, error sign e) rounded to binary32: CVTSD2SS and CVTSI2SS. */
export function narrow(a: number, e: number, fmt: FloatFormat): number {
  if (a === 0 || a === Infinity || a === -Infinity) return a;
  const ea = exponentOf(a);
  return roundResult(a < 0, ldexp(Math.abs(a), -ea), ea, e, fmt);
}

/**
 * Round a finite double to an integer under the rounding mode (or toward zero for the CVTT forms).
 * The caller raises PE when the result differs and is in range (an out-of-range result is IE only).
 */
export function roundToInt(a: number, truncate: boolean): number {
  const mode = truncate ? RC_ZERO : rc();
  let r: number;
  if (mode === RC_ZERO) r = Math.trunc(a);
  else if (mode === RC_DOWN) r = Math.floor(a);
  else if (mode === RC_UP) r = Math.ceil(a);
  else {
    const f = Math.floor(a), d = a - f;
    r = d < 0.5 ? f : d > 0.5 ? f + 1 : (f % 2 === 0 ? f : f + 1);
  }
  return r === 0 ? 0 : r;
}
