/**
 * Shifts and rotates: SHL/SAL SHR SAR ROL ROR RCL RCR SHLD SHRD (Intel SDM vol. 2, "SAL/SAR/SHL/SHR",
 * "RCL/RCR/ROL/ROR", "SHLD", "SHRD").
 *
 * `count` is the raw count byte (CL or imm8). It is masked to 5 bits (6 for 64-bit operands); a masked
 * count of 0 changes neither the operand nor any flag. Flags, per the SDM:
 * - SHL/SHR/SAR: CF = last bit shifted out; OF only for count 1 (SHL: MSB(r)^CF, SHR: MSB(a), SAR: 0);
 *   SF/ZF/PF from the result; AF undefined. For SHL/SHR with count >= width (8/16-bit only) CF is
 *   undefined too.
 * - ROL/ROR: rotate by (count mod width); only CF and OF change: CF = LSB(r) (ROL) or MSB(r) (ROR),
 *   OF only for count 1 (ROL: MSB(r)^CF, ROR: MSB(r)^MSB-1(r)).
 * - RCL/RCR: rotate through CF by count mod 9 (8-bit), mod 17 (16-bit), masked count otherwise;
 *   only CF and OF change; OF only for count 1 (RCL: MSB(r)^CF after, RCR: MSB(a)^CF before).
 * - SHLD/SHRD: CF = last bit shifted out of the destination, OF only for count 1 (sign change),
 *   SF/ZF/PF from the result, AF undefined; for a 16-bit operand with count > 16 result and flags
 *   are undefined.
 * Where a flag is undefined this code produces what the AMD EPYC host that recorded the goldens
 * produces (test/golden/hostcpu, checked by hostCpuUndefined.test.ts): AF = 1 after any shift with a
 * non-zero count; OF for counts > 1 = MSB(r)^CF (SHL, ROL, RCL, SHLD), MSB(r)^MSB-1(r) (SHR, ROR,
 * RCR, SHRD; 0 for SHR), 0 (SAR). These formulas coincide with the SDM's for count 1. Intel parts
 * differ in places; the differential tests mask undefined flags, so either host passes.
 *
 * Calling convention: see arith.ts. 64-bit values are (lo, hi) uint32 halves throughout.
 */
import { FlagState, CF, OF, AF } from '../cpu/flags';
import { res, SIZE_MASK, SIZE_BITS } from './aluResult';

const CF_OF_AF = CF | OF | AF;
const CF_OF = CF | OF;

// Scratch outputs of the 64-bit helpers (module-level so that nothing allocates).
let tLo = 0, tHi = 0;

/** (hi:lo) << n for n in 0..127 (n >= 64 gives 0); result in tLo/tHi. */
function shl64(lo: number, hi: number, n: number): void {
  if (n === 0) { tLo = lo >>> 0; tHi = hi >>> 0; }
  else if (n < 32) { tHi = ((hi << n) | (lo >>> (32 - n))) >>> 0; tLo = (lo << n) >>> 0; }
  else if (n < 64) { tHi = (lo << (n - 32)) >>> 0; tLo = 0; }
  else { tLo = 0; tHi = 0; }
}

/** (hi:lo) >>> n for n in 0..127 (n >= 64 gives 0); result in tLo/tHi. */
function shr64(lo: number, hi: number, n: number): void {
  if (n === 0) { tLo = lo >>> 0; tHi = hi >>> 0; }
  else if (n < 32) { tLo = ((lo >>> n) | (hi << (32 - n))) >>> 0; tHi = hi >>> n; }
  else if (n < 64) { tLo = hi >>> (n - 32); tHi = 0; }
  else { tLo = 0; tHi = 0; }
}

/** Bit i of (hi:lo); 0 outside 0..63. */
function bit64(lo: number, hi: number, i: number): number {
  if (i < 0 || i > 63) return 0;
  return i < 32 ? (lo >>> i) & 1 : (hi >>> (i - 32)) & 1;
}

/** x << n for a 32-bit x, 0 when n >= 32 (JS masks shift counts to 5 bits). */
function shl32(x: number, n: number): number {
  return n >= 32 ? 0 : x << n;
}

/** x >>> n for a 32-bit x, 0 when n >= 32. */
function shr32(x: number, n: number): number {
  return n >= 32 ? 0 : x >>> n;
}

/** Most significant bit (0/1) of a size-byte value. */
function msb(lo: number, hi: number, size: number): number {
  return size === 8 ? hi >>> 31 : (lo >>> (SIZE_BITS[size] - 1)) & 1;
}

function maskCount(size: number, count: number): number {
  return count & (size === 8 ? 0x3f : 0x1f);
}

/** Leave the operand unchanged in res (masked count 0). */
function unchanged(size: number, aLo: number, aHi: number): void {
  res.lo = aLo >>> 0;
  res.hi = size === 8 ? aHi >>> 0 : 0;
}

export function shl(f: FlagState, size: number, aLo: number, aHi: number, count: number): void {
  const n = maskCount(size, count);
  if (n === 0) { unchanged(size, aLo, aHi); return; }
  let rLo: number, rHi: number;
  const w = SIZE_BITS[size];
  if (size === 8) { shl64(aLo, aHi, n); rLo = tLo; rHi = tHi; }
  else { rLo = (shl32(aLo, n) & SIZE_MASK[size]) >>> 0; rHi = 0; }
  const cf = bit64(aLo, size === 8 ? aHi : 0, w - n);
  const of = msb(rLo, rHi, size) ^ cf;
  res.lo = rLo;
  res.hi = rHi;
  f.recordResult(size, rLo | 0, rHi | 0, CF_OF_AF, cf | (of << 11) | AF);
}

export function shr(f: FlagState, size: number, aLo: number, aHi: number, count: number): void {
  const n = maskCount(size, count);
  if (n === 0) { unchanged(size, aLo, aHi); return; }
  let rLo: number, rHi: number;
  if (size === 8) { shr64(aLo, aHi, n); rLo = tLo; rHi = tHi; }
  else { rLo = shr32(aLo >>> 0, n); rHi = 0; }
  const cf = bit64(aLo, size === 8 ? aHi : 0, n - 1);
  const of = n === 1 ? msb(aLo, aHi, size) : 0; // = MSB(r)^MSB-1(r)
  res.lo = rLo;
  res.hi = rHi;
  f.recordResult(size, rLo | 0, rHi | 0, CF_OF_AF, cf | (of << 11) | AF);
}

export function sar(f: FlagState, size: number, aLo: number, aHi: number, count: number): void {
  const n = maskCount(size, count);
  if (n === 0) { unchanged(size, aLo, aHi); return; }
  let rLo: number, rHi: number, cf: number;
  if (size === 8) {
    const sign = aHi >> 31; // 0 or -1
    shr64(aLo, aHi, n);
    // Fill the vacated top n bits with the sign.
    if (sign !== 0) {
      if (n < 32) { rHi = (tHi | (-1 << (32 - n))) >>> 0; rLo = tLo; }
      else { rHi = 0xffffffff; rLo = (tLo | shl32(-1, 64 - n)) >>> 0; }
    } else { rLo = tLo; rHi = tHi; }
    cf = bit64(aLo, aHi, n - 1);
  } else {
    const sh = 32 - SIZE_BITS[size];
    const s = (aLo << sh) >> sh; // sign-extended operand; n <= 31 here
    rLo = ((s >> n) & SIZE_MASK[size]) >>> 0;
    rHi = 0;
    cf = (s >> (n - 1)) & 1;
  }
  res.lo = rLo;
  res.hi = rHi;
  f.recordResult(size, rLo | 0, rHi | 0, CF_OF_AF, cf | AF); // OF = 0
}

export function rol(f: FlagState, size: number, aLo: number, aHi: number, count: number): void {
  const n = maskCount(size, count);
  if (n === 0) { unchanged(size, aLo, aHi); return; }
  const w = SIZE_BITS[size];
  const m = n % w;
  let rLo: number, rHi: number;
  if (size === 8) {
    shl64(aLo, aHi, m);
    const l = tLo, h = tHi;
    shr64(aLo, aHi, m === 0 ? 64 : 64 - m);
    rLo = (l | tLo) >>> 0; rHi = (h | tHi) >>> 0;
  } else {
    const a = aLo >>> 0;
    rLo = ((shl32(a, m) | shr32(a, w - m)) & SIZE_MASK[size]) >>> 0; rHi = 0;
  }
  const cf = rLo & 1;
  const of = msb(rLo, rHi, size) ^ cf;
  res.lo = rLo;
  res.hi = rHi;
  f.setStatus(CF_OF, cf | (of << 11));
}

export function ror(f: FlagState, size: number, aLo: number, aHi: number, count: number): void {
  const n = maskCount(size, count);
  if (n === 0) { unchanged(size, aLo, aHi); return; }
  const w = SIZE_BITS[size];
  const m = n % w;
  let rLo: number, rHi: number;
  if (size === 8) {
    shr64(aLo, aHi, m);
    const l = tLo, h = tHi;
    shl64(aLo, aHi, m === 0 ? 64 : 64 - m);
    rLo = (l | tLo) >>> 0; rHi = (h | tHi) >>> 0;
  } else {
    const a = aLo >>> 0;
    rLo = ((shr32(a, m) | shl32(a, w - m)) & SIZE_MASK[size]) >>> 0; rHi = 0;
  }
  const cf = msb(rLo, rHi, size);
  const of = cf ^ bit64(rLo, rHi, w - 2);
  res.lo = rLo;
  res.hi = rHi;
  f.setStatus(CF_OF, cf | (of << 11));
}

/** Rotate count of RCL/RCR: mod 9 / mod 17 for 8/16-bit operands, the masked count otherwise. */
function rcCount(size: number, n: number): number {
  return size === 1 ? n % 9 : size === 2 ? n % 17 : n;
}

export function rcl(f: FlagState, size: number, aLo: number, aHi: number, count: number): void {
  const n = maskCount(size, count);
  if (n === 0) { unchanged(size, aLo, aHi); return; }
  const w = SIZE_BITS[size];
  const m = rcCount(size, n);
  const cin = f.carry();
  let rLo: number, rHi: number, cf: number;
  if (m === 0) {
    rLo = aLo >>> 0; rHi = size === 8 ? aHi >>> 0 : 0; cf = cin;
  } else if (size === 8) {
    // (CF:a) rotated left by m over 65 bits: a << m | CF << (m-1) | a >>> (65-m)
    shl64(aLo, aHi, m);
    let l = tLo, h = tHi;
    shl64(cin, 0, m - 1);
    l |= tLo; h |= tHi;
    shr64(aLo, aHi, 65 - m);
    rLo = (l | tLo) >>> 0; rHi = (h | tHi) >>> 0;
    cf = bit64(aLo, aHi, 64 - m);
  } else {
    const a = aLo >>> 0;
    rLo = ((shl32(a, m) | shl32(cin, m - 1) | shr32(a, w + 1 - m)) & SIZE_MASK[size]) >>> 0; rHi = 0;
    cf = (a >>> (w - m)) & 1;
  }
  const of = msb(rLo, rHi, size) ^ cf;
  res.lo = rLo;
  res.hi = rHi;
  f.setStatus(CF_OF, cf | (of << 11));
}

export function rcr(f: FlagState, size: number, aLo: number, aHi: number, count: number): void {
  const n = maskCount(size, count);
  if (n === 0) { unchanged(size, aLo, aHi); return; }
  const w = SIZE_BITS[size];
  const m = rcCount(size, n);
  const cin = f.carry();
  let rLo: number, rHi: number, cf: number;
  if (m === 0) {
    rLo = aLo >>> 0; rHi = size === 8 ? aHi >>> 0 : 0; cf = cin;
  } else if (size === 8) {
    // a >>> m | CF << (64-m) | a << (65-m)
    shr64(aLo, aHi, m);
    let l = tLo, h = tHi;
    shl64(cin, 0, 64 - m);
    l |= tLo; h |= tHi;
    shl64(aLo, aHi, 65 - m);
    rLo = (l | tLo) >>> 0; rHi = (h | tHi) >>> 0;
    cf = bit64(aLo, aHi, m - 1);
  } else {
    const a = aLo >>> 0;
    rLo = ((shr32(a, m) | shl32(cin, w - m) | shl32(a, w + 1 - m)) & SIZE_MASK[size]) >>> 0; rHi = 0;
    cf = (a >>> (m - 1)) & 1;
  }
  // SDM: OF = MSB(a)^CF before the rotation, for count 1; that equals MSB(r)^MSB-1(r) after it,
  // which is also what the host gives for larger counts.
  const of = msb(rLo, rHi, size) ^ bit64(rLo, rHi, w - 2);
  res.lo = rLo;
  res.hi = rHi;
  f.setStatus(CF_OF, cf | (of << 11));
}

/**
 * SHLD: a shifted left by the masked count, filled from the top of b. For a 16-bit operand and a
 * count of 17..31 the SDM leaves result and flags undefined; this code then shifts the 48-bit
 * concatenation a:b:b, which is what the AMD host does (the result is b rotated left by n-16).
 */
export function shld(f: FlagState, size: number, aLo: number, aHi: number, bLo: number, bHi: number, count: number): void {
  const n = maskCount(size, count);
  if (n === 0) { unchanged(size, aLo, aHi); return; }
  let rLo: number, rHi: number, cf: number;
  if (size === 8) {
    shl64(aLo, aHi, n);
    const l = tLo, h = tHi;
    shr64(bLo, bHi, 64 - n);
    rLo = (l | tLo) >>> 0; rHi = (h | tHi) >>> 0;
    cf = bit64(aLo, aHi, 64 - n);
  } else if (size === 4) {
    rLo = ((aLo << n) | shr32(bLo >>> 0, 32 - n)) >>> 0; rHi = 0;
    cf = (aLo >>> (32 - n)) & 1;
  } else {
    // 16-bit: work on the 32-bit value a:b (and a:b:a beyond 16).
    const a = aLo & 0xffff, b = bLo & 0xffff;
    const x = (a << 16) | b; // a:b
    if (n <= 16) {
      rLo = ((x << n) >>> 16) & 0xffff;
      cf = (a >>> (16 - n)) & 1;
    } else {
      const y = ((b << 16) | b) >>> 0; // b:b, the low 32 bits of a:b:b
      rLo = ((y << (n - 16)) >>> 16) & 0xffff;
      cf = 0; // the host clears CF and OF here
    }
    rHi = 0;
  }
  // SDM (count 1): sign change, i.e. MSB(r)^MSB(a) = MSB(r)^CF. The host gives OF = CF for a 16-bit
  // count of 16 and OF = 0 beyond (both undefined in the SDM).
  const of = size === 2 && n >= 16 ? (n === 16 ? cf : 0) : msb(rLo, rHi, size) ^ cf;
  res.lo = rLo;
  res.hi = rHi;
  f.recordResult(size, rLo | 0, rHi | 0, CF_OF_AF, cf | (of << 11) | AF);
}

/**
 * SHRD: a shifted right by the masked count, filled from the bottom of b. For a 16-bit operand and a
 * count of 17..31 (undefined in the SDM) this shifts b:b:a like the AMD host (b rotated right by n-16).
 */
export function shrd(f: FlagState, size: number, aLo: number, aHi: number, bLo: number, bHi: number, count: number): void {
  const n = maskCount(size, count);
  if (n === 0) { unchanged(size, aLo, aHi); return; }
  let rLo: number, rHi: number, cf: number;
  if (size === 8) {
    shr64(aLo, aHi, n);
    const l = tLo, h = tHi;
    shl64(bLo, bHi, 64 - n);
    rLo = (l | tLo) >>> 0; rHi = (h | tHi) >>> 0;
    cf = bit64(aLo, aHi, n - 1);
  } else if (size === 4) {
    rLo = ((aLo >>> n) | shl32(bLo, 32 - n)) >>> 0; rHi = 0;
    cf = (aLo >>> (n - 1)) & 1;
  } else {
    const a = aLo & 0xffff, b = bLo & 0xffff;
    const x = ((b << 16) | a) >>> 0; // b:a
    if (n <= 16) {
      rLo = (x >>> n) & 0xffff;
      cf = (a >>> (n - 1)) & 1;
    } else {
      const y = ((b << 16) | b) >>> 0; // b:b, the high 32 bits of b:b:a
      rLo = (y >>> (n - 16)) & 0xffff;
      cf = 0; // the host clears CF here
    }
    rHi = 0;
  }
  // SDM (count 1): sign change MSB(r)^MSB(a); MSB-1(r) = MSB(a) then, and MSB(r)^MSB-1(r) is what the
  // host gives for larger counts.
  const of = msb(rLo, rHi, size) ^ bit64(rLo, rHi, SIZE_BITS[size] - 2);
  res.lo = rLo;
  res.hi = rHi;
  f.recordResult(size, rLo | 0, rHi | 0, CF_OF_AF, cf | (of << 11) | AF);
}
