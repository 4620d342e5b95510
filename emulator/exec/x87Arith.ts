/**
 * x87 arithmetic (SDM vol. 1 8.3.5-8.3.9): FADD/FSUB/FSUBR/FMUL/FDIV/FDIVR in their memory (m32fp,
 * m64fp, m16int, m32int), ST(0),ST(i), ST(i),ST(0) and popping forms; FCHS, FABS, FSQRT, FRNDINT,
 * FSCALE, FPREM, FPREM1, FXTRACT; the comparisons FCOM/FCOMP/FCOMPP/FICOM(P)/FUCOM(P)(P)/FCOMI(P)/
 * FUCOMI(P), FTST and FXAM.
 */
import { Mnemonic } from 'iced-x86';
import type { Cpu } from '../cpu/cpu';
import type { Insn } from '../decode/insn';
import { OK_MEM } from '../decode/insn';
import { SW_C0, SW_C1, SW_C2, SW_C3, TAG_EMPTY, X87State } from '../cpu/x87State';
import { CF, PF, ZF, SF, AF, OF } from '../cpu/flags';
import { ea } from './operands';
import {
  enter, env, finish, readSt, writeSt, isEmpty, pop, push, stackUnderflow, suppressed, sti, readMemBits,
} from './x87Core';
import {
  F80, FMT32, FMT64, FE_IE, FE_DE, FE_ZE, INDEFINITE, add, mul, div, sqrt, roundToInt, fromBinary, fromInteger,
  compare, classify, K_ZERO, K_DENORMAL, K_NORMAL, K_INF, K_QNAN, K_SNAN, K_UNSUPPORTED, propagateNaN1,
  propagateNaN2, exponentOf, roundPack80, zero, inf, bitLength, NO_RESULT, quiet, isNaN80,
} from './x87Float80';

/** Read the memory operand of a D8/DA/DC/DE arithmetic or compare form as an 80-bit value. */
function memOperand(c: Cpu, d: Insn): F80 {
  const va = ea(c, d);
  const s = d.s0 !== 0 ? d.s0 : d.msize;
  const intForm = d.mnemonic === Mnemonic.Fiadd || d.mnemonic === Mnemonic.Fisub || d.mnemonic === Mnemonic.Fisubr ||
    d.mnemonic === Mnemonic.Fimul || d.mnemonic === Mnemonic.Fidiv || d.mnemonic === Mnemonic.Fidivr ||
    d.mnemonic === Mnemonic.Ficom || d.mnemonic === Mnemonic.Ficomp;
  const bits = readMemBits(c, va, s);
  if (intForm) return fromInteger(BigInt.asIntN(s * 8, bits));
  return fromBinary(bits, s === 4 ? FMT32 : FMT64, env, true);
}

type BinOp = (a: F80, b: F80) => F80;
const OPS: Record<number, [BinOp, boolean]> = {
  [Mnemonic.Fadd]: [(a, b) => add(a, b, false, env), false], [Mnemonic.Faddp]: [(a, b) => add(a, b, false, env), false],
  [Mnemonic.Fiadd]: [(a, b) => add(a, b, false, env), false],
  [Mnemonic.Fsub]: [(a, b) => add(a, b, true, env), false], [Mnemonic.Fsubp]: [(a, b) => add(a, b, true, env), false],
  [Mnemonic.Fisub]: [(a, b) => add(a, b, true, env), false],
  [Mnemonic.Fsubr]: [(a, b) => add(a, b, true, env), true], [Mnemonic.Fsubrp]: [(a, b) => add(a, b, true, env), true],
  [Mnemonic.Fisubr]: [(a, b) => add(a, b, true, env), true],
  [Mnemonic.Fmul]: [(a, b) => mul(a, b, env), false], [Mnemonic.Fmulp]: [(a, b) => mul(a, b, env), false],
  [Mnemonic.Fimul]: [(a, b) => mul(a, b, env), false],
  [Mnemonic.Fdiv]: [(a, b) => div(a, b, env), false], [Mnemonic.Fdivp]: [(a, b) => div(a, b, env), false],
  [Mnemonic.Fidiv]: [(a, b) => div(a, b, env), false],
  [Mnemonic.Fdivr]: [(a, b) => div(a, b, env), true], [Mnemonic.Fdivrp]: [(a, b) => div(a, b, env), true],
  [Mnemonic.Fidivr]: [(a, b) => div(a, b, env), true],
};
const POPPING = new Set<number>([Mnemonic.Faddp, Mnemonic.Fsubp, Mnemonic.Fsubrp, Mnemonic.Fmulp, Mnemonic.Fdivp, Mnemonic.Fdivrp]);

/** Unmasked exceptions raised so far that suppress the result (IE, DE, ZE). */
const preUnmasked = (): boolean => (env.flags & (FE_IE | FE_DE | FE_ZE) & ~env.masks) !== 0;

/** FADD FSUB FSUBR FMUL FDIV FDIVR and their integer and popping forms. */
export function farith(c: Cpu, d: Insn): void {
  const x = enter(c, d);
  const [op, reverse] = OPS[d.mnemonic];
  let dst: number, a: F80, b: F80;
  if (d.k0 === OK_MEM) {
    dst = 0;
    b = memOperand(c, d);
    if (isEmpty(x, 0)) { underflowInto(x, 0, false); return; }
    if (preUnmasked()) { finish(x); return; }
    a = readSt(x, 0);
  } else {
    dst = sti(d.r0);
    const src = sti(d.r1);
    if (isEmpty(x, dst) || isEmpty(x, src)) { underflowInto(x, dst, POPPING.has(d.mnemonic)); return; }
    a = readSt(x, dst); b = readSt(x, src);
  }
  const r = reverse ? op(b, a) : op(a, b);
  if (!suppressed(r)) {
    writeSt(x, dst, r);
    if (POPPING.has(d.mnemonic)) pop(x);
  }
  finish(x);
}

/** Stack underflow with ST(dst) as the destination: masked, it receives the default NaN. */
function underflowInto(x: X87State, dst: number, popAfter: boolean): void {
  if (stackUnderflow(x)) { writeSt(x, dst, INDEFINITE); if (popAfter) pop(x); }
  finish(x);
}

/** One-operand ST(0) operations. */
function unary(c: Cpu, d: Insn, f: (a: F80) => F80, keepC1 = false): void {
  const x = enter(c, d);
  if (isEmpty(x, 0)) { underflowInto(x, 0, false); return; }
  const r = f(readSt(x, 0));
  if (!suppressed(r)) writeSt(x, 0, r);
  finish(x, keepC1);
}

export function fchs(c: Cpu, d: Insn): void { unary(c, d, (a) => ({ s: a.s ^ 1, e: a.e, m: a.m })); }
export function fabs(c: Cpu, d: Insn): void { unary(c, d, (a) => ({ s: 0, e: a.e, m: a.m })); }
export function fsqrt(c: Cpu, d: Insn): void { unary(c, d, (a) => sqrt(a, env)); }
export function frndint(c: Cpu, d: Insn): void { unary(c, d, (a) => roundToInt(a, env)); }

/** FSCALE: ST(0) * 2^trunc(ST(1)) (SDM FSCALE table). */
export function fscale(c: Cpu, d: Insn): void {
  const x = enter(c, d);
  if (isEmpty(x, 0) || isEmpty(x, 1)) { underflowInto(x, 0, false); return; }
  const a = readSt(x, 0), b = readSt(x, 1);
  const r = scale(a, b);
  if (!suppressed(r)) writeSt(x, 0, r);
  finish(x);
}

function scale(a: F80, b: F80): F80 {
  const before = env.flags;
  const n = propagateNaN2(a, b, env);
  if (n !== null) return (env.flags & ~before & FE_IE & ~env.masks) !== 0 ? NO_RESULT : n;
  const ka = classify(a), kb = classify(b);
  if (kb === K_INF) {
    if (ka === K_DENORMAL) { env.flags |= FE_DE; if ((env.masks & FE_DE) === 0) return NO_RESULT; }
    if (b.s === 0) return ka === K_ZERO ? invalid() : inf(a.s);
    return ka === K_INF ? invalid() : zero(a.s);
  }
  if (ka === K_DENORMAL || kb === K_DENORMAL) { env.flags |= FE_DE; if ((env.masks & FE_DE) === 0) return NO_RESULT; }
  if (ka === K_ZERO || ka === K_INF) return a;
  // trunc(ST(1)), clamped far beyond any exponent that could still round to a finite nonzero value.
  let k: number;
  const eb = exponentOf(b);
  if (kb === K_ZERO) k = 0;
  else if (eb + bitLength(b.m) > 20) k = b.s ? -100000 : 100000;
  else k = Number(eb >= 0 ? b.m << BigInt(eb) : b.m >> BigInt(-eb)) * (b.s ? -1 : 1);
  return roundPack80(a.s, a.m, exponentOf(a) + k, false, env, false);
}

function invalid(): F80 { env.flags |= FE_IE; return (env.masks & FE_IE) === 0 ? NO_RESULT : INDEFINITE; }

/** FXTRACT: ST(0) = significand (exponent 0), then push the unbiased exponent... in the SDM's order. */
export function fxtract(c: Cpu, d: Insn): void {
  const x = enter(c, d);
  if (isEmpty(x, 0)) { underflowInto(x, 0, false); return; }
  if (!isEmpty(x, 7)) {
    // Stack overflow: masked, ST(0) and the pushed value are the default NaN.
    if (push(x, INDEFINITE)) writeSt(x, 1, INDEFINITE);
    finish(x); return;
  }
  const a = readSt(x, 0);
  const k = classify(a);
  let expPart: F80, sigPart: F80;
  const nan = propagateNaN1(a, env);
  if (nan !== null) {
    if ((env.flags & FE_IE & ~env.masks) !== 0) { finish(x); return; }
    expPart = nan; sigPart = nan;
  } else if (k === K_ZERO) {
    env.flags |= FE_ZE;
    if ((env.masks & FE_ZE) === 0) { finish(x); return; }
    expPart = inf(1); sigPart = a;
  } else if (k === K_INF) {
    expPart = inf(0); sigPart = a;
  } else {
    if (k === K_DENORMAL) { env.flags |= FE_DE; if ((env.masks & FE_DE) === 0) { finish(x); return; } }
    const n = bitLength(a.m);
    const e = exponentOf(a) + n - 1;
    expPart = fromInteger(BigInt(e));
    sigPart = { s: a.s, e: 16383, m: a.m << BigInt(64 - n) };
  }
  writeSt(x, 0, expPart);
  push(x, sigPart);
  finish(x);
}

/**
 * FPREM (truncating quotient) and FPREM1 (round-to-nearest quotient): partial remainder. When the
 * exponents differ by 64 or more, one reduction step by a power-of-two multiple of ST(1) is done and
 * C2 = 1 (incomplete); else C2 = 0 and C0, C3, C1 receive quotient bits 2, 1, 0.
 */
function prem(c: Cpu, d: Insn, nearest: boolean): void {
  const x = enter(c, d);
  if (isEmpty(x, 0) || isEmpty(x, 1)) { underflowInto(x, 0, false); return; }
  const a = readSt(x, 0), b = readSt(x, 1);
  let sw = x.sw & ~(SW_C0 | SW_C1 | SW_C2 | SW_C3);
  const before = env.flags;
  const n = propagateNaN2(a, b, env);
  let r: F80;
  if (n !== null) r = (env.flags & ~before & FE_IE & ~env.masks) !== 0 ? NO_RESULT : n;
  else {
    const ka = classify(a), kb = classify(b);
    if (ka === K_INF || kb === K_ZERO) r = invalid();
    else {
      if (ka === K_DENORMAL || kb === K_DENORMAL) env.flags |= FE_DE;
      if ((env.flags & FE_DE & ~env.masks) !== 0) r = NO_RESULT;
      else if (ka === K_ZERO || kb === K_INF) r = a;
      else {
        const ea = exponentOf(a) + bitLength(a.m), eb = exponentOf(b) + bitLength(b.m);
        const diff = ea - eb;
        if (diff >= 64) {
          // Partial step: reduce by ST(1) * 2^(diff - N) with N = 32..63 chosen as the hardware does.
          const N = 32 + ((diff - 64) & 31);
          const sh = diff - N;
          const E = Math.min(exponentOf(a), exponentOf(b) + sh);
          const A = a.m << BigInt(exponentOf(a) - E), B = b.m << BigInt(exponentOf(b) + sh - E);
          const q = A / B;
          const rem = A - q * B;
          r = rem === 0n ? zero(a.s) : roundPack80(a.s, rem, E, false, env, false);
          sw |= SW_C2;
        } else {
          const E = Math.min(exponentOf(a), exponentOf(b));
          const A = a.m << BigInt(exponentOf(a) - E), B = b.m << BigInt(exponentOf(b) - E);
          let q = A / B;
          let rem = A - q * B;
          let s = a.s;
          if (nearest && (2n * rem > B || (2n * rem === B && (q & 1n) === 1n))) { q += 1n; rem = B - rem; s ^= 1; }
          r = rem === 0n ? zero(a.s) : roundPack80(s, rem, E, false, env, false);
          if ((q & 4n) !== 0n) sw |= SW_C0;
          if ((q & 2n) !== 0n) sw |= SW_C3;
          if ((q & 1n) !== 0n) sw |= SW_C1;
        }
      }
    }
  }
  if (!suppressed(r)) { writeSt(x, 0, r); x.sw = sw; }
  finish(x, true);
}
export function fprem(c: Cpu, d: Insn): void { prem(c, d, false); }
export function fprem1(c: Cpu, d: Insn): void { prem(c, d, true); }

// ---- comparisons --------------------------------------------------------------------------------

const CC_BITS = [SW_C0, SW_C3, 0, SW_C0 | SW_C2 | SW_C3]; // less, equal, greater, unordered (index cmp+1)

function setCompareCodes(x: X87State, r: number): void {
  x.sw = (x.sw & ~(SW_C0 | SW_C1 | SW_C2 | SW_C3)) | CC_BITS[r + 1];
}

const UNORDERED_OK = new Set<number>([Mnemonic.Fucom, Mnemonic.Fucomp, Mnemonic.Fucompp, Mnemonic.Fucomi, Mnemonic.Fucomip]);
const POPS_ONCE = new Set<number>([Mnemonic.Fcomp, Mnemonic.Fucomp, Mnemonic.Ficomp, Mnemonic.Fcomip, Mnemonic.Fucomip]);
const POPS_TWICE = new Set<number>([Mnemonic.Fcompp, Mnemonic.Fucompp]);
const TO_EFLAGS = new Set<number>([Mnemonic.Fcomi, Mnemonic.Fcomip, Mnemonic.Fucomi, Mnemonic.Fucomip]);

/** FCOM/FCOMP/FCOMPP/FICOM(P)/FUCOM(P)(P)/FCOMI(P)/FUCOMI(P). */
export function fcom(c: Cpu, d: Insn): void {
  const x = enter(c, d);
  let a: F80 | null = null, b: F80 | null = null;
  if (d.k0 === OK_MEM) {
    b = memOperand(c, d);
    if (!isEmpty(x, 0)) a = readSt(x, 0);
  } else {
    // Forms: (ST0, STi) or none (FCOMPP/FUCOMPP compare ST0 with ST1).
    const i = d.k1 !== 0 ? sti(d.r1) : 1;
    if (!isEmpty(x, 0) && !isEmpty(x, i)) { a = readSt(x, 0); b = readSt(x, i); }
  }
  let r: number;
  if (a === null || b === null) { stackUnderflow(x); r = 2; }
  else r = compare(a, b, env, UNORDERED_OK.has(d.mnemonic));
  const unmasked = (env.flags & 0x3f & ~env.masks & (FE_IE | FE_DE)) !== 0;
  if (!unmasked) {
    if (TO_EFLAGS.has(d.mnemonic)) {
      const bits = r === 2 ? ZF | PF | CF : r === 0 ? ZF : r === -1 ? CF : 0;
      c.flags.setStatus(CF | PF | AF | ZF | SF | OF, bits);
      x.sw &= ~SW_C1;
    } else setCompareCodes(x, r);
    if (POPS_ONCE.has(d.mnemonic)) pop(x);
    else if (POPS_TWICE.has(d.mnemonic)) { pop(x); pop(x); }
  }
  finish(x, true);
}

/** FTST: compare ST(0) with +0.0. */
export function ftst(c: Cpu, d: Insn): void {
  const x = enter(c, d);
  let r: number;
  if (isEmpty(x, 0)) { stackUnderflow(x); r = 2; }
  else r = compare(readSt(x, 0), zero(0), env, false);
  if ((env.flags & ~env.masks & (FE_IE | FE_DE)) === 0) setCompareCodes(x, r);
  finish(x, true);
}

/** FXAM: classify ST(0) into C3 C2 C0, sign into C1 (empty reports its register's sign too). */
export function fxam(c: Cpu, d: Insn): void {
  const x = enter(c, d);
  const a = readSt(x, 0);
  let bits: number;
  if (x.tags[x.phys(0)] === TAG_EMPTY) bits = SW_C3 | SW_C0;
  else {
    switch (classify(a)) {
      case K_UNSUPPORTED: bits = 0; break;
      case K_QNAN: case K_SNAN: bits = SW_C0; break;
      case K_NORMAL: bits = SW_C2; break;
      case K_INF: bits = SW_C2 | SW_C0; break;
      case K_ZERO: bits = SW_C3; break;
      default: bits = SW_C3 | SW_C2; break; // denormal and pseudo-denormal
    }
  }
  x.sw = (x.sw & ~(SW_C0 | SW_C1 | SW_C2 | SW_C3)) | bits | (a.s ? SW_C1 : 0);
  finish(x, true);
}

void isNaN80; void quiet; void FE_ZE;
