/**
 * Integer add/subtract family: ADD ADC SUB SBB CMP INC DEC NEG (Intel SDM vol. 2, one entry each).
 *
 * Calling convention shared by every pure ALU op (EMULATOR-CONTRACT.md): operands are uint32 halves
 * (lo, hi) already truncated to `size` bytes (1, 2, 4 or 8; hi is 0 unless 8); the result goes to
 * `res` truncated the same way; status flags are recorded lazily in `f`.
 */
import { FlagState, LAZY_ADD, LAZY_SUB, STATUS_FLAGS, CF } from '../cpu/flags';
import { res, SIZE_MASK } from './aluResult';

const ALL_BUT_CF = STATUS_FLAGS & ~CF;

/** r = a + b + cin, flags recorded for `mask`. */
function addWithCarry(f: FlagState, size: number, aLo: number, aHi: number, bLo: number, bHi: number,
  cin: number, mask: number): void {
  let rLo: number, rHi: number;
  aLo >>>= 0; bLo >>>= 0;
  if (size === 8) {
    aHi >>>= 0; bHi >>>= 0;
    const lo = aLo + bLo + cin;
    rLo = lo >>> 0;
    rHi = (aHi + bHi + (lo > 0xffffffff ? 1 : 0)) >>> 0;
  } else {
    // Operands are truncated by contract; masking again keeps CF right for a caller passing e.g. a
    // sign-extended immediate.
    const m = SIZE_MASK[size];
    aLo = (aLo & m) >>> 0; bLo = (bLo & m) >>> 0; aHi = 0; bHi = 0;
    rLo = ((aLo + bLo + cin) & m) >>> 0;
    rHi = 0;
  }
  res.lo = rLo;
  res.hi = rHi;
  // int32 readings: see "64-bit values" in flags.ts.
  f.recordArith(LAZY_ADD, size, aLo | 0, aHi | 0, bLo | 0, bHi | 0, rLo | 0, rHi | 0, cin, mask);
}

/** r = a - b - cin, flags recorded for `mask`; the result is written to res only when `write`. */
function subWithBorrow(f: FlagState, size: number, aLo: number, aHi: number, bLo: number, bHi: number,
  cin: number, mask: number, write: boolean): void {
  let rLo: number, rHi: number;
  aLo >>>= 0; bLo >>>= 0;
  if (size === 8) {
    aHi >>>= 0; bHi >>>= 0;
    const lo = aLo - bLo - cin;
    rLo = lo >>> 0;
    rHi = (aHi - bHi - (lo < 0 ? 1 : 0)) >>> 0;
  } else {
    const m = SIZE_MASK[size];
    aLo = (aLo & m) >>> 0; bLo = (bLo & m) >>> 0; aHi = 0; bHi = 0;
    rLo = ((aLo - bLo - cin) & m) >>> 0;
    rHi = 0;
  }
  if (write) {
    res.lo = rLo;
    res.hi = rHi;
  }
  f.recordArith(LAZY_SUB, size, aLo | 0, aHi | 0, bLo | 0, bHi | 0, rLo | 0, rHi | 0, cin, mask);
}

export function add(f: FlagState, size: number, aLo: number, aHi: number, bLo: number, bHi: number): void {
  addWithCarry(f, size, aLo, aHi, bLo, bHi, 0, STATUS_FLAGS);
}

export function adc(f: FlagState, size: number, aLo: number, aHi: number, bLo: number, bHi: number): void {
  addWithCarry(f, size, aLo, aHi, bLo, bHi, f.carry(), STATUS_FLAGS);
}

export function sub(f: FlagState, size: number, aLo: number, aHi: number, bLo: number, bHi: number): void {
  subWithBorrow(f, size, aLo, aHi, bLo, bHi, 0, STATUS_FLAGS, true);
}

export function sbb(f: FlagState, size: number, aLo: number, aHi: number, bLo: number, bHi: number): void {
  subWithBorrow(f, size, aLo, aHi, bLo, bHi, f.carry(), STATUS_FLAGS, true);
}

/** Flags of a - b; res is not written. */
export function cmp(f: FlagState, size: number, aLo: number, aHi: number, bLo: number, bHi: number): void {
  subWithBorrow(f, size, aLo, aHi, bLo, bHi, 0, STATUS_FLAGS, false);
}

/** a + 1; CF is not affected. */
export function inc(f: FlagState, size: number, aLo: number, aHi: number): void {
  addWithCarry(f, size, aLo, aHi, 1, 0, 0, ALL_BUT_CF);
}

/** a - 1; CF is not affected. */
export function dec(f: FlagState, size: number, aLo: number, aHi: number): void {
  subWithBorrow(f, size, aLo, aHi, 1, 0, 0, ALL_BUT_CF, true);
}

/** 0 - a; CF = (a != 0), which is exactly the borrow of 0 - a. */
export function neg(f: FlagState, size: number, aLo: number, aHi: number): void {
  subWithBorrow(f, size, 0, 0, aLo, aHi, 0, STATUS_FLAGS, true);
}
