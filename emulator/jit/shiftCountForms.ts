/**
 * SHL/SAL, SHR and SAR of a 32- or 64-bit register by CL, inline. The count is known only at run
 * time: a masked count of 0 changes nothing but the zero-extension of a 32-bit destination and leaves
 * the flags alone, so the pending flag record goes to the FlagState first, and a non-zero count
 * records its result there (recR), as the interpreter's shl/shr/sar do (exec/shift.ts: CF is the
 * last bit shifted out, OF is MSB ^ CF for SHL, the operand's MSB for SHR by 1 and 0 otherwise, 0 for
 * SAR, AF set).
 */
import { Mnemonic } from 'iced-x86';
import { OK_REG } from '../decode/insn';
import { AF } from '../cpu/flags';
import type { InsnSite } from './memoryAccess';
import { regOperand } from './forms';

/** JS statements setting rl/rh/cf/of for a 64-bit shift of (l, h) by n (1..63, a local). */
function shift64(kind: Mnemonic, l: string, h: string, n: string, rl: string, rh: string, cf: string, of: string): string {
  if (kind === Mnemonic.Shl) {
    return `if (${n} < 32) { ${rl} = ${l} << ${n}; ${rh} = (${h} << ${n}) | (${l} >>> (32 - ${n})); } ` +
      `else { ${rl} = 0; ${rh} = ${l} << (${n} - 32); } ` +
      `${cf} = ${n} > 32 ? (${l} >>> (64 - ${n})) & 1 : (${h} >>> (32 - ${n})) & 1; ${of} = (${rh} >>> 31) ^ ${cf};`;
  }
  const top = kind === Mnemonic.Sar ? `${h} >> ${n}` : `(${h} >>> ${n}) | 0`;
  const high = kind === Mnemonic.Sar ? `${h} >> (${n} - 32)` : `(${h} >>> (${n} - 32)) | 0`;
  const fill = kind === Mnemonic.Sar ? `${h} >> 31` : '0';
  return `if (${n} < 32) { ${rl} = (${l} >>> ${n}) | (${h} << (32 - ${n})); ${rh} = ${top}; } ` +
    `else { ${rl} = ${high}; ${rh} = ${fill}; } ` +
    `${cf} = ${n} <= 32 ? (${l} >>> (${n} - 1)) & 1 : (${h} >>> (${n} - 33)) & 1; ` +
    `${of} = ${kind === Mnemonic.Shr ? `${n} === 1 ? ${h} >>> 31 : 0` : '0'};`;
}

/** JS statements setting rl/cf/of for a 32-bit shift of l by n (1..31, a local). */
function shift32(kind: Mnemonic, l: string, n: string, rl: string, cf: string, of: string): string {
  if (kind === Mnemonic.Shl) return `${rl} = ${l} << ${n}; ${cf} = (${l} >>> (32 - ${n})) & 1; ${of} = (${rl} >>> 31) ^ ${cf};`;
  if (kind === Mnemonic.Shr) return `${rl} = (${l} >>> ${n}) | 0; ${cf} = (${l} >>> (${n} - 1)) & 1; ${of} = ${n} === 1 ? ${l} >>> 31 : 0;`;
  return `${rl} = ${l} >> ${n}; ${cf} = (${l} >> (${n} - 1)) & 1; ${of} = 0;`;
}

export function shiftByCl(s: InsnSite): boolean {
  const d = s.d, size = d.size, st = s.st, out = s.out;
  const kind = d.mnemonic === Mnemonic.Sal ? Mnemonic.Shl : d.mnemonic;
  if (kind !== Mnemonic.Shl && kind !== Mnemonic.Shr && kind !== Mnemonic.Sar) return false;
  if (d.k0 !== OK_REG || d.k1 !== OK_REG || d.s1 !== 1 || (size !== 4 && size !== 8)) return false;
  const [count] = regOperand(s, 1, d.r1);
  const [l, h] = st.reg(d.r0);
  // A count of 0 leaves the flags as they are: the pending record must be in the FlagState.
  out.push(st.flagsWriteBack());
  st.flags = null;
  const n = st.tmp('sn'), rl = st.tmp('sl'), rh = st.tmp('sh'), cf = st.tmp('sc'), of = st.tmp('so');
  const body = size === 8 ? shift64(kind, l, h, n, rl, rh, cf, of) : shift32(kind, l, n, rl, cf, of);
  out.push(`const ${n} = ${count} & ${size === 8 ? 0x3f : 0x1f}; let ${rl} = ${l}, ${rh} = ${size === 8 ? h : '0'}, ${cf} = 0, ${of} = 0; ` +
    `if (${n} !== 0) { ${body} recR(fl, ${size}, ${rl}, ${rh}, ${cf} | (${of} << 11) | ${AF}); }`);
  st.setReg(d.r0, rl, size === 8 ? rh : '0');
  return true;
}
