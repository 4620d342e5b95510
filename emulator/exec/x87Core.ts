/**
 * What every x87 instruction handler shares: the availability and pending-exception checks on entry,
 * the last instruction/operand pointers, the register stack (ST(i), push, pop, stack faults), the
 * rounding environment from the control word, folding an operation's exceptions into the status word,
 * and memory operands in the x87 formats.
 */
import { Register } from 'iced-x86';
import type { Cpu } from '../cpu/cpu';
import type { Insn } from '../decode/insn';
import { OK_MEM } from '../decode/insn';
import { TAG_EMPTY, SW_C1, SW_ES, SW_B, X87State } from '../cpu/x87State';
import { CR0_NE, CS } from '../cpu/modes';
import { GuestFault, MF } from '../interrupts/guestFault';
import { ea } from './operands';
import { requireX87 } from './fpuAvailable';
import { F80, FpEnv, INDEFINITE, FE_IE, FE_SF, NO_RESULT } from './x87Float80';

export const ST0 = Register.ST0;
const PRECISION = [24, 64, 53, 64]; // PC 01 is reserved; the hardware computes it as 64 bits

/** One environment reused by all handlers (x87 is single-threaded per CPU; reset per instruction). */
export const env = new FpEnv();

/** Raise #MF when an unmasked exception is pending (CR0.NE=1). With NE=0 the legacy FERR#/IRQ13 path is not modelled. */
export function checkPending(c: Cpu): void {
  if ((c.x87.sw & SW_ES) !== 0 && (c.cr0 & CR0_NE) !== 0) throw new GuestFault(MF);
}

/**
 * Entry of a waiting x87 instruction: #NM, pending #MF, then (for non-control instructions) the last
 * instruction pointer, opcode and, with a memory operand, the last data pointer. Prepares `env`.
 */
export function enter(c: Cpu, d: Insn, control = false): X87State {
  requireX87(c);
  checkPending(c);
  const x = c.x87;
  if (!control) recordPointers(c, d);
  prepareEnv(x);
  return x;
}

/** Entry of a no-wait control instruction (FNINIT, FNCLEX, FNSTCW, FNSTSW, FNSTENV, FNSAVE). */
export function enterNoWait(c: Cpu): X87State {
  requireX87(c);
  return c.x87;
}

export function prepareEnv(x: X87State): void {
  env.rc = (x.cw >> 10) & 3;
  env.pc = PRECISION[(x.cw >> 8) & 3];
  env.masks = x.cw & 0x3f;
  env.flags = 0;
  env.c1 = 0;
}

/** FIP/FCS/FOP and FDP/FDS for a non-control instruction. */
export function recordPointers(c: Cpu, d: Insn): void {
  const x = c.x87;
  x.fip = c.insnStart;
  x.fcs = c.sel[CS];
  x.fop = opcodeOf(c, d);
  if (d.k0 === OK_MEM || d.k1 === OK_MEM) {
    const va = ea(c, d);
    x.fdp = d.asz === 4 ? va >>> 0 : va;
    x.fds = c.sel[d.seg];
  }
}

/** The 11-bit x87 opcode: low 3 bits of the D8-DF byte and the ModRM byte (prefixes skipped). */
function opcodeOf(c: Cpu, d: Insn): number {
  let a = c.insnStart;
  for (let i = 0; i < d.len - 1; i++) {
    const b = c.mmu.read8(a + i);
    if (b >= 0xd8 && b <= 0xdf) return ((b & 7) << 8) | c.mmu.read8(a + i + 1);
  }
  void a;
  return 0;
}

/** ST index of an operand register (iced ST0..ST7). */
export const sti = (r: number): number => r - ST0;

export function isEmpty(x: X87State, i: number): boolean { return x.tags[x.phys(i)] === TAG_EMPTY; }
export function readSt(x: X87State, i: number): F80 {
  const p = x.phys(i);
  const se = x.se[p];
  return { s: se >> 15, e: se & 0x7fff, m: x.m[p] };
}
export function writeSt(x: X87State, i: number, v: F80): void {
  x.setPhys(x.phys(i), (v.s << 15) | v.e, v.m);
}
export function pop(x: X87State): void { x.tags[x.top] = TAG_EMPTY; x.top = (x.top + 1) & 7; }

/**
 * Stack underflow (an empty source register): IE and SF with C1 = 0. Returns true when IE is masked
 * (the caller writes the default NaN as its result and continues).
 */
export function stackUnderflow(x: X87State): boolean {
  env.flags |= FE_IE | FE_SF;
  env.c1 = 0;
  return (env.masks & FE_IE) !== 0;
}

/**
 * Push a value. On stack overflow (ST(7) not empty): IE, SF, C1 = 1; masked, the default NaN is pushed;
 * unmasked, nothing changes. Returns false when nothing was pushed.
 */
export function push(x: X87State, v: F80): boolean {
  const p = (x.top - 1) & 7;
  if (x.tags[p] !== TAG_EMPTY) {
    env.flags |= FE_IE | FE_SF;
    env.c1 = 1;
    if ((env.masks & FE_IE) === 0) return false;
    v = INDEFINITE;
  }
  x.top = p;
  x.setPhys(p, (v.s << 15) | v.e, v.m);
  return true;
}

/**
 * Fold the operation's flags into the status word: sticky exception bits, C1 (from env.c1 unless
 * `keepC1`), and ES/B when an exception is unmasked.
 */
export function finish(x: X87State, keepC1 = false): void {
  let sw = x.sw | (env.flags & 0x7f);
  if (!keepC1) sw = (sw & ~SW_C1) | (env.c1 ? SW_C1 : 0);
  if ((sw & 0x3f & ~x.cw) !== 0) sw |= SW_ES | SW_B;
  x.sw = sw;
}

/** True when a computed result must not be written (an unmasked pre-computation exception). */
export const suppressed = (v: F80): boolean => v === NO_RESULT;

// ---- memory operands ----------------------------------------------------------------------------

export function readMem80(c: Cpu, va: number): F80 {
  const lo = c.mmu.read64(va);
  const hi = c.mmu.hi;
  const se = c.mmu.read16(va + 8);
  return { s: se >> 15, e: se & 0x7fff, m: (BigInt(hi) << 32n) | BigInt(lo) };
}
export function writeMem80(c: Cpu, va: number, v: F80): void {
  c.mmu.probeWrite(va, 10);
  c.mmu.write64(va, Number(v.m & 0xffffffffn), Number(v.m >> 32n));
  c.mmu.write16(va + 8, (v.s << 15) | v.e);
}
/** Little-endian integer of `bytes` bytes at va (unsigned). */
export function readMemBits(c: Cpu, va: number, bytes: number): bigint {
  if (bytes === 2) return BigInt(c.mmu.read16(va));
  if (bytes === 4) return BigInt(c.mmu.read32(va));
  const lo = c.mmu.read64(va);
  return (BigInt(c.mmu.hi) << 32n) | BigInt(lo);
}
export function writeMemBits(c: Cpu, va: number, bytes: number, v: bigint): void {
  if (bytes === 2) c.mmu.write16(va, Number(v & 0xffffn));
  else if (bytes === 4) c.mmu.write32(va, Number(v & 0xffffffffn));
  else c.mmu.write64(va, Number(v & 0xffffffffn), Number((v >> 32n) & 0xffffffffn));
}
