/**
 * Inline guest memory access for translated code: the effective address as the interpreter computes
 * it (exec/operands.ts `ea`, same double arithmetic in the same order, so the same result), and the
 * MMU's TLB hit path (memory/mmu.ts read64/write64...) written into the block. A miss, a page-crossing
 * access or a non-canonical address takes the slow path: the block first syncs the CPU object to the
 * instruction's start (so a fault is precise), then calls the interpreter's own slow path.
 */
import type { Insn } from '../decode/insn';
import { TLB_MASK } from '../memory/tlb';
import type { CodeState } from './codeState';

/** Emission context of one instruction (see translateBlock). */
export interface InsnSite {
  st: CodeState;
  out: string[];
  d: Insn;
  /** Argument name of this Insn in the generated function. */
  dName: string;
  index: number;
  start: number;
  next: number;
  /** Code for the slow path of the next access: the exact address when the fast sum was not canonical. */
  eaFix?: string;
  /** The instructions of this one's block, and its position there (what always runs after it). */
  blockInsns: readonly Insn[];
  pos: number;
}

/** Mark that a slow path ran (the block must look at c.exit after this instruction). */
const SLOW = 'sp = 1; tr = mmu.tagR; tw = mmu.tagW;';

/** A local holding the linear address of d's memory operand; faults (#GP) precisely. */
export function effectiveAddress(s: InsnSite): string {
  const { st, out, d } = s;
  const va = st.tmp('va');
  if (d.eaFast !== 0) {
    let e = d.ripRel !== 0 ? `(rip0 + ${s.next}) + ${d.disp}` : `${d.disp}`;
    const base = d.base >= 0 ? st.reg(d.base) : null, index = d.index >= 0 ? st.reg(d.index) : null;
    if (base !== null) e = `${e} + (${base[1]} * 4294967296 + (${base[0]} >>> 0))`;
    if (index !== null) e = `${e} + (${index[1]} * 4294967296 + (${index[0]} >>> 0)) * ${d.scale}`;
    // Base and index can cancel to a canonical address that rounding moved (exec/operands.ts ea):
    // unless both are within ±2^47, NaN sends the access to its slow path, where eaFix computes it exactly.
    if (base !== null && index !== null) e = `(((${base[1]} + 0x8000) | (${index[1]} + 0x8000)) & 0xffff0000) === 0 ? ${e} : NaN`;
    out.push(`let ${va} = ${e};`);
    // A non-canonical address never hits the TLB, so the check waits for the access's slow path.
    s.eaFix = `if (!(${va} >= -0x800000000000 && ${va} < 0x800000000000)) ${va} = ea(c, ${s.dName}); `;
    return va;
  }
  // FS/GS or 32-bit addressing: the interpreter's exact path reads the register file.
  st.flushReg(d.base); st.flushReg(d.index);
  if (d.ripRel !== 0) out.push(`c.rip = rip0 + ${s.next};`);
  out.push(`let ${va} = eaNoFault(c, ${s.dName});`);
  out.push(`if (${va} !== ${va}) { ${st.syncAt(s.index, s.start, s.next)}${va} = ea(c, ${s.dName}); }`);
  return va;
}

/** Load `size` bytes at local `va`; returns int32 locals [lo, hi] (hi is "0" below 8 bytes). */
export function load(s: InsnSite, size: number, va: string): [string, string] {
  const { st, out } = s;
  const lo = st.tmp('ml'), hi = size === 8 ? st.tmp('mh') : '0';
  const vp = st.tmp('vp'), ti = st.tmp('ti');
  const sync = st.syncAt(s.index, s.start, s.next);
  out.push(`const ${vp} = Math.floor(${va} / 4096), ${ti} = ${vp} & ${TLB_MASK}; let ${lo} = 0${size === 8 ? `, ${hi} = 0` : ''};`);
  const fast = size === 1 ? `${lo} = m8[tp[${ti}] + (${va} & 0xfff)];`
    : size === 2 ? `${lo} = dv.getUint16(tp[${ti}] + (${va} & 0xfff), true);`
      : size === 4 ? `${lo} = dv.getUint32(tp[${ti}] + (${va} & 0xfff), true) | 0;`
        : `{ const p = tp[${ti}] + (${va} & 0xfff); ${lo} = dv.getUint32(p, true) | 0; ${hi} = dv.getUint32(p + 4, true) | 0; }`;
  const inPage = size === 1 ? '' : ` && (${va} & 0xfff) <= ${4096 - size}`;
  const fix = s.eaFix ?? '';
  s.eaFix = undefined;
  const slow = `${sync}${fix}${lo} = mmu.slowRead(${va}, ${size}, mmu.user) | 0;${size === 8 ? ` ${hi} = mmu.hi | 0;` : ''} ${SLOW}`;
  out.push(`if (tr[${ti}] === ${vp}${inPage}) ${fast} else { ${slow} }`);
  return [lo, hi];
}

/** Store `size` bytes (lo/hi expressions) at local `va`. */
export function store(s: InsnSite, size: number, va: string, lo: string, hi: string): void {
  const { st, out } = s;
  const vp = st.tmp('vp'), ti = st.tmp('ti');
  const sync = st.syncAt(s.index, s.start, s.next);
  out.push(`const ${vp} = Math.floor(${va} / 4096), ${ti} = ${vp} & ${TLB_MASK};`);
  const fast = size === 1 ? `m8[tp[${ti}] + (${va} & 0xfff)] = ${lo};`
    : size === 2 ? `dv.setUint16(tp[${ti}] + (${va} & 0xfff), ${lo}, true);`
      : size === 4 ? `dv.setUint32(tp[${ti}] + (${va} & 0xfff), ${lo}, true);`
        : `{ const p = tp[${ti}] + (${va} & 0xfff); dv.setUint32(p, ${lo}, true); dv.setUint32(p + 4, ${hi}, true); }`;
  const inPage = size === 1 ? '' : ` && (${va} & 0xfff) <= ${4096 - size}`;
  const fix = s.eaFix ?? '';
  s.eaFix = undefined;
  out.push(`if (tw[${ti}] === ${vp}${inPage}) ${fast} else { ${sync}${fix}mmu.slowWrite(${va}, ${size}, ${lo}, ${size === 8 ? hi : '0'}, mmu.user); ${SLOW} }`);
}

/** exec/operands.ts `eaNoFault`: `ea` with NaN for #GP, so that generated code syncs before it raises. */
export { eaNoFault } from '../exec/operands';
