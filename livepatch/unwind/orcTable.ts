// arch/x86/kernel/unwind_orc.c (orc_find, __orc_find, unwind_init, unwind_module_init) and
// scripts/sorttable.h: the ORC tables of a linked image, sorted, with the lookup-block table
// (include/asm/orc_lookup.h: one u32 per 256-byte block of [_stext, _etext)).
// Entries live in parallel typed arrays; two extra rows at the end hold the kernel's built-in
// null_orc_entry (ip 0) and orc_fp_entry (the frame-pointer guess).

import type { ElfFile } from '../../elf/elfFile';
import {
  ORC_ENTRY_SIZE,
  ORC_REG_BP,
  ORC_REG_PREV_SP,
  ORC_REG_SP,
  ORC_REG_UNDEFINED,
  type OrcEntry,
  UNWIND_HINT_TYPE_CALL,
  unpackOrc,
} from '../../objtool/orc/orcTypes';
import { formatOrcEntry } from '../../objtool/orc/orcDump';
import { ltU } from './unwinder';

/** LOOKUP_BLOCK_ORDER 8 */
export const LOOKUP_BLOCK_SIZE = 256;

export interface OrcRow extends OrcEntry {
  ip: number;
}

export interface OrcLookupRange {
  /** LOOKUP_START_IP (_stext) */
  start: number;
  /** LOOKUP_STOP_IP (_etext) */
  stop: number;
}

function addrOf(v: bigint): number {
  return Number(BigInt.asIntN(64, v));
}

export class OrcTable {
  readonly count: number;
  readonly ip: Float64Array;
  readonly spOffset: Int16Array;
  readonly bpOffset: Int16Array;
  readonly spReg: Uint8Array;
  readonly bpReg: Uint8Array;
  readonly type: Uint8Array;
  readonly end: Uint8Array;
  /** index of null_orc_entry (sp+8, call) */
  readonly nullEntry: number;
  /** index of orc_fp_entry (sp=bp+16, bp at prevsp-16, call) */
  readonly fpEntry: number;
  /** orc_init: the table passed unwind_init's checks */
  readonly init: boolean;
  /** why init is false */
  readonly initProblem: string | null;
  private lookup: Uint32Array | null = null;
  private lookupNumBlocks = 0;
  private lookupStart = 0;
  private lookupStop = 0;
  /** Text outside the lookup range searched over the whole table (the .init.text rule). */
  private slowRanges: OrcLookupRange[] = [];
  /** Loaded modules' tables (mod->arch.orc_unwind_ip/orc_unwind), by their text range. */
  private readonly modules: { name: string; start: number; end: number; table: OrcTable }[] = [];
  /** The table that holds the row find() returned last: this one, or a module's. */
  hit: OrcTable = this;

  /**
   * rows in any order; they are sorted the way sorttable and unwind_module_init sort them
   * (by address, a section terminator before a real entry at the same address; stable).
   */
  constructor(rows: readonly OrcRow[], problem: string | null = null) {
    const sorted = rows.slice().sort((a, b) => {
      if (a.ip !== b.ip) return ltU(a.ip, b.ip) ? -1 : 1;
      const ta = a.spReg === ORC_REG_UNDEFINED && a.end === 0;
      const tb = b.spReg === ORC_REG_UNDEFINED && b.end === 0;
      return ta === tb ? 0 : ta ? -1 : 1;
    });
    const n = sorted.length;
    this.count = n;
    this.ip = new Float64Array(n + 2);
    this.spOffset = new Int16Array(n + 2);
    this.bpOffset = new Int16Array(n + 2);
    this.spReg = new Uint8Array(n + 2);
    this.bpReg = new Uint8Array(n + 2);
    this.type = new Uint8Array(n + 2);
    this.end = new Uint8Array(n + 2);
    sorted.forEach((r, i) => this.setRow(i, r));
    this.nullEntry = n;
    this.setRow(n, { ip: 0, spOffset: 8, bpOffset: 0, spReg: ORC_REG_SP, bpReg: ORC_REG_UNDEFINED, type: UNWIND_HINT_TYPE_CALL, end: 0 });
    this.fpEntry = n + 1;
    this.setRow(n + 1, { ip: 0, spOffset: 16, bpOffset: -16, spReg: ORC_REG_BP, bpReg: ORC_REG_PREV_SP, type: UNWIND_HINT_TYPE_CALL, end: 0 });
    this.initProblem = problem ?? (n === 0 ? 'Bad or missing .orc_unwind table' : null);
    this.init = this.initProblem === null;
  }

  private setRow(i: number, r: OrcRow): void {
    this.ip[i] = r.ip;
    this.spOffset[i] = r.spOffset;
    this.bpOffset[i] = r.bpOffset;
    this.spReg[i] = r.spReg;
    this.bpReg[i] = r.bpReg;
    this.type[i] = r.type;
    this.end[i] = r.end;
  }

  /**
   * Reads .orc_unwind_ip and .orc_unwind from a linked image: entry i covers
   * &orc_unwind_ip[i] + orc_unwind_ip[i]. In an unlinked object (with .rela.orc_unwind_ip),
   * the ip is the relocation's target: section address + addend. Returns null when the
   * image has no ORC sections.
   */
  static fromElf(file: ElfFile): OrcTable | null {
    const ipSec = file.section('.orc_unwind_ip');
    const orcSec = file.section('.orc_unwind');
    if (!ipSec || !orcSec) return null;
    const ipData = file.sectionData(ipSec);
    const orcData = file.sectionData(orcSec);
    const n = Math.floor(ipData.length / 4);
    if (ipData.length % 4 !== 0 || orcData.length % ORC_ENTRY_SIZE !== 0 || n !== orcData.length / ORC_ENTRY_SIZE) {
      return new OrcTable([], 'Bad or missing .orc_unwind table');
    }
    const dv = new DataView(ipData.buffer, ipData.byteOffset, ipData.byteLength);
    const base = addrOf(ipSec.addr);
    const rows: OrcRow[] = new Array(n);
    const rela = file.relaFor(ipSec);
    const relocated = new Map<number, number>();
    if (rela) {
      const syms = file.symbols();
      for (const r of file.relocations(rela)) {
        const sym = syms[r.symbolIndex];
        const sec = sym && sym.shndx > 0 && sym.shndx < file.sections.length ? file.sections[sym.shndx] : undefined;
        const symAddr = sym ? addrOf(sym.value) + (sec && sym.type === 3 ? addrOf(sec.addr) : 0) : 0;
        relocated.set(Number(r.offset) / 4, symAddr + addrOf(r.addend));
      }
    }
    for (let i = 0; i < n; i++) {
      const e = unpackOrc(orcData, i * ORC_ENTRY_SIZE);
      const ip = rela ? relocated.get(i) ?? 0 : base + i * 4 + dv.getInt32(i * 4, true);
      rows[i] = { ip, ...e };
    }
    return new OrcTable(rows);
  }

  /**
   * A loaded module's tables as they lie in memory after relocation (unwind_module_init): entry i
   * of `ip` (at address `ipAddress`) holds its ip relative to its own address; `orc` holds the
   * 6-byte entries. A size mismatch gives an uninitialized table, as a bad table does.
   */
  static fromMemory(ip: Uint8Array, ipAddress: number, orc: Uint8Array): OrcTable {
    const n = Math.floor(ip.length / 4);
    if (ip.length % 4 !== 0 || orc.length !== n * ORC_ENTRY_SIZE) return new OrcTable([], 'Bad or missing .orc_unwind table');
    const dv = new DataView(ip.buffer, ip.byteOffset, ip.byteLength);
    const rows: OrcRow[] = new Array(n);
    for (let i = 0; i < n; i++) rows[i] = { ip: ipAddress + i * 4 + dv.getInt32(i * 4, true), ...unpackOrc(orc, i * ORC_ENTRY_SIZE) };
    return new OrcTable(rows);
  }

  /**
   * unwind_init(): builds orc_lookup[] for [start, stop); num blocks = ceil(size/256) + 1 as the
   * linker script reserves. Text outside it but listed in `slow` is searched over the whole
   * table (as .init.text is).
   */
  setLookupRange(range: OrcLookupRange, slow: readonly OrcLookupRange[] = []): void {
    this.slowRanges = slow.slice();
    const size = range.stop - range.start;
    if (!(size > 0) || !this.init) {
      this.lookup = null;
      return;
    }
    const numBlocks = Math.ceil(size / LOOKUP_BLOCK_SIZE) + 1;
    const lookup = new Uint32Array(numBlocks);
    for (let i = 0; i < numBlocks - 1; i++) {
      lookup[i] = this.orcFindRange(0, this.count, range.start + LOOKUP_BLOCK_SIZE * i);
    }
    lookup[numBlocks - 1] = this.orcFindRange(0, this.count, range.stop);
    this.lookup = lookup;
    this.lookupNumBlocks = numBlocks;
    this.lookupStart = range.start;
    this.lookupStop = range.stop;
  }

  /** orc_lookup[] as unwind_init() fills it (null before setLookupRange). */
  lookupTable(): Uint32Array | null {
    return this.lookup;
  }

  /** __orc_find(): the rightmost entry in [first, first+num) whose ip <= target (first if none). */
  orcFindRange(first: number, num: number, ip: number): number {
    if (num <= 0) return -1;
    const ips = this.ip;
    let lo = first;
    let hi = first + num - 1;
    let found = first;
    while (lo <= hi) {
      const mid = lo + ((hi - lo) >> 1);
      const m = ips[mid];
      if (m === ip || ltU(m, ip)) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /**
   * unwind_module_init(): a loaded module's table joins the lookup for ips in [start, end) (its
   * core text). A module of the same name is replaced.
   */
  addModule(name: string, start: number, end: number, table: OrcTable): void {
    this.removeModule(name);
    this.modules.push({ name, start, end, table });
  }

  removeModule(name: string): void {
    const i = this.modules.findIndex((m) => m.name === name);
    if (i >= 0) this.modules.splice(i, 1);
  }

  /**
   * orc_find(ip): an entry index, or -1 when the ip has no ORC data. The row is in `hit`: this
   * table, or the table of the module whose text holds ip (orc_module_find, after the core kernel).
   */
  find(ip: number): number {
    this.hit = this;
    if (ip === 0) return this.nullEntry;
    if (!this.init) return -1;
    const lookup = this.lookup;
    if (lookup !== null && ip >= this.lookupStart && ip < this.lookupStop) {
      const idx = Math.floor((ip - this.lookupStart) / LOOKUP_BLOCK_SIZE);
      if (idx >= this.lookupNumBlocks - 1) return -1; // "bad lookup idx"
      const start = lookup[idx];
      const stop = lookup[idx + 1] + 1;
      if (start >= this.count || stop > this.count) return -1; // "bad lookup value"
      return this.orcFindRange(start, stop - start, ip);
    }
    for (const r of this.slowRanges) {
      if (ip >= r.start && ip < r.stop) return this.orcFindRange(0, this.count, ip);
    }
    for (const m of this.modules) {
      if (ip < m.start || ip >= m.end) continue;
      this.hit = m.table;
      return m.table.orcFindRange(0, m.table.count, ip);
    }
    if (lookup === null) return this.orcFindRange(0, this.count, ip);
    return -1;
  }

  entry(i: number): OrcEntry {
    return {
      spOffset: this.spOffset[i],
      bpOffset: this.bpOffset[i],
      spReg: this.spReg[i],
      bpReg: this.bpReg[i],
      type: this.type[i],
      end: this.end[i],
    };
  }

  /** The table as `objtool --dump=orc` prints a linked image: `addr: sp:... end:N` (hex, no 0x). */
  dump(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.count; i++) {
      out.push(`${BigInt.asUintN(64, BigInt(this.ip[i])).toString(16)}: ${formatOrcEntry(this.entry(i))}`);
    }
    return out;
  }
}

