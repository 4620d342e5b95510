/**
 * ROL and ROR by an immediate on a 32- or 64-bit register, inline. Real Linux's random number
 * generator (ChaCha20, BLAKE2s) runs long unrolled blocks of ADD, XOR and rotates. Semantics are the
 * interpreter's (exec/shift.ts rol, ror): a masked count of 0 changes nothing but the zero-extension
 * of a 32-bit destination; otherwise CF and OF go to the FlagState through setStatus, keeping the
 * other status flags, unless later instructions overwrite them unseen (deadFlags.ts).
 */
import { Mnemonic } from 'iced-x86';
import { OK_REG, OK_IMM } from '../decode/insn';
import { CF, OF } from '../cpu/flags';
import type { InsnSite } from './memoryAccess';
import { flagsDeadAfter } from './deadFlags';

const CF_OF = CF | OF;

/** The rotate of (lo, hi) left by n (1..63) as two int32 expressions. */
function rotateLeft64(lo: string, hi: string, n: number): [string, string] {
  if (n === 32) return [hi, lo];
  // Past 32 the halves swap first.
  const [a, b, k] = n < 32 ? [lo, hi, n] : [hi, lo, n - 32];
  return [`(${a} << ${k}) | (${b} >>> ${32 - k})`, `(${b} << ${k}) | (${a} >>> ${32 - k})`];
}

export function rotateImm(s: InsnSite): boolean {
  const d = s.d, size = d.size, st = s.st, out = s.out;
  const left = d.mnemonic === Mnemonic.Rol;
  if (!left && d.mnemonic !== Mnemonic.Ror) return false;
  if (d.k0 !== OK_REG || d.k1 !== OK_IMM || (size !== 4 && size !== 8)) return false;
  const n = d.immLo & (size === 8 ? 0x3f : 0x1f);
  const [l, h] = st.reg(d.r0);
  if (n === 0) { if (size === 4) st.setReg(d.r0, l, '0'); return true; }
  const rl = st.tmp('ol'), rh = st.tmp('oh');
  if (size === 4) {
    const k = left ? n : 32 - n;
    out.push(`const ${rl} = (${l} << ${k}) | (${l} >>> ${32 - k}), ${rh} = 0;`);
  } else {
    const [el, eh] = rotateLeft64(l, h, left ? n : 64 - n);
    out.push(`const ${rl} = ${el}, ${rh} = ${eh};`);
  }
  if (!flagsDeadAfter(s.blockInsns, s.pos, CF_OF)) {
    // ROL: CF is the bit rotated into bit 0, OF = MSB ^ CF. ROR: CF is the new MSB, OF = MSB ^ MSB-1.
    const top = size === 4 ? rl : rh;
    const cf = left ? `(${rl} & 1)` : `(${top} >>> 31)`;
    const of = left ? `((${top} >>> 31) ^ ${cf})` : `(${cf} ^ ((${top} >>> 30) & 1))`;
    out.push(st.flagsWriteBack());
    st.flags = null;
    out.push(`fl.setStatus(${CF_OF}, ${cf} | (${of} << 11));`);
  }
  st.setReg(d.r0, rl, rh);
  return true;
}
