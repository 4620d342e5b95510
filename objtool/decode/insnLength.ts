// Instruction lengths from opcode tables, for the encodings compilers emit in kernel code.
//
// objtool needs only each instruction's length and whether it decodes (the classification in
// x86Decode.ts reads the bytes itself). iced-x86 answers both for any encoding, but loading its
// ~0.9 MB of JS glue and wasm costs a fresh process ~35 ms and each call crosses into wasm. The
// integer instructions that gcc and clang emit in kernel code (no SSE, no VEX) have lengths
// that follow from a few table entries, so they are measured here; everything else (VEX/EVEX,
// x87, SSE, system and rarely used group members, LOCK, unusual prefix orders, invalid
// opcodes) answers 0 and the caller asks iced-x86 as before. Every length this file gives must
// be iced-x86's, and the encoding must be valid for iced-x86: test/objtool/insnLength.test.ts
// compares the two over every opcode, ModRM and prefix form this file accepts.

/** Not measured here: ask iced-x86. */
const NO = 0xff;
/** Has a ModRM byte (plus SIB and displacement). */
const M = 0x10;
// Immediate kinds (low nibble).
const IB = 1;
const IW = 2;
/** imm16 with an operand-size prefix, else imm32 (REX.W keeps imm32). */
const IZ = 3;
/** mov $imm, %reg (B8+r): imm64 with REX.W. */
const IV = 4;
/** enter: imm16 + imm8. */
const IWB = 5;
/** mov moffs (A0-A3): an 8-byte address. */
const MOFFS = 6;
/** test $imm (F6/F7 /0): IB or IZ by the opcode's width; other members have none. */
const GRP3 = 7;
/** A ModRM whose reg field (or whole value) decides validity: see groupOk(). */
const G = 0x20;
/** A branch or return: an operand-size prefix changes it (Intel and AMD differ), so not here. */
const BR = 0x40;

const ONE = new Uint8Array(256).fill(NO);
const TWO = new Uint8Array(256).fill(NO);
/** Two-byte opcodes that accept an operand-size prefix (66) without becoming an SSE form. */
const TWO_66 = new Uint8Array(256);

function set(t: Uint8Array, ops: number[], v: number): void {
  for (const o of ops) t[o] = v;
}
function range(a: number, b: number): number[] {
  const r: number[] = [];
  for (let i = a; i <= b; i++) r.push(i);
  return r;
}

// One-byte map (64-bit mode). The ALU rows: op r/m,r / op r,r/m / op al,ib / op eax,iz.
for (let row = 0; row < 8; row++) {
  const b = row * 8;
  set(ONE, [b, b + 1, b + 2, b + 3], M);
  ONE[b + 4] = IB;
  ONE[b + 5] = IZ;
}
set(ONE, range(0x50, 0x5f), 0);
ONE[0x63] = M;
ONE[0x68] = IZ;
ONE[0x69] = M | IZ;
ONE[0x6a] = IB;
ONE[0x6b] = M | IB;
set(ONE, range(0x6c, 0x6f), 0);
set(ONE, range(0x70, 0x7f), IB | BR);
ONE[0x80] = M | IB;
ONE[0x81] = M | IZ;
ONE[0x83] = M | IB;
set(ONE, range(0x84, 0x8b), M);
set(ONE, [0x8c, 0x8e], M | G); // mov to and from segment registers
ONE[0x8d] = M | G; // lea: memory operand only
ONE[0x8f] = M | G; // pop r/m: /0 only (others are XOP)
set(ONE, range(0x90, 0x99), 0);
set(ONE, [0x9b, 0x9c, 0x9d, 0x9e, 0x9f], 0);
set(ONE, range(0xa0, 0xa3), MOFFS);
set(ONE, [0xa4, 0xa5, 0xa6, 0xa7, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf], 0);
ONE[0xa8] = IB;
ONE[0xa9] = IZ;
set(ONE, range(0xb0, 0xb7), IB);
set(ONE, range(0xb8, 0xbf), IV);
set(ONE, [0xc0, 0xc1], M | G | IB); // shifts: /6 is an undocumented alias
ONE[0xc2] = IW | BR;
ONE[0xc3] = BR;
ONE[0xc6] = M | G | IB; // mov $imm, r/m: /0 only
ONE[0xc7] = M | G | IZ;
ONE[0xc8] = IWB;
ONE[0xc9] = 0;
ONE[0xca] = IW;
set(ONE, [0xcb, 0xcc, 0xcf], 0);
ONE[0xcd] = IB;
set(ONE, range(0xd0, 0xd3), M | G);
ONE[0xd7] = 0;
set(ONE, range(0xe0, 0xe3), IB | BR);
set(ONE, range(0xe4, 0xe7), IB);
set(ONE, [0xe8, 0xe9], IZ | BR); // rel32 (no 66 here, so IZ is 4)
ONE[0xeb] = IB | BR;
set(ONE, range(0xec, 0xef), 0);
set(ONE, [0xf1, 0xf4, 0xf5], 0);
set(ONE, [0xf6, 0xf7], M | G | GRP3);
set(ONE, range(0xf8, 0xfd), 0);
set(ONE, [0xfe, 0xff], M | G);

// Two-byte map (0F xx): the integer and system instructions of kernel code.
set(TWO, [0x05, 0x06, 0x07, 0x08, 0x09, 0x0b, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0xa0, 0xa1, 0xa2, 0xa8, 0xa9], 0);
TWO[0x00] = M | G; // sldt, str, lldt, ltr, verr, verw
TWO[0x01] = M | G; // sgdt, lgdt, invlpg, clac, stac, swapgs, ...
set(TWO, [0x20, 0x22], M | G); // mov from and to %cr0, %cr2-%cr4
TWO[0x1f] = M; // nop r/m
set(TWO, range(0x40, 0x4f), M); // cmovcc
set(TWO, range(0x80, 0x8f), IZ | BR); // jcc rel32
set(TWO, range(0x90, 0x9f), M); // setcc
set(TWO, [0xa3, 0xab, 0xb3, 0xbb, 0xa5, 0xad, 0xaf, 0xb0, 0xb1, 0xb6, 0xb7, 0xbe, 0xbf, 0xbc, 0xbd, 0xc0, 0xc1], M);
set(TWO, [0xa4, 0xac], M | IB); // shld/shrd $imm
TWO[0xba] = M | G | IB; // bt/bts/btr/btc $imm: /4-/7
TWO[0xae] = M | G; // lfence, mfence, sfence
set(TWO, range(0xc8, 0xcf), 0); // bswap
set(TWO_66, [0x1f, ...range(0x40, 0x4f), 0xa3, 0xab, 0xb3, 0xbb, 0xa4, 0xa5, 0xac, 0xad, 0xaf, 0xb6, 0xb7, 0xbe, 0xbf, 0xba, 0xbc, 0xbd, 0xc1, 0xb1], 1);

/** One-byte opcodes that take F2/F3 as a plain repeat or hint prefix: string ops, pause, rep ret. */
const REP_OK = new Uint8Array(256);
set(REP_OK, [0x6c, 0x6d, 0x6e, 0x6f, 0x90, 0xa4, 0xa5, 0xa6, 0xa7, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xc3], 1);

/**
 * LOCK is valid on the read-modify-write instructions with a memory destination: the ALU
 * r/m,r forms, 80/81/83 except cmp, xchg, not/neg, inc/dec, bts/btr/btc, cmpxchg, xadd.
 */
function lockOk(map: number, op: number, modrm: number): boolean {
  if (modrm >> 6 === 3) return false;
  const reg = (modrm >> 3) & 7;
  if (map === 1) {
    if (op < 0x40) return (op & 7) <= 1 && op !== 0x38 && op !== 0x39;
    switch (op) {
      case 0x80: case 0x81: case 0x83: return reg !== 7;
      case 0x86: case 0x87: return true;
      case 0xf6: case 0xf7: return reg === 2 || reg === 3;
      case 0xfe: case 0xff: return reg <= 1;
      default: return false;
    }
  }
  switch (op) {
    case 0xab: case 0xb3: case 0xbb: case 0xb0: case 0xb1: case 0xc0: case 0xc1: return true;
    case 0xba: return reg >= 5;
    default: return false;
  }
}

/** Validity of the ModRM-dependent entries (G). */
function groupOk(map: number, op: number, modrm: number): boolean {
  const mod = modrm >> 6;
  const reg = (modrm >> 3) & 7;
  if (map === 1) {
    switch (op) {
      case 0x8c: return reg <= 5;
      case 0x8e: return reg <= 5 && reg !== 1;
      case 0x8d: return mod !== 3;
      case 0x8f: case 0xc6: case 0xc7: return reg === 0;
      case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3: return reg !== 6;
      case 0xf6: case 0xf7: return reg !== 1;
      case 0xfe: return reg <= 1;
      case 0xff: return reg === 0 || reg === 1 || reg === 2 || reg === 4 || reg === 6 || ((reg === 3 || reg === 5) && mod !== 3);
      default: return false;
    }
  }
  switch (op) {
    case 0x00: return reg <= 5;
    case 0x01:
      if (mod !== 3) return reg <= 3 || reg === 7;
      return modrm === 0xca || modrm === 0xcb || modrm === 0xf8 || modrm === 0xf9 || modrm === 0xd0;
    case 0x20: case 0x22: return mod === 3 && (reg === 0 || reg === 2 || reg === 3 || reg === 4);
    case 0xae: return modrm === 0xe8 || modrm === 0xf0 || modrm === 0xf8;
    case 0xba: return reg >= 4;
    default: return false;
  }
}

/**
 * Length of the instruction at `at`, or 0 when these tables do not cover it (or it is cut
 * off by the end of `d`).
 */
export function insnLength(d: Uint8Array, at: number): number {
  const n = d.length;
  let p = at;
  let opsize = false;
  let rep = 0;
  let lock = false;
  let addr32 = false;
  // Legacy prefixes, then at most one REX right before the opcode.
  for (;;) {
    if (p >= n) return 0;
    const b = d[p];
    if (b === 0x66) opsize = true;
    else if (b === 0xf2 || b === 0xf3) rep = b;
    else if (b === 0x67) addr32 = true;
    else if (b === 0xf0) lock = true;
    else if (b !== 0x2e && b !== 0x3e && b !== 0x26 && b !== 0x36 && b !== 0x64 && b !== 0x65) break;
    p++;
  }
  let rex = 0;
  if ((d[p] & 0xf0) === 0x40) {
    rex = d[p];
    p++;
    if (p >= n) return 0;
  }
  let op = d[p++];
  let e: number;
  let map = 1;
  if (lock && rep) return 0;
  if (op === 0x0f) {
    if (p >= n) return 0;
    op = d[p++];
    map = 2;
    e = TWO[op];
    if (opsize && !TWO_66[op]) return 0;
    if (rep) {
      // Only the prefixed forms kernel code uses: tzcnt/lzcnt (F3 BC/BD), popcnt (F3 B8), endbr (F3 1E FA/FB).
      if (rep !== 0xf3 || opsize) return 0;
      if (op === 0xb8) e = M;
      else if (op === 0x1e) {
        if (p >= n || (d[p] !== 0xfa && d[p] !== 0xfb)) return 0;
        e = M;
      } else if (op !== 0xbc && op !== 0xbd) return 0;
    }
    if (e === NO) return 0;
    if ((op === 0x20 || op === 0x22) && rex) return 0; // REX.R reaches %cr8 and beyond
  } else {
    e = ONE[op];
    if (e === NO) return 0;
    if (rep && !REP_OK[op]) return 0;
    if (addr32 && (e & 0xf) === MOFFS) return 0;
  }
  if ((e & BR) && opsize) return 0;
  if (lock && !(e & M)) return 0;
  let modrm = 0;
  if (e & M) {
    if (p >= n) return 0;
    modrm = d[p++];
    if ((e & G) && !groupOk(map, op, modrm)) return 0;
    if (lock && !lockOk(map, op, modrm)) return 0;
    const mod = modrm >> 6;
    if (mod !== 3) {
      let rm = modrm & 7;
      if (rm === 4) {
        if (p >= n) return 0;
        rm = d[p++] & 7; // SIB: base 5 with mod 0 means disp32, no base
        if (mod === 0 && rm === 5) p += 4;
      } else if (mod === 0 && rm === 5) p += 4; // RIP-relative
      if (mod === 1) p += 1;
      else if (mod === 2) p += 4;
    }
  }
  const rexW = (rex & 8) !== 0;
  switch (e & 0xf) {
    case IB: p += 1; break;
    case IW: p += 2; break;
    case IZ: p += opsize && !rexW ? 2 : 4; break;
    case IV: p += rexW ? 8 : opsize ? 2 : 4; break;
    case IWB: p += 3; break;
    case MOFFS: p += 8; break;
    case GRP3: if (((modrm >> 3) & 7) === 0) p += op === 0xf6 ? 1 : opsize && !rexW ? 2 : 4; break;
    default: break;
  }
  const len = p - at;
  return len > 15 || p > n ? 0 : len;
}
