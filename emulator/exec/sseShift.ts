/**
 * SSE2 shifts on XMM registers: PSLLW/D/Q, PSRLW/D/Q, PSRAW/D by an imm8 or by the low quadword of an
 * XMM/m128 source (counts beyond the element width clear the element, or fill it with the sign for
 * PSRA), and the whole-register byte shifts PSLLDQ/PSRLDQ.
 */
import type { Cpu } from '../cpu/cpu';
import { Insn, OK_IMM } from '../decode/insn';
import { sseAvailable } from './sse/mxcsr';
import { src, dst, dstBytes, res, resBytes, loadSource, loadDest, storeDest, requireXmmDest } from './sse/xmmOperands';

const du16 = new Uint16Array(dst.buffer), di16 = new Int16Array(dst.buffer), di32 = new Int32Array(dst.buffer);
const ru16 = new Uint16Array(res.buffer), ri32 = new Int32Array(res.buffer);

/** The shift count: the imm8, or the source's low 64 bits saturated to 255. */
function count(c: Cpu, d: Insn): number {
  if (d.k1 === OK_IMM) return d.immLo & 0xff;
  loadSource(c, d, 16, true);
  return src[1] !== 0 || src[0] > 255 ? 255 : src[0];
}

const LEFT = 0, RIGHT = 1, ARITH = 2;

function shift(c: Cpu, d: Insn, width: number, kind: number): void {
  sseAvailable(c);
  requireXmmDest(d);
  const n = count(c, d);
  loadDest(c, d);
  if (width === 16) {
    for (let i = 0; i < 8; i++) {
      if (kind === ARITH) ru16[i] = di16[i] >> (n > 15 ? 15 : n);
      else if (n > 15) ru16[i] = 0;
      else ru16[i] = kind === LEFT ? du16[i] << n : du16[i] >>> n;
    }
  } else if (width === 32) {
    for (let i = 0; i < 4; i++) {
      if (kind === ARITH) ri32[i] = di32[i] >> (n > 31 ? 31 : n);
      else if (n > 31) res[i] = 0;
      else res[i] = kind === LEFT ? dst[i] << n : dst[i] >>> n;
    }
  } else {
    for (let i = 0; i < 4; i += 2) {
      const lo = dst[i], hi = dst[i + 1];
      if (n > 63) { res[i] = 0; res[i + 1] = 0; }
      else if (n === 0) { res[i] = lo; res[i + 1] = hi; }
      else if (kind === LEFT) {
        if (n >= 32) { res[i + 1] = lo << (n - 32); res[i] = 0; }
        else { res[i + 1] = (hi << n) | (lo >>> (32 - n)); res[i] = lo << n; }
      } else if (n >= 32) { res[i] = hi >>> (n - 32); res[i + 1] = 0; }
      else { res[i] = (lo >>> n) | (hi << (32 - n)); res[i + 1] = hi >>> n; }
    }
  }
  storeDest(c, d, res);
}
export const psllw = (c: Cpu, d: Insn): void => shift(c, d, 16, LEFT);
export const pslld = (c: Cpu, d: Insn): void => shift(c, d, 32, LEFT);
export const psllq = (c: Cpu, d: Insn): void => shift(c, d, 64, LEFT);
export const psrlw = (c: Cpu, d: Insn): void => shift(c, d, 16, RIGHT);
export const psrld = (c: Cpu, d: Insn): void => shift(c, d, 32, RIGHT);
export const psrlq = (c: Cpu, d: Insn): void => shift(c, d, 64, RIGHT);
export const psraw = (c: Cpu, d: Insn): void => shift(c, d, 16, ARITH);
export const psrad = (c: Cpu, d: Insn): void => shift(c, d, 32, ARITH);

function byteShift(c: Cpu, d: Insn, left: boolean): void {
  sseAvailable(c);
  requireXmmDest(d);
  const n = d.immLo & 0xff;
  loadDest(c, d);
  for (let i = 0; i < 16; i++) {
    const from = left ? i - n : i + n;
    resBytes[i] = from >= 0 && from < 16 ? dstBytes[from] : 0;
  }
  storeDest(c, d, res);
}
export const pslldq = (c: Cpu, d: Insn): void => byteShift(c, d, true);
export const psrldq = (c: Cpu, d: Insn): void => byteShift(c, d, false);
