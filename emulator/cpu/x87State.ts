/**
 * x87 FPU state (Intel SDM vol. 1 ch. 8): eight 80-bit data registers in physical order, TOP, the
 * tag of each physical register, control word, status word (without TOP, which is kept apart), the
 * last instruction/operand pointers and opcode. The MMX registers MM0-MM7 are the significands of the
 * physical registers 0-7 (SDM 9.5). Plain data: `saveState()` gives a JSON-able object.
 */

/** Tag values (full tag word encoding). */
export const TAG_VALID = 0, TAG_ZERO = 1, TAG_SPECIAL = 2, TAG_EMPTY = 3;

/** Status word bits other than TOP. */
export const SW_IE = 0x1, SW_DE = 0x2, SW_ZE = 0x4, SW_OE = 0x8, SW_UE = 0x10, SW_PE = 0x20, SW_SF = 0x40,
  SW_ES = 0x80, SW_C0 = 0x100, SW_C1 = 0x200, SW_C2 = 0x400, SW_C3 = 0x4000, SW_B = 0x8000;

export interface X87Saved {
  se: number[]; m: string[]; tags: number[]; top: number; cw: number; sw: number;
  fip: number; fcs: number; fdp: number; fds: number; fop: number;
}

export class X87State {
  /** Sign and 15-bit exponent of each physical register. */
  readonly se = new Uint16Array(8);
  /** 64-bit significand of each physical register (also MMi). */
  readonly m: bigint[] = [0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n];
  readonly tags = new Uint8Array(8);
  top = 0;
  cw = 0x0040;
  /** Status word without the TOP field (bits 11-13 always 0 here). */
  sw = 0;
  fip = 0; fcs = 0; fdp = 0; fds = 0; fop = 0;

  constructor() { this.reset(); }

  /** Power-on/RESET state (SDM table 9-1): FCW 0040H, FSW 0, tags 5555H (all +0.0), pointers 0. */
  reset(): void {
    this.se.fill(0); this.m.fill(0n); this.tags.fill(TAG_ZERO);
    this.top = 0; this.cw = 0x0040; this.sw = 0;
    this.fip = 0; this.fcs = 0; this.fdp = 0; this.fds = 0; this.fop = 0;
  }

  /** FNINIT: FCW 037FH, FSW 0, every register empty, pointers and opcode cleared. */
  init(): void {
    this.cw = 0x037f; this.sw = 0; this.top = 0; this.tags.fill(TAG_EMPTY);
    this.fip = 0; this.fcs = 0; this.fdp = 0; this.fds = 0; this.fop = 0;
  }

  /** Status word as FNSTSW reports it (TOP in bits 11-13). */
  statusWord(): number { return (this.sw & ~0x3800) | (this.top << 11); }
  setStatusWord(v: number): void { this.top = (v >> 11) & 7; this.sw = v & ~0x3800 & 0xffff; }

  /** Full 16-bit tag word (physical register order). */
  tagWord(): number {
    let t = 0;
    for (let i = 0; i < 8; i++) t |= this.tags[i] << (2 * i);
    return t;
  }

  /** The tag a value would get (valid, zero or special). */
  static tagOf(se: number, m: bigint): number {
    const e = se & 0x7fff;
    if (e === 0x7fff) return TAG_SPECIAL;
    if (e === 0) return m === 0n ? TAG_ZERO : TAG_SPECIAL;
    return (m >> 63n) === 1n ? TAG_VALID : TAG_SPECIAL;
  }

  /** Load a full tag word: only "empty" is taken from it; the others are recomputed (as FLDENV/FRSTOR do). */
  setTagWord(t: number): void {
    for (let i = 0; i < 8; i++) {
      this.tags[i] = ((t >> (2 * i)) & 3) === TAG_EMPTY ? TAG_EMPTY : X87State.tagOf(this.se[i], this.m[i]);
    }
  }

  /** Abridged tag byte as FXSAVE writes it (1 = not empty). */
  abridgedTags(): number {
    let t = 0;
    for (let i = 0; i < 8; i++) if (this.tags[i] !== TAG_EMPTY) t |= 1 << i;
    return t;
  }
  setAbridgedTags(t: number): void {
    for (let i = 0; i < 8; i++) {
      this.tags[i] = (t & (1 << i)) === 0 ? TAG_EMPTY : X87State.tagOf(this.se[i], this.m[i]);
    }
  }

  /** Write a physical register and compute its tag. */
  setPhys(i: number, se: number, m: bigint): void {
    this.se[i] = se; this.m[i] = m; this.tags[i] = X87State.tagOf(se, m);
  }

  /** Physical index of ST(i). */
  phys(i: number): number { return (this.top + i) & 7; }

  saveState(): X87Saved {
    return {
      se: Array.from(this.se), m: this.m.map((v) => v.toString(16)), tags: Array.from(this.tags), top: this.top,
      cw: this.cw, sw: this.sw, fip: this.fip, fcs: this.fcs, fdp: this.fdp, fds: this.fds, fop: this.fop,
    };
  }

  loadState(s: X87Saved): void {
    for (let i = 0; i < 8; i++) { this.se[i] = s.se[i]; this.m[i] = BigInt('0x' + s.m[i]); this.tags[i] = s.tags[i]; }
    this.top = s.top; this.cw = s.cw; this.sw = s.sw;
    this.fip = s.fip; this.fcs = s.fcs; this.fdp = s.fdp; this.fds = s.fds; this.fop = s.fop;
  }
}
