/**
 * REP STOS and REP MOVS in bulk: the handler's loop (string.ts) calls these before each element, and
 * the elements from there to the page's end run as one typed-array fill or copy; the loop runs the
 * rest one at a time (the page's first element, which fills the TLB entry needed here, elements that
 * cross a page end, the last iteration that finds RCX = 0, faults, the budget's end). Linux clears
 * and copies pages with `rep stosq` / `rep movsq` / `rep stosb`; one iteration at a time costs about
 * as much as a whole interpreted instruction.
 *
 * A bulk part is exactly the next k iterations of the handler's loop, so the machine is the same:
 *   - only the forward direction (DF = 0), with the mode's own address size; addresses as the
 *     handler forms them (segment bases where they count), registers that do not wrap at 2^32;
 *   - k < RCX, so the count never reaches zero inside it (the handler's last, extra count stays its);
 *   - icount + k < the budget (c.repUntil), so the handler's "out of time" check would not have
 *     fired after any of those iterations; each iteration counts one, as there;
 *   - every element lies in one page whose TLB entry hits for writing (and for reading, for MOVS).
 *     A write hit means plain RAM without code and no memory hooks (the MMU fills no write entry for
 *     code pages, for MMIO, or while hooks are installed), so the handler's writes would have taken
 *     the same fast path and nothing else could have happened in between.
 * `stringBulk.on = false` runs every iteration one at a time: the tests compare the two.
 */
import type { Cpu } from '../cpu/cpu';
import type { Insn } from '../decode/insn';
import { RCX, RSI, RDI } from '../cpu/registers';
import { TLB_MASK } from '../memory/tlb';
import { advance, dstAddr, srcAddr } from './stringRegs';

/** Whether the bulk path may run, and the iterations it ran (tests check that it runs). */
export const stringBulk = { on: true, iterations: 0 };

/**
 * Whether the bulk path may run for this instruction at all (what does not change between its
 * elements): forward, with 64-bit addressing in 64-bit mode or (STOS only) 32-bit addressing in
 * 32-bit mode, where the PVH entry code clears memory with `rep stosb`.
 */
export function bulkMayRun(c: Cpu, d: Insn): boolean {
  return stringBulk.on && ((c.bits === 64 && d.asz === 8) || (c.bits === 32 && d.asz === 4)) && !c.flags.df();
}

/** Iterations the bulk path may run now (bulkMayRun holds): min(RCX - 1, budget), or 0. */
function bulkCount(c: Cpu): number {
  if (c.exit) return 0;
  const u = c.regs.u32;
  const count = c.bits === 64 && u[(RCX << 1) | 1] !== 0 ? 0x7fffffff : u[RCX << 1];
  const budget = c.repUntil - c.icount - 1;
  const k = count - 1 < budget ? count - 1 : budget;
  return k > 0 ? k : 0;
}

/** The RAM offset of `va` when the TLB (these tags) hits its page, or -1. */
function pageRun(tags: Float64Array, phys: Uint32Array, va: number): number {
  const vp = Math.floor(va / 4096);
  const i = vp & TLB_MASK;
  if (tags[i] !== vp) return -1;
  return phys[i] + (va & 0xfff);
}

/** Whether `bytes` more keep the register below 2^32 in 32-bit mode (there it would wrap). */
function noWrap(c: Cpu, r: number, bytes: number): boolean {
  return c.bits === 64 || c.regs.u32[r << 1] + bytes <= 0xffffffff;
}

/** RCX -= k (k is below the count, so it stays above zero) and k retired iterations. */
function retire(c: Cpu, k: number): void {
  const u = c.regs.u32;
  const lo = u[RCX << 1] - k;
  if (c.bits !== 64) c.regs.set32(RCX, lo);
  else if (lo < 0) { u[RCX << 1] = lo + 4294967296; u[(RCX << 1) | 1] -= 1; } else u[RCX << 1] = lo;
  c.icount += k;
  stringBulk.iterations += k;
}

/** The first iterations of a REP STOS that fit in the page, as one fill. */
export function bulkStos(c: Cpu, d: Insn): void {
  let k = bulkCount(c);
  if (k === 0) return;
  const s = d.msize, mmu = c.mmu;
  const va = dstAddr(c, d);
  const p = pageRun(mmu.tagW, mmu.phys, va);
  const fit = Math.floor((4096 - (va & 0xfff)) / s);
  if (k > fit) k = fit;
  if (p < 0 || k <= 0 || !noWrap(c, RDI, k * s)) return;
  const u = c.regs.u32, m8 = mmu.u8, lo = u[0], hi = u[1];
  const bytes = k * s;
  // A value whose bytes are all equal (zero, mostly) is a byte fill.
  const b0 = lo & 0xff, rep32 = (b0 * 0x01010101) >>> 0;
  const uniform = s === 1 || (s === 2 && (lo & 0xffff) === (rep32 & 0xffff)) || (s === 4 && lo === rep32) ||
    (s === 8 && lo === rep32 && hi === rep32);
  if (uniform) m8.fill(b0, p, p + bytes);
  else {
    const dv = mmu.dv;
    for (let q = p, end = p + bytes; q < end; q += s) {
      if (s === 2) dv.setUint16(q, lo, true);
      else if (s === 4) dv.setUint32(q, lo, true);
      else { dv.setUint32(q, lo, true); dv.setUint32(q + 4, hi, true); }
    }
  }
  advance(c, RDI, d.asz, bytes);
  retire(c, k);
}

/** The first iterations of a REP MOVS whose source and destination stay in their pages, as one copy. */
export function bulkMovs(c: Cpu, d: Insn): void {
  // 32-bit MOVS, and an FS/GS source, stay element by element: no guest we run copies that way.
  let k = c.bits === 64 && d.seg < 4 ? bulkCount(c) : 0;
  if (k === 0) return;
  const s = d.msize, mmu = c.mmu;
  const src = srcAddr(c, d), dst = dstAddr(c, d);
  const ps = pageRun(mmu.tagR, mmu.phys, src);
  const pd = pageRun(mmu.tagW, mmu.phys, dst);
  const fitS = Math.floor((4096 - (src & 0xfff)) / s), fitD = Math.floor((4096 - (dst & 0xfff)) / s);
  if (k > fitS) k = fitS;
  if (k > fitD) k = fitD;
  const bytes = k * s;
  // Element by element forward equals a memmove unless the destination starts inside the source
  // range after its start (then the copy repeats a pattern): leave that to the handler.
  if (ps < 0 || pd < 0 || k <= 0 || (pd > ps && pd < ps + bytes)) return;
  mmu.u8.copyWithin(pd, ps, ps + bytes);
  advance(c, RSI, d.asz, bytes);
  advance(c, RDI, d.asz, bytes);
  retire(c, k);
}
