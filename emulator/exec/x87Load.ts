/**
 * x87 data transfer (SDM vol. 1 8.3.3-8.3.4): FLD/FST/FSTP (m32fp, m64fp, m80fp, ST(i)), FILD/FIST/
 * FISTP (m16/m32/m64 int), FISTTP (SSE3, truncating), FBLD/FBSTP (packed BCD), the constants FLD1 FLDZ
 * FLDPI FLDL2E FLDL2T FLDLG2 FLDLN2, FXCH, FCMOVcc, FFREE(P), FINCSTP, FDECSTP, FNOP.
 */
import { Mnemonic } from 'iced-x86';
import type { Cpu } from '../cpu/cpu';
import type { Insn } from '../decode/insn';
import { OK_MEM } from '../decode/insn';
import { TAG_EMPTY, SW_C1, X87State } from '../cpu/x87State';
import { ea } from './operands';
import {
  enter, env, finish, readSt, writeSt, isEmpty, pop, push, stackUnderflow, sti, readMem80, writeMem80,
  readMemBits, writeMemBits,
} from './x87Core';
import {
  F80, FMT32, FMT64, FE_IE, FE_DE, FE_PE, INDEFINITE, RC_CHOP, RC_NEAREST, RC_UP, fromBinary, toBinary, fromInteger,
  toInteger, classify, K_SNAN, K_UNSUPPORTED, K_QNAN, K_INF,
} from './x87Float80';

const unmaskedSet = (bits: number): boolean => (env.flags & bits & ~env.masks) !== 0;

/** FLD m32fp/m64fp/m80fp/ST(i). */
export function fld(c: Cpu, d: Insn): void {
  const x = enter(c, d);
  let v: F80;
  if (d.k0 === OK_MEM) {
    const va = ea(c, d);
    if (d.s0 === 10) v = readMem80(c, va);
    else {
      v = fromBinary(readMemBits(c, va, d.s0), d.s0 === 4 ? FMT32 : FMT64, env);
      if (unmaskedSet(FE_IE | FE_DE)) { finish(x); return; }
    }
  } else {
    const i = sti(d.r0);
    if (isEmpty(x, i)) {
      if (!stackUnderflow(x)) { finish(x); return; }
      v = INDEFINITE;
    } else v = readSt(x, i);
  }
  push(x, v);
  finish(x);
}

const INT_INDEFINITE = [0n, 0n, 0x8000n, 0n, 0x80000000n, 0n, 0n, 0n, 0x8000000000000000n];
const F_INDEFINITE = { 4: 0xffc00000n, 8: 0xfff8000000000000n } as Record<number, bigint>;

/** FST/FSTP to memory (m32fp, m64fp, m80fp) or to ST(i). */
export function fst(c: Cpu, d: Insn): void {
  const x = enter(c, d);
  const popping = d.mnemonic === Mnemonic.Fstp || d.mnemonic === Mnemonic.Fstpnce;
  if (isEmpty(x, 0)) {
    if (!stackUnderflow(x)) { finish(x); return; }
    if (d.k0 === OK_MEM) {
      const va = ea(c, d);
      if (d.s0 === 10) writeMem80(c, va, INDEFINITE); else writeMemBits(c, va, d.s0, F_INDEFINITE[d.s0]);
    } else writeSt(x, sti(d.r0), INDEFINITE);
    if (popping) pop(x);
    finish(x); return;
  }
  const v = readSt(x, 0);
  if (d.k0 === OK_MEM) {
    const va = ea(c, d);
    if (d.s0 === 10) writeMem80(c, va, v);
    else {
      c.mmu.probeWrite(va, d.s0);
      const bits = toBinary(v, d.s0 === 4 ? FMT32 : FMT64, env);
      if (bits === null) { finish(x); return; }
      writeMemBits(c, va, d.s0, bits);
    }
  } else writeSt(x, sti(d.r0), v);
  if (popping) pop(x);
  finish(x);
}

/** FILD m16int/m32int/m64int. */
export function fild(c: Cpu, d: Insn): void {
  const x = enter(c, d);
  const v = BigInt.asIntN(d.s0 * 8, readMemBits(c, ea(c, d), d.s0));
  push(x, fromInteger(v));
  finish(x);
}

/** FIST/FISTP (rounding control) and FISTTP (truncation). */
export function fist(c: Cpu, d: Insn): void {
  const x = enter(c, d);
  const size = d.s0;
  const va = ea(c, d);
  const popping = d.mnemonic !== Mnemonic.Fist;
  let out: bigint | null;
  if (isEmpty(x, 0)) {
    if (!stackUnderflow(x)) { finish(x); return; }
    out = INT_INDEFINITE[size];
  } else {
    const v = readSt(x, 0);
    const k = classify(v);
    const n = toInteger(v, env, d.mnemonic === Mnemonic.Fisttp ? RC_CHOP : env.rc);
    const lim = 1n << BigInt(size * 8 - 1);
    if (n === null || n < -lim || n >= lim) {
      // Invalid: NaN, infinity, unsupported or out of range; no precision exception, C1 cleared.
      env.flags = (env.flags & ~FE_PE) | FE_IE;
      env.c1 = 0;
      if (unmaskedSet(FE_IE)) { finish(x); return; }
      out = INT_INDEFINITE[size];
    } else {
      if (unmaskedSet(FE_DE)) { finish(x); return; }
      out = n;
    }
    void k;
  }
  writeMemBits(c, va, size, BigInt.asUintN(size * 8, out));
  if (popping) pop(x);
  finish(x);
}

/** FBLD: 18 packed BCD digits and a sign byte → integer. */
export function fbld(c: Cpu, d: Insn): void {
  const x = enter(c, d);
  const va = ea(c, d);
  let v = 0n;
  for (let i = 8; i >= 0; i--) {
    const b = c.mmu.read8(va + i);
    v = v * 100n + BigInt((b >> 4) * 10 + (b & 15));
  }
  const neg = (c.mmu.read8(va + 9) & 0x80) !== 0;
  const r = fromInteger(v);
  push(x, neg ? { s: 1, e: r.e, m: r.m } : r);
  finish(x);
}

/** FBSTP: ST(0) rounded under RC to 18 BCD digits; invalid (masked) stores the BCD indefinite. */
export function fbstp(c: Cpu, d: Insn): void {
  const x = enter(c, d);
  const va = ea(c, d);
  c.mmu.probeWrite(va, 10);
  const bytes = new Uint8Array(10);
  let ok = false;
  if (isEmpty(x, 0)) {
    if (!stackUnderflow(x)) { finish(x); return; }
  } else {
    const v = readSt(x, 0);
    const n = toInteger(v, env, env.rc);
    if (n === null || n > 999999999999999999n || n < -999999999999999999n) {
      env.flags = (env.flags & ~FE_PE) | FE_IE; env.c1 = 0;
      if (unmaskedSet(FE_IE)) { finish(x); return; }
    } else {
      if (unmaskedSet(FE_DE)) { finish(x); return; }
      let m = n < 0n ? -n : n;
      for (let i = 0; i < 9; i++) { const lo = Number(m % 10n); m /= 10n; const hi = Number(m % 10n); m /= 10n; bytes[i] = (hi << 4) | lo; }
      bytes[9] = v.s ? 0x80 : 0;
      ok = true;
    }
  }
  if (!ok) { bytes.fill(0); bytes[7] = 0xc0; bytes[8] = 0xff; bytes[9] = 0xff; }
  for (let i = 0; i < 10; i++) c.mmu.write8(va + i, bytes[i]);
  pop(x);
  finish(x);
}

// ---- constants ----------------------------------------------------------------------------------

/**
 * The constants as the hardware holds them (66 significant bits) rounded to 64 bits under RC:
 * [exponent, nearest, down/chop, up] significands. LOG2(10) rounds down to nearest; the others round up.
 */
const CONSTANTS: Record<number, [number, bigint, bigint, bigint]> = {
  [Mnemonic.Fld1]: [0x3fff, 0x8000000000000000n, 0x8000000000000000n, 0x8000000000000000n],
  [Mnemonic.Fldl2t]: [0x4000, 0xd49a784bcd1b8afen, 0xd49a784bcd1b8afen, 0xd49a784bcd1b8affn],
  [Mnemonic.Fldl2e]: [0x3fff, 0xb8aa3b295c17f0bcn, 0xb8aa3b295c17f0bbn, 0xb8aa3b295c17f0bcn],
  [Mnemonic.Fldpi]: [0x4000, 0xc90fdaa22168c235n, 0xc90fdaa22168c234n, 0xc90fdaa22168c235n],
  [Mnemonic.Fldlg2]: [0x3ffd, 0x9a209a84fbcff799n, 0x9a209a84fbcff798n, 0x9a209a84fbcff799n],
  [Mnemonic.Fldln2]: [0x3ffe, 0xb17217f7d1cf79acn, 0xb17217f7d1cf79abn, 0xb17217f7d1cf79acn],
};

export function fldConst(c: Cpu, d: Insn): void {
  const x = enter(c, d);
  if (d.mnemonic === Mnemonic.Fldz) push(x, { s: 0, e: 0, m: 0n });
  else {
    const [e, near, down, up] = CONSTANTS[d.mnemonic];
    push(x, { s: 0, e, m: env.rc === RC_NEAREST ? near : env.rc === RC_UP ? up : down });
  }
  finish(x);
}

// ---- register stack -----------------------------------------------------------------------------

/** FXCH ST(i): empty operands are stack underflow; masked, they read as the default NaN. */
export function fxch(c: Cpu, d: Insn): void {
  const x = enter(c, d);
  const i = d.k1 !== 0 ? sti(d.r1) : 1;
  const e0 = isEmpty(x, 0), ei = isEmpty(x, i);
  if (e0 || ei) {
    if (!stackUnderflow(x)) { finish(x); return; }
  }
  const a = e0 ? INDEFINITE : readSt(x, 0), b = ei ? INDEFINITE : readSt(x, i);
  writeSt(x, 0, b); writeSt(x, i, a);
  finish(x);
}

const FCMOV: Record<number, (f: number) => boolean> = {};
function cond(c: Cpu, m: number): boolean {
  const f = c.flags;
  switch (m) {
    case Mnemonic.Fcmovb: return f.cf();
    case Mnemonic.Fcmove: return f.zf();
    case Mnemonic.Fcmovbe: return f.cf() || f.zf();
    case Mnemonic.Fcmovu: return f.pf();
    case Mnemonic.Fcmovnb: return !f.cf();
    case Mnemonic.Fcmovne: return !f.zf();
    case Mnemonic.Fcmovnbe: return !f.cf() && !f.zf();
    default: return !f.pf();
  }
}
void FCMOV;

/** FCMOVcc ST(0), ST(i). */
export function fcmov(c: Cpu, d: Insn): void {
  const x = enter(c, d);
  const i = sti(d.r1);
  if (isEmpty(x, 0) || isEmpty(x, i)) {
    if (stackUnderflow(x)) writeSt(x, 0, INDEFINITE);
    finish(x); return;
  }
  if (cond(c, d.mnemonic)) writeSt(x, 0, readSt(x, i));
  finish(x);
}

/** FFREE ST(i) (tag empty) and FFREEP (then pop). */
export function ffree(c: Cpu, d: Insn): void {
  const x = enter(c, d);
  x.tags[x.phys(sti(d.r0))] = TAG_EMPTY;
  if (d.mnemonic === Mnemonic.Ffreep) x.top = (x.top + 1) & 7;
  finish(x, true);
}

export function fincstp(c: Cpu, d: Insn): void { const x = enter(c, d); x.top = (x.top + 1) & 7; x.sw &= ~SW_C1; finish(x, true); }
export function fdecstp(c: Cpu, d: Insn): void { const x = enter(c, d); x.top = (x.top - 1) & 7; x.sw &= ~SW_C1; finish(x, true); }
export function fnop(c: Cpu, d: Insn): void { const x = enter(c, d); finish(x, true); }

void X87State; void K_SNAN; void K_UNSUPPORTED; void K_QNAN; void K_INF;
