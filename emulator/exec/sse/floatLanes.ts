/**
 * One lane of an SSE floating-point instruction at the bit level: NaN propagation as x86 does it
 * (SDM vol. 1, table 4-7: the first source's NaN if it is one, else the second's, SNaNs quieted; an
 * invalid operation without NaN operands gives the negative "QNaN floating-point indefinite"),
 * DAZ and the denormal-operand flag on the way in, and the destination encoding on the way out.
 * binary32 lanes are uint32 bit patterns; binary64 lanes are lo/hi uint32 pairs, results in `out64`.
 */
import { fp, add, mul, div, sqrt, BINARY32, BINARY64 } from './softFloat';
import { MX_DAZ, MX_DE, MX_IE } from './mxcsr';

export const OP_ADD = 0, OP_SUB = 1, OP_MUL = 2, OP_DIV = 3, OP_MIN = 4, OP_MAX = 5, OP_SQRT = 6;

export const INDEFINITE32 = 0xffc00000;
export const INDEFINITE64_HI = 0xfff80000;

const f32 = new Float32Array(1);
const b32 = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1);
const b64 = new Uint32Array(f64.buffer);

export function isNaN32(a: number): boolean { return (a & 0x7f800000) === 0x7f800000 && (a & 0x7fffff) !== 0; }
export function isSNaN32(a: number): boolean { return isNaN32(a) && (a & 0x400000) === 0; }
export function isNaN64(hi: number, lo: number): boolean {
  return (hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) | lo) !== 0;
}
export function isSNaN64(hi: number, lo: number): boolean { return isNaN64(hi, lo) && (hi & 0x80000) === 0; }

/** A normal finite number (exponent field neither all zeros nor all ones). */
function isOrdinary32(a: number): boolean { const e = a & 0x7f800000; return e !== 0 && e !== 0x7f800000; }
function isOrdinary64(hi: number): boolean { const e = hi & 0x7ff00000; return e !== 0 && e !== 0x7ff00000; }

/** Source value of a binary32 lane (not NaN): DAZ turns a denormal into a zero, else DE is raised. */
export function in32(a: number): number {
  if ((a & 0x7f800000) === 0 && (a & 0x7fffff) !== 0) {
    if ((fp.mxcsr & MX_DAZ) !== 0) return (a & 0x80000000) !== 0 ? -0 : 0;
    fp.pre |= MX_DE;
  }
  b32[0] = a;
  return f32[0];
}
export function in64(hi: number, lo: number): number {
  if ((hi & 0x7ff00000) === 0 && ((hi & 0xfffff) | lo) !== 0) {
    if ((fp.mxcsr & MX_DAZ) !== 0) return (hi & 0x80000000) !== 0 ? -0 : 0;
    fp.pre |= MX_DE;
  }
  b64[0] = lo; b64[1] = hi;
  return f64[0];
}
/** Bits of a result already in binary32 (NaN = the default NaN). */
export function out32(r: number): number {
  if (r !== r) return INDEFINITE32;
  f32[0] = r;
  return b32[0];
}
export const out64 = { lo: 0, hi: 0 };
export function put64(r: number): void {
  if (r !== r) { out64.lo = 0; out64.hi = INDEFINITE64_HI; return; }
  f64[0] = r; out64.lo = b64[0]; out64.hi = b64[1];
}

/** A denormal divided by zero raises ZE but not DE (as the host does): drop this lane's DE. */
function zeroDivideHidesDenormal(pre: number, x: number, y: number): void {
  if (y === 0 && x !== 0 && x === x) fp.pre = (fp.pre & ~MX_DE) | (pre & MX_DE);
}

function arith(op: number, x: number, y: number, double: boolean): number {
  const fmt = double ? BINARY64 : BINARY32;
  switch (op) {
    case OP_ADD: return add(x, y, fmt);
    case OP_SUB: return add(x, -y, fmt);
    case OP_MUL: return mul(x, y, fmt);
    case OP_DIV: return div(x, y, fmt);
    default: return sqrt(y, fmt);
  }
}

/**
 * dest op src for binary32 lanes. MIN/MAX return the source when either is a NaN (IE even for a
 * QNaN) or both are zeros; SQRT reads the source only.
 */
export function lane32(op: number, a: number, b: number): number {
  if (op <= OP_DIV && isOrdinary32(a) && isOrdinary32(b)) { // normal finite operands: no NaN, DAZ or DE
    b32[0] = a; const x = f32[0];
    b32[0] = b;
    return out32(arith(op, x, f32[0], false));
  }
  if (op === OP_SQRT) {
    if (isNaN32(b)) { if (isSNaN32(b)) fp.pre |= MX_IE; return (b | 0x400000) >>> 0; }
    const pre = fp.pre;
    const y = in32(b);
    if (y < 0) fp.pre = (fp.pre & ~MX_DE) | (pre & MX_DE); // invalid: a negative denormal raises IE alone
    return out32(arith(op, 0, y, false));
  }
  const an = isNaN32(a), bn = isNaN32(b);
  if (op === OP_MIN || op === OP_MAX) {
    if (an || bn) { // the source comes back (DAZ applied); a NaN hides DE
      const pre = fp.pre | MX_IE;
      const r = bn ? b : out32(in32(b));
      fp.pre = pre;
      return r;
    }
    const x = in32(a), y = in32(b);
    const pickDest = op === OP_MIN ? x < y : x > y;
    return out32(pickDest ? x : y);
  }
  if (an || bn) {
    if (isSNaN32(a) || isSNaN32(b)) fp.pre |= MX_IE;
    return ((an ? a : b) | 0x400000) >>> 0;
  }
  const pre = fp.pre;
  const x = in32(a), y = in32(b);
  if (op === OP_DIV) zeroDivideHidesDenormal(pre, x, y);
  return out32(arith(op, x, y, false));
}

/** dest op src for binary64 lanes; the result goes to out64. */
export function lane64(op: number, aLo: number, aHi: number, bLo: number, bHi: number): void {
  if (op <= OP_DIV && isOrdinary64(aHi) && isOrdinary64(bHi)) {
    b64[0] = aLo; b64[1] = aHi; const x = f64[0];
    b64[0] = bLo; b64[1] = bHi;
    put64(arith(op, x, f64[0], true));
    return;
  }
  if (op === OP_SQRT) {
    if (isNaN64(bHi, bLo)) {
      if (isSNaN64(bHi, bLo)) fp.pre |= MX_IE;
      out64.lo = bLo; out64.hi = (bHi | 0x80000) >>> 0; return;
    }
    const pre = fp.pre;
    const y = in64(bHi, bLo);
    if (y < 0) fp.pre = (fp.pre & ~MX_DE) | (pre & MX_DE);
    put64(arith(op, 0, y, true)); return;
  }
  const an = isNaN64(aHi, aLo), bn = isNaN64(bHi, bLo);
  if (op === OP_MIN || op === OP_MAX) {
    if (an || bn) {
      const pre = fp.pre | MX_IE;
      if (bn) { out64.lo = bLo; out64.hi = bHi; } else put64(in64(bHi, bLo));
      fp.pre = pre;
      return;
    }
    const x = in64(aHi, aLo), y = in64(bHi, bLo);
    const pickDest = op === OP_MIN ? x < y : x > y;
    put64(pickDest ? x : y); return;
  }
  if (an || bn) {
    if (isSNaN64(aHi, aLo) || isSNaN64(bHi, bLo)) fp.pre |= MX_IE;
    if (an) { out64.lo = aLo; out64.hi = (aHi | 0x80000) >>> 0; } else { out64.lo = bLo; out64.hi = (bHi | 0x80000) >>> 0; }
    return;
  }
  const pre = fp.pre;
  const x = in64(aHi, aLo), y = in64(bHi, bLo);
  if (op === OP_DIV) zeroDivideHidesDenormal(pre, x, y);
  put64(arith(op, x, y, true));
}
