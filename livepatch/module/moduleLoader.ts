// Lays out a relocatable module object at a guest address and applies its relocations, as
// kernel/module/main.c and arch/x86/kernel/module.c (apply_relocate_add) do: allocated sections
// grouped text, read-only data, writable data, each group page-aligned so it can be mapped
// with its own permissions; undefined symbols resolved against the kernel; livepatch symbols
// (.klp.sym.<object>.<name>,<sympos>) resolved with klp's sympos rules. The result is an image
// for the caller to copy into guest memory; nothing here touches the guest.

import * as C from '../../elf/constants';
import type { ElfFile } from '../../elf/elfFile';
import type { ElfSection, ElfSymbol } from '../../elf/types';
import { R_X86_64 } from '../../elf/relocTypes';
import { ENOENT } from '../patchState';
import { findObjectSymbol, type Kallsyms } from './kallsyms';

const ENOEXEC = 8;
const PAGE = 4096;

export type SectionGroup = 'text' | 'rodata' | 'data';

export interface PlacedSection {
  index: number;
  name: string;
  group: SectionGroup;
  /** Guest virtual address (signed number). */
  address: number;
  size: number;
}

export interface LoadedModule {
  name: string;
  /** Guest virtual address of the first byte of the image. */
  base: number;
  /** The whole image, page-aligned groups, relocations applied, .bss zeroed. */
  image: Uint8Array;
  sections: PlacedSection[];
  /** [start, end) offsets into `image` of each group, for mapping permissions. */
  groups: Record<SectionGroup, { start: number; end: number }>;
  /** The module's own defined symbols: name → guest address. */
  symbols: Map<string, { address: number; size: number; type: number }>;
  relocationsApplied: number;
}

/** A load failure: the kernel's log lines and the errno the load returns. */
export class ModuleLoadError extends Error {
  constructor(readonly lines: string[], readonly errno: number) {
    super(lines.join('; '));
    this.name = 'ModuleLoadError';
  }
}

function groupOf(s: ElfSection): SectionGroup | undefined {
  if (!(s.flags & C.SHF_ALLOC) || s.name.startsWith('.discard')) return undefined;
  if (s.flags & C.SHF_EXECINSTR) return 'text';
  if (s.flags & C.SHF_WRITE) return 'data';
  return 'rodata';
}

const align = (n: number, to: number) => Math.ceil(n / Math.max(1, to)) * Math.max(1, to);

/** Symbol resolution for undefined symbols: the kernel's exported (global) symbols. */
export interface SymbolResolver {
  kallsyms: Kallsyms;
  /** Symbols the loader itself provides (such as __this_module), looked up first. */
  extra?: ReadonlyMap<string, number>;
}

export function loadModule(obj: ElfFile, moduleName: string, base: number, resolver: SymbolResolver): LoadedModule {
  if (obj.header.type !== C.ET_REL) throw new ModuleLoadError([`${moduleName}: not a relocatable object`], ENOEXEC);
  if (base % PAGE !== 0) throw new Error(`internal: module base ${base.toString(16)} is not page-aligned`);

  // Layout: each group in section order, groups page-aligned.
  const sections: PlacedSection[] = [];
  const groups = { text: { start: 0, end: 0 }, rodata: { start: 0, end: 0 }, data: { start: 0, end: 0 } };
  let offset = 0;
  for (const group of ['text', 'rodata', 'data'] as SectionGroup[]) {
    offset = align(offset, PAGE);
    groups[group].start = offset;
    for (const s of obj.sections) {
      if (groupOf(s) !== group) continue;
      offset = align(offset, s.addralign);
      sections.push({ index: s.index, name: s.name, group, address: base + offset, size: s.size });
      offset += s.size;
    }
    groups[group].end = offset;
  }
  const image = new Uint8Array(align(offset, PAGE));
  const placed = new Map<number, PlacedSection>();
  for (const p of sections) {
    placed.set(p.index, p);
    const s = obj.sections[p.index];
    if (s.type !== C.SHT_NOBITS) image.set(s.data, p.address - base);
  }

  // Symbols: simplify_symbols().
  const symbols = obj.symbols();
  const values: bigint[] = new Array(symbols.length).fill(0n);
  const own = new Map<string, { address: number; size: number; type: number }>();
  const errors: string[] = [];
  for (const sym of symbols) {
    if (sym.index === 0) continue;
    const value = symbolValue(sym, placed, moduleName, resolver, errors);
    if (value === undefined) continue;
    values[sym.index] = value;
    if (sym.shndx !== C.SHN_UNDEF && sym.name && sym.type !== C.STT_SECTION && sym.type !== C.STT_FILE && placed.has(sym.shndx)) {
      own.set(sym.name, { address: Number(BigInt.asIntN(64, value)), size: sym.size, type: sym.type });
    }
  }
  if (errors.length) throw new ModuleLoadError(errors, errors.some((e) => e.includes('Unknown symbol')) ? -ENOENT : -ENOEXEC);

  // Relocations: apply_relocate_add for every section that is loaded.
  let applied = 0;
  for (const rela of obj.sections) {
    if (rela.type !== C.SHT_RELA) continue;
    const target = placed.get(rela.info);
    if (!target) continue;
    for (const r of obj.relocations(rela)) {
      applyOne(image, base, target, r.type, values[r.symbolIndex] + r.addend, Number(r.offset), moduleName);
      applied++;
    }
  }
  return { name: moduleName, base, image, sections, groups, symbols: own, relocationsApplied: applied };
}

function symbolValue(
  sym: ElfSymbol,
  placed: Map<number, PlacedSection>,
  moduleName: string,
  resolver: SymbolResolver,
  errors: string[],
): bigint | undefined {
  const klp = /^\.klp\.sym\.([^.]+)\.(.+),(\d+)$/.exec(sym.name);
  if (klp) {
    const objname = klp[1] === 'vmlinux' ? null : klp[1];
    const found = findObjectSymbol(resolver.kallsyms, objname, klp[2], Number(klp[3]));
    if ('error' in found) {
      errors.push(found.error);
      return undefined;
    }
    return BigInt(found.symbol.address);
  }
  if (sym.shndx === C.SHN_COMMON) {
    errors.push(`${moduleName}: please compile with -fno-common`);
    return undefined;
  }
  if (sym.shndx === C.SHN_ABS) return sym.value;
  if (sym.shndx === C.SHN_UNDEF) {
    if (sym.name === '') return 0n;
    const provided = resolver.extra?.get(sym.name);
    if (provided !== undefined) return BigInt(provided);
    const k = resolver.kallsyms.lookupGlobal(sym.name);
    if (k) return BigInt(k.address);
    if (sym.bind === C.STB_WEAK) return 0n;
    errors.push(`${moduleName}: Unknown symbol ${sym.name} (err -${ENOENT})`);
    return undefined;
  }
  const section = placed.get(sym.shndx);
  if (!section) return sym.value; // a symbol in a section that is not loaded
  return BigInt(section.address) + sym.value;
}

function applyOne(image: Uint8Array, base: number, target: PlacedSection, type: number, value: bigint, offset: number, moduleName: string): void {
  const at = target.address - base + offset;
  const loc = BigInt(target.address + offset);
  const size = type === R_X86_64['64'] || type === R_X86_64.PC64 ? 8 : type === R_X86_64.NONE ? 0 : 4;
  if (size === 0) return;
  if (offset < 0 || offset + size > target.size) {
    throw new ModuleLoadError([`${moduleName}: relocation at offset 0x${offset.toString(16)} is outside section ${target.name}`], -ENOEXEC);
  }
  const view = new DataView(image.buffer, image.byteOffset);
  const existing = size === 8 ? view.getBigUint64(at, true) : BigInt(view.getUint32(at, true));
  let val = BigInt.asUintN(64, value);
  if (type === R_X86_64.PC32 || type === R_X86_64.PLT32 || type === R_X86_64.PC64) val = BigInt.asUintN(64, val - loc);
  else if (type !== R_X86_64['64'] && type !== R_X86_64['32'] && type !== R_X86_64['32S']) {
    throw new ModuleLoadError([`${moduleName}: Unknown rela relocation: ${type}`], -ENOEXEC);
  }
  if (existing !== 0n) {
    throw new ModuleLoadError([
      `x86/modules: Skipping invalid relocation target, existing value is nonzero for type ${type}, loc ${loc.toString(16)}, val ${val.toString(16)}`,
    ], -ENOEXEC);
  }
  if (size === 8) {
    view.setBigUint64(at, val, true);
    return;
  }
  const low = Number(val & 0xffffffffn);
  view.setUint32(at, low, true);
  const overflow =
    (type === R_X86_64['32'] && val !== BigInt(low)) ||
    (type === R_X86_64['32S'] && BigInt.asIntN(64, val) !== BigInt(low | 0));
  if (overflow) {
    throw new ModuleLoadError([
      `overflow in relocation type ${type} val ${val.toString(16)}`,
      `\`${moduleName}' likely not compiled with -mcmodel=kernel`,
    ], -ENOEXEC);
  }
}
