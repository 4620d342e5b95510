/**
 * RFLAGS with lazily evaluated status flags.
 *
 * The idea comes from v86 (src/rust/cpu/arith.rs: last_op1/last_result/flags_changed) and blink
 * (blink/flags.h: parity computed only on demand): an ALU op records what it did (kind, size, operands,
 * result) and the six status flags are derived only when somebody reads them. Most flag results are
 * overwritten before anybody reads them, so recording is the common path and must stay cheap:
 * numbers only, no bigint, no allocation.
 *
 * Representation:
 * - `bits` holds RFLAGS eagerly: every non-status bit, plus every status bit that is not pending.
 * - `lazy` is the mask of status bits that are pending; they are computed from the record
 *   (`kind`, `size`, a, b, result halves, carry-in).
 * - 64-bit values are (lo, hi) 32-bit halves; for sizes 1, 2 and 4 the hi half is 0. The record treats
 *   them as bit patterns (every comparison goes through >>> 0 or XOR), so callers may pass either the
 *   uint32 or the int32 reading. The ops in exec/ pass int32 (`x | 0`): Node's V8 has 32-bit Smis
 *   (no pointer compression), so an int32 argument never allocates, while a uint32 >= 2^31 crossing a
 *   call that TurboFan did not inline is boxed into a fresh heap number (measured: cmp + jl with
 *   random 32-bit operands went from a scavenge every ~10k ops to none).
 *
 * Record kinds:
 * - LAZY_ADD: r = a + b + cin. CF, OF, AF, ZF, SF, PF are all derivable.
 * - LAZY_SUB: r = a - b - cin. Same.
 * - LAZY_RESULT: only ZF, SF, PF are derived from r; any other status bit is eager in `bits`.
 */

export const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, TF = 0x100, IF = 0x200,
  DF = 0x400, OF = 0x800, NT = 0x4000, RF = 0x10000, VM = 0x20000, AC = 0x40000, ID = 0x200000;
export const IOPL = 0x3000, VIF = 0x80000, VIP = 0x100000;
export const STATUS_FLAGS = CF | PF | AF | ZF | SF | OF;
/** Bit 1 of RFLAGS reads as 1. */
export const FLAGS_FIXED1 = 0x2;
/** Every RFLAGS bit that exists on x86_64 (bits 3, 5, 15 and 22..63 are reserved and read as 0). */
export const FLAGS_VALID = CF | FLAGS_FIXED1 | PF | AF | ZF | SF | TF | IF | DF | OF | IOPL | NT | RF | VM | AC | VIF | VIP | ID;

/** PARITY[b] is PF (0x4) when byte b has an even number of set bits, else 0. */
export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let n = 0;
  for (let v = i; v !== 0; v >>>= 1) n += v & 1;
  PARITY[i] = (n & 1) === 0 ? PF : 0;
}

/** Sign bit of the word that holds the top of a `size`-byte value (lo for 1/2/4, hi for 8). */
export const SIGN_BIT: readonly number[] = [0, 0x80, 0x8000, 0, 0x80000000, 0, 0, 0, 0x80000000];

export const LAZY_ADD = 1;
export const LAZY_SUB = 2;
export const LAZY_RESULT = 3;

/** Condition code numbers as encoded in jcc/setcc/cmovcc. */
export const CC_O = 0, CC_NO = 1, CC_B = 2, CC_AE = 3, CC_E = 4, CC_NE = 5, CC_BE = 6, CC_A = 7,
  CC_S = 8, CC_NS = 9, CC_P = 10, CC_NP = 11, CC_L = 12, CC_GE = 13, CC_LE = 14, CC_G = 15;

/** FlagState's fields as plain numbers (its snapshot state). */
export interface FlagRecord {
  bits: number; lazy: number; kind: number; size: number; aLo: number; aHi: number;
  bLo: number; bHi: number; rLo: number; rHi: number; cin: number;
}

export class FlagState {
  // Every field is initialised with a number where it is declared: with target ES2022 a bare
  // declaration (`aLo: number;`) is emitted as a class field set to undefined first, which makes V8
  // give the field a tagged representation, and then every uint32 >= 2^30 stored into it allocates
  // a heap number (measured: ~3x slower add/sub with flags, a scavenge every few thousand ops).
  /** Eager RFLAGS bits (non-status bits always; status bits only where not in `lazy`). */
  bits = FLAGS_FIXED1;
  /** Pending status bits, computed from the record below. */
  lazy = 0;
  kind = 0;
  size = 4;
  aLo = 0;
  aHi = 0;
  bLo = 0;
  bHi = 0;
  rLo = 0;
  rHi = 0;
  /** Carry-in of adc/sbb (0 or 1). */
  cin = 0;

  constructor(initial = FLAGS_FIXED1) {
    this.bits = (initial & FLAGS_VALID) | FLAGS_FIXED1;
  }

  /** The record as it is, pending status bits included (a snapshot must not materialise them). */
  saveState(): FlagRecord {
    return { bits: this.bits, lazy: this.lazy, kind: this.kind, size: this.size, aLo: this.aLo, aHi: this.aHi,
      bLo: this.bLo, bHi: this.bHi, rLo: this.rLo, rHi: this.rHi, cin: this.cin };
  }

  loadState(s: FlagRecord): void {
    this.bits = s.bits; this.lazy = s.lazy; this.kind = s.kind; this.size = s.size;
    this.aLo = s.aLo; this.aHi = s.aHi; this.bLo = s.bLo; this.bHi = s.bHi; this.rLo = s.rLo; this.rHi = s.rHi;
    this.cin = s.cin;
  }

  // ---------------------------------------------------------------- reading

  /** Full RFLAGS (bit 1 set), evaluating pending status flags. */
  get(): number {
    const lazy = this.lazy;
    if (lazy === 0) return this.bits;
    let v = 0;
    if (lazy & CF) v |= this.cfLazy();
    if (lazy & PF) v |= PARITY[this.rLo & 0xff];
    if (lazy & AF) v |= (this.aLo ^ this.bLo ^ this.rLo) & AF;
    if (lazy & ZF) v |= (this.rLo | this.rHi) === 0 ? ZF : 0;
    if (lazy & SF) v |= this.sfLazy();
    if (lazy & OF) v |= this.ofLazy();
    return (this.bits & ~lazy) | v;
  }

  /** CF as 0/1 (for adc/sbb/rcl/rcr). */
  carry(): number {
    return (this.lazy & CF) !== 0 ? this.cfLazy() : this.bits & CF;
  }

  zf(): boolean {
    return (this.lazy & ZF) !== 0 ? (this.rLo | this.rHi) === 0 : (this.bits & ZF) !== 0;
  }

  sf(): boolean {
    return (this.lazy & SF) !== 0 ? this.sfLazy() !== 0 : (this.bits & SF) !== 0;
  }

  of(): boolean {
    return (this.lazy & OF) !== 0 ? this.ofLazy() !== 0 : (this.bits & OF) !== 0;
  }

  pf(): boolean {
    return (this.lazy & PF) !== 0 ? PARITY[this.rLo & 0xff] !== 0 : (this.bits & PF) !== 0;
  }

  af(): boolean {
    return (this.lazy & AF) !== 0 ? ((this.aLo ^ this.bLo ^ this.rLo) & AF) !== 0 : (this.bits & AF) !== 0;
  }

  cf(): boolean {
    return this.carry() !== 0;
  }

  df(): boolean {
    return (this.bits & DF) !== 0;
  }

  if(): boolean {
    return (this.bits & IF) !== 0;
  }

  tf(): boolean {
    return (this.bits & TF) !== 0;
  }

  /** x86 condition 0..15: O NO B AE E NE BE A S NS P NP L GE LE G. */
  cond(cc: number): boolean {
    // Fast path for the commonest pattern, jcc/setcc/cmovcc right after cmp/sub: decide from the
    // operands directly instead of materialising CF/ZF/SF/OF.
    if (this.kind === LAZY_SUB && this.lazy === STATUS_FLAGS && this.cin === 0 && cc >= CC_B && cc !== CC_S &&
      cc !== CC_NS && cc !== CC_P && cc !== CC_NP) return this.condSub(cc);
    let t: boolean;
    switch (cc >> 1) {
      case 0: t = this.of(); break;
      case 1: t = this.carry() !== 0; break;
      case 2: t = this.zf(); break;
      case 3: t = this.carry() !== 0 || this.zf(); break;
      case 4: t = this.sf(); break;
      case 5: t = this.pf(); break;
      case 6: t = this.sf() !== this.of(); break;
      default: t = this.zf() || this.sf() !== this.of(); break;
    }
    return (cc & 1) !== 0 ? !t : t;
  }

  /** cond() for a pending a - b (no borrow-in) and cc in B AE E NE BE A L GE LE G. */
  private condSub(cc: number): boolean {
    const size = this.size;
    let t: boolean;
    const c = cc >> 1;
    if (c === 2) t = ((this.aLo ^ this.bLo) | (this.aHi ^ this.bHi)) === 0;
    else if (c <= 3) {
      // unsigned: B = a < b, BE = a <= b (ult written out: a call here would box the uint32 arguments)
      const aHi = this.aHi >>> 0, bHi = this.bHi >>> 0;
      const lt = aHi !== bHi ? aHi < bHi : this.aLo >>> 0 < this.bLo >>> 0;
      t = c === 1 ? lt : lt || ((this.aLo ^ this.bLo) | (this.aHi ^ this.bHi)) === 0;
    } else {
      // signed: L = a < b, LE = a <= b
      let lt: boolean;
      if (size === 8) {
        const ah = this.aHi | 0, bh = this.bHi | 0;
        lt = ah !== bh ? ah < bh : this.aLo >>> 0 < this.bLo >>> 0;
      } else {
        const sh = size === 4 ? 0 : size === 2 ? 16 : 24;
        lt = (this.aLo << sh) >> sh < (this.bLo << sh) >> sh;
      }
      t = c === 6 ? lt : lt || ((this.aLo ^ this.bLo) | (this.aHi ^ this.bHi)) === 0;
    }
    return (cc & 1) !== 0 ? !t : t;
  }

  private cfLazy(): number {
    // (hi:lo) < (hi:lo) comparisons written out: a helper call would box the uint32 arguments.
    if (this.kind === LAZY_ADD) {
      // r = a + b + cin wrapped: carry iff r < a, or r == a with a carry-in (then b was all ones).
      const rHi = this.rHi >>> 0, aHi = this.aHi >>> 0, rLo = this.rLo >>> 0, aLo = this.aLo >>> 0;
      if (rHi !== aHi ? rHi < aHi : rLo < aLo) return 1;
      return this.cin !== 0 && rLo === aLo && rHi === aHi ? 1 : 0;
    }
    if (this.kind === LAZY_SUB) {
      // r = a - b - cin: borrow iff a < b, or a == b with a borrow-in.
      const aHi = this.aHi >>> 0, bHi = this.bHi >>> 0, aLo = this.aLo >>> 0, bLo = this.bLo >>> 0;
      if (aHi !== bHi ? aHi < bHi : aLo < bLo) return 1;
      return this.cin !== 0 && aLo === bLo && aHi === bHi ? 1 : 0;
    }
    return this.bits & CF;
  }

  private sfLazy(): number {
    const size = this.size;
    return ((size === 8 ? this.rHi : this.rLo) & SIGN_BIT[size]) !== 0 ? SF : 0;
  }

  private ofLazy(): number {
    const size = this.size;
    let a: number, b: number, r: number;
    if (size === 8) { a = this.aHi; b = this.bHi; r = this.rHi; } else { a = this.aLo; b = this.bLo; r = this.rLo; }
    let x: number;
    if (this.kind === LAZY_ADD) x = (a ^ r) & (b ^ r); // both operands' sign differs from the result
    else if (this.kind === LAZY_SUB) x = (a ^ b) & (a ^ r); // operands' signs differ and result's differs from a
    else return this.bits & OF;
    return (x & SIGN_BIT[size]) !== 0 ? OF : 0;
  }

  // ---------------------------------------------------------------- writing

  /** Replace all of RFLAGS (the caller applies privilege masks). Reserved bits are dropped, bit 1 forced. */
  set(value: number): void {
    this.bits = (value & FLAGS_VALID) | FLAGS_FIXED1;
    this.lazy = 0;
  }

  /** Replace only the status bits in `mask` (mask must be a subset of STATUS_FLAGS). */
  setStatus(mask: number, value: number): void {
    // Pending bits outside the mask must be evaluated before the record is dropped.
    if ((this.lazy & ~mask) !== 0) this.bits = this.get();
    this.lazy = 0;
    this.bits = (this.bits & ~mask) | (value & mask);
  }

  /** Set or clear non-status bits such as DF/IF/TF/AC (cld, std, cli, sti). */
  setBit(bit: number, on: boolean): void {
    if (on) this.bits |= bit; else this.bits &= ~bit;
  }

  /**
   * Record r = a + b + cin (kind LAZY_ADD) or r = a - b - cin (LAZY_SUB); `mask` is the set of status flags
   * the instruction writes (all six, or all but CF for inc/dec); the others keep their current value.
   * All values uint32 halves already truncated to `size`.
   */
  recordArith(kind: number, size: number, aLo: number, aHi: number, bLo: number, bHi: number,
    rLo: number, rHi: number, cin: number, mask: number): void {
    if (mask !== STATUS_FLAGS) {
      // Keep the status bits outside mask: evaluate them from the old record before overwriting it.
      if ((this.lazy & ~mask) !== 0) this.bits = this.get();
    }
    // Pending bits are dropped from `bits`, so that the record alone decides the state: a translated
    // block that skips a record later overwritten (emulator/jit) leaves exactly the interpreter's state.
    this.bits &= ~mask;
    this.lazy = mask;
    this.kind = kind;
    this.size = size;
    this.aLo = aLo;
    this.aHi = aHi;
    this.bLo = bLo;
    this.bHi = bHi;
    this.rLo = rLo;
    this.rHi = rHi;
    this.cin = cin;
  }

  /**
   * Record a result whose ZF/SF/PF follow from r (logic ops, shifts, ...), while the status bits in
   * `eagerMask` (a subset of CF|OF|AF) take their value from `eagerBits`. Status bits outside
   * ZF|SF|PF|eagerMask keep their current value.
   */
  recordResult(size: number, rLo: number, rHi: number, eagerMask: number, eagerBits: number): void {
    const keep = STATUS_FLAGS & ~(ZF | SF | PF | eagerMask);
    if ((this.lazy & keep) !== 0) this.bits = this.get();
    this.bits = (this.bits & ~(eagerMask | ZF | SF | PF)) | (eagerBits & eagerMask);
    this.lazy = ZF | SF | PF;
    this.kind = LAZY_RESULT;
    this.size = size;
    this.aLo = 0;
    this.aHi = 0;
    this.bLo = 0;
    this.bHi = 0;
    this.rLo = rLo;
    this.rHi = rHi;
    this.cin = 0;
  }
}
