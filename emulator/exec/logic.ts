/**
 * Bitwise logic: AND OR XOR TEST NOT (Intel SDM vol. 2).
 * AND/OR/XOR/TEST clear CF and OF and set ZF/SF/PF from the result; AF is architecturally undefined
 * and is left 0 here (what Intel and AMD parts are observed to produce). NOT changes no flag.
 * Calling convention: see arith.ts.
 */
import { FlagState, CF, OF, AF } from '../cpu/flags';
import { res } from './aluResult';

const CLEARED = CF | OF | AF;

export function and(f: FlagState, size: number, aLo: number, aHi: number, bLo: number, bHi: number): void {
  const rLo = (aLo & bLo) >>> 0;
  const rHi = size === 8 ? (aHi & bHi) >>> 0 : 0;
  res.lo = rLo;
  res.hi = rHi;
  f.recordResult(size, rLo | 0, rHi | 0, CLEARED, 0);
}

export function or(f: FlagState, size: number, aLo: number, aHi: number, bLo: number, bHi: number): void {
  const rLo = (aLo | bLo) >>> 0;
  const rHi = size === 8 ? (aHi | bHi) >>> 0 : 0;
  res.lo = rLo;
  res.hi = rHi;
  f.recordResult(size, rLo | 0, rHi | 0, CLEARED, 0);
}

export function xor(f: FlagState, size: number, aLo: number, aHi: number, bLo: number, bHi: number): void {
  const rLo = (aLo ^ bLo) >>> 0;
  const rHi = size === 8 ? (aHi ^ bHi) >>> 0 : 0;
  res.lo = rLo;
  res.hi = rHi;
  f.recordResult(size, rLo | 0, rHi | 0, CLEARED, 0);
}

/** Flags of a & b; res is not written. */
export function test(f: FlagState, size: number, aLo: number, aHi: number, bLo: number, bHi: number): void {
  const rLo = (aLo & bLo) >>> 0;
  const rHi = size === 8 ? (aHi & bHi) >>> 0 : 0;
  f.recordResult(size, rLo | 0, rHi | 0, CLEARED, 0);
}

/** One's complement; no flag is affected (f is taken for a uniform signature and not touched). */
export function not(_f: FlagState, size: number, aLo: number, aHi: number): void {
  if (size === 8) {
    res.lo = ~aLo >>> 0;
    res.hi = ~aHi >>> 0;
  } else {
    res.lo = (~aLo & (size === 4 ? -1 : size === 2 ? 0xffff : 0xff)) >>> 0;
    res.hi = 0;
  }
}
