/**
 * Bitwise logic: AND OR XOR TEST NOT (Intel SDM vol. 2).
 * AND/OR/XOR/TEST clear CF and OF and set ZF/SF/PF from the result; AF is architecturally undefined
 * and is left 0 here (what Intel and AMD parts are observed to produce). NOT changes no flag.
 * Calling convention: see arith.ts.
 */
import { FlagState, CF, OF, AF } from '../cpu/flags';
import { res } from './aluResult';

const CLEARED = CF | OF | AF;

const AND = 0, OR = 1, XOR = 2;

/**
 * The one shape of AND, OR, XOR and TEST (the operation is a constant at each caller, so V8 folds the
 * choice away when it inlines this); the result goes to res only when `write`.
 */
function logical(f: FlagState, size: number, aLo: number, aHi: number, bLo: number, bHi: number, op: number, write: boolean): void {
  const rLo = (op === AND ? aLo & bLo : op === OR ? aLo | bLo : aLo ^ bLo) >>> 0;
  const rHi = size === 8 ? (op === AND ? aHi & bHi : op === OR ? aHi | bHi : aHi ^ bHi) >>> 0 : 0;
  if (write) {
    res.lo = rLo;
    res.hi = rHi;
  }
  f.recordResult(size, rLo | 0, rHi | 0, CLEARED, 0);
}

export function and(f: FlagState, size: number, aLo: number, aHi: number, bLo: number, bHi: number): void {
  logical(f, size, aLo, aHi, bLo, bHi, AND, true);
}

export function or(f: FlagState, size: number, aLo: number, aHi: number, bLo: number, bHi: number): void {
  logical(f, size, aLo, aHi, bLo, bHi, OR, true);
}

export function xor(f: FlagState, size: number, aLo: number, aHi: number, bLo: number, bHi: number): void {
  logical(f, size, aLo, aHi, bLo, bHi, XOR, true);
}

/** Flags of a & b; res is not written. */
export function test(f: FlagState, size: number, aLo: number, aHi: number, bLo: number, bHi: number): void {
  logical(f, size, aLo, aHi, bLo, bHi, AND, false);
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
