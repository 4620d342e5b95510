/**
 * BT/BTS/BTR/BTC, BSF/BSR, TZCNT/LZCNT/POPCNT and BSWAP forms; semantics in bitops.ts. The forms that
 * differ only by operation are tables along the operation axis, each handler instantiated from its
 * shape's template (handlerTemplate.ts).
 */
import type { Cpu } from '../cpu/cpu';
import { Insn, OK_IMM, OK_MEM, type Handler } from '../decode/insn';
import * as B from './bitops';
import { res } from './aluResult';
import { ea, readOp0, readOp1, readRmw0, storeOp0, writeOp0 } from './operands';
import { instantiate } from './handlerTemplate';

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
function storeBits(c: Cpu, d: Insn): void {
  if (d.k0 === OK_MEM) c.mmu.write(d.size, c.va, res.lo, res.hi);
  else c.regs.write(d.size, d.r0, res.lo, res.hi);
}

/** BTS BTR BTC: test the bit, then set, reset or complement it (btsRm, btrRm, btcRm). */
export const BIT_MODIFY_RM: readonly Handler[] = [['bts', B.bts], ['btr', B.btr], ['btc', B.btc]].map(([name, op]) =>
  instantiate(`${name as string}Rm`, 'const bit = bitTarget(c, d, true);\nconst a = value(c, d);\nop(c.flags, d.size, a, c.aHi, bit); storeBits(c, d);',
    { bitTarget, value, storeBits, op }));

/** BSF BSR: the destination is read too (kept when the source is 0) (bsfR, bsrR). */
export const BIT_SCAN_R: readonly Handler[] = [['bsf', B.bsf], ['bsr', B.bsr]].map(([name, op]) =>
  instantiate(`${name as string}R`, 'const src = readOp1(c, d), srcHi = c.bHi;\n' +
    'const dst = c.regs.read(d.size, d.r0), dstHi = d.size === 8 ? c.regs.u32[(d.r0 << 1) | 1] : 0;\n' +
    'op(c.flags, d.size, src, srcHi, dst, dstHi);\nc.regs.write(d.size, d.r0, res.lo, res.hi);', { readOp1, res, op }));

/** TZCNT LZCNT POPCNT (tzcntR, lzcntR, popcntR). */
export const BIT_COUNT_R: readonly Handler[] = [['tzcnt', B.tzcnt], ['lzcnt', B.lzcnt], ['popcnt', B.popcnt]].map(([name, op]) =>
  instantiate(`${name as string}R`, 'const s = readOp1(c, d); op(c.flags, d.size, s, c.bHi); storeOp0(c, d, res.lo, res.hi);',
    { readOp1, storeOp0, res, op }));

export function bswapR(c: Cpu, d: Insn): void {
  const a = readRmw0(c, d);
  B.bswap(c.flags, d.size, a, c.aHi);
  writeOp0(c, d, res.lo, res.hi);
}
