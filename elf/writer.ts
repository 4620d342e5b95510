// Adds or replaces sections of a relocatable object while keeping every other byte as it was.
//
// The original image is copied unchanged; new and replaced section contents are appended after
// it, followed by a new section header table (e_shoff/e_shnum updated). The old table and the
// old contents of replaced sections stay in place as unreferenced bytes, so nothing a tool did
// not mean to change moves. objtool uses this to add .orc_unwind, .orc_unwind_ip and
// .rela.orc_unwind_ip, and to extend .symtab/.strtab/.shstrtab.

import * as C from './constants';
import { ElfError } from './elfError';
import type { ElfFile } from './elfFile';

export interface NewSection {
  name: string;
  type: number;
  flags: number;
  addr?: bigint;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
  data: Uint8Array;
  /** For SHT_NOBITS: the size, since there is no data. */
  size?: number;
}

interface HeaderEdit {
  nameOffset: number;
  type: number;
  flags: number;
  addr: bigint;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
  size: number;
  /** New contents to append, or undefined to keep the original offset. */
  data?: Uint8Array;
  offset: number;
}

export class ObjectWriter {
  private readonly headers: HeaderEdit[];
  private readonly shstrndx: number;
  private shstrtab: Uint8Array;

  constructor(private readonly file: ElfFile) {
    if (file.sections.length === 0) throw new ElfError(file.name, 'has no section headers to extend');
    this.headers = file.sections.map((s) => ({
      nameOffset: s.nameOffset,
      type: s.type,
      flags: s.flags,
      addr: s.addr,
      link: s.link,
      info: s.info,
      addralign: s.addralign,
      entsize: s.entsize,
      size: s.size,
      offset: s.offset,
    }));
    const h = file.header;
    this.shstrndx = h.shstrndx === C.SHN_XINDEX ? file.sections[0].link : h.shstrndx;
    if (!file.sections[this.shstrndx] || file.sections[this.shstrndx].type !== C.SHT_STRTAB) {
      throw new ElfError(file.name, 'has no section name string table');
    }
    this.shstrtab = file.sections[this.shstrndx].data;
  }

  get sectionCount(): number {
    return this.headers.length;
  }

  /** Gives an existing section new contents (and size). */
  replaceSectionData(index: number, data: Uint8Array): void {
    const h = this.headerAt(index);
    if (h.type === C.SHT_NOBITS) throw new ElfError(this.file.name, `section [${index}] is SHT_NOBITS and has no contents to replace`);
    h.data = data;
    h.size = data.length;
  }

  /** Changes header fields of an existing section (for example sh_info of .symtab). */
  updateSectionHeader(index: number, fields: Partial<Pick<HeaderEdit, 'link' | 'info' | 'flags' | 'addralign' | 'entsize'>>): void {
    Object.assign(this.headerAt(index), fields);
  }

  /** Appends a section after the existing ones; returns its index. */
  addSection(spec: NewSection): number {
    const nameOffset = this.addSectionName(spec.name);
    this.headers.push({
      nameOffset,
      type: spec.type,
      flags: spec.flags,
      addr: spec.addr ?? 0n,
      link: spec.link,
      info: spec.info,
      addralign: spec.addralign,
      entsize: spec.entsize,
      size: spec.type === C.SHT_NOBITS ? spec.size ?? 0 : spec.data.length,
      data: spec.type === C.SHT_NOBITS ? undefined : spec.data,
      offset: 0,
    });
    return this.headers.length - 1;
  }

  /** The complete new image. */
  build(): Uint8Array {
    const original = this.file.bytes;
    this.replaceSectionData(this.shstrndx, this.shstrtab);
    let end = original.length;
    for (const h of this.headers) {
      if (h.data === undefined) continue;
      end = align(end, Math.max(1, h.addralign));
      h.offset = end;
      end += h.data.length;
    }
    const shoff = align(end, 8);
    const total = shoff + this.headers.length * C.ELF64_SHDR_SIZE;
    const out = new Uint8Array(total);
    out.set(original, 0);
    for (const h of this.headers) if (h.data !== undefined) out.set(h.data, h.offset);

    const v = new DataView(out.buffer);
    v.setBigUint64(40, BigInt(shoff), true);
    const count = this.headers.length;
    const useXindex = count >= C.SHN_LORESERVE;
    v.setUint16(60, useXindex ? 0 : count, true);
    v.setUint16(62, this.shstrndx >= C.SHN_LORESERVE ? C.SHN_XINDEX : this.shstrndx, true);
    this.headers.forEach((h, i) => {
      const at = shoff + i * C.ELF64_SHDR_SIZE;
      v.setUint32(at, h.nameOffset, true);
      v.setUint32(at + 4, h.type, true);
      v.setBigUint64(at + 8, BigInt(h.flags), true);
      v.setBigUint64(at + 16, BigInt.asUintN(64, h.addr), true);
      v.setBigUint64(at + 24, BigInt(h.offset), true);
      v.setBigUint64(at + 32, BigInt(i === 0 && useXindex ? count : h.size), true);
      v.setUint32(at + 40, i === 0 && this.shstrndx >= C.SHN_LORESERVE ? this.shstrndx : h.link, true);
      v.setUint32(at + 44, h.info, true);
      v.setBigUint64(at + 48, BigInt(h.addralign), true);
      v.setBigUint64(at + 56, BigInt(h.entsize), true);
    });
    return out;
  }

  private addSectionName(name: string): number {
    const bytes = Buffer.from(name + '\0', 'latin1');
    const grown = new Uint8Array(this.shstrtab.length + bytes.length);
    grown.set(this.shstrtab, 0);
    grown.set(bytes, this.shstrtab.length);
    const offset = this.shstrtab.length;
    this.shstrtab = grown;
    return offset;
  }

  private headerAt(index: number): HeaderEdit {
    const h = this.headers[index];
    if (!h) throw new ElfError(this.file.name, `no section [${index}] to change`);
    return h;
  }
}

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
