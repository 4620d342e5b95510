// The symbol table a Linux kernel keeps for itself (kallsyms), read from the image's bytes. Debian
// strips vmlinux and ships a placeholder System.map, but the kernel's own compressed tables
// (scripts/kallsyms.c writes them into .rodata) hold every symbol, its type letter and address, as
// /proc/kallsyms shows them. They are found by their shape, since a stripped image has no symbols
// that point at them:
//
//   kallsyms_offsets (s32 × N), kallsyms_relative_base (u64), kallsyms_num_syms (u32),
//   kallsyms_names (per symbol: a length, then token bytes), kallsyms_markers (u32 per 256 symbols),
//   [kallsyms_seqs_of_names (3 bytes × N), in kernels that have it, Debian's 6.1 among them],
//   kallsyms_token_table (256 NUL-terminated tokens), kallsyms_token_index (u16 × 256),
//
// each table starting 8-byte aligned. The token table is found first: the tokens of single
// characters stand for themselves, so "0\0" to "9\0" are consecutive there, and the index that
// follows it must point at them. The rest is found backwards and cross-checked (the markers must
// give the offset of every 256th name, the names must end where the markers start).
//
// Addresses follow CONFIG_KALLSYMS_ABSOLUTE_PERCPU (x86_64 SMP): a non-negative offset is the
// address itself (per-CPU symbols, type 'A', are offsets into the per-CPU area), a negative one is
// relative_base - 1 - offset. The result is checked against the image: `_text` must be the start of
// `.text`.

import type { ElfFile } from './elfFile';
import { ElfError } from './elfError';

export interface KernelSymbol {
  /** address as a signed number (kernel addresses are negative), or a per-CPU offset for type 'A' */
  address: number;
  /** the type letter /proc/kallsyms prints: T t D d B b R r A W V ... */
  type: string;
  name: string;
}

const align8 = (x: number): number => (x + 7) & ~7;

/** The kernel's symbols from its kallsyms tables, in table (address) order. */
export function readKallsyms(elf: ElfFile): KernelSymbol[] {
  const fail = (why: string): never => { throw new ElfError(elf.name, `kallsyms: ${why}`); };
  const rodata = elf.section('.rodata');
  if (rodata === undefined) fail('no .rodata section (not a Linux kernel image?)');
  const b = rodata!.data;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u32 = (at: number): number => dv.getUint32(at, true);

  const tables = findTokenTables(b, dv);
  if (tables === null) fail('no token table found (a kernel built without CONFIG_KALLSYMS?)');
  const { tokenTable, tokens } = tables!;

  // Markers: the last u32 array before the token table (or before the name sequences) that
  // starts at 0 and rises by less than 64 KiB per 256 names.
  let markersAt = -1, markerCount = 0, count = 0;
  for (let m = (tokenTable & ~7) - 8; m >= 0 && tokenTable - m < 8 << 20 && markersAt < 0; m -= 8) {
    if (u32(m) !== 0) continue;
    let k = 1, prev = 0;
    while (m + 4 * k + 4 <= tokenTable) {
      const v = u32(m + 4 * k);
      if (v <= prev || v - prev > 0x10000) break;
      prev = v; k++;
    }
    if (k < 2) continue;
    const after = align8(m + 4 * k);
    if (after === tokenTable) { markersAt = m; markerCount = k; count = -1; break; }
    // kallsyms_seqs_of_names: 3 bytes per symbol up to the token table.
    for (let n = Math.max(1, Math.floor((tokenTable - after - 7) / 3)); 3 * n <= tokenTable - after; n++) {
      if (align8(after + 3 * n) === tokenTable && n > 256 * (k - 1) && n <= 256 * k) { markersAt = m; markerCount = k; count = n; break; }
    }
  }
  if (markersAt < 0) fail('the name markers were not found');
  const markers: number[] = [];
  for (let i = 0; i < markerCount; i++) markers.push(u32(markersAt + 4 * i));

  // Names: kallsyms_num_syms sits 8 bytes before them; walking N names must meet every marker.
  const entryLength = (at: number): [number, number] => {
    const l = b[at];
    return (l & 0x80) !== 0 ? [(l & 0x7f) | (b[at + 1] << 7), 2] : [l, 1];
  };
  let namesAt = -1;
  for (let s = markersAt - 8; s >= 8 && markersAt - s < 32 << 20 && namesAt < 0; s -= 8) {
    const n = u32(s - 8);
    if (n <= 256 * (markerCount - 1) || n > 256 * markerCount || (count >= 0 && n !== count)) continue;
    let pos = s, ok = true;
    for (let i = 0; i < n && ok; i++) {
      if ((i & 255) === 0 && markers[i >> 8] !== pos - s) ok = false;
      const [len, head] = entryLength(pos);
      pos += head + len;
      if (pos > markersAt) ok = false;
    }
    if (ok && align8(pos) === markersAt) { namesAt = s; count = n; }
  }
  if (namesAt < 0) fail('the symbol names were not found');

  const relativeBaseAt = namesAt - 16;
  const offsetsAt = relativeBaseAt - align8(count * 4);
  if (offsetsAt < 0) fail('the address table lies before .rodata');
  const relativeBase = Number(BigInt.asIntN(64, dv.getBigUint64(relativeBaseAt, true)));

  const out: KernelSymbol[] = [];
  let pos = namesAt;
  for (let i = 0; i < count; i++) {
    const [len, head] = entryLength(pos);
    let name = '';
    for (let j = pos + head; j < pos + head + len; j++) name += tokens[b[j]];
    pos += head + len;
    const off = dv.getInt32(offsetsAt + 4 * i, true);
    out.push({ address: off >= 0 ? off : relativeBase - 1 - off, type: name.charAt(0), name: name.slice(1) });
  }
  const text = elf.section('.text');
  const textSym = out.find((s) => s.name === '_text');
  if (text !== undefined && textSym !== undefined && textSym.address !== Number(BigInt.asIntN(64, text.addr))) {
    fail(`_text decodes to 0x${(textSym.address + 2 ** 64).toString(16)}, not the start of .text`);
  }
  return out;
}

/** kallsyms_token_table and its index: the tokens "0".."9" consecutive, and the index pointing at them. */
function findTokenTables(b: Uint8Array, dv: DataView): { tokenTable: number; tokens: string[] } | null {
  const digits = Buffer.from('0\x001\x002\x003\x004\x005\x006\x007\x008\x009\x00', 'latin1');
  const hay = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  for (let p0 = hay.indexOf(digits); p0 >= 0; p0 = hay.indexOf(digits, p0 + 1)) {
    for (let q = align8(p0); q + 512 <= b.length && q < p0 + 8192; q += 8) {
      if (dv.getUint16(q, true) !== 0) continue;
      let rising = true;
      for (let i = 1; i < 256 && rising; i++) rising = dv.getUint16(q + 2 * i, true) > dv.getUint16(q + 2 * i - 2, true);
      if (!rising) continue;
      const start = p0 - dv.getUint16(q + 2 * 0x30, true);
      if (start < 0 || align8(start) !== start) continue;
      let ok = true;
      for (let d = 0; d < 10 && ok; d++) {
        const at = start + dv.getUint16(q + 2 * (0x30 + d), true);
        ok = b[at] === 0x30 + d && b[at + 1] === 0;
      }
      if (!ok) continue;
      const tokens: string[] = [];
      for (let i = 0; i < 256; i++) {
        const at = start + dv.getUint16(q + 2 * i, true);
        const end = b.indexOf(0, at);
        if (end < 0 || end > q) return null;
        tokens.push(Buffer.from(b.subarray(at, end)).toString('latin1'));
      }
      return { tokenTable: start, tokens };
    }
  }
  return null;
}

/** A kernel's symbols by name (the first of equal names, as kallsyms_lookup_name finds it). */
export class KernelSymbols {
  private readonly byName = new Map<string, KernelSymbol>();
  private readonly sorted: KernelSymbol[];

  constructor(readonly symbols: readonly KernelSymbol[]) {
    for (const s of symbols) if (!this.byName.has(s.name)) this.byName.set(s.name, s);
    this.sorted = symbols.filter((s) => s.type !== 'A' && s.type !== 'a').sort((x, y) => x.address - y.address);
  }

  get(name: string): KernelSymbol | undefined { return this.byName.get(name); }

  /** The symbol containing an address (the last one at or below it), with the distance to the next. */
  lookup(address: number): { symbol: KernelSymbol; offset: number; size: number } | undefined {
    const s = this.sorted;
    let lo = 0, hi = s.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid].address <= address) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    if (found < 0) return undefined;
    let next = found + 1;
    while (next < s.length && s[next].address === s[found].address) next++;
    const size = next < s.length ? s[next].address - s[found].address : 0;
    return { symbol: s[found], offset: address - s[found].address, size };
  }
}

/** Parses a System.map ("ffffffff81000000 T _text" per line); the placeholder Debian ships is refused. */
export function parseSystemMap(text: string, file: string): KernelSymbol[] {
  const out: KernelSymbol[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    const m = /^([0-9a-fA-F]{1,16}) (\S) (\S+)/.exec(line);
    if (m === null) throw new ElfError(file, `line ${i + 1} is not "ADDRESS TYPE NAME"`);
    out.push({ address: Number(BigInt.asIntN(64, BigInt(`0x${m[1]}`))), type: m[2], name: m[3] });
  }
  if (out.length < 2) throw new ElfError(file, 'not a real System.map (Debian puts the real one in the -dbg package)');
  return out;
}
