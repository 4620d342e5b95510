/**
 * Dead status flags: an instruction whose flags the next one replaces unseen need not compute them.
 * The forms that set only some flags through FlagState.setStatus (IMUL, DIV, rotates) ask this.
 */
import { Mnemonic } from 'iced-x86';
import { OK_REG, OK_IMM, type Insn } from '../decode/insn';

/**
 * Whether `d` replaces every status flag without reading any and cannot fault: then the flags of the
 * instruction before it are never seen (FlagState drops the old eager status bits when it records).
 */
export function recordsAllFlags(d: Insn | undefined): boolean {
  if (d === undefined || d.bits !== 64 || d.lock !== 0 || d.k0 !== OK_REG) return false;
  const m = d.mnemonic;
  if (m === Mnemonic.Add || m === Mnemonic.Sub || m === Mnemonic.Cmp || m === Mnemonic.And || m === Mnemonic.Or ||
    m === Mnemonic.Xor || m === Mnemonic.Test) {
    return d.k2 === 0 && (d.k1 === OK_REG || d.k1 === OK_IMM) && (d.size === 1 || d.size === 2 || d.size === 4 || d.size === 8);
  }
  if (m === Mnemonic.Shl || m === Mnemonic.Sal || m === Mnemonic.Shr || m === Mnemonic.Sar) {
    return d.k1 === OK_IMM && (d.size === 4 || d.size === 8) && (d.immLo & (d.size === 8 ? 0x3f : 0x1f)) !== 0;
  }
  return false;
}
