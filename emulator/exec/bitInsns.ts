/** BT/BTS/BTR/BTC, BSF/BSR, TZCNT/LZCNT/POPCNT and BSWAP forms; semantics in bitops.ts. */
import type { Cpu } from '../cpu/cpu';
import { Insn, OK_IMM, OK_MEM } from '../decode/insn';
import * as B from './bitops';
import { res } from './aluResult';
import { ea, readOp0, readOp1, readRmw0, storeOp0, writeOp0 } from './operands';

/**
 * Resolve the bit operand: for a memory destination with a register offset the offset is signed and
 * selects a word relative to the address (SDM "BT": bit string addressing). Sets c.va for memory.
 */
function bitTarget(c: Cpu, d: Insn, rmw: boolean): number {
  const w = d.size * 8;
  if (d.k1 === OK_IMM) {
    const bit = d.immLo & (w - 1);
    if (rmw) readRmw0(c, d); // also loads the value
    else readOp0(c, d);
    return bit;
  }
  const off = readOp1(c, d), offHi = c.bHi;
  if (d.k0 !== OK_MEM) {
    if (rmw) readRmw0(c, d); else readOp0(c, d);
    return off & (w - 1);
  }
  // Signed bit offset of operand size.
  let n: number;
  if (d.size === 8) n = (offHi | 0) * 4294967296 + off;
  else if (d.size === 4) n = off | 0;
  else n = (off << 16) >> 16;
  const q = Math.floor(n / w);
  const va = ea(c, d) + q * d.size;
  c.va = va;
  if (rmw) c.mmu.probeWrite(va, d.size);
  return n - q * w;
}

function value(c: Cpu, d: Insn): number {
  if (d.k0 === OK_MEM) { const v = c.mmu.read(d.size, c.va); c.aHi = d.size === 8 ? c.mmu.hi : 0; return v; }
  return c.regs.read(d.size, d.r0);
}

export function btRm(c: Cpu, d: Insn): void {
  const bit = bitTarget(c, d, false);
  const a = value(c, d);
  B.bt(c.flags, d.size, a, c.aHi, bit);
}
function modify(c: Cpu, d: Insn, op: typeof B.bts): void {
  const bit = bitTarget(c, d, true);
  const a = value(c, d);
  op(c.flags, d.size, a, c.aHi, bit);
  if (d.k0 === OK_MEM) c.mmu.write(d.size, c.va, res.lo, res.hi);
  else c.regs.write(d.size, d.r0, res.lo, res.hi);
}
export function btsRm(c: Cpu, d: Insn): void { modify(c, d, B.bts); }
export function btrRm(c: Cpu, d: Insn): void { modify(c, d, B.btr); }
export function btcRm(c: Cpu, d: Insn): void { modify(c, d, B.btc); }

export function bsfR(c: Cpu, d: Insn): void {
  const src = readOp1(c, d), srcHi = c.bHi;
  const dst = c.regs.read(d.size, d.r0), dstHi = d.size === 8 ? c.regs.u32[(d.r0 << 1) | 1] : 0;
  B.bsf(c.flags, d.size, src, srcHi, dst, dstHi);
  c.regs.write(d.size, d.r0, res.lo, res.hi);
}
export function bsrR(c: Cpu, d: Insn): void {
  const src = readOp1(c, d), srcHi = c.bHi;
  const dst = c.regs.read(d.size, d.r0), dstHi = d.size === 8 ? c.regs.u32[(d.r0 << 1) | 1] : 0;
  B.bsr(c.flags, d.size, src, srcHi, dst, dstHi);
  c.regs.write(d.size, d.r0, res.lo, res.hi);
}
export function tzcntR(c: Cpu, d: Insn): void { const s = readOp1(c, d); B.tzcnt(c.flags, d.size, s, c.bHi); storeOp0(c, d, res.lo, res.hi); }
export function lzcntR(c: Cpu, d: Insn): void { const s = readOp1(c, d); B.lzcnt(c.flags, d.size, s, c.bHi); storeOp0(c, d, res.lo, res.hi); }
export function popcntR(c: Cpu, d: Insn): void { const s = readOp1(c, d); B.popcnt(c.flags, d.size, s, c.bHi); storeOp0(c, d, res.lo, res.hi); }
export function bswapR(c: Cpu, d: Insn): void {
  const a = readRmw0(c, d);
  B.bswap(c.flags, d.size, a, c.aHi);
  writeOp0(c, d, res.lo, res.hi);
}
