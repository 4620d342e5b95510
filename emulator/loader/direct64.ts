/**
 * Direct 64-bit start for unit tests: the emulator builds what a boot stub would (an identity map of
 * all RAM with 2 MiB pages, user-accessible and writable; a Linux-style GDT; a TSS) and starts at CPL 0
 * in 64-bit mode with EFER.{SCE,LME,LMA,NXE}, CR0.{PG,WP,PE}, CR4.{PAE,OSFXSR}.
 *
 * Physical layout (all below 0x10000): GDT 0x500, TSS 0x600, PML4 0x1000, PDPT 0x2000, PD 0x3000.
 * Selectors follow Linux: 0x10 kernel CS, 0x18 kernel DS, 0x2b user DS, 0x33 user CS, 0x40 TSS.
 */
import type { Machine } from '../machine';
import { GDT_ENTRIES, KERNEL_CS, KERNEL_DS, TSS_SEL } from './gdtLayout';

export const GDT_PADDR = 0x500, TSS_PADDR = 0x600, PML4_PADDR = 0x1000, PDPT_PADDR = 0x2000, PD_PADDR = 0x3000;

export interface Direct64Options {
  /** Code placed at `entry` (physical = virtual). */
  code?: Uint8Array;
  entry?: number;
  /** Initial RSP (default: 0x80000). */
  stack?: number;
  /** TSS.RSP0 (default: 0x90000). */
  rsp0?: number;
}

export function startDirect64(m: Machine, opts: Direct64Options = {}): void {
  const entry = opts.entry ?? 0x100000;
  const mem = m.mem;
  const dv = mem.dv;
  // Page tables: PML4[0] → PDPT, PDPT[0..n] → PDs, PD entries = 2 MiB pages.
  mem.writeBytes(PML4_PADDR, new Uint8Array(0x3000));
  dv.setUint32(PML4_PADDR, PDPT_PADDR | 0x7, true);
  const pages2m = Math.ceil(mem.size / 0x200000);
  if (pages2m > 512) throw new RangeError('direct64: more than 1 GiB of RAM is not identity-mapped');
  dv.setUint32(PDPT_PADDR, PD_PADDR | 0x7, true);
  for (let i = 0; i < pages2m; i++) {
    dv.setUint32(PD_PADDR + 8 * i, (i * 0x200000) | 0x87 | 0x60, true); // P RW US PS, A D preset
    dv.setUint32(PD_PADDR + 8 * i + 4, 0, true);
  }
  // GDT and TSS.
  const gdt = new Uint8Array(8 * GDT_ENTRIES.length + 16);
  const g = new DataView(gdt.buffer);
  GDT_ENTRIES.forEach((e, i) => { g.setUint32(8 * i, e[0], true); g.setUint32(8 * i + 4, e[1], true); });
  const tssAt = TSS_SEL;
  const limit = 0x67;
  g.setUint32(tssAt, ((TSS_PADDR & 0xffff) << 16) | limit, true);
  g.setUint32(tssAt + 4, ((TSS_PADDR >>> 16) & 0xff) | 0x8900 | (TSS_PADDR & 0xff000000), true);
  g.setUint32(tssAt + 8, 0, true);
  mem.writeBytes(GDT_PADDR, gdt.subarray(0, tssAt + 16));
  mem.writeBytes(TSS_PADDR, new Uint8Array(0x68));
  dv.setUint32(TSS_PADDR + 4, opts.rsp0 ?? 0x90000, true);
  if (opts.code) mem.writeBytes(entry, opts.code);
  const c = m.cpu;
  m.resetLong64(entry, PML4_PADDR);
  c.gdtBase = GDT_PADDR; c.gdtLimit = tssAt + 15;
  c.sel[1] = KERNEL_CS;
  for (const s of [0, 2, 3]) c.sel[s] = KERNEL_DS;
  c.trSel = TSS_SEL; c.trBase = TSS_PADDR; c.trLimit = limit;
  c.idtBase = 0; c.idtLimit = 0;
  c.regs.setAddr(4, opts.stack ?? 0x80000);
}
