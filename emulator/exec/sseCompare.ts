/**
 * SSE/SSE2 floating-point comparisons: CMPPS/CMPSS/CMPPD/CMPSD with the eight predicates of the
 * legacy encoding (imm8 & 7: EQ LT LE UNORD NEQ NLT NLE ORD), and COMISS/UCOMISS/COMISD/UCOMISD into
 * ZF/PF/CF. The "signaling" predicates (LT LE NLT NLE) and COMIS* raise IE for a QNaN operand too;
 * the quiet ones and UCOMIS* only for an SNaN. Denormal operands raise DE (or count as zeros under DAZ).
 */
import type { Cpu } from '../cpu/cpu';
import type { Insn } from '../decode/insn';
import { sseAvailable, commitFlags, MX_IE } from './sse/mxcsr';
import { beginFp, fp } from './sse/softFloat';
import { in32, in64, isNaN32, isSNaN32, isNaN64, isSNaN64 } from './sse/floatLanes';
import { src, dst, res, loadSource, loadDest, storeDest, requireXmmDest } from './sse/xmmOperands';
import { CF, PF, ZF, OF, SF, AF } from '../cpu/flags';

/** Relation codes: 0 less, 1 equal, 2 greater, 3 unordered. */
const LT = 0, EQ = 1, GT = 2, UN = 3;

function relation(x: number, y: number): number { return x < y ? LT : x > y ? GT : EQ; }

function relate32(a: number, b: number, signalQuiet: boolean): number {
  const an = isNaN32(a), bn = isNaN32(b);
  if (an || bn) {
    if (signalQuiet || isSNaN32(a) || isSNaN32(b)) fp.pre |= MX_IE;
    return UN;
  }
  return relation(in32(a), in32(b));
}
function relate64(aLo: number, aHi: number, bLo: number, bHi: number, signalQuiet: boolean): number {
  const an = isNaN64(aHi, aLo), bn = isNaN64(bHi, bLo);
  if (an || bn) {
    if (signalQuiet || isSNaN64(aHi, aLo) || isSNaN64(bHi, bLo)) fp.pre |= MX_IE;
    return UN;
  }
  return relation(in64(aHi, aLo), in64(bHi, bLo));
}

function predicate(p: number, rel: number): boolean {
  switch (p) {
    case 0: return rel === EQ;
    case 1: return rel === LT;
    case 2: return rel === LT || rel === EQ;
    case 3: return rel === UN;
    case 4: return rel !== EQ;
    case 5: return rel !== LT;
    case 6: return rel !== LT && rel !== EQ;
    default: return rel !== UN;
  }
}
/** LT, LE, NLT and NLE signal on QNaNs. */
function signaling(p: number): boolean { return p === 1 || p === 2 || p === 5 || p === 6; }

function cmp(c: Cpu, d: Insn, double: boolean, scalar: boolean): void {
  sseAvailable(c);
  requireXmmDest(d);
  loadSource(c, d, scalar ? (double ? 8 : 4) : 16, !scalar);
  loadDest(c, d);
  beginFp(c.mxcsr);
  const p = d.immLo & 7, sig = signaling(p);
  res[0] = dst[0]; res[1] = dst[1]; res[2] = dst[2]; res[3] = dst[3];
  if (!double) {
    for (let i = 0; i < (scalar ? 1 : 4); i++) res[i] = predicate(p, relate32(dst[i], src[i], sig)) ? 0xffffffff : 0;
  } else {
    for (let i = 0; i < (scalar ? 1 : 2); i++) {
      const v = predicate(p, relate64(dst[2 * i], dst[2 * i + 1], src[2 * i], src[2 * i + 1], sig)) ? 0xffffffff : 0;
      res[2 * i] = v; res[2 * i + 1] = v;
    }
  }
  commitFlags(c, fp.pre, 0);
  storeDest(c, d, res);
}
export const cmpps = (c: Cpu, d: Insn): void => cmp(c, d, false, false);
export const cmpss = (c: Cpu, d: Insn): void => cmp(c, d, false, true);
export const cmppd = (c: Cpu, d: Insn): void => cmp(c, d, true, false);
export const cmpsd = (c: Cpu, d: Insn): void => cmp(c, d, true, true);

/** COMIS/UCOMIS: unordered ZF PF CF = 111, less 001, equal 100, greater 000; OF SF AF cleared. */
function comis(c: Cpu, d: Insn, double: boolean, signalQuiet: boolean): void {
  sseAvailable(c);
  requireXmmDest(d);
  loadSource(c, d, double ? 8 : 4, false);
  loadDest(c, d);
  beginFp(c.mxcsr);
  const rel = double ? relate64(dst[0], dst[1], src[0], src[1], signalQuiet) : relate32(dst[0], src[0], signalQuiet);
  commitFlags(c, fp.pre, 0);
  const v = rel === UN ? ZF | PF | CF : rel === LT ? CF : rel === EQ ? ZF : 0;
  c.flags.setStatus(ZF | PF | CF | OF | SF | AF, v);
}
export const comiss = (c: Cpu, d: Insn): void => comis(c, d, false, true);
export const ucomiss = (c: Cpu, d: Insn): void => comis(c, d, false, false);
export const comisd = (c: Cpu, d: Insn): void => comis(c, d, true, true);
export const ucomisd = (c: Cpu, d: Insn): void => comis(c, d, true, false);
