/**
 * Dead status flags: flags that the instructions after this one replace unseen need not be computed.
 * The forms that set only some flags through FlagState.setStatus (IMUL, DIV, rotates) ask this.
 * Real Linux's 64x64 -> 128 multiplies (four IMULs of 32-bit halves between register moves, then ADD)
 * are the case that matters.
 */
import { Mnemonic } from 'iced-x86';
import { OK_REG, OK_IMM, type Insn } from '../decode/insn';
import { CF, OF, STATUS_FLAGS } from '../cpu/flags';

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

/**
 * The status flags `d` writes without reading any flag, if it cannot fault: all of them, CF and OF
 * (IMUL and rotates by a non-zero immediate, register operands), or none (register moves and LEA);
 * -1 when it reads flags, may fault, or is anything else.
 */
function flagsWrittenSafely(d: Insn): number {
  if (recordsAllFlags(d)) return STATUS_FLAGS;
  if (d.bits !== 64 || d.lock !== 0 || d.k0 !== OK_REG) return -1;
  const m = d.mnemonic;
  const regOrImm = d.k1 === OK_REG || d.k1 === OK_IMM;
  if (m === Mnemonic.Lea) return 0;
  if (m === Mnemonic.Mov || m === Mnemonic.Movzx || m === Mnemonic.Movsx || m === Mnemonic.Movsxd) return regOrImm ? 0 : -1;
  if (m === Mnemonic.Imul) return d.k1 === OK_REG && (d.k2 === 0 || d.k2 === OK_IMM) ? CF | OF : -1;
  if (m === Mnemonic.Rol || m === Mnemonic.Ror) {
    if (d.k1 !== OK_IMM || (d.size !== 4 && d.size !== 8)) return -1;
    return (d.immLo & (d.size === 8 ? 0x3f : 0x1f)) !== 0 ? CF | OF : 0;
  }
  return -1;
}

/**
 * Whether the status flags `written` that insns[k] writes are never seen: the instructions after it in
 * its block overwrite each of them before anything reads a flag or may fault (a fault shows the
 * flags as they are).
 */
export function flagsDeadAfter(insns: readonly Insn[], k: number, written: number): boolean {
  let live = written;
  for (let j = k + 1; j < insns.length; j++) {
    const w = flagsWrittenSafely(insns[j]);
    if (w < 0) return false;
    live &= ~w;
    if (live === 0) return true;
  }
  return false;
}
