// tools/objtool/elf.c: the object model objtool works on (sections, symbols, relocations)
// plus the decoded instruction list (struct objtool_file).
//
// Symbols are kept per section in the order objtool's symbol_list has them: sorted by
// (offset, size), later equals after earlier ones, zero-size symbols placed after their
// predecessor at insertion time. `tree` holds the sized symbols only, as the rbtree does
// (empty symbols are erased from it), and answers the "which symbol contains" queries.

import { ElfFile } from '../../elf/elfFile';
import * as C from '../../elf/constants';
import type { ElfSection } from '../../elf/types';
import { Instruction } from './instruction';

export interface ObjReloc {
  /** Position in its relocation section's list. */
  index: number;
  /** The section the relocation applies to (reloc->sec->base). */
  base: ObjSection;
  offset: number;
  type: number;
  sym: ObjSymbol;
  addend: number;
  jumpTableStart: boolean;
}

export interface ObjSymbol {
  idx: number;
  name: string;
  type: number;
  bind: number;
  /** null for undefined/absolute symbols (objtool points them at section 0). */
  sec: ObjSection | null;
  offset: number;
  len: number;
  alias: ObjSymbol;
  pfunc: ObjSymbol;
  cfunc: ObjSymbol;
  fentry: boolean;
  retpolineThunk: boolean;
  returnThunk: boolean;
  /** A global `__SCT__*` symbol: a static call trampoline (its trailing ud1 is never reported unreachable). */
  staticCallTramp: boolean;
  profilingFunc: boolean;
  uaccessSafe: boolean;
}

export interface ObjSection {
  idx: number;
  name: string;
  type: number;
  flags: number;
  size: number;
  data: Uint8Array;
  elf: ElfSection;
  text: boolean;
  rodata: boolean;
  noinstr: boolean;
  /** Relocations applying to this section, in file order (from its .rela section). */
  relocs: ObjReloc[];
  rela: ObjSection | null;
  /**
   * The relocations sorted by offset (stably: file order among equal offsets), with their
   * offsets beside them for binary search; null when no relocation section applies.
   */
  relocsByOffset: ObjReloc[] | null;
  relocOffsets: Float64Array | null;
  symbols: ObjSymbol[];
  tree: ObjSymbol[];
  maxEnd: Float64Array | null;
  sectionSym: ObjSymbol | null;
  /** Instructions of this section (executable sections only), by offset. */
  insns: Instruction[];
  insnAt: Int32Array | null;
}

export class ObjectFile {
  readonly sections: ObjSection[] = [];
  readonly symbols: ObjSymbol[] = [];
  readonly byName = new Map<string, ObjSymbol>();
  readonly insns: Instruction[] = [];
  numFiles = 0;
  /** --stats: static branch counts (jl_nop_short, jl_short, jl_nop_long, jl_long). */
  jlNopShort = 0;
  jlShort = 0;
  jlNopLong = 0;
  jlLong = 0;
  rodata = false;
  hints = false;
  ignoreUnreachables = false;

  constructor(readonly elf: ElfFile) {
    for (const s of elf.sections) {
      this.sections.push({
        idx: s.index, name: s.name, type: s.type, flags: s.flags, size: s.size,
        data: s.data, elf: s, text: false, rodata: false, noinstr: false,
        relocs: [], rela: null, relocsByOffset: null, relocOffsets: null, symbols: [], tree: [], maxEnd: null, sectionSym: null,
        insns: [], insnAt: null,
      });
    }
    this.readSymbols();
    this.readRelocs();
  }

  sectionByName(name: string): ObjSection | undefined {
    return this.sections.find((s) => s.name === name);
  }

  private readSymbols(): void {
    const undef = this.sections[0];
    for (const e of this.elf.symbols()) {
      const sec = e.shndx > C.SHN_UNDEF && e.shndx < C.SHN_LORESERVE ? this.sections[e.shndx] : null;
      const sym = {
        idx: e.index, name: e.name, type: e.type, bind: e.bind, sec, offset: Number(e.value), len: e.size,
        fentry: false, retpolineThunk: false, returnThunk: false, staticCallTramp: false, profilingFunc: false, uaccessSafe: false,
      } as ObjSymbol;
      sym.alias = sym;
      sym.pfunc = null as unknown as ObjSymbol;
      sym.cfunc = null as unknown as ObjSymbol;
      if (sec && e.type === C.STT_SECTION) {
        sym.name = sec.name;
        sec.sectionSym = sym;
      }
      if (e.type === C.STT_FILE) this.numFiles++;
      this.symbols.push(sym);
      // find_symbol_by_name() walks a hash chain newest-first: the last symbol of a name wins.
      this.byName.set(sym.name, sym);
      insertSymbol(sec ?? undef, sym);
    }
    for (const sec of this.sections) {
      for (const sym of sec.symbols) {
        if (sym.type !== C.STT_FUNC) continue;
        if (!sym.pfunc) sym.pfunc = sym;
        if (!sym.cfunc) sym.cfunc = sym;
        const cold = sym.name.indexOf('.cold');
        if (cold < 0) continue;
        const pname = sym.name.slice(0, cold);
        const pfunc = this.byName.get(pname);
        if (!pfunc) throw new FatalError(`${sym.name}(): can't find parent function`);
        sym.pfunc = pfunc;
        pfunc.cfunc = sym;
        if (sym.sec === pfunc.sec && sym.offset >= pfunc.offset && sym.offset + sym.len === pfunc.offset + pfunc.len) {
          pfunc.len -= sym.len;
        }
      }
    }
    // Cold children found before their parents had pfunc set: fill the remaining links.
    for (const sym of this.symbols) {
      if (!sym.pfunc) sym.pfunc = sym;
      if (!sym.cfunc) sym.cfunc = sym;
    }
  }

  private readRelocs(): void {
    for (const rs of this.sections) {
      if (rs.type !== C.SHT_RELA) continue;
      const base = this.sections[rs.elf.info];
      if (!base || rs.elf.link !== this.elf.symtabSection()?.index) continue;
      base.rela = rs;
      // Read straight from the bytes (numbers, no bigint): offsets and addends of relocatable
      // objects fit in 53 bits.
      if (rs.elf.entsize !== 24 || rs.size % 24 !== 0) throw new FatalError(`${rs.name}: bad relocation section entry size`);
      const dv = new DataView(rs.data.buffer, rs.data.byteOffset, rs.data.byteLength);
      for (let at = 0; at < rs.size; at += 24) {
        const symIdx = dv.getUint32(at + 12, true);
        const sym = this.symbols[symIdx];
        if (!sym) throw new FatalError(`can't find reloc entry symbol ${symIdx} for ${rs.name}`);
        const reloc: ObjReloc = {
          index: base.relocs.length, base, offset: dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 0x100000000,
          type: dv.getUint32(at + 8, true), sym,
          addend: dv.getUint32(at + 16, true) + dv.getInt32(at + 20, true) * 0x100000000, jumpTableStart: false,
        };
        base.relocs.push(reloc);
      }
    }
    for (const sec of this.sections) {
      if (!sec.rela) continue;
      // Compilers and ld write relocations in offset order; sort only when they are not.
      let sorted = true;
      for (let i = 1; i < sec.relocs.length && sorted; i++) sorted = sec.relocs[i - 1].offset <= sec.relocs[i].offset;
      const list = sorted ? sec.relocs : [...sec.relocs].sort((a, b) => a.offset - b.offset);
      sec.relocsByOffset = list;
      sec.relocOffsets = Float64Array.from(list, (r) => r.offset);
    }
  }

  /** Index of the first relocation of `sec` at or after `offset` (binary search). */
  private firstRelocFrom(offs: Float64Array, offset: number): number {
    let lo = 0;
    let hi = offs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (offs[mid] < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  findInsn(sec: ObjSection | null, offset: number): Instruction | null {
    if (!sec || !sec.insnAt || offset < 0 || offset >= sec.insnAt.length) return null;
    const i = sec.insnAt[offset];
    return i ? sec.insns[i - 1] : null;
  }

  /** find_reloc_by_dest_range(): the first relocation inside [offset, offset+len). */
  relocInRange(sec: ObjSection, offset: number, len: number): ObjReloc | null {
    const offs = sec.relocOffsets;
    if (!offs) return null;
    const i = this.firstRelocFrom(offs, offset);
    return i < offs.length && offs[i] < offset + len ? sec.relocsByOffset![i] : null;
  }

  /** The first relocation (in file order) at exactly `offset`. */
  relocAt(sec: ObjSection, offset: number): ObjReloc | null {
    const offs = sec.relocOffsets;
    if (!offs) return null;
    const i = this.firstRelocFrom(offs, offset);
    return i < offs.length && offs[i] === offset ? sec.relocsByOffset![i] : null;
  }

  nextInsn(insn: Instruction): Instruction | null {
    return this.insns[insn.idx + 1] ?? null;
  }

  prevInsn(insn: Instruction): Instruction | null {
    return insn.idx > 0 ? this.insns[insn.idx - 1] : null;
  }
}

/** A decode-phase error: one warning was printed, nothing is validated or generated. */
export class FatalError extends Error {}

function keyLess(a: ObjSymbol, b: ObjSymbol): boolean {
  return a.offset < b.offset || (a.offset === b.offset && a.len < b.len);
}

/** elf_add_symbol(): rbtree insert (equal keys go right and mark an alias) + list position. */
function insertSymbol(sec: ObjSection, sym: ObjSymbol): void {
  const tree = sec.tree;
  // Position after every node with key <= sym's key.
  let lo = 0;
  let hi = tree.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keyLess(sym, tree[mid])) hi = mid;
    else lo = mid + 1;
  }
  if (lo > 0 && tree[lo - 1].offset === sym.offset && tree[lo - 1].len === sym.len) sym.alias = tree[lo - 1];
  const pred = lo > 0 ? tree[lo - 1] : null;
  if (pred) sec.symbols.splice(sec.symbols.indexOf(pred) + 1, 0, sym);
  else sec.symbols.unshift(sym);
  if (sym.len) tree.splice(lo, 0, sym);
}

/**
 * rb_for_each(symbol_by_offset): the first sized symbol containing offset (in tree order)
 * that passes `want`. maxEnd[i] (the largest end among tree[0..i], non-decreasing) lets the
 * scan start at the first symbol that can still reach offset, so lookups stay logarithmic.
 */
function firstContaining(sec: ObjSection, offset: number, want: (s: ObjSymbol) => boolean): ObjSymbol | null {
  const tree = sec.tree;
  if (!sec.maxEnd || sec.maxEnd.length !== tree.length) {
    const m = new Float64Array(tree.length);
    let e = 0;
    for (let i = 0; i < tree.length; i++) {
      e = Math.max(e, tree[i].offset + tree[i].len);
      m[i] = e;
    }
    sec.maxEnd = m;
  }
  const maxEnd = sec.maxEnd;
  let lo = 0;
  let hi = tree.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (maxEnd[mid] > offset) hi = mid;
    else lo = mid + 1;
  }
  for (let i = lo; i < tree.length; i++) {
    const s = tree[i];
    if (s.offset > offset) break;
    if (offset < s.offset + s.len && want(s)) return s;
  }
  return null;
}

const notSection = (s: ObjSymbol): boolean => s.type !== C.STT_SECTION;
const isFunc = (s: ObjSymbol): boolean => s.type === C.STT_FUNC;

export function findSymbolByOffset(sec: ObjSection, offset: number): ObjSymbol | null {
  return firstContaining(sec, offset, (s) => s.offset === offset && s.type !== C.STT_SECTION);
}
export function findFuncByOffset(sec: ObjSection, offset: number): ObjSymbol | null {
  return firstContaining(sec, offset, (s) => s.offset === offset && s.type === C.STT_FUNC);
}
export function findSymbolContaining(sec: ObjSection, offset: number): ObjSymbol | null {
  return firstContaining(sec, offset, notSection);
}
export function findFuncContaining(sec: ObjSection, offset: number): ObjSymbol | null {
  return firstContaining(sec, offset, isFunc);
}

/** find_symbol_hole_containing(): 0 not a hole, -1 hole to the end, else the hole size. */
export function findSymbolHoleContaining(sec: ObjSection, offset: number): number {
  let last: ObjSymbol | null = null;
  let lastIdx = -1;
  const tree = sec.tree;
  for (let i = 0; i < tree.length; i++) {
    const s = tree[i];
    if (offset < s.offset) break;
    if (offset < s.offset + s.len) return 0;
    if (s.type !== C.STT_SECTION) {
      last = s;
      lastIdx = i;
    }
  }
  if (!last) return 0;
  const next = tree[lastIdx + 1];
  if (!next) return -1;
  return next.offset - offset;
}
