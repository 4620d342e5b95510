/**
 * Read-modify-write forms inline: ADD ADC SUB SBB AND OR XOR with a memory destination, and INC DEC
 * NEG NOT on a register or memory. Semantics and order are the interpreter's (exec/aluInsns.ts ALU_RM,
 * ALU1_RM with exec/operands.ts readRmw0/writeOp0, exec/arith.ts, exec/logic.ts): the destination is
 * checked writable, read, the flags recorded, then the result written.
 *
 * Memory: a hit in the write TLB (plain RAM without code or memory hooks, see memory/mmu.ts) serves
 * both the read and the write. Otherwise both go through the MMU after a sync: probeWrite and read
 * (which may fault, with the state at the instruction's start), then the write with the new flags and
 * registers in the CPU object, as the interpreter has them when it writes.
 */
import { Mnemonic } from 'iced-x86';
import { OK_REG, OK_MEM, OK_IMM } from '../decode/insn';
import { LAZY_ADD, LAZY_SUB } from '../cpu/flags';
import { TLB_MASK } from '../memory/tlb';
import { SIZE_MASK } from '../exec/aluResult';
import { effectiveAddress, type InsnSite } from './memoryAccess';
import { aluCore, fix, regOperand, setRegOperand } from './forms';

const BINARY = new Map<number, string>([[Mnemonic.Add, 'add'], [Mnemonic.Adc, 'adc'], [Mnemonic.Sub, 'sub'],
  [Mnemonic.Sbb, 'sbb'], [Mnemonic.And, 'and'], [Mnemonic.Or, 'or'], [Mnemonic.Xor, 'xor']]);

/** The memory operand of a read-modify-write: [lo, hi] of its value, and `store` for the result. */
interface RmwMemory { value: [string, string]; store: (lo: string, hi: string) => void }

function rmwMemory(s: InsnSite): RmwMemory {
  const { st, out } = s;
  const size = s.d.size;
  const va = effectiveAddress(s);
  const vp = st.tmp('vp'), ti = st.tmp('ti'), p = st.tmp('p'), lo = st.tmp('ml'), hi = size === 8 ? st.tmp('mh') : '0';
  const inPage = size === 1 ? '' : ` && (${va} & 0xfff) <= ${4096 - size}`;
  const fix0 = s.eaFix ?? '';
  s.eaFix = undefined;
  // p: the RAM offset on a write-TLB hit, -1 for the MMU's path.
  out.push(`const ${vp} = Math.floor(${va} / 4096), ${ti} = ${vp} & ${TLB_MASK}; ` +
    `const ${p} = tw[${ti}] === ${vp}${inPage} ? tp[${ti}] + (${va} & 0xfff) : -1; let ${lo} = 0${size === 8 ? `, ${hi} = 0` : ''};`);
  const fastRead = size === 1 ? `${lo} = m8[${p}];`
    : size === 2 ? `${lo} = dv.getUint16(${p}, true);`
      : size === 4 ? `${lo} = dv.getUint32(${p}, true) | 0;`
        : `${lo} = dv.getUint32(${p}, true) | 0; ${hi} = dv.getUint32(${p} + 4, true) | 0;`;
  out.push(`if (${p} >= 0) { ${fastRead} } else { ${st.syncAt(s.index, s.start, s.next)}${fix0}mmu.probeWrite(${va}, ${size}); ` +
    `${lo} = mmu.read(${size}, ${va}) | 0;${size === 8 ? ` ${hi} = mmu.hi | 0;` : ''} sp = 1; tr = mmu.tagR; tw = mmu.tagW; }`);
  const store = (rl: string, rh: string): void => {
    const fastWrite = size === 1 ? `m8[${p}] = ${rl};`
      : size === 2 ? `dv.setUint16(${p}, ${rl}, true);`
        : size === 4 ? `dv.setUint32(${p}, ${rl}, true);`
          : `dv.setUint32(${p}, ${rl}, true); dv.setUint32(${p} + 4, ${rh}, true);`;
    out.push(`if (${p} >= 0) { ${fastWrite} } else { ${st.syncAt(s.index, s.start, s.next)}` +
      `mmu.write(${size}, ${va}, ${rl}, ${size === 8 ? rh : '0'}); sp = 1; tr = mmu.tagR; tw = mmu.tagW; }`);
  };
  return { value: [lo, hi], store };
}

/** INC, DEC, NEG or NOT of `a` at `size`: the result locals; flags as exec/arith.ts inc/dec/neg (NOT: none). */
function unary(s: InsnSite, op: number, a: [string, string]): [string, string] {
  const st = s.st, out = s.out, size = s.d.size;
  if (op === Mnemonic.Neg) return aluCore(s, 'sub', ['0', '0'], fix(s, a), false);
  const rl = st.tmp('rl'), rh = st.tmp('rh');
  const m = SIZE_MASK[size] | 0;
  if (op === Mnemonic.Not) {
    out.push(size === 8 ? `const ${rl} = ~${a[0]}, ${rh} = ~${a[1]};` : `const ${rl} = ~${a[0]} & ${m}, ${rh} = 0;`);
    return [rl, rh];
  }
  // INC/DEC keep CF: the record before goes to the FlagState now, where CF will be read from.
  out.push(st.flagsWriteBack());
  const add = op === Mnemonic.Inc;
  const [al, ah] = fix(s, a);
  const o = add ? '+' : '-';
  let x = al, y = ah;
  if (size === 8) {
    const lo = st.tmp('s');
    out.push(`const ${lo} = (${al} >>> 0) ${o} 1;`);
    out.push(`const ${rl} = ${lo} | 0, ${rh} = ((${ah} >>> 0) ${add ? `+ (${lo} > 0xffffffff ? 1 : 0)` : `- (${lo} < 0 ? 1 : 0)`}) | 0;`);
  } else {
    x = st.tmp('al'); y = '0';
    out.push(`const ${x} = ${al} & ${m}, ${rl} = ((${x} ${o} 1) & ${m}) | 0, ${rh} = 0;`);
  }
  st.flags = { kind: add ? LAZY_ADD : LAZY_SUB, size, aLo: x, aHi: y, bLo: '1', bHi: '0', rLo: rl, rHi: rh, eager: '0', cfKept: true };
  return [rl, rh];
}

/** Emit s.d if it is one of this file's forms; false otherwise (nothing emitted). */
export function emitRmw(s: InsnSite): boolean {
  const d = s.d, size = d.size;
  if (d.bits !== 64 || d.lock !== 0 || (size !== 1 && size !== 2 && size !== 4 && size !== 8)) return false;
  const m = d.mnemonic;
  const bin = BINARY.get(m);
  if (bin !== undefined) {
    // Register destinations are jit/forms.ts's.
    if (d.k0 !== OK_MEM || d.msize !== size || (d.k1 !== OK_REG && d.k1 !== OK_IMM) || d.k2 !== 0) return false;
    const mem = rmwMemory(s);
    const a = fix(s, mem.value);
    const b = d.k1 === OK_IMM ? [`${d.immLo | 0}`, `${d.immHi | 0}`] as [string, string] : fix(s, regOperand(s, d.s1, d.r1));
    const r = aluCore(s, bin, a, b, false);
    mem.store(r[0], r[1]);
    return true;
  }
  if (m !== Mnemonic.Inc && m !== Mnemonic.Dec && m !== Mnemonic.Neg && m !== Mnemonic.Not) return false;
  if (d.k0 === OK_REG) {
    const r = unary(s, m, regOperand(s, size, d.r0));
    setRegOperand(s, size, d.r0, r[0], r[1]);
    return true;
  }
  if (d.k0 !== OK_MEM || d.msize !== size) return false;
  const mem = rmwMemory(s);
  const r = unary(s, m, mem.value);
  mem.store(r[0], r[1]);
  return true;
}
