/**
 * 80-bit extended-precision soft-float, as the x87 FPU computes it (Intel SDM vol. 1 ch. 4 and 8).
 * Values are {s, e, m}: sign bit, 15-bit biased exponent field, 64-bit significand with its explicit
 * integer bit (bigint). Every operation computes the exact result as M * 2^E (bigint M) plus a
 * sticky bit, then rounds once (`roundPack`) under the precision control (24/53/64 bits) and the
 * rounding control of the environment, setting the exception flags and C1 (round-up) in it.
 * x87 is not a hot path; bigint keeps the arithmetic exact and short.
 *
 * x87 facts this follows: precision control narrows the significand but keeps the 15-bit exponent
 * range; unmasked overflow/underflow deliver the rounded result with the exponent biased by -/+24576
 * (register destinations); tininess is detected before rounding (checked against the host CPU);
 * unnormals, pseudo-infinities and pseudo-NaNs are "unsupported" operands (invalid operation);
 * pseudo-denormals are accepted as denormals; the default NaN ("real indefinite") is
 * -QNaN 0xC000000000000000.
 */

export interface F80 { s: number; e: number; m: bigint }

/** Exception flag bits as in the status word. */
export const FE_IE = 0x01, FE_DE = 0x02, FE_ZE = 0x04, FE_OE = 0x08, FE_UE = 0x10, FE_PE = 0x20, FE_SF = 0x40;

/** Rounding control values (control word bits 10-11). */
export const RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_CHOP = 3;

/** Operand classes. */
export const K_ZERO = 0, K_DENORMAL = 1, K_NORMAL = 2, K_INF = 3, K_QNAN = 4, K_SNAN = 5, K_UNSUPPORTED = 6;

const BIT63 = 1n << 63n, BIT62 = 1n << 62n, M64 = (1n << 64n) - 1n;

/** Rounding environment and the flags an operation raised (callers reset `flags`/`c1`). */
export class FpEnv {
  rc = RC_NEAREST;
  /** Significand precision in bits: 24, 53 or 64. */
  pc = 64;
  /** Exception mask bits (control word bits 0-5). */
  masks = 0x3f;
  flags = 0;
  /** Set when the rounded result's magnitude was increased (status word C1 after a precision exception). */
  c1 = 0;
}

export const INDEFINITE: F80 = { s: 1, e: 0x7fff, m: 0xc000000000000000n };
export const f80 = (s: number, e: number, m: bigint): F80 => ({ s, e, m });
export const zero = (s: number): F80 => ({ s, e: 0, m: 0n });
export const inf = (s: number): F80 => ({ s, e: 0x7fff, m: BIT63 });

export function classify(a: F80): number {
  if (a.e === 0x7fff) {
    if ((a.m & BIT63) === 0n) return K_UNSUPPORTED;
    if ((a.m & (BIT63 - 1n)) === 0n) return K_INF;
    return (a.m & BIT62) !== 0n ? K_QNAN : K_SNAN;
  }
  if (a.e === 0) return a.m === 0n ? K_ZERO : K_DENORMAL;
  return (a.m & BIT63) === 0n ? K_UNSUPPORTED : K_NORMAL;
}
export const isNaN80 = (k: number): boolean => k === K_QNAN || k === K_SNAN;

export function bitLength(v: bigint): number {
  // v > 0
  let n = 0;
  let x = v;
  while (x >= 1n << 256n) { x >>= 256n; n += 256; }
  while (x >= 1n << 32n) { x >>= 32n; n += 32; }
  let lo = Number(x);
  while (lo >= 1) { lo = Math.floor(lo / 2); n++; }
  return n;
}

/** Exact value of a finite operand as M * 2^E (pseudo-denormals have exponent 1, as the hardware reads them). */
export function exponentOf(a: F80): number { return (a.e === 0 ? 1 : a.e) - 16383 - 63; }

/** Quiet a NaN (set the significand's bit 62). */
export const quiet = (a: F80): F80 => ({ s: a.s, e: a.e, m: a.m | BIT62 });

/**
 * NaN/unsupported handling common to the two-operand arithmetic: returns the result when an operand is
 * a NaN or unsupported (SDM table 4-7: the QNaN of a QNaN/SNaN pair, else the larger significand),
 * or null when both operands are numbers.
 */
export function propagateNaN2(a: F80, b: F80, env: FpEnv): F80 | null {
  const ka = classify(a), kb = classify(b);
  if (ka === K_UNSUPPORTED || kb === K_UNSUPPORTED) { env.flags |= FE_IE; return INDEFINITE; }
  const na = isNaN80(ka), nb = isNaN80(kb);
  if (!na && !nb) return null;
  if (ka === K_SNAN || kb === K_SNAN) env.flags |= FE_IE;
  if (na && nb) {
    if (ka === K_QNAN && kb === K_SNAN) return a;
    if (ka === K_SNAN && kb === K_QNAN) return b;
    const qa = a.m | BIT62, qb = b.m | BIT62;
    if (qa > qb) return quiet(a);
    if (qb > qa) return quiet(b);
    return quiet(a.s < b.s ? a : b);
  }
  return quiet(na ? a : b);
}

/** One-operand NaN/unsupported handling; null when `a` is a number. */
export function propagateNaN1(a: F80, env: FpEnv): F80 | null {
  const k = classify(a);
  if (k === K_UNSUPPORTED) { env.flags |= FE_IE; return INDEFINITE; }
  if (k === K_SNAN) { env.flags |= FE_IE; return quiet(a); }
  if (k === K_QNAN) return a;
  return null;
}

/** Format description for rounding: precision (with the leading bit), exponent bias and max field. */
export interface Format { p: number; bias: number; maxE: number }
export const FMT80: Format = { p: 64, bias: 16383, maxE: 0x7fff };
export const FMT64: Format = { p: 53, bias: 1023, maxE: 0x7ff };
export const FMT32: Format = { p: 24, bias: 127, maxE: 0xff };

/** Result of rounding into a format: field exponent (0 = denormal/zero) and the p-bit significand. */
interface Rounded { e: number; q: bigint; inexact: boolean; up: boolean }

/** Round M * 2^E (with `sticky` below it) into precision p, lowest field exponent `minE` (1, or -inf). */
function roundTo(s: number, M: bigint, E: number, sticky: boolean, p: number, bias: number, clampLow: boolean,
  rc: number): Rounded {
  const n = bitLength(M);
  let be = n - 1 + E + bias; // field exponent of the leading bit, unbounded
  const ef = clampLow && be < 1 ? 1 : be;
  const lsbExp = ef - bias - (p - 1);
  const shift = lsbExp - E;
  let q: bigint;
  let inexact = sticky;
  let up = false;
  if (shift <= 0) {
    q = M << BigInt(-shift);
    if (sticky) up = roundsUp(s, rc, false, false, true, false);
  } else {
    const sh = BigInt(shift);
    q = M >> sh;
    const rem = M & ((1n << sh) - 1n);
    const half = 1n << (sh - 1n);
    inexact = rem !== 0n || sticky;
    if (inexact) {
      up = roundsUp(s, rc, rem > half || (rem === half && sticky), rem === half && !sticky, true, (q & 1n) === 1n);
    }
  }
  if (up) q += 1n;
  be = ef;
  if (q >> BigInt(p) !== 0n) { q >>= 1n; be++; }
  else if (clampLow && ef === 1 && (q >> BigInt(p - 1)) === 0n) be = 0;
  return { e: be, q, inexact, up };
}

function roundsUp(s: number, rc: number, aboveHalf: boolean, exactlyHalf: boolean, nonzero: boolean, odd: boolean): boolean {
  switch (rc) {
    case RC_NEAREST: return aboveHalf || (exactlyHalf && odd);
    case RC_UP: return nonzero && s === 0;
    case RC_DOWN: return nonzero && s === 1;
    default: return false;
  }
}

/** The largest finite value of a format at precision p. */
function maxFinite(s: number, fmt: Format, p: number): Rounded {
  return { e: fmt.maxE - 1, q: (1n << BigInt(p)) - 1n, inexact: true, up: false };
}

/** Whether an overflowing result becomes infinity (else the largest finite value) under `rc`. */
function overflowToInf(s: number, rc: number): boolean {
  return rc === RC_NEAREST || (rc === RC_UP && s === 0) || (rc === RC_DOWN && s === 1);
}

/**
 * Round an exact nonzero value into a format with x87 exception semantics. `p` is the precision (the
 * precision control for 80-bit arithmetic). Returns the packed parts or null when an unmasked
 * overflow/underflow leaves a memory destination unwritten (`biasAdjust` false).
 */
export function roundPackParts(s: number, M: bigint, E: number, sticky: boolean, fmt: Format, p: number,
  env: FpEnv, biasAdjust: boolean): { s: number; e: number; q: bigint } | null {
  const r = roundTo(s, M, E, sticky, p, fmt.bias, true, env.rc);
  const n = bitLength(M);
  const tiny = n - 1 + E + fmt.bias < 1;
  if (r.e >= fmt.maxE) {
    if ((env.masks & FE_OE) === 0) {
      env.flags |= FE_OE;
      if (!biasAdjust) return null;
      const u = roundTo(s, M, E - 24576, sticky, p, fmt.bias, false, env.rc);
      if (u.inexact) { env.flags |= FE_PE; if (u.up) env.c1 = 1; }
      return { s, e: u.e, q: u.q };
    }
    env.flags |= FE_OE | FE_PE;
    if (overflowToInf(s, env.rc)) { env.c1 = 1; return { s, e: fmt.maxE, q: 1n << BigInt(p - 1) }; }
    const mx = maxFinite(s, fmt, p);
    return { s, e: mx.e, q: mx.q };
  }
  if (tiny) {
    if ((env.masks & FE_UE) === 0) {
      env.flags |= FE_UE;
      if (!biasAdjust) return null;
      const u = roundTo(s, M, E + 24576, sticky, p, fmt.bias, false, env.rc);
      if (u.inexact) { env.flags |= FE_PE; if (u.up) env.c1 = 1; }
      return { s, e: u.e, q: u.q };
    }
    if (r.inexact) env.flags |= FE_UE;
  }
  if (r.inexact) { env.flags |= FE_PE; if (r.up) env.c1 = 1; }
  return { s, e: r.e, q: r.q };
}

/** Round an exact value into an 80-bit register value at the environment's precision (`pc` or 64). */
export function roundPack80(s: number, M: bigint, E: number, sticky: boolean, env: FpEnv, usePc = true): F80 {
  if (M === 0n) return zero(s);
  const p = usePc ? env.pc : 64;
  const r = roundPackParts(s, M, E, sticky, FMT80, p, env, true)!;
  return { s, e: r.e, m: r.q << BigInt(64 - p) };
}

// ---- arithmetic ---------------------------------------------------------------------------------

/** Exact-zero sign of x - x under `rc` (IEEE 754: -0 only when rounding down). */
const zeroSumSign = (env: FpEnv): number => (env.rc === RC_DOWN ? 1 : 0);

/** Denormal-operand check: raises DE; returns true when DE is unmasked (the operation is suppressed). */
function denormalOperand(env: FpEnv, ...ks: number[]): boolean {
  for (const k of ks) if (k === K_DENORMAL) { env.flags |= FE_DE; return (env.masks & FE_DE) === 0; }
  return false;
}

/** Sentinel returned when an unmasked pre-computation exception suppresses the result. */
export const NO_RESULT: F80 = { s: 0, e: -1, m: 0n };
const invalid = (env: FpEnv): F80 => { env.flags |= FE_IE; return (env.masks & FE_IE) === 0 ? NO_RESULT : INDEFINITE; };
/** After NaN propagation: an unmasked IE suppresses the result. */
function nanResult(r: F80, env: FpEnv, before: number): F80 {
  if ((env.flags & ~before & FE_IE) !== 0 && (env.masks & FE_IE) === 0) return NO_RESULT;
  return r;
}

export function add(a: F80, b: F80, negateB: boolean, env: FpEnv): F80 {
  const before = env.flags;
  const n = propagateNaN2(a, b, env);
  if (n !== null) return nanResult(n, env, before);
  if (negateB) b = { s: b.s ^ 1, e: b.e, m: b.m };
  const ka = classify(a), kb = classify(b);
  if (ka === K_INF || kb === K_INF) {
    if (ka === K_INF && kb === K_INF && a.s !== b.s) return invalid(env);
    return ka === K_INF ? a : b;
  }
  if (denormalOperand(env, ka, kb)) return NO_RESULT;
  if (ka === K_ZERO && kb === K_ZERO) return zero(a.s === b.s ? a.s : zeroSumSign(env));
  if (ka === K_ZERO) return roundPack80(b.s, b.m, exponentOf(b), false, env);
  if (kb === K_ZERO) return roundPack80(a.s, a.m, exponentOf(a), false, env);
  const ea = exponentOf(a), eb = exponentOf(b);
  const E = Math.min(ea, eb);
  const ma = a.m << BigInt(ea - E), mb = b.m << BigInt(eb - E);
  const va = a.s ? -ma : ma, vb = b.s ? -mb : mb;
  const sum = va + vb;
  if (sum === 0n) return zero(zeroSumSign(env));
  return roundPack80(sum < 0n ? 1 : 0, sum < 0n ? -sum : sum, E, false, env);
}

export function mul(a: F80, b: F80, env: FpEnv): F80 {
  const before = env.flags;
  const n = propagateNaN2(a, b, env);
  if (n !== null) return nanResult(n, env, before);
  const ka = classify(a), kb = classify(b);
  const s = a.s ^ b.s;
  if (ka === K_INF || kb === K_INF) {
    if (ka === K_ZERO || kb === K_ZERO) return invalid(env);
    if (denormalOperand(env, ka, kb)) return NO_RESULT;
    return inf(s);
  }
  if (denormalOperand(env, ka, kb)) return NO_RESULT;
  if (ka === K_ZERO || kb === K_ZERO) return zero(s);
  return roundPack80(s, a.m * b.m, exponentOf(a) + exponentOf(b), false, env);
}

export function div(a: F80, b: F80, env: FpEnv): F80 {
  const before = env.flags;
  const n = propagateNaN2(a, b, env);
  if (n !== null) return nanResult(n, env, before);
  const ka = classify(a), kb = classify(b);
  const s = a.s ^ b.s;
  if (ka === K_INF) {
    if (kb === K_INF) return invalid(env);
    if (denormalOperand(env, kb)) return NO_RESULT;
    return inf(s);
  }
  if (kb === K_INF) { if (denormalOperand(env, ka)) return NO_RESULT; return zero(s); }
  if (ka === K_ZERO && kb === K_ZERO) return invalid(env);
  if (denormalOperand(env, ka, kb)) return NO_RESULT;
  if (kb === K_ZERO) { env.flags |= FE_ZE; return (env.masks & FE_ZE) === 0 ? NO_RESULT : inf(s); }
  if (ka === K_ZERO) return zero(s);
  const k = Math.max(0, 130 + bitLength(b.m) - bitLength(a.m));
  const num = a.m << BigInt(k);
  const q = num / b.m;
  return roundPack80(s, q, exponentOf(a) - exponentOf(b) - k, q * b.m !== num, env);
}

export function isqrt(v: bigint): bigint {
  if (v < 2n) return v;
  let x = 1n << BigInt(Math.ceil(bitLength(v) / 2));
  for (;;) {
    const y = (x + v / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

export function sqrt(a: F80, env: FpEnv): F80 {
  const before = env.flags;
  const n = propagateNaN1(a, env);
  if (n !== null) return nanResult(n, env, before);
  const k = classify(a);
  if (k === K_ZERO) return a;
  if (a.s === 1) { if (denormalOperand(env, k)) return NO_RESULT; return invalid(env); }
  if (k === K_INF) return a;
  if (denormalOperand(env, k)) return NO_RESULT;
  let M = a.m, E = exponentOf(a);
  if ((E & 1) !== 0) { M <<= 1n; E -= 1; }
  const shift = 2 * Math.max(0, 70 - Math.floor(bitLength(M) / 2));
  M <<= BigInt(shift);
  const r = isqrt(M);
  return roundPack80(0, r, (E - shift) / 2, r * r !== M, env);
}

/** Round to an integer under rc (FRNDINT; 64-bit precision; PE and C1 as for any rounding). */
export function roundToInt(a: F80, env: FpEnv, rc = env.rc): F80 {
  const before = env.flags;
  const n = propagateNaN1(a, env);
  if (n !== null) return nanResult(n, env, before);
  const k = classify(a);
  if (k === K_ZERO || k === K_INF) return a;
  if (denormalOperand(env, k)) return NO_RESULT;
  const E = exponentOf(a);
  if (E >= 0) return a;
  const sh = BigInt(-E);
  let q = sh >= 200n ? 0n : a.m >> sh;
  const rem = sh >= 200n ? a.m : a.m & ((1n << sh) - 1n);
  if (rem === 0n) return a;
  const half = sh >= 200n ? -1n : 1n << (sh - 1n);
  const up = roundsUp(a.s, rc, half >= 0n && rem > half, rem === half, true, (q & 1n) === 1n);
  env.flags |= FE_PE;
  if (up) { q += 1n; env.c1 = 1; }
  if (q === 0n) return zero(a.s);
  return roundPack80(a.s, q, 0, false, env, false);
}

/** Integer value (bigint) of a finite operand rounded under rc, with PE/C1; null for NaN/inf/unsupported. */
export function toInteger(a: F80, env: FpEnv, rc: number): bigint | null {
  const k = classify(a);
  if (k === K_INF || k === K_QNAN || k === K_SNAN || k === K_UNSUPPORTED) return null;
  if (k === K_ZERO) return 0n;
  if (k === K_DENORMAL) env.flags |= FE_DE;
  const E = exponentOf(a);
  let q: bigint;
  if (E >= 0) q = a.m << BigInt(E);
  else {
    const sh = BigInt(-E);
    q = sh >= 200n ? 0n : a.m >> sh;
    const rem = sh >= 200n ? a.m : a.m & ((1n << sh) - 1n);
    if (rem !== 0n) {
      const half = sh >= 200n ? -1n : 1n << (sh - 1n);
      const up = roundsUp(a.s, rc, half >= 0n && rem > half, rem === half, true, (q & 1n) === 1n);
      env.flags |= FE_PE;
      if (up) { q += 1n; env.c1 = 1; }
    }
  }
  return a.s ? -q : q;
}

/** Exact conversion of an integer to 80 bits (FILD). */
export function fromInteger(v: bigint): F80 {
  if (v === 0n) return zero(0);
  const s = v < 0n ? 1 : 0;
  const m = s ? -v : v;
  const n = bitLength(m);
  return { s, e: 16383 + n - 1, m: (m << BigInt(64 - n)) & M64 };
}

// ---- conversions to and from memory formats -----------------------------------------------------

/** float32/float64 bits (bigint) → 80 bits; SNaN raises IE and is quieted, denormals raise DE. */
export function fromBinary(bits: bigint, fmt: Format, env: FpEnv, keepSignalling = false): F80 {
  const fracBits = BigInt(fmt.p - 1);
  const expBits = fmt === FMT32 ? 8n : 11n;
  const s = Number(bits >> (fracBits + expBits)) & 1;
  const e = Number((bits >> fracBits) & ((1n << expBits) - 1n));
  const f = bits & ((1n << fracBits) - 1n);
  if (e === fmt.maxE) {
    if (f === 0n) return inf(s);
    const m = BIT63 | (f << (63n - fracBits));
    if (keepSignalling) return { s, e: 0x7fff, m };
    if ((m & BIT62) === 0n) env.flags |= FE_IE;
    return { s, e: 0x7fff, m: m | BIT62 };
  }
  if (e === 0) {
    if (f === 0n) return zero(s);
    env.flags |= FE_DE;
    const n = bitLength(f);
    return { s, e: 16383 - fmt.bias + 1 - (fmt.p - 1) + n - 1, m: f << BigInt(64 - n) };
  }
  return { s, e: e - fmt.bias + 16383, m: BIT63 | (f << (63n - fracBits)) };
}

/**
 * 80 bits → float32/float64 bits under rc, with IE for SNaN (quieted), OE/UE/PE and C1. Returns null
 * when an unmasked exception leaves the memory destination unwritten.
 */
export function toBinary(a: F80, fmt: Format, env: FpEnv): bigint | null {
  const fracBits = BigInt(fmt.p - 1);
  const expBits = fmt === FMT32 ? 8n : 11n;
  const signBit = BigInt(a.s) << (fracBits + expBits);
  const k = classify(a);
  const expAll = BigInt(fmt.maxE) << fracBits;
  if (k === K_UNSUPPORTED || k === K_SNAN || k === K_QNAN) {
    if (k !== K_QNAN) { env.flags |= FE_IE; if ((env.masks & FE_IE) === 0) return null; }
    if (k === K_UNSUPPORTED) return (1n << (fracBits + expBits)) | expAll | (1n << (fracBits - 1n));
    return signBit | expAll | (((a.m | BIT62) >> (63n - fracBits)) & ((1n << fracBits) - 1n));
  }
  if (k === K_INF) return signBit | expAll;
  if (k === K_ZERO) return signBit;
  if (k === K_DENORMAL) {
    env.flags |= FE_DE;
    if ((env.masks & FE_DE) === 0) return null;
  }
  const r = roundPackParts(a.s, a.m, exponentOf(a), false, fmt, fmt.p, env, false);
  if (r === null) return null;
  const frac = r.q & ((1n << fracBits) - 1n);
  return signBit | (BigInt(r.e) << fracBits) | frac;
}

/** Compare two operands: -1 less, 0 equal, 1 greater, 2 unordered. `quietNaNsOk` for FUCOM. */
export function compare(a: F80, b: F80, env: FpEnv, quietNaNsOk: boolean): number {
  const ka = classify(a), kb = classify(b);
  if (ka === K_UNSUPPORTED || kb === K_UNSUPPORTED || ka === K_SNAN || kb === K_SNAN) { env.flags |= FE_IE; return 2; }
  if (isNaN80(ka) || isNaN80(kb)) { if (!quietNaNsOk) env.flags |= FE_IE; return 2; }
  if (ka === K_DENORMAL || kb === K_DENORMAL) env.flags |= FE_DE;
  const va = valueSign(a, ka), vb = valueSign(b, kb);
  if (va.cmp(vb) === 0) return 0;
  return va.cmp(vb);
}

/** Orderable view of a number: infinities map beyond every finite value. */
function valueSign(a: F80, k: number): { cmp(o: { v: bigint; e: number; i: number }): number; v: bigint; e: number; i: number } {
  const i = k === K_INF ? (a.s ? -1 : 1) : 0;
  const v = k === K_ZERO ? 0n : (a.s ? -a.m : a.m);
  const e = k === K_ZERO ? 0 : exponentOf(a);
  return {
    v, e, i,
    cmp(o) {
      if (this.i !== o.i) return this.i < o.i ? -1 : 1;
      if (this.i !== 0) return 0;
      const E = Math.min(this.e, o.e);
      const x = this.v << BigInt(this.e - E), y = o.v << BigInt(o.e - E);
      return x < y ? -1 : x > y ? 1 : 0;
    },
  };
}

/** Exact value of a finite F80 as a JS double (for the transcendentals and tests). */
export function toNumber(a: F80): number {
  const k = classify(a);
  if (k === K_ZERO) return a.s ? -0 : 0;
  if (k === K_INF) return a.s ? -Infinity : Infinity;
  if (k !== K_NORMAL && k !== K_DENORMAL) return NaN;
  const E = exponentOf(a);
  const top = Number(a.m >> 11n); // 53 bits
  const v = top * Math.pow(2, E + 11);
  return a.s ? -v : v;
}

/** Exact 80-bit value of a JS double. */
export function fromNumber(v: number): F80 {
  const b = new DataView(new ArrayBuffer(8));
  b.setFloat64(0, v);
  const env = new FpEnv();
  return fromBinary(b.getBigUint64(0), FMT64, env);
}

export function toHex(a: F80): string { return a.s.toString() + a.e.toString(16).padStart(4, '0') + a.m.toString(16).padStart(16, '0'); }
