/**
 * High-precision real functions for the x87 transcendental instructions, in bigint fixed point:
 * a value v is held as an integer V = v * 2^S for a scale S chosen per call (256 bits or more below
 * the value's leading bit), so results carry far more bits than the 64-bit significand they are
 * rounded to. Series: Taylor for sin/cos/exp-1, atanh for logarithms, atan after argument halving.
 * pi and ln 2 are computed at load time (Machin's formula, 2 atanh(1/3)).
 */

export const FRAC = 256;
const F = BigInt(FRAC);
const ONE = 1n << F;

function atanInverse(n: bigint): bigint {
  let sum = 0n, term = ONE / n, k = 1n, neg = false;
  const n2 = n * n;
  while (term !== 0n) { sum += neg ? -(term / k) : term / k; term /= n2; k += 2n; neg = !neg; }
  return sum;
}
/** pi * 2^256 and ln 2 * 2^256 (each within a few units of the last bit). */
export const PI = 4n * (4n * atanInverse(5n) - atanInverse(239n));
export const LN2 = 2n * atanhSeries(ONE / 3n, F);

/** atanh(u) for |u| < 1/2, u and the result at scale s. */
export function atanhSeries(u: bigint, s: bigint): bigint {
  // Signed products are divided (truncation toward zero ends the loop), never shifted (floor: -1 forever).
  const u2 = (u * u) >> s;
  let term = u, sum = 0n, k = 1n;
  while (term !== 0n) { sum += term / k; term = (term * u2) / (1n << s); k += 2n; }
  return sum;
}

/** sin(r) and cos(r) for |r| <= pi/4 at scale 256. */
export function sinCos(r: bigint): [bigint, bigint] {
  const r2 = (r * r) >> F; // products of signed terms below divide (toward zero), never shift
  let sin = 0n, term = r, k = 1n;
  while (term !== 0n) { sin += term; term = -(term * r2) / (ONE * (k + 1n) * (k + 2n)); k += 2n; }
  let cos = 0n;
  term = ONE; k = 0n;
  while (term !== 0n) { cos += term; term = -(term * r2) / (ONE * (k + 1n) * (k + 2n)); k += 2n; }
  return [sin, cos];
}

/**
 * pi to 66 significant bits, the value the x87 reduces trigonometric arguments with (SDM vol. 1
 * 8.3.10: "an internal value of pi that has a 66-bit mantissa"); the host CPU's FSIN/FCOS/FPTAN agree
 * with it, not with the exact reduction. At scale 256.
 */
export const PI66 = ((0xc90fdaa22168c234n << 2n) | 3n) << (F - 64n);

/**
 * Reduce x = M * 2^E (|x| < 2^63) by multiples of pi/2 (with the 66-bit pi): returns [quadrant k mod 4,
 * r * 2^256] with |r| <= pi/4.
 */
export function reduceHalfPi(M: bigint, E: number): [number, bigint] {
  const halfPi = PI66 >> 1n;
  const X = E + FRAC >= 0 ? M << BigInt(E + FRAC) : M >> BigInt(-(E + FRAC));
  const k = (X + (halfPi >> 1n)) / halfPi;
  return [Number(k & 3n), X - k * halfPi];
}

/** e^y - 1 for |y| <= 1, y and the result at scale s. */
export function expm1Series(y: bigint, s: bigint): bigint {
  let sum = 0n, term = y, k = 1n;
  while (term !== 0n) { sum += term; k += 1n; term = (term * y) / ((1n << s) * k); }
  return sum;
}

/** atan(t) for 0 <= t <= 1 at scale 256 (two argument halvings, then the series). */
export function atanSeries(t: bigint): bigint {
  let halvings = 0n;
  for (let i = 0; i < 3; i++) {
    // atan(t) = 2 atan(t / (1 + sqrt(1 + t^2)))
    const root = isqrtBig((ONE << F) + t * t);
    t = (t << F) / (ONE + root);
    halvings++;
  }
  const t2 = (t * t) >> F;
  let term = t, sum = 0n, k = 1n, neg = false;
  while (term !== 0n) { sum += neg ? -(term / k) : term / k; term = (term * t2) >> F; k += 2n; neg = !neg; }
  return sum << halvings;
}

function isqrtBig(v: bigint): bigint {
  if (v < 2n) return v;
  let x = 1n << BigInt((v.toString(2).length + 1) >> 1);
  for (;;) {
    const y = (x + v / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}
