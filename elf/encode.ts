// Encoders for ELF64 table entries, the inverse of what elfFile.ts reads.

import * as C from './constants';
import type { ElfSymbol } from './types';

export function encodeSymbol(sym: Pick<ElfSymbol, 'value' | 'size' | 'type' | 'bind' | 'visibility' | 'shndx'>, nameOffset: number): Uint8Array {
  const out = new Uint8Array(C.ELF64_SYM_SIZE);
  const v = new DataView(out.buffer);
  v.setUint32(0, nameOffset, true);
  v.setUint8(4, (sym.bind << 4) | (sym.type & 0xf));
  v.setUint8(5, sym.visibility & 3);
  if (sym.shndx > 0xffff) throw new RangeError(`section index ${sym.shndx} would need SHN_XINDEX, which klp-lab does not write`);
  v.setUint16(6, sym.shndx, true);
  v.setBigUint64(8, BigInt.asUintN(64, sym.value), true);
  v.setBigUint64(16, BigInt(sym.size), true);
  return out;
}

export function encodeRela(offset: bigint, type: number, symbolIndex: number, addend: bigint): Uint8Array {
  const out = new Uint8Array(C.ELF64_RELA_SIZE);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, BigInt.asUintN(64, offset), true);
  v.setUint32(8, type, true);
  v.setUint32(12, symbolIndex, true);
  v.setBigInt64(16, BigInt.asIntN(64, addend), true);
  return out;
}

/** Concatenates byte arrays. */
export function concatBytes(parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
