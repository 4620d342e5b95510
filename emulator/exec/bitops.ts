/**
 * Bit operations: BT BTS BTR BTC BSF BSR TZCNT LZCNT POPCNT BSWAP (Intel SDM vol. 2).
 *
 * - BT/BTS/BTR/BTC: CF = the selected bit; ZF unaffected; OF, SF, AF, PF undefined (left unchanged
 *   here). `bit` is the offset already reduced by the caller for the register form (mod width); this
 *   code reduces it mod width again, which is harmless.
 * - BSF/BSR: ZF = (source == 0); with a zero source the destination is unchanged (documented by AMD,
 *   observed on Intel), so the old destination is passed in; CF, OF, SF, AF, PF undefined (unchanged).
 * - TZCNT/LZCNT: result is the count (width for a zero source); CF = (source == 0), ZF = (result == 0);
 *   OF, SF, AF, PF undefined: SF, AF, PF cleared and OF unchanged, as on the AMD host of the goldens.
 * - POPCNT: ZF = (source == 0); CF, OF, SF, AF, PF cleared.
 * - BSWAP: no flags. The 16-bit form is undefined in the SDM; this returns 0, what Intel and AMD
 *   parts produce (the 32-bit swap's low half of a zero-extended value).
 * Calling convention: see arith.ts.
 */
import { FlagState, CF, ZF, SF, AF, PF, STATUS_FLAGS } from '../cpu/flags';
import { res, SIZE_BITS } from './aluResult';

function bitOf(size: number, aLo: number, aHi: number, bit: number): number {
  const i = bit & (SIZE_BITS[size] - 1);
  return i < 32 ? (aLo >>> i) & 1 : (aHi >>> (i - 32)) & 1;
}

/** Write a with bit `bit` changed by op: 0 set, 1 reset, 2 complement. */
function modifyBit(size: number, aLo: number, aHi: number, bit: number, op: number): void {
  const i = bit & (SIZE_BITS[size] - 1);
  let lo = aLo >>> 0, hi = size === 8 ? aHi >>> 0 : 0;
  if (i < 32) {
    const m = 1 << i;
    lo = (op === 0 ? lo | m : op === 1 ? lo & ~m : lo ^ m) >>> 0;
  } else {
    const m = 1 << (i - 32);
    hi = (op === 0 ? hi | m : op === 1 ? hi & ~m : hi ^ m) >>> 0;
  }
  res.lo = lo;
  res.hi = hi;
}

export function bt(f: FlagState, size: number, aLo: number, aHi: number, bit: number): void {
  f.setStatus(CF, bitOf(size, aLo, aHi, bit));
}

export function bts(f: FlagState, size: number, aLo: number, aHi: number, bit: number): void {
  f.setStatus(CF, bitOf(size, aLo, aHi, bit));
  modifyBit(size, aLo, aHi, bit, 0);
}

export function btr(f: FlagState, size: number, aLo: number, aHi: number, bit: number): void {
  f.setStatus(CF, bitOf(size, aLo, aHi, bit));
  modifyBit(size, aLo, aHi, bit, 1);
}

export function btc(f: FlagState, size: number, aLo: number, aHi: number, bit: number): void {
  f.setStatus(CF, bitOf(size, aLo, aHi, bit));
  modifyBit(size, aLo, aHi, bit, 2);
}

/** Index of the lowest set bit of (hi:lo), or -1. */
function lowest(lo: number, hi: number): number {
  if (lo !== 0) return 31 - Math.clz32(lo & -lo);
  if (hi !== 0) return 63 - Math.clz32(hi & -hi);
  return -1;
}

/** Index of the highest set bit of (hi:lo), or -1. */
function highest(lo: number, hi: number): number {
  if (hi !== 0) return 63 - Math.clz32(hi);
  if (lo !== 0) return 31 - Math.clz32(lo);
  return -1;
}

export function bsf(f: FlagState, size: number, srcLo: number, srcHi: number, destLo: number, destHi: number): void {
  const i = lowest(srcLo >>> 0, size === 8 ? srcHi >>> 0 : 0);
  if (i < 0) {
    res.lo = destLo >>> 0; res.hi = size === 8 ? destHi >>> 0 : 0;
    f.setStatus(ZF, ZF);
  } else {
    res.lo = i; res.hi = 0;
    f.setStatus(ZF, 0);
  }
}

export function bsr(f: FlagState, size: number, srcLo: number, srcHi: number, destLo: number, destHi: number): void {
  const i = highest(srcLo >>> 0, size === 8 ? srcHi >>> 0 : 0);
  if (i < 0) {
    res.lo = destLo >>> 0; res.hi = size === 8 ? destHi >>> 0 : 0;
    f.setStatus(ZF, ZF);
  } else {
    res.lo = i; res.hi = 0;
    f.setStatus(ZF, 0);
  }
}

export function tzcnt(f: FlagState, size: number, srcLo: number, srcHi: number): void {
  const i = lowest(srcLo >>> 0, size === 8 ? srcHi >>> 0 : 0);
  const n = i < 0 ? SIZE_BITS[size] : i;
  res.lo = n; res.hi = 0;
  f.setStatus(CF | ZF | SF | AF | PF, (i < 0 ? CF : 0) | (n === 0 ? ZF : 0));
}

export function lzcnt(f: FlagState, size: number, srcLo: number, srcHi: number): void {
  const i = highest(srcLo >>> 0, size === 8 ? srcHi >>> 0 : 0);
  const n = SIZE_BITS[size] - 1 - i; // width when the source is 0 (i = -1)
  res.lo = n; res.hi = 0;
  f.setStatus(CF | ZF | SF | AF | PF, (i < 0 ? CF : 0) | (n === 0 ? ZF : 0));
}

function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

export function popcnt(f: FlagState, size: number, srcLo: number, srcHi: number): void {
  const lo = srcLo >>> 0, hi = size === 8 ? srcHi >>> 0 : 0;
  res.lo = popcount32(lo) + popcount32(hi); res.hi = 0;
  f.setStatus(STATUS_FLAGS, (lo | hi) === 0 ? ZF : 0);
}

function bswap32(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

/** Byte swap; no flags (f taken for a uniform signature). */
export function bswap(_f: FlagState, size: number, aLo: number, aHi: number): void {
  if (size === 8) {
    const lo = bswap32(aLo >>> 0);
    res.lo = bswap32(aHi >>> 0);
    res.hi = lo;
  } else if (size === 4) {
    res.lo = bswap32(aLo >>> 0); res.hi = 0;
  } else {
    res.lo = 0; res.hi = 0;
  }
}
