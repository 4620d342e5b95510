/**
 * DIV and IDIV r32/r64 inline, for divisors below 2^32 (what C code divides by: array sizes, loop
 * counters, do_div's 32-bit divisors; for IDIV, divisors in the int32 range and a dividend that is
 * the sign extension of RAX/EAX, as after CQO/CDQ). The dividend goes through exec/muldiv.ts udiv32,
 * the interpreter's own division by 16-bit digits, without the handler's operand decoding and its
 * general cases (larger divisors go bit by bit). Other divisors, a zero divisor and a quotient that
 * does not fit (#DE) take the interpreter's handler, after a sync, so a fault is the interpreter's.
 *
 * Flags as the interpreter leaves them: CF and OF keep their values, SF ZF PF are cleared and AF set
 * (FlagState.setStatus), unless the next instruction replaces every status flag unseen.
 */
import { Mnemonic } from 'iced-x86';
import { OK_REG } from '../decode/insn';
import { AF, SF, ZF, PF } from '../cpu/flags';
import type { InsnSite } from './memoryAccess';
import { regOperand } from './forms';
import { divOut, udiv32 } from '../exec/muldiv';

const DIV_FLAGS = SF | ZF | AF | PF;

/** Quotient and remainder of idivSmall, as int32 halves. */
export const idivOut = { lo: 0, hi: 0, remLo: 0, remHi: 0 };

/**
 * Signed (aHi:aLo) / d for a 64-bit dividend and a divisor in the int32 range, not 0 (IDIV r64 whose
 * RDX is RAX's sign extension, as after CQO): returns 1 with idivOut set, or 0 when the quotient does
 * not fit in 64 bits (-2^63 / -1: #DE, left to the handler). The quotient rounds toward zero and the
 * remainder takes the dividend's sign, as exec/muldiv.ts idiv.
 */
export function idivSmall(aLo: number, aHi: number, d: number): number {
  let lo = aLo >>> 0, hi = aHi >>> 0;
  const nNeg = (aHi | 0) < 0, dNeg = d < 0;
  if (nNeg) { lo = (~lo + 1) >>> 0; hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0; }
  const ql0 = udiv32(0, hi, lo, dNeg ? -d : d) >>> 0;
  let ql = ql0, qh = divOut.hi >>> 0;
  const rem = divOut.rem;
  if (nNeg !== dNeg) {
    if (qh > 0x80000000 || (qh === 0x80000000 && ql !== 0)) return 0;
    ql = (~ql + 1) >>> 0; qh = (~qh + (ql === 0 ? 1 : 0)) >>> 0;
  } else if (qh >= 0x80000000) return 0;
  idivOut.lo = ql | 0; idivOut.hi = qh | 0;
  idivOut.remLo = nNeg ? -rem | 0 : rem | 0;
  idivOut.remHi = nNeg && rem !== 0 ? -1 : 0;
  return 1;
}

/** Whether `d` is DIV or IDIV r32/r64, which have an inline form. */
export function isInlineDiv(s: InsnSite): boolean {
  const d = s.d;
  return (d.mnemonic === Mnemonic.Div || d.mnemonic === Mnemonic.Idiv) && d.k0 === OK_REG && (d.size === 4 || d.size === 8) &&
    d.lock === 0;
}

/**
 * DIV or IDIV r32/r64. `flagsDead`: the next instruction replaces every status flag without reading
 * them and cannot fault, so the flags the division leaves are never seen.
 */
export function emitDiv(s: InsnSite, flagsDead: boolean): boolean {
  if (!isInlineDiv(s)) return false;
  const d = s.d, st = s.st, out = s.out, size = d.size;
  const signed = d.mnemonic === Mnemonic.Idiv;
  const [bl, bh] = regOperand(s, size, d.r0);
  const [al, ah] = st.reg(0);
  const [rl, rh] = st.reg(2);
  const dv = st.tmp('dv'), ql = st.tmp('ql'), qh = st.tmp('qh'), ml = st.tmp('ml'), mh = st.tmp('mh');
  out.push(`const ${dv} = ${bl}${signed ? ' | 0' : ' >>> 0'}; let ${ql} = 0, ${qh} = 0, ${ml} = 0, ${mh} = 0;`);
  let fits: string, fast: string;
  if (!signed) {
    // Divisor below 2^32 and not 0, and the high half of the dividend below it (no #DE).
    fits = size === 8
      ? `${bh} === 0 && ${dv} !== 0 && ${rh} === 0 && (${rl} >>> 0) < ${dv}`
      : `${dv} !== 0 && (${rl} >>> 0) < ${dv}`;
    fast = size === 8
      ? `${ql} = udiv32(${rl} >>> 0, ${ah} >>> 0, ${al} >>> 0, ${dv}); ${qh} = divOut.hi; ${ml} = divOut.rem | 0;`
      : `${ql} = udiv32(0, ${rl} >>> 0, ${al} >>> 0, ${dv}); ${ml} = divOut.rem | 0;`;
  } else if (size === 8) {
    // RDX is RAX's sign extension and the divisor is in the int32 range, not 0; the quotient fits.
    fits = `${dv} !== 0 && ${bh} === (${dv} >> 31) && ${rl} === (${ah} >> 31) && ${rh} === (${ah} >> 31) && ` +
      `idivSmall(${al}, ${ah}, ${dv}) !== 0`;
    fast = `${ql} = idivOut.lo; ${qh} = idivOut.hi; ${ml} = idivOut.remLo; ${mh} = idivOut.remHi;`;
  } else {
    // EDX is EAX's sign extension (a dividend in the int32 range): one exact double division,
    // unless the quotient is 2^31 (-2^31 / -1: #DE).
    const q = st.tmp('q');
    fits = `${dv} !== 0 && ${rl} === (${al} >> 31) && !(${al} === -2147483648 && ${dv} === -1)`;
    fast = `const ${q} = Math.trunc(${al} / ${dv}); ${ql} = ${q} | 0; ${ml} = (${al} - ${q} * ${dv}) | 0;`;
  }
  const statusKept = !flagsDead;
  if (statusKept) {
    // The pending record goes to the FlagState first: the division keeps its CF and OF.
    out.push(st.flagsWriteBack());
    st.flags = null;
  }
  // The handler (after a sync) divides the rest or raises #DE; its results come back from the register file.
  const slow = `${st.syncAt(s.index, s.start, s.next)}${s.dName}.fn(c, ${s.dName}); ` +
    `${ql} = u[0] | 0; ${qh} = u[1] | 0; ${ml} = u[4] | 0; ${mh} = u[5] | 0;`;
  out.push(`if (${fits}) { ${fast}${statusKept ? ` fl.setStatus(${DIV_FLAGS}, ${AF});` : ''} } else { ${slow} }`);
  st.setReg(0, ql, qh);
  st.setReg(2, ml, mh);
  return true;
}
