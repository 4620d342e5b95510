/**
 * Inline emitters for the forms that real Linux's hot blocks run besides jit/forms.ts's: MOVSX/MOVSXD,
 * two- and three-operand IMUL, CMOVcc and SETcc. Semantics are the interpreter's (exec/dataMove.ts
 * movsx, cmovcc, setcc; exec/mulDivInsns.ts imulRm with exec/muldiv.ts imul2), including the flag
 * state they leave: IMUL sets CF and OF through FlagState.setStatus and keeps the other status flags,
 * CMOVcc and SETcc leave the flags alone. A memory operand is read (and may fault) before anything
 * changes, and a CMOV reads its memory source whether or not the condition holds, as there.
 */
import { Mnemonic } from 'iced-x86';
import { OK_REG, OK_MEM, OK_IMM } from '../decode/insn';
import { CF, OF } from '../cpu/flags';
import { effectiveAddress, store, type InsnSite } from './memoryAccess';
import * as mv from '../exec/dataMove';
import { condition, regOperand, setRegOperand, source } from './forms';
import { emitDiv } from './divide';
import { emitRmw } from './rmwForms';
import { imul64Overflows } from '../exec/muldiv';
import { rotateImm } from './rotateForms';
import { shiftByCl } from './shiftCountForms';
import { recordsAllFlags, flagsDeadAfter } from './deadFlags';

const CF_OF = CF | OF;

/** MOVSX/MOVSXD r32/r64, r/m8/16/32 (16-bit destinations go to the interpreter). */
export function movsx(s: InsnSite): boolean {
  const d = s.d;
  if (d.k0 !== OK_REG || (d.size !== 4 && d.size !== 8) || (d.s1 !== 1 && d.s1 !== 2 && d.s1 !== 4)) return false;
  if (d.k1 !== OK_REG && d.k1 !== OK_MEM) return false;
  const v = source(s);
  if (v === null) return false;
  const x = s.st.tmp('sx');
  const ext = d.s1 === 1 ? `(${v[0]} << 24) >> 24` : d.s1 === 2 ? `(${v[0]} << 16) >> 16` : `${v[0]} | 0`;
  s.out.push(`const ${x} = ${ext};`);
  setRegOperand(s, d.size, d.r0, x, d.size === 8 ? `(${x} >> 31)` : '0');
  return true;
}

/** Result of imulLow64 beyond its return value: the high half and whether the product overflowed. */
export const mulOut = { hi: 0, ov: 0 };

/**
 * The low 64 bits of the signed product of two 64-bit values (int32 halves), returning the low half;
 * mulOut gets the high half and overflow (the 128-bit product is not the sign extension of its low
 * half: IMUL's CF and OF). The high word of the unsigned low product is rounded from the double
 * product, as exec/muldiv.ts mul32 does. Overflow is decided from the double product where it is far
 * from the limit, and exactly near it: for two operands below 2^32 (real Linux's 32x32 -> 64 products,
 * reciprocal_scale and the like, land there a third of the time) the exact high word's sign says it,
 * otherwise exec/muldiv.ts's 128-bit product does.
 */
export function imulLow64(aLo: number, aHi: number, bLo: number, bHi: number): number {
  const ua = aLo >>> 0, ub = bLo >>> 0;
  const lo = Math.imul(ua, ub);
  const carry = Math.round((ua * ub - (lo >>> 0)) / 4294967296);
  const hi = (carry + Math.imul(aLo, bHi) + Math.imul(aHi, bLo)) | 0;
  mulOut.hi = hi;
  if ((aHi | 0) === (aLo >> 31) && (bHi | 0) === (bLo >> 31)) { mulOut.ov = 0; return lo; }
  // |double product - product| < 2^-50 |product|: below 2^62 it fits, above 2^64 it does not.
  const p = Math.abs(((aHi | 0) * 4294967296 + ua) * ((bHi | 0) * 4294967296 + ub));
  if (p < 4611686018427387904) mulOut.ov = 0;
  else if (p > 18446744073709551616) mulOut.ov = 1;
  else if ((aHi | bHi) === 0) mulOut.ov = hi < 0 ? 1 : 0; // unsigned product < 2^64; hi is its exact high word
  else mulOut.ov = imul64Overflows(aLo, aHi, bLo, bHi) ? 1 : 0;
  return lo;
}

/** IMUL r, r/m and IMUL r, r/m, imm at 32 and 64 bits. */
export function imul(s: InsnSite): boolean {
  const d = s.d, size = d.size, st = s.st, out = s.out;
  if (d.k0 !== OK_REG || d.k1 === 0 || (size !== 4 && size !== 8)) return false;
  if (d.k1 !== OK_REG && d.k1 !== OK_MEM) return false;
  if (d.k1 === OK_MEM && d.s1 !== size) return false;
  const three = d.k2 === OK_IMM;
  if (!three && d.k2 !== 0) return false;
  let a: [string, string], b: [string, string];
  if (three) {
    a = source(s)!;
    b = [`${d.immLo | 0}`, `${d.immHi | 0}`];
  } else {
    b = source(s)!;
    a = regOperand(s, size, d.r0);
  }
  // 64-bit operands whose high halves are known 0 (registers last written by 32-bit forms, immediates).
  const highZero = size === 8 && (three
    ? d.k1 === OK_REG && st.highZero(d.r1) && d.immHi === 0
    : st.highZero(d.r0) && d.k1 === OK_REG && st.highZero(d.r1));
  const al = st.tmp('ma'), ah = st.tmp('mb'), bl = st.tmp('mc'), bh = st.tmp('md');
  out.push(`const ${al} = ${a[0]} | 0, ${ah} = ${a[1]} | 0, ${bl} = ${b[0]} | 0, ${bh} = ${b[1]} | 0;`);
  // CF and OF go to the FlagState (after the record of the instruction before), unless later
  // instructions overwrite them unseen (deadFlags.ts).
  const dead = flagsDeadAfter(s.blockInsns, s.pos, CF_OF);
  if (!dead) { out.push(st.flagsWriteBack()); st.flags = null; }
  const rl = st.tmp('pl'), rh = st.tmp('ph');
  // Both operands below 2^32: the unsigned product < 2^64, its high word rounded from the double
  // product as exec/muldiv.ts mul32 does; it overflows the signed range when that word's top bit is set.
  const low32 = `${rl} = Math.imul(${al}, ${bl})`;
  const high32 = `${rh} = Math.round(((${al} >>> 0) * (${bl} >>> 0) - (${rl} >>> 0)) / 4294967296) | 0`;
  if (size === 4) {
    const p = st.tmp('pp');
    out.push(`const ${p} = ${al} * ${bl}, ${rl} = Math.imul(${al}, ${bl}), ${rh} = 0;`);
    // The double product is exact below 2^53 and certainly out of the int32 range above it.
    if (!dead) out.push(`fl.setStatus(${CF_OF}, ${p} >= -2147483648 && ${p} <= 2147483647 ? 0 : ${CF_OF});`);
  } else if (highZero) {
    out.push(`const ${low32}, ${high32};`);
    if (!dead) out.push(`fl.setStatus(${CF_OF}, ${rh} < 0 ? ${CF_OF} : 0);`);
  } else {
    // Checked at run time: operands below 2^32 (high halves 0) take the inline product.
    const ov = st.tmp('po');
    out.push(`let ${rl} = 0, ${rh} = 0, ${ov} = 0; if ((${ah} | ${bh}) === 0) { ${low32}; ${high32}; ${ov} = ${rh} >>> 31; } ` +
      `else { ${rl} = imulLow64(${al}, ${ah}, ${bl}, ${bh}); ${rh} = mulOut.hi; ${ov} = mulOut.ov; }`);
    if (!dead) out.push(`fl.setStatus(${CF_OF}, ${ov} !== 0 ? ${CF_OF} : 0);`);
  }
  setRegOperand(s, size, d.r0, rl, rh);
  return true;
}

/** CMOVcc r32/r64, r/m. */
export function cmov(s: InsnSite): boolean {
  const d = s.d, size = d.size, st = s.st;
  if (d.k0 !== OK_REG || d.cc < 0 || (size !== 4 && size !== 8)) return false;
  if (d.k1 !== OK_REG && d.k1 !== OK_MEM) return false;
  if (d.k1 === OK_MEM && d.s1 !== size) return false;
  const v = source(s)!;
  const vl = st.tmp('cv'), vh = st.tmp('cw');
  s.out.push(`const ${vl} = ${v[0]} | 0, ${vh} = ${v[1]} | 0;`);
  // The destination's locals must hold its value on both paths.
  const [l, h] = st.reg(d.r0);
  const cc = st.tmp('cc');
  const e = condition(s, d.cc);
  s.out.push(`const ${cc} = ${e};`);
  if (size === 4) st.setReg(d.r0, `${cc} ? ${vl} : ${l}`, '0');
  else st.setReg(d.r0, `${cc} ? ${vl} : ${l}`, `${cc} ? ${vh} : ${h}`);
  return true;
}

/** SETcc r/m8. */
export function setcc(s: InsnSite): boolean {
  const d = s.d;
  if (d.cc < 0 || d.size !== 1 || (d.k0 !== OK_REG && d.k0 !== OK_MEM)) return false;
  if (d.k0 === OK_MEM && d.msize !== 1) return false;
  const cc = s.st.tmp('cc');
  const e = condition(s, d.cc);
  s.out.push(`const ${cc} = ${e} ? 1 : 0;`);
  if (d.k0 === OK_REG) setRegOperand(s, 1, d.r0, cc, '0');
  else store(s, 1, effectiveAddress(s), cc, '0');
  return true;
}

/** CDQE, CDQ, CQO (exec/dataMove.ts): sign extensions of RAX/EAX, no flags. */
export function signExtendAccumulator(s: InsnSite): boolean {
  const st = s.st;
  const [al, ah] = st.reg(0);
  switch (s.d.mnemonic) {
    case Mnemonic.Cdqe: st.setReg(0, al, `(${al} >> 31)`); return true;
    case Mnemonic.Cdq: st.setReg(2, `(${al} >> 31)`, '0'); return true;
    case Mnemonic.Cqo: st.setReg(2, `(${ah} >> 31)`, `(${ah} >> 31)`); return true;
    default: return false;
  }
}

/** Emit the inline form of s.d if this file has one; false when the interpreter's handler must run it. */
export function emitMore(s: InsnSite): boolean {
  const d = s.d;
  if (d.bits !== 64) return false;
  switch (d.mnemonic) {
    case Mnemonic.Movsx: case Mnemonic.Movsxd: return movsx(s);
    case Mnemonic.Imul: return imul(s);
    case Mnemonic.Div: case Mnemonic.Idiv: return emitDiv(s, recordsAllFlags(s.blockInsns[s.pos + 1]));
    case Mnemonic.Cdqe: case Mnemonic.Cdq: case Mnemonic.Cqo: return signExtendAccumulator(s);
    default: break;
  }
  if (emitRmw(s)) return true;
  if (rotateImm(s)) return true;
  if (shiftByCl(s)) return true;
  if (d.fn === mv.cmovcc) return cmov(s);
  if (d.fn === mv.setcc) return setcc(s);
  return false;
}

