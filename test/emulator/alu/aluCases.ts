// Shared machinery of the ALU differential tests: run one host-CPU case through the emulator's pure ALU
// ops, and decide which flags (and whether the result) are architecturally defined for that case.
//
// Undefined flags: the base set per instruction is iced-x86's `rflagsUndefined` for a representative
// encoding of the instruction (the v86 `mask_flags` habit), refined by the operand-dependent rules of the
// Intel SDM that a per-encoding table cannot express:
// - shifts/rotates/shld/shrd with a masked count of 0 change no flag (nothing undefined);
// - with a masked count of 1 the OF flag is defined (iced's set for the `op r/m, 1` form);
// - SHL/SHR: CF is undefined when the count is >= the operand width (8/16-bit operands only);
// - SHLD/SHRD with a 16-bit operand and a count > 16: result and all flags undefined.
// Everything else (including flags an instruction leaves unchanged) is compared.
import { Decoder, DecoderOptions, RflagsBits } from 'iced-x86';
import { FlagState, CF, PF, AF, ZF, SF, OF, STATUS_FLAGS } from '../../../emulator/cpu/flags';
import { res } from '../../../emulator/exec/aluResult';
import * as arith from '../../../emulator/exec/arith';
import * as logic from '../../../emulator/exec/logic';
import * as shift from '../../../emulator/exec/shift';
import * as muldiv from '../../../emulator/exec/muldiv';
import * as bitops from '../../../emulator/exec/bitops';

export type Kind = 'bin' | 'un' | 'sh' | 'shd' | 'mul' | 'div' | 'bt' | 'scan' | 'cc' | 'xchg';

interface OpInfo {
  kind: Kind;
  /** Representative 64-bit encoding (hex) used to ask iced which flags are undefined. */
  enc: string;
  /** Encoding of the count-1 form for shifts/rotates. */
  enc1?: string;
}

export const OPS: Record<string, OpInfo> = {
  add: { kind: 'bin', enc: '4801d8' }, adc: { kind: 'bin', enc: '4811d8' }, sub: { kind: 'bin', enc: '4829d8' },
  sbb: { kind: 'bin', enc: '4819d8' }, cmp: { kind: 'bin', enc: '4839d8' }, and: { kind: 'bin', enc: '4821d8' },
  or: { kind: 'bin', enc: '4809d8' }, xor: { kind: 'bin', enc: '4831d8' }, test: { kind: 'bin', enc: '4885d8' },
  inc: { kind: 'un', enc: '48ffc0' }, dec: { kind: 'un', enc: '48ffc8' }, neg: { kind: 'un', enc: '48f7d8' },
  not: { kind: 'un', enc: '48f7d0' }, bswap: { kind: 'un', enc: '480fc8' },
  shl: { kind: 'sh', enc: '48d3e0', enc1: '48d1e0' }, shr: { kind: 'sh', enc: '48d3e8', enc1: '48d1e8' },
  sar: { kind: 'sh', enc: '48d3f8', enc1: '48d1f8' }, rol: { kind: 'sh', enc: '48d3c0', enc1: '48d1c0' },
  ror: { kind: 'sh', enc: '48d3c8', enc1: '48d1c8' }, rcl: { kind: 'sh', enc: '48d3d0', enc1: '48d1d0' },
  rcr: { kind: 'sh', enc: '48d3d8', enc1: '48d1d8' },
  shld: { kind: 'shd', enc: '480fa5d8' }, shrd: { kind: 'shd', enc: '480fadd8' },
  mul1: { kind: 'mul', enc: '48f7e3' }, imul1: { kind: 'mul', enc: '48f7eb' }, imul2: { kind: 'mul', enc: '480fafc3' },
  // Three-operand IMUL (imm8 and imm32 forms) is computed by the same imul2 op as the two-operand form.
  imul3: { kind: 'mul', enc: '486bc305' },
  div: { kind: 'div', enc: '48f7f3' }, idiv: { kind: 'div', enc: '48f7fb' },
  bt: { kind: 'bt', enc: '480fa3d8' }, bts: { kind: 'bt', enc: '480fabd8' }, btr: { kind: 'bt', enc: '480fb3d8' },
  btc: { kind: 'bt', enc: '480fbbd8' },
  bsf: { kind: 'scan', enc: '480fbcc3' }, bsr: { kind: 'scan', enc: '480fbdc3' }, tzcnt: { kind: 'scan', enc: 'f3480fbcc3' },
  lzcnt: { kind: 'scan', enc: 'f3480fbdc3' }, popcnt: { kind: 'scan', enc: 'f3480fb8c3' },
  // SETcc under every combination of the status flags: checks FlagState.cond() against the hardware.
  setcc: { kind: 'cc', enc: '0f94c0' },
  // XADD = ADD plus exchange; CMPXCHG = CMP of the accumulator with the destination plus a move. Their
  // goldens hold whole 64-bit registers (see hostcpu.c); this level compares the operand-size part.
  xadd: { kind: 'xchg', enc: '480fc1f3' }, cmpxchg: { kind: 'xchg', enc: '480fb1f3' },
};

const ICED_TO_X86: [number, number][] = [
  [RflagsBits.CF, CF], [RflagsBits.PF, PF], [RflagsBits.AF, AF], [RflagsBits.ZF, ZF], [RflagsBits.SF, SF], [RflagsBits.OF, OF],
];

/** iced's rflagsUndefined for an encoding, as x86 RFLAGS bit positions. */
export function icedUndefined(hex: string): number {
  const d = new Decoder(64, Uint8Array.from(Buffer.from(hex, 'hex')), DecoderOptions.None);
  const insn = d.decode();
  const u = insn.rflagsUndefined;
  insn.free();
  d.free();
  let m = 0;
  for (const [i, x] of ICED_TO_X86) if (u & i) m |= x;
  return m;
}

const undefCache = new Map<string, number>();
function undefOf(hex: string): number {
  let v = undefCache.get(hex);
  if (v === undefined) { v = icedUndefined(hex); undefCache.set(hex, v); }
  return v;
}

const WIDTH = [0, 8, 16, 0, 32, 0, 0, 0, 64];

export interface Defined {
  /** Status flags to compare. */
  flags: number;
  /** Whether the result (and high result) is defined. */
  result: boolean;
}

/** Which status flags and results are architecturally defined for this case. */
export function defined(op: string, size: number, b: number, c: number): Defined {
  const info = OPS[op];
  let undef = undefOf(info.enc);
  let result = true;
  if (info.kind === 'sh' || info.kind === 'shd') {
    const count = (info.kind === 'sh' ? b : c) & 0xff;
    const n = count & (size === 8 ? 0x3f : 0x1f);
    if (n === 0) undef = 0;
    else if (info.kind === 'sh') {
      if (n === 1) undef = undefOf(info.enc1!);
      if ((op === 'shl' || op === 'shr') && n >= WIDTH[size]) undef |= CF;
    } else {
      if (n === 1) undef &= ~OF;
      if (size === 2 && n > 16) { undef = STATUS_FLAGS; result = false; }
    }
  }
  return { flags: STATUS_FLAGS & ~undef, result };
}

/** Split a hex string (no 0x) into uint32 halves. */
export function hexLo(h: string): number {
  return parseInt(h.length > 8 ? h.slice(h.length - 8) : h, 16);
}
export function hexHi(h: string): number {
  return h.length > 8 ? parseInt(h.slice(0, h.length - 8), 16) : 0;
}

export interface Outcome { lo: number; hi: number; lo2: number; hi2: number; flags: number; fault: boolean; conds: number }
const out: Outcome = { lo: 0, hi: 0, lo2: 0, hi2: 0, flags: 0, fault: false, conds: 0 };

/** Flags each condition code reads (cc >> 1: O, B, E, BE, S, P, L, LE). */
const COND_READS = [OF, CF, ZF, CF | ZF, SF, PF, SF | OF, ZF | SF | OF];

/** Condition cc evaluated from an RFLAGS value with the SDM's formulas. */
export function condOf(flags: number, cc: number): boolean {
  const cf = (flags & CF) !== 0, zf = (flags & ZF) !== 0, sf = (flags & SF) !== 0, of = (flags & OF) !== 0, pf = (flags & PF) !== 0;
  let t: boolean;
  switch (cc >> 1) {
    case 0: t = of; break;
    case 1: t = cf; break;
    case 2: t = zf; break;
    case 3: t = cf || zf; break;
    case 4: t = sf; break;
    case 5: t = pf; break;
    case 6: t = sf !== of; break;
    default: t = zf || sf !== of; break;
  }
  return (cc & 1) !== 0 ? !t : t;
}
const f = new FlagState();

type Bin = (f: FlagState, size: number, aLo: number, aHi: number, bLo: number, bHi: number) => void;
type Un = (f: FlagState, size: number, aLo: number, aHi: number) => void;
type Sh = (f: FlagState, size: number, aLo: number, aHi: number, count: number) => void;

const BIN: Record<string, Bin> = {
  add: arith.add, adc: arith.adc, sub: arith.sub, sbb: arith.sbb, cmp: arith.cmp,
  and: logic.and, or: logic.or, xor: logic.xor, test: logic.test,
  mul1: muldiv.mul1, imul1: muldiv.imul1, imul2: muldiv.imul2, imul3: muldiv.imul2,
  bsf: bitops.bsf, bsr: bitops.bsr,
};
const UN: Record<string, Un> = {
  inc: arith.inc, dec: arith.dec, neg: arith.neg, not: logic.not, bswap: bitops.bswap,
  tzcnt: bitops.tzcnt, lzcnt: bitops.lzcnt, popcnt: bitops.popcnt,
};
const SH: Record<string, Sh> = {
  shl: shift.shl, shr: shift.shr, sar: shift.sar, rol: shift.rol, ror: shift.ror, rcl: shift.rcl, rcr: shift.rcr,
  bt: bitops.bt, bts: bitops.bts, btr: bitops.btr, btc: bitops.btc,
};

/**
 * Run one case through the emulator. Inputs as the harness records them (see fixtures/hostcpu/hostcpu.c).
 * Ops that write no result (cmp, test, bt) report the destination unchanged, as the host harness sees it.
 */
export function runCase(op: string, size: number, aLo: number, aHi: number, bLo: number, bHi: number,
  cLo: number, cHi: number, flagsIn: number): Outcome {
  f.set(flagsIn);
  return runCaseOn(f, op, size, aLo, aHi, bLo, bHi, cLo, cHi);
}

/** runCase on a given FlagState, keeping whatever (possibly lazy) flags it holds as the input flags. */
export function runCaseOn(f: FlagState, op: string, size: number, aLo: number, aHi: number, bLo: number, bHi: number,
  cLo: number, cHi: number): Outcome {
  res.lo = aLo; res.hi = aHi; res.lo2 = 0; res.hi2 = 0;
  out.fault = false;
  const kind = OPS[op].kind;
  if (kind === 'cc') {
    res.lo = f.cond(aLo & 15) ? 1 : 0; res.hi = 0;
  } else if (op === 'xadd') {
    arith.add(f, size, aLo, aHi, bLo, bHi); // destination = a + b, source = old destination
    res.lo2 = aLo; res.hi2 = aHi;
  } else if (op === 'cmpxchg') {
    arith.cmp(f, size, cLo, cHi, aLo, aHi); // flags of accumulator - destination
    if (f.zf()) { res.lo = bLo; res.hi = bHi; } else { res.lo = aLo; res.hi = aHi; }
    res.lo2 = aLo; res.hi2 = aHi; // equal: the accumulator already holds a; else it is loaded with a
  } else if (op === 'div' || op === 'idiv') {
    const fn = op === 'div' ? muldiv.div : muldiv.idiv;
    out.fault = !fn(f, size, aLo, aHi, cLo, cHi, bLo, bHi);
    if (out.fault) { res.lo = 0; res.hi = 0; }
  } else if (op === 'shld' || op === 'shrd') {
    (op === 'shld' ? shift.shld : shift.shrd)(f, size, aLo, aHi, bLo, bHi, cLo & 0xff);
  } else if (kind === 'scan' && op !== 'bsf' && op !== 'bsr') {
    UN[op](f, size, aLo, aHi);
  } else if (op === 'bsf' || op === 'bsr') {
    BIN[op](f, size, aLo, aHi, bLo, bHi);
  } else if (kind === 'bt') {
    // Register form: the bit offset register is taken modulo the operand width by the CPU.
    SH[op](f, size, aLo, aHi, bLo & (WIDTH[size] - 1));
    if (op === 'bt') { res.lo = aLo; res.hi = aHi; }
  } else if (kind === 'sh') {
    SH[op](f, size, aLo, aHi, bLo & 0xff);
  } else if (kind === 'un') {
    UN[op](f, size, aLo, aHi);
  } else {
    BIN[op](f, size, aLo, aHi, bLo, bHi);
    if (op === 'cmp' || op === 'test') { res.lo = aLo; res.hi = aHi; }
  }
  out.lo = res.lo >>> 0; out.hi = res.hi >>> 0;
  const two = kind === 'div' || kind === 'xchg' || op === 'mul1' || op === 'imul1';
  out.lo2 = two ? res.lo2 >>> 0 : 0; out.hi2 = two ? res.hi2 >>> 0 : 0;
  // FlagState.cond() straight from the lazy record (its fast paths included), before get().
  out.conds = 0;
  for (let cc = 0; cc < 16; cc++) if (f.cond(cc)) out.conds |= 1 << cc;
  out.flags = f.get() & STATUS_FLAGS;
  return out;
}

export interface Golden {
  op: string;
  seed: number;
  cpu: string;
  fields: string[];
  cases: [number, string, string, string, number, string, string, number, number][];
}

const STRICT: Defined = { flags: STATUS_FLAGS, result: true };

function hex(lo: number, hi: number): string {
  return hi ? hi.toString(16) + lo.toString(16).padStart(8, '0') : lo.toString(16);
}

export interface CompareReport { compared: number; bySize: Record<number, number>; mismatches: string[]; faults: number }

/**
 * Compare every case of a golden document; returns the mismatch descriptions (at most `limit`).
 * `strict` compares undefined flags and undefined results too (see hostCpuUndefined.test.ts).
 * `int32Inputs` passes the operands' halves as int32 (x | 0) instead of uint32.
 */
export function compareGolden(g: Golden, limit = 20, strict = false, int32Inputs = false): CompareReport {
  const rep: CompareReport = { compared: 0, bySize: {}, mismatches: [], faults: 0 };
  let bad = 0;
  for (const row of g.cases) {
    const [size, a, b, c, flagsIn, r, rh, flags, fault] = row;
    const bLo = hexLo(b), cLo = hexLo(c);
    // The ops accept either reading of a 32-bit half (uint32 or int32); int32Inputs feeds the int32 one.
    const o = int32Inputs
      ? runCase(g.op, size, hexLo(a) | 0, hexHi(a) | 0, bLo | 0, hexHi(b) | 0, cLo | 0, hexHi(c) | 0, flagsIn)
      : runCase(g.op, size, hexLo(a), hexHi(a), bLo, hexHi(b), cLo, hexHi(c), flagsIn);
    const d = strict ? STRICT : defined(g.op, size, bLo, cLo);
    let ok = o.fault === (fault === 1);
    if (ok && fault !== 1) {
      if (OPS[g.op].kind === 'xchg' && size < 8) {
        // whole-register goldens: the operand-size part here (the upper bits are the core's business)
        const m = size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
        ok = o.lo === ((hexLo(r) & m) >>> 0) && o.hi === 0 && o.lo2 === ((hexLo(rh) & m) >>> 0) && o.hi2 === 0;
      } else if (d.result) ok = o.lo === hexLo(r) && o.hi === hexHi(r) && o.lo2 === hexLo(rh) && o.hi2 === hexHi(rh);
      ok = ok && (o.flags & d.flags) === (flags & d.flags);
      // Every condition code whose flags are defined must agree with the host's flags.
      for (let cc = 0; cc < 16 && ok; cc++) {
        if ((COND_READS[cc >> 1] & ~d.flags) !== 0) continue;
        ok = ((o.conds >> cc) & 1) === (condOf(flags, cc) ? 1 : 0);
      }
    }
    if (fault === 1) rep.faults++;
    rep.compared++;
    rep.bySize[size] = (rep.bySize[size] ?? 0) + 1;
    if (!ok) {
      bad++;
      if (rep.mismatches.length < limit) {
        rep.mismatches.push(`${g.op}${size * 8} a=${a} b=${b} c=${c} fin=${flagsIn.toString(16)}: host r=${r} rh=${rh} ` +
          `fl=${flags.toString(16)} fault=${fault}; emu r=${hex(o.lo, o.hi)} rh=${hex(o.lo2, o.hi2)} ` +
          `fl=${o.flags.toString(16)} conds=${o.conds.toString(16)} fault=${o.fault ? 1 : 0} (compared flags ${d.flags.toString(16)}${d.result ? '' : ', result undefined'})`);
      }
    }
  }
  if (bad > rep.mismatches.length) rep.mismatches.push(`... ${bad - rep.mismatches.length} more`);
  return rep;
}
