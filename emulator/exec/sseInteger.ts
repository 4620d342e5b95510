/**
 * SSE2 packed-integer instructions on XMM registers: PADD/PSUB B/W/D/Q with wrap-around, signed (S)
 * and unsigned (US) saturation; PMULLW PMULHW PMULHUW PMULUDQ PMADDWD; PSADBW; PAVGB/W;
 * PMINUB PMAXUB PMINSW PMAXSW; PCMPGTB/W/D; PACKSSWB PACKUSWB PACKSSDW. The 128-bit memory source
 * must be 16-byte aligned. (PCMPEQ*, the logic ops and the unpacks are in sseMove.ts.)
 */
import type { Cpu } from '../cpu/cpu';
import type { Insn } from '../decode/insn';
import { sseAvailable } from './sse/mxcsr';
import { src, dst, res, loadSource, loadDest, storeDest, requireXmmDest } from './sse/xmmOperands';

const su8 = new Uint8Array(src.buffer), si8 = new Int8Array(src.buffer), su16 = new Uint16Array(src.buffer),
  si16 = new Int16Array(src.buffer), si32 = new Int32Array(src.buffer);
const du8 = new Uint8Array(dst.buffer), di8 = new Int8Array(dst.buffer), du16 = new Uint16Array(dst.buffer),
  di16 = new Int16Array(dst.buffer), di32 = new Int32Array(dst.buffer);
const ru8 = new Uint8Array(res.buffer), ri8 = new Int8Array(res.buffer), ru16 = new Uint16Array(res.buffer),
  ri16 = new Int16Array(res.buffer), ri32 = new Int32Array(res.buffer);

/** Load both operands (dest into dst, source into src) for a 128-bit integer instruction. */
function operands(c: Cpu, d: Insn): void {
  sseAvailable(c);
  requireXmmDest(d);
  loadSource(c, d, 16, true);
  loadDest(c, d);
}

const sat = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);

/** Byte and word add/subtract: wrap (0), signed saturation (1), unsigned saturation (2). */
function addSub8(c: Cpu, d: Insn, sub: boolean, mode: number): void {
  operands(c, d);
  for (let i = 0; i < 16; i++) {
    if (mode === 1) ri8[i] = sat(sub ? di8[i] - si8[i] : di8[i] + si8[i], -128, 127);
    else if (mode === 2) ru8[i] = sat(sub ? du8[i] - su8[i] : du8[i] + su8[i], 0, 255);
    else ru8[i] = sub ? du8[i] - su8[i] : du8[i] + su8[i];
  }
  storeDest(c, d, res);
}
function addSub16(c: Cpu, d: Insn, sub: boolean, mode: number): void {
  operands(c, d);
  for (let i = 0; i < 8; i++) {
    if (mode === 1) ri16[i] = sat(sub ? di16[i] - si16[i] : di16[i] + si16[i], -32768, 32767);
    else if (mode === 2) ru16[i] = sat(sub ? du16[i] - su16[i] : du16[i] + su16[i], 0, 65535);
    else ru16[i] = sub ? du16[i] - su16[i] : du16[i] + su16[i];
  }
  storeDest(c, d, res);
}
function addSub32(c: Cpu, d: Insn, sub: boolean): void {
  operands(c, d);
  for (let i = 0; i < 4; i++) res[i] = sub ? dst[i] - src[i] : dst[i] + src[i];
  storeDest(c, d, res);
}
function addSub64(c: Cpu, d: Insn, sub: boolean): void {
  operands(c, d);
  for (let i = 0; i < 4; i += 2) {
    if (!sub) {
      const lo = dst[i] + src[i];
      res[i] = lo; res[i + 1] = dst[i + 1] + src[i + 1] + (lo > 0xffffffff ? 1 : 0);
    } else {
      const lo = dst[i] - src[i];
      res[i] = lo; res[i + 1] = dst[i + 1] - src[i + 1] - (lo < 0 ? 1 : 0);
    }
  }
  storeDest(c, d, res);
}
export const paddb = (c: Cpu, d: Insn): void => addSub8(c, d, false, 0);
export const paddsb = (c: Cpu, d: Insn): void => addSub8(c, d, false, 1);
export const paddusb = (c: Cpu, d: Insn): void => addSub8(c, d, false, 2);
export const psubb = (c: Cpu, d: Insn): void => addSub8(c, d, true, 0);
export const psubsb = (c: Cpu, d: Insn): void => addSub8(c, d, true, 1);
export const psubusb = (c: Cpu, d: Insn): void => addSub8(c, d, true, 2);
export const paddw = (c: Cpu, d: Insn): void => addSub16(c, d, false, 0);
export const paddsw = (c: Cpu, d: Insn): void => addSub16(c, d, false, 1);
export const paddusw = (c: Cpu, d: Insn): void => addSub16(c, d, false, 2);
export const psubw = (c: Cpu, d: Insn): void => addSub16(c, d, true, 0);
export const psubsw = (c: Cpu, d: Insn): void => addSub16(c, d, true, 1);
export const psubusw = (c: Cpu, d: Insn): void => addSub16(c, d, true, 2);
export const paddd = (c: Cpu, d: Insn): void => addSub32(c, d, false);
export const psubd = (c: Cpu, d: Insn): void => addSub32(c, d, true);
export const paddq = (c: Cpu, d: Insn): void => addSub64(c, d, false);
export const psubq = (c: Cpu, d: Insn): void => addSub64(c, d, true);

export function pmullw(c: Cpu, d: Insn): void {
  operands(c, d);
  for (let i = 0; i < 8; i++) ri16[i] = Math.imul(di16[i], si16[i]);
  storeDest(c, d, res);
}
export function pmulhw(c: Cpu, d: Insn): void {
  operands(c, d);
  for (let i = 0; i < 8; i++) ri16[i] = (di16[i] * si16[i]) >> 16;
  storeDest(c, d, res);
}
export function pmulhuw(c: Cpu, d: Insn): void {
  operands(c, d);
  for (let i = 0; i < 8; i++) ru16[i] = (du16[i] * su16[i]) / 65536;
  storeDest(c, d, res);
}
/** PMULUDQ: the low dwords of each quadword, unsigned 32x32 -> 64. */
export function pmuludq(c: Cpu, d: Insn): void {
  operands(c, d);
  for (let i = 0; i < 4; i += 2) {
    const a = dst[i], b = src[i];
    const aL = a & 0xffff, aH = a >>> 16, bL = b & 0xffff, bH = b >>> 16;
    const ll = aL * bL, mid = aH * bL + aL * bH, hh = aH * bH;
    const lo = ll + (mid % 65536) * 65536;
    res[i] = lo; // ToUint32 wraps
    res[i + 1] = hh + Math.floor(mid / 65536) + Math.floor(lo / 4294967296);
  }
  storeDest(c, d, res);
}
export function pmaddwd(c: Cpu, d: Insn): void {
  operands(c, d);
  for (let i = 0; i < 4; i++) ri32[i] = di16[2 * i] * si16[2 * i] + di16[2 * i + 1] * si16[2 * i + 1];
  storeDest(c, d, res);
}
/** PSADBW: per quadword, the sum of absolute byte differences in the low word, the rest zero. */
export function psadbw(c: Cpu, d: Insn): void {
  operands(c, d);
  for (let q = 0; q < 2; q++) {
    let s = 0;
    for (let i = 0; i < 8; i++) s += Math.abs(du8[8 * q + i] - su8[8 * q + i]);
    res[2 * q] = s; res[2 * q + 1] = 0;
  }
  storeDest(c, d, res);
}
export function pavgb(c: Cpu, d: Insn): void {
  operands(c, d);
  for (let i = 0; i < 16; i++) ru8[i] = (du8[i] + su8[i] + 1) >>> 1;
  storeDest(c, d, res);
}
export function pavgw(c: Cpu, d: Insn): void {
  operands(c, d);
  for (let i = 0; i < 8; i++) ru16[i] = (du16[i] + su16[i] + 1) >>> 1;
  storeDest(c, d, res);
}
export function pminub(c: Cpu, d: Insn): void {
  operands(c, d);
  for (let i = 0; i < 16; i++) ru8[i] = Math.min(du8[i], su8[i]);
  storeDest(c, d, res);
}
export function pmaxub(c: Cpu, d: Insn): void {
  operands(c, d);
  for (let i = 0; i < 16; i++) ru8[i] = Math.max(du8[i], su8[i]);
  storeDest(c, d, res);
}
export function pminsw(c: Cpu, d: Insn): void {
  operands(c, d);
  for (let i = 0; i < 8; i++) ri16[i] = Math.min(di16[i], si16[i]);
  storeDest(c, d, res);
}
export function pmaxsw(c: Cpu, d: Insn): void {
  operands(c, d);
  for (let i = 0; i < 8; i++) ri16[i] = Math.max(di16[i], si16[i]);
  storeDest(c, d, res);
}
export function pcmpgtb(c: Cpu, d: Insn): void {
  operands(c, d);
  for (let i = 0; i < 16; i++) ru8[i] = di8[i] > si8[i] ? 0xff : 0;
  storeDest(c, d, res);
}
export function pcmpgtw(c: Cpu, d: Insn): void {
  operands(c, d);
  for (let i = 0; i < 8; i++) ru16[i] = di16[i] > si16[i] ? 0xffff : 0;
  storeDest(c, d, res);
}
export function pcmpgtd(c: Cpu, d: Insn): void {
  operands(c, d);
  for (let i = 0; i < 4; i++) res[i] = di32[i] > si32[i] ? 0xffffffff : 0;
  storeDest(c, d, res);
}
/** PACKSSWB/PACKUSWB: dest words then source words, saturated to bytes. */
function packWords(c: Cpu, d: Insn, unsigned: boolean): void {
  operands(c, d);
  for (let i = 0; i < 16; i++) {
    const w = i < 8 ? di16[i] : si16[i - 8];
    if (unsigned) ru8[i] = sat(w, 0, 255); else ri8[i] = sat(w, -128, 127);
  }
  storeDest(c, d, res);
}
export const packsswb = (c: Cpu, d: Insn): void => packWords(c, d, false);
export const packuswb = (c: Cpu, d: Insn): void => packWords(c, d, true);
export function packssdw(c: Cpu, d: Insn): void {
  operands(c, d);
  for (let i = 0; i < 8; i++) ri16[i] = sat(i < 4 ? di32[i] : si32[i - 4], -32768, 32767);
  storeDest(c, d, res);
}
