/**
 * x87 transcendental instructions (SDM vol. 1 8.3.10): FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1,
 * FYL2X, FYL2XP1. Special cases (zeros, infinities, NaNs, out-of-range arguments with C2 = 1, the
 * stack effects) follow the SDM tables. Finite results are computed with 256 extra bits
 * (x87Series.ts: exact argument reduction by pi/2, Taylor/atanh/atan series) and rounded once under
 * the rounding control, so they are the correctly rounded values; the hardware is not always
 * correctly rounded, and the measured distance to the host CPU is stated in emulator/README.md.
 * F2XM1 outside [-1, 1] and FYL2XP1 outside |x| < 1 - sqrt(2)/2 are undefined in the SDM; they are
 * computed by the same formulas as far as they converge.
 */
import { Mnemonic } from 'iced-x86';
import type { Cpu } from '../cpu/cpu';
import type { Insn } from '../decode/insn';
import { SW_C2 } from '../cpu/x87State';
import { enter, env, finish, readSt, writeSt, isEmpty, pop, push, stackUnderflow } from './x87Core';
import {
  F80, FE_IE, FE_DE, FE_ZE, INDEFINITE, classify, K_ZERO, K_DENORMAL, K_INF, propagateNaN1, propagateNaN2,
  inf, zero, exponentOf, bitLength, roundPack80,
} from './x87Float80';
import { FRAC, PI, LN2, sinCos, reduceHalfPi, expm1Series, atanSeries, atanhSeries } from './x87Series';

const F = BigInt(FRAC);
const ONE = 1n << F;
const unmasked = (bits: number): boolean => (env.flags & bits & ~env.masks) !== 0;

/** Round a signed fixed-point value V * 2^-scale (inexact) into an 80-bit result. */
function fixed(V: bigint, scale: number): F80 {
  if (V === 0n) return zero(0);
  const s = V < 0n ? 1 : 0;
  return roundPack80(s, s ? -V : V, -scale, true, env, false);
}

/** The exponent of a finite nonzero value's leading bit. */
const topExponent = (a: F80): number => exponentOf(a) + bitLength(a.m) - 1;

/** |x| >= 2^63: the trigonometric instructions leave ST(0) unchanged and set C2. */
function outOfRange(a: F80): boolean { return classify(a) !== K_ZERO && topExponent(a) >= 63; }

const SIN = 0, COS = 1, TAN = 2;

/** sin, cos or tan of a finite nonzero x with |x| < 2^63 (only the one asked for: each raises its own flags). */
function trigOf(a: F80, f: number): F80 {
  const E = exponentOf(a);
  if (topExponent(a) < -80) {
    // sin x = x - x^3/6, tan x = x + x^3/3, cos x = 1 - x^2/2: below a unit in the last place.
    const m = a.m << 90n;
    if (f === SIN) return roundPack80(a.s, m - 1n, E - 90, true, env, false);
    if (f === TAN) return roundPack80(a.s, m + 1n, E - 90, true, env, false);
    return roundPack80(0, (1n << 150n) - 1n, -150, true, env, false);
  }
  const [q, r] = reduceHalfPi(a.m, E);
  const [s, c] = sinCos(r);
  const sign = a.s ? -1n : 1n;
  if (f === SIN) return fixed([s, c, -s, -c][q] * sign, FRAC);
  if (f === COS) return fixed([c, -s, -c, s][q], FRAC);
  return fixed(((q & 1) === 0 ? (s << F) / c : -((c << F) / s)) * sign, FRAC);
}

function trig(c: Cpu, d: Insn): void {
  const x = enter(c, d);
  const m = d.mnemonic;
  const pushes = m === Mnemonic.Fsincos || m === Mnemonic.Fptan;
  x.sw &= ~SW_C2;
  if (isEmpty(x, 0)) {
    if (stackUnderflow(x)) { writeSt(x, 0, INDEFINITE); if (pushes) push(x, INDEFINITE); }
    finish(x); return;
  }
  if (pushes && !isEmpty(x, 7)) {
    env.flags |= FE_IE | 0x40; env.c1 = 1;
    if (!unmasked(FE_IE)) { writeSt(x, 0, INDEFINITE); push(x, INDEFINITE); }
    finish(x); return;
  }
  const a = readSt(x, 0);
  const k = classify(a);
  let r1: F80, r2: F80; // FSINCOS: ST(0) = cos pushed over sin; FPTAN: 1.0 pushed over tan
  const nan = propagateNaN1(a, env);
  if (nan !== null) { r1 = nan; r2 = nan; }
  else if (k === K_INF) { env.flags |= FE_IE; r1 = INDEFINITE; r2 = INDEFINITE; }
  else if (outOfRange(a)) { x.sw |= SW_C2; finish(x); return; }
  else if (k === K_ZERO) {
    const one: F80 = { s: 0, e: 16383, m: 1n << 63n };
    r1 = m === Mnemonic.Fcos ? one : a;
    r2 = m === Mnemonic.Fsincos ? one : one;
  } else {
    if (k === K_DENORMAL) { env.flags |= FE_DE; if (unmasked(FE_DE)) { finish(x); return; } }
    const one: F80 = { s: 0, e: 16383, m: 1n << 63n };
    if (m === Mnemonic.Fsin) { r1 = trigOf(a, SIN); r2 = r1; }
    else if (m === Mnemonic.Fcos) { r1 = trigOf(a, COS); r2 = r1; }
    else if (m === Mnemonic.Fsincos) { r1 = trigOf(a, SIN); r2 = trigOf(a, COS); }
    else { r1 = trigOf(a, TAN); r2 = one; }
  }
  if (unmasked(FE_IE)) { finish(x); return; }
  writeSt(x, 0, r1);
  if (pushes) push(x, r2);
  finish(x);
}
export const fsin = trig, fcos = trig, fsincos = trig, fptan = trig;

/** A finite nonzero value at a scale with at least 256 bits below its leading bit: [V, scale]. */
function scaled(a: F80): [bigint, number] {
  const E = exponentOf(a);
  const scale = Math.max(FRAC, FRAC - topExponent(a));
  const V = E + scale >= 0 ? a.m << BigInt(E + scale) : a.m >> BigInt(-(E + scale));
  return [a.s ? -V : V, scale];
}

/** F2XM1: 2^x - 1 = expm1(x ln 2). */
export function f2xm1(c: Cpu, d: Insn): void {
  const x = enter(c, d);
  if (isEmpty(x, 0)) { if (stackUnderflow(x)) writeSt(x, 0, INDEFINITE); finish(x); return; }
  const a = readSt(x, 0);
  const k = classify(a);
  let r: F80;
  const nan = propagateNaN1(a, env);
  if (nan !== null) r = nan;
  else if (k === K_ZERO) r = a;
  else if (k === K_INF) r = a.s ? { s: 1, e: 16383, m: 1n << 63n } : a;
  else if (topExponent(a) > 14) r = a.s ? roundPack80(1, (1n << 64n) - 1n, -64, true, env, false) : inf(0);
  else {
    if (k === K_DENORMAL) { env.flags |= FE_DE; if (unmasked(FE_DE)) { finish(x); return; } }
    const [X, scale] = scaled(a);
    const s = BigInt(scale);
    const Y = (X * LN2) / ONE;
    // Large |y|: e^y - 1 from the series in halved steps (e^y = (e^(y/2))^2).
    let halvings = 0;
    let y = Y;
    while ((y < 0n ? -y : y) > (1n << s)) { y >>= 1n; halvings++; }
    let em1 = expm1Series(y, s);
    for (let i = 0; i < halvings; i++) em1 = (em1 * em1) / (1n << s) + 2n * em1; // (e^y - 1) -> (e^2y - 1)
    r = fixed(em1, scale);
  }
  if (unmasked(FE_IE)) { finish(x); return; }
  writeSt(x, 0, r);
  finish(x);
}

/** log2 of a finite positive value as [fixed-point value, scale]. */
function log2Of(a: F80): [bigint, number] {
  const top = topExponent(a);
  const n = bitLength(a.m);
  // a = m * 2^top with m in [1, 2): ln m = 2 atanh((m - 1) / (m + 1)).
  const Mfix = FRAC + 64 - n >= 0 ? a.m << BigInt(FRAC + 64 - n) : a.m >> BigInt(n - FRAC - 64); // m at scale FRAC + 63
  const s = BigInt(FRAC + 63);
  const one = 1n << s;
  const u = ((Mfix - one) << s) / (Mfix + one);
  const lnm = 2n * atanhSeries(u, s);
  const log2m = (lnm << F) / LN2; // scale FRAC + 63
  return [(BigInt(top) << s) + log2m, FRAC + 63];
}

/** log2(1 + x) for a small finite nonzero x as [fixed-point value, scale]. */
function log2p1Of(a: F80): [bigint, number] {
  const [X, scale] = scaled(a);
  const s = BigInt(scale);
  const u = (X << s) / ((2n << s) + X);
  const ln = 2n * atanhSeries(u, s);
  return [(ln << F) / LN2, scale];
}

/** y * V * 2^-scale rounded, for a finite nonzero y. */
function times(y: F80, V: bigint, scale: number): F80 {
  if (V === 0n) return zero(y.s);
  const s = (V < 0n ? 1 : 0) ^ y.s;
  return roundPack80(s, y.m * (V < 0n ? -V : V), exponentOf(y) - scale, true, env, false);
}

/** atan2(y, x) for finite nonzero x, y. */
function atan2Of(y: F80, x: F80): F80 {
  const ey = topExponent(y), ex = topExponent(x);
  const halfPi = PI >> 1n;
  let angle: bigint; // at scale FRAC
  if (ey - ex > 300) angle = halfPi;
  else if (ey - ex < -100) {
    // atan(t) = t below a unit in the last place of t; x < 0 gives pi - t.
    if (x.s === 0) {
      const q = (y.m << 200n) / x.m;
      return roundPack80(y.s, q * 4n - 1n, exponentOf(y) - exponentOf(x) - 202, true, env, false);
    }
    return roundPack80(y.s, (PI << 8n) - 1n, -FRAC - 8, true, env, false);
  } else {
    // t = |y| / |x| at scale FRAC; atan(t) for t > 1 is pi/2 - atan(1/t).
    const shift = exponentOf(y) - exponentOf(x) + FRAC;
    const num = shift >= 0 ? y.m << BigInt(shift) : y.m;
    const den = shift >= 0 ? x.m : x.m << BigInt(-shift);
    const t = num / den;
    angle = t <= ONE ? atanSeries(t) : halfPi - atanSeries((ONE << F) / t);
  }
  if (x.s === 1) angle = PI - angle;
  return fixed(y.s ? -angle : angle, FRAC);
}

/** FYL2X (ST(1) * log2(ST(0))), FYL2XP1 (ST(1) * log2(ST(0) + 1)) and FPATAN (atan2(ST(1), ST(0))); all pop. */
function binaryPop(c: Cpu, d: Insn): void {
  const x = enter(c, d);
  if (isEmpty(x, 0) || isEmpty(x, 1)) {
    if (stackUnderflow(x)) { writeSt(x, 1, INDEFINITE); pop(x); }
    finish(x); return;
  }
  const a = readSt(x, 0), b = readSt(x, 1);
  const ka = classify(a), kb = classify(b);
  const m = d.mnemonic;
  let r: F80;
  const nan = propagateNaN2(a, b, env);
  if (nan !== null) r = nan;
  else {
    // An invalid operation (negative logarithm argument, 0 * inf ...) takes precedence over DE.
    const before = env.flags;
    if (m === Mnemonic.Fpatan) r = fpatanOf(b, a, kb, ka);
    else if (m === Mnemonic.Fyl2x) r = fyl2xOf(a, b, ka, kb);
    else r = fyl2xp1Of(a, b, ka, kb);
    if ((env.flags & ~before & FE_IE) === 0 && (ka === K_DENORMAL || kb === K_DENORMAL)) {
      env.flags |= FE_DE;
      if (unmasked(FE_DE)) { env.flags = (env.flags & ~0x3f) | (before & 0x3f) | FE_DE; finish(x); return; }
    }
  }
  if (unmasked(FE_IE | FE_ZE)) { finish(x); return; }
  writeSt(x, 1, r);
  pop(x);
  finish(x);
}

const PI_F80 = (s: number): F80 => fixed(s ? -PI : PI, FRAC);

function fpatanOf(y: F80, x: F80, ky: number, kx: number): F80 {
  if (ky === K_ZERO) return x.s === 0 ? zero(y.s) : PI_F80(y.s);
  if (ky === K_INF) {
    if (kx === K_INF) return fixed((y.s ? -1n : 1n) * (x.s ? 3n * (PI >> 2n) : PI >> 2n), FRAC);
    return fixed(y.s ? -(PI >> 1n) : PI >> 1n, FRAC);
  }
  if (kx === K_INF) return x.s === 0 ? zero(y.s) : PI_F80(y.s);
  if (kx === K_ZERO) return fixed(y.s ? -(PI >> 1n) : PI >> 1n, FRAC);
  return atan2Of(y, x);
}

const invalid = (): F80 => { env.flags |= FE_IE; return INDEFINITE; };

function fyl2xOf(a: F80, y: F80, ka: number, ky: number): F80 {
  if (a.s === 1 && ka !== K_ZERO) return invalid();
  if (ka === K_ZERO) {
    if (ky === K_ZERO) return invalid();
    env.flags |= FE_ZE;
    return inf(y.s ^ 1);
  }
  const isOne = a.e === 16383 && a.m === 1n << 63n;
  if (ka === K_INF) return ky === K_ZERO ? invalid() : inf(y.s);
  if (isOne) return ky === K_INF ? invalid() : zero(y.s);
  const below1 = topExponent(a) < 0;
  if (ky === K_INF) return inf(y.s ^ (below1 ? 1 : 0));
  if (ky === K_ZERO) return zero(y.s ^ (below1 ? 1 : 0));
  const [V, scale] = log2Of(a);
  return times(y, V, scale);
}

function fyl2xp1Of(a: F80, y: F80, ka: number, ky: number): F80 {
  if (ka === K_ZERO) return ky === K_INF ? invalid() : zero(a.s ^ y.s);
  if (ka === K_INF) return a.s ? invalid() : (ky === K_ZERO ? invalid() : inf(y.s));
  if (a.s === 1 && topExponent(a) >= 0) return invalid(); // 1 + x <= 0
  if (ky === K_INF) return inf(a.s ^ y.s);
  if (ky === K_ZERO) return zero(a.s ^ y.s);
  const [V, scale] = topExponent(a) > -2 ? log2Of(addOne(a)) : log2p1Of(a);
  return times(y, V, scale);
}

/** 1 + x exactly, for |x| >= 1/4 (the large-argument FYL2XP1 path); the significand may exceed 64 bits. */
function addOne(a: F80): F80 {
  const E = exponentOf(a);
  const lo = Math.min(E, 0);
  const X = (a.s ? -a.m : a.m) << BigInt(E - lo);
  const sum = (1n << BigInt(-lo)) + X;
  return { s: 0, e: lo + 16383 + 63, m: sum };
}

export const fyl2x = binaryPop, fyl2xp1 = binaryPop, fpatan = binaryPop;
