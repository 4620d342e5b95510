/**
 * PVH boot as `qemu-system-x86_64 -kernel IMAGE.elf` does it: PT_LOAD segments copied to their
 * physical addresses (p_paddr, zero-filled up to p_memsz), entry at the XEN_ELFNOTE_PHYS32_ENTRY note
 * (type 18), 32-bit protected mode with flat CS/DS, paging off, and EBX = the physical address of an
 * hvm_start_info (magic 0x336ec578, version 1) with an E820-style memory map, as QEMU's PVH option ROM
 * provides (xen/include/public/arch-x86/hvm/start_info.h layout).
 */
import { ElfFile } from '../../elf/elfFile';
import type { Machine } from '../machine';
import { RBX } from '../cpu/registers';
import { writeOptionRoms } from './optionRoms';

export const XEN_ELFNOTE_PHYS32_ENTRY = 18;
export const XEN_HVM_START_MAGIC_VALUE = 0x336ec578;
export const E820_RAM = 1, E820_RESERVED = 2;

/** Where the start info, memory map and command line are placed (low memory, below the EBDA). */
export const START_INFO_PADDR = 0x6000;
const MEMMAP_PADDR = START_INFO_PADDR + 0x40;
const CMDLINE_PADDR = START_INFO_PADDR + 0x200;

export class BootError extends Error {}

export interface PvhImage {
  entry: number;
  segments: { paddr: number; filesz: number; memsz: number }[];
  elf: ElfFile;
}

export function pvhEntry(elf: ElfFile): number {
  for (const n of elf.notes()) {
    if (n.name === 'Xen' && n.type === XEN_ELFNOTE_PHYS32_ENTRY && n.desc.length >= 4) {
      return Buffer.from(n.desc).readUInt32LE(0);
    }
  }
  throw new BootError(`${'image'}: no PVH entry note (Xen ELF note type 18); only PVH images are bootable`);
}

/** Load a PVH ELF into the machine and set up the entry state. Throws BootError on a bad image. */
export function loadPvh(m: Machine, bytes: Uint8Array, name: string, cmdline = ''): PvhImage {
  let elf: ElfFile;
  try { elf = ElfFile.parse(bytes, name); } catch (e) { throw new BootError((e as Error).message); }
  let entry: number;
  try { entry = pvhEntry(elf); } catch (e) { throw new BootError(`${name}: ${(e as Error).message.replace(/^image: /, '')}`); }
  const segments: PvhImage['segments'] = [];
  for (const ph of elf.programs) {
    if (ph.type !== 1 || ph.memsz === 0) continue;
    const paddr = Number(ph.paddr);
    if (paddr + ph.memsz > m.mem.size) throw new BootError(`${name}: segment at 0x${paddr.toString(16)} (+0x${ph.memsz.toString(16)}) is outside the ${m.mem.size >> 20} MiB of RAM`);
    if (ph.offset + ph.filesz > bytes.length) throw new BootError(`${name}: segment data beyond end of file`);
    m.mem.writeBytes(paddr, bytes.subarray(ph.offset, ph.offset + ph.filesz));
    if (ph.memsz > ph.filesz) m.mem.writeBytes(paddr + ph.filesz, new Uint8Array(ph.memsz - ph.filesz));
    segments.push({ paddr, filesz: ph.filesz, memsz: ph.memsz });
  }
  if (segments.length === 0) throw new BootError(`${name}: no PT_LOAD segments`);
  writeStartInfo(m, cmdline);
  writeOptionRoms(m); // what SeaBIOS leaves below 1 MiB (Linux's probe_roms walks it)
  m.resetProtected32(entry);
  m.cpu.regs.set32(RBX, START_INFO_PADDR);
  return { entry, segments, elf };
}

function writeStartInfo(m: Machine, cmdline: string): void {
  const ram = m.mem.size;
  const map: [number, number, number][] = [
    [0, 0x9fc00, E820_RAM],
    [0x9fc00, 0x400, E820_RESERVED],
    [0xf0000, 0x10000, E820_RESERVED],
    [0x100000, ram - 0x100000, E820_RAM],
    [0xfeffc000, 0x4000, E820_RESERVED],
  ];
  const si = Buffer.alloc(0x40);
  si.writeUInt32LE(XEN_HVM_START_MAGIC_VALUE, 0);
  si.writeUInt32LE(1, 4);         // version
  si.writeUInt32LE(0, 8);         // flags
  si.writeUInt32LE(0, 12);        // nr_modules
  si.writeBigUInt64LE(0n, 16);    // modlist_paddr
  si.writeBigUInt64LE(BigInt(CMDLINE_PADDR), 24);
  si.writeBigUInt64LE(0n, 32);    // rsdp_paddr: no ACPI tables
  si.writeBigUInt64LE(BigInt(MEMMAP_PADDR), 40);
  si.writeUInt32LE(map.length, 48);
  m.mem.writeBytes(START_INFO_PADDR, si);
  const mm = Buffer.alloc(24 * map.length);
  map.forEach(([addr, size, type], i) => {
    mm.writeBigUInt64LE(BigInt(addr), 24 * i);
    mm.writeBigUInt64LE(BigInt(size), 24 * i + 8);
    mm.writeUInt32LE(type, 24 * i + 16);
  });
  m.mem.writeBytes(MEMMAP_PADDR, mm);
  m.mem.writeBytes(CMDLINE_PADDR, Buffer.from(cmdline + '\0', 'latin1'));
}
