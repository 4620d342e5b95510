/**
 * x87 transcendental instructions (SDM vol. 1 8.3.10): FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1,
 * FYL2X, FYL2XP1. Special cases (zeros, infinities, NaNs, out-of-range arguments with C2 = 1, the
 * stack effects) follow the SDM tables exactly; finite results are computed in double precision and
 * widened, so they are within 2^-52 relative error of the true value (about 2^11 units in the last
 * place of the 64-bit significand), not bit-exact with the hardware. PE is reported for every inexact
 * result; C1 (round-up) is reported as 0.
 */
import { Mnemonic } from 'iced-x86';
import type { Cpu } from '../cpu/cpu';
import type { Insn } from '../decode/insn';
import { SW_C2 } from '../cpu/x87State';
import { enter, env, finish, readSt, writeSt, isEmpty, pop, push, stackUnderflow } from './x87Core';
import {
  F80, FE_IE, FE_DE, FE_ZE, FE_PE, FE_UE, INDEFINITE, classify, K_ZERO, K_DENORMAL, K_INF, propagateNaN1, propagateNaN2,
  toNumber, fromNumber, inf, zero, exponentOf, bitLength,
} from './x87Float80';

const unmasked = (bits: number): boolean => (env.flags & bits & ~env.masks) !== 0;

/** A finite double result as an 80-bit value, with PE (and UE when tiny) reported. */
function inexact(v: number, exact = false): F80 {
  if (!exact) env.flags |= FE_PE;
  if (v !== 0 && Math.abs(v) < 3.3621031431120935e-4932) env.flags |= FE_UE;
  return fromNumber(v);
}

/** |x| >= 2^63: the trigonometric instructions leave ST(0) unchanged and set C2. */
function outOfRange(a: F80): boolean { return classify(a) !== K_ZERO && exponentOf(a) + bitLength(a.m) > 64; }

function trig(c: Cpu, d: Insn): void {
  const x = enter(c, d);
  const m = d.mnemonic;
  x.sw &= ~SW_C2;
  if (isEmpty(x, 0)) {
    if (stackUnderflow(x)) {
      writeSt(x, 0, INDEFINITE);
      if (m === Mnemonic.Fsincos || m === Mnemonic.Fptan) push(x, INDEFINITE);
    }
    finish(x); return;
  }
  if ((m === Mnemonic.Fsincos || m === Mnemonic.Fptan) && !isEmpty(x, 7)) {
    env.flags |= FE_IE | 0x40; env.c1 = 1;
    if (!unmasked(FE_IE)) { writeSt(x, 0, INDEFINITE); push(x, INDEFINITE); }
    finish(x); return;
  }
  const a = readSt(x, 0);
  const k = classify(a);
  let r1: F80, r2: F80 | null = null; // ST(0) result and the value pushed after it
  const nan = propagateNaN1(a, env);
  if (nan !== null) { r1 = nan; r2 = nan; }
  else if (k === K_INF) { env.flags |= FE_IE; r1 = INDEFINITE; r2 = INDEFINITE; }
  else if (outOfRange(a)) { x.sw |= SW_C2; finish(x); return; }
  else {
    if (k === K_DENORMAL) env.flags |= FE_DE;
    const v = toNumber(a);
    const zeroIn = k === K_ZERO;
    switch (m) {
      case Mnemonic.Fsin: r1 = zeroIn ? a : inexact(Math.sin(v)); break;
      case Mnemonic.Fcos: r1 = inexact(Math.cos(v), zeroIn); break;
      case Mnemonic.Fsincos: r1 = inexact(Math.cos(v), zeroIn); r2 = zeroIn ? a : inexact(Math.sin(v)); break;
      default: r1 = zeroIn ? a : inexact(Math.tan(v)); r2 = fromNumber(1); break; // FPTAN pushes 1.0
    }
  }
  if (unmasked(FE_IE | FE_DE)) { finish(x); return; }
  if (m === Mnemonic.Fsincos) { writeSt(x, 0, r2 ?? r1); push(x, r1); }
  else if (m === Mnemonic.Fptan) { writeSt(x, 0, r1); push(x, k === K_INF || r2 === null ? r1 : r2); }
  else writeSt(x, 0, r1);
  finish(x);
}
export const fsin = trig, fcos = trig, fsincos = trig, fptan = trig;

/** F2XM1: 2^x - 1 (the SDM defines it for -1 <= x <= 1). */
export function f2xm1(c: Cpu, d: Insn): void {
  const x = enter(c, d);
  if (isEmpty(x, 0)) { if (stackUnderflow(x)) writeSt(x, 0, INDEFINITE); finish(x); return; }
  const a = readSt(x, 0);
  const k = classify(a);
  let r: F80;
  const nan = propagateNaN1(a, env);
  if (nan !== null) r = nan;
  else if (k === K_ZERO) r = a;
  else if (k === K_INF) r = a.s ? fromNumber(-1) : a;
  else {
    if (k === K_DENORMAL) env.flags |= FE_DE;
    const v = toNumber(a);
    r = inexact(Math.expm1(v * Math.LN2));
  }
  if (unmasked(FE_IE | FE_DE)) { finish(x); return; }
  writeSt(x, 0, r);
  finish(x);
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
  let r: F80;
  const nan = propagateNaN2(a, b, env);
  if (nan !== null) r = nan;
  else {
    if (ka === K_DENORMAL || kb === K_DENORMAL) env.flags |= FE_DE;
    const va = toNumber(a), vb = toNumber(b);
    const m = d.mnemonic;
    if (m === Mnemonic.Fpatan) {
      const t = Math.atan2(vb, va);
      r = t === 0 || kb === K_ZERO ? zeroOrPi(b.s, a.s) : inexact(t);
    } else if (m === Mnemonic.Fyl2x) {
      if (a.s === 1 && ka !== K_ZERO) { env.flags |= FE_IE; r = INDEFINITE; }
      else if (ka === K_ZERO) {
        if (kb === K_ZERO) { env.flags |= FE_IE; r = INDEFINITE; }
        else { env.flags |= FE_ZE; r = inf(b.s ^ 1); }
      } else if (ka === K_INF) r = kb === K_ZERO ? (env.flags |= FE_IE, INDEFINITE) : inf(b.s);
      else if (va === 1) r = kb === K_INF ? (env.flags |= FE_IE, INDEFINITE) : zero(b.s);
      else if (kb === K_INF) r = inf(b.s ^ (va < 1 ? 1 : 0));
      else if (kb === K_ZERO) r = zero(b.s ^ (va < 1 ? 1 : 0));
      else r = inexact(vb * Math.log2(va));
    } else {
      if (ka === K_ZERO) r = kb === K_INF ? (env.flags |= FE_IE, INDEFINITE) : zero(a.s ^ b.s);
      else if (kb === K_INF) r = inf(a.s ^ b.s);
      else if (kb === K_ZERO) r = zero(a.s ^ b.s);
      else r = inexact(vb * Math.log1p(va) / Math.LN2);
    }
  }
  if (unmasked(FE_IE | FE_DE | FE_ZE)) { finish(x); return; }
  writeSt(x, 1, r);
  pop(x);
  finish(x);
}

/** FPATAN of a zero ST(1): +-0 when ST(0) is positive, +-pi when negative. */
function zeroOrPi(sy: number, sx: number): F80 {
  if (sx === 0) return zero(sy);
  env.flags |= FE_PE;
  return { s: sy, e: 0x4000, m: 0xc90fdaa22168c235n };
}

export const fyl2x = binaryPop, fyl2xp1 = binaryPop, fpatan = binaryPop;
void FE_UE;
