/**
 * PVH boot as `qemu-system-x86_64 -machine pc -kernel IMAGE.elf [-initrd FILE] [-append CMDLINE]` does it
 * (QEMU 7.2 hw/i386/x86.c x86_load_linux with its PVH option ROM, and SeaBIOS 1.16.2): PT_LOAD segments
 * copied to their physical addresses (p_paddr, zero-filled up to p_memsz), entry at the
 * XEN_ELFNOTE_PHYS32_ENTRY note (type 18), 32-bit protected mode with flat CS/DS, paging off, and
 * EBX = the physical address of an hvm_start_info (magic 0x336ec578, version 1;
 * xen/include/public/arch-x86/hvm/start_info.h layout) with:
 *  - the memory map SeaBIOS reports for that RAM size (pcE820; Linux adds 0xa0000-0xfffff itself and
 *    prints the merged map as its `BIOS-e820:` lines),
 *  - the command line,
 *  - the initrd as module 0 (hvm_modlist_entry), placed where QEMU places it: page-aligned, ending
 *    below top of RAM minus the 0x28000 bytes QEMU keeps for ACPI data,
 *  - no ACPI RSDP (QEMU's SeaBIOS has one; klp-lab has no ACPI tables: boot Linux with acpi=off).
 * The SMBIOS tables go to the F segment (smbios.ts).
 */
import { ElfFile } from '../../elf/elfFile';
import type { Machine } from '../machine';
import { RBX } from '../cpu/registers';
import { writeOptionRoms } from './optionRoms';
import { buildSmbios, SMBIOS_ENTRY_PADDR, SMBIOS_TABLE_PADDR } from './smbios';

export const XEN_ELFNOTE_PHYS32_ENTRY = 18;
export const XEN_HVM_START_MAGIC_VALUE = 0x336ec578;
export const E820_RAM = 1, E820_RESERVED = 2;

/** Where the start info, memory map, module list and command line are placed (low memory, which
 * Linux keeps reserved below 1 MiB; the guest copies what it needs early). */
export const START_INFO_PADDR = 0x6000;
const MEMMAP_PADDR = START_INFO_PADDR + 0x40;
const MODLIST_PADDR = START_INFO_PADDR + 0x100;
const CMDLINE_PADDR = START_INFO_PADDR + 0x200;
/** Longest command line (QEMU's PVH option ROM keeps 4 KiB; Linux's COMMAND_LINE_SIZE is 2048). */
export const CMDLINE_MAX = 4095;
/** Bytes QEMU's pc machine keeps free for ACPI tables below the top of low RAM (pc_piix acpi_data_size). */
export const ACPI_DATA_SIZE = 0x28000;
/** RAM from here up goes above 4 GiB on QEMU pc (not supported here). */
export const MAX_LOW_RAM = 0xe0000000;

export interface BootOptions {
  cmdline?: string;
  initrd?: { bytes: Uint8Array; name: string };
}

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

/**
 * The memory map SeaBIOS hands to QEMU's PVH option ROM for `-machine pc -m ramBytes` (below 3.5 GiB):
 * the EBDA and the BIOS segment, the top 128 KiB of RAM (SeaBIOS's own), the BIOS flash mapping, and
 * the AMD HyperTransport hole QEMU reserves for AMD CPU models such as qemu64. Entries: [addr, size, type].
 */
export function pcE820(ramBytes: number): [number, number, number][] {
  return [
    [0, 0x9fc00, E820_RAM],
    [0x9fc00, 0x400, E820_RESERVED],
    [0xf0000, 0x10000, E820_RESERVED],
    [0x100000, ramBytes - 0x20000 - 0x100000, E820_RAM],
    [ramBytes - 0x20000, 0x20000, E820_RESERVED],
    [0xfffc0000, 0x40000, E820_RESERVED],
    [0xfd00000000, 0x300000000, E820_RESERVED],
  ];
}

/** Physical address of an initrd of `size` bytes (x86_load_linux: below top of RAM minus ACPI data). */
export function initrdAddress(ramBytes: number, size: number): number {
  const max = ramBytes - ACPI_DATA_SIZE - 1;
  return Math.floor((max - size) / 4096) * 4096;
}

/** Load a PVH ELF into the machine and set up the entry state. Throws BootError on a bad image. */
export function loadPvh(m: Machine, bytes: Uint8Array, name: string, options: string | BootOptions = ''): PvhImage {
  const opts: BootOptions = typeof options === 'string' ? { cmdline: options } : options;
  const cmdline = opts.cmdline ?? '';
  if (cmdline.length > CMDLINE_MAX) throw new BootError(`command line too long (${cmdline.length} bytes, at most ${CMDLINE_MAX})`);
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
  let initrd: { paddr: number; size: number } | null = null;
  if (opts.initrd) {
    const size = opts.initrd.bytes.length;
    const ram = m.mem.size;
    if (size >= ram - ACPI_DATA_SIZE - 1 - 0x100000) {
      throw new BootError(`${opts.initrd.name}: initrd too large for ${ram >> 20} MiB of RAM (${size} bytes)`);
    }
    const paddr = initrdAddress(ram, size);
    for (const sg of segments) {
      if (paddr < sg.paddr + sg.memsz && sg.paddr < paddr + size) {
        throw new BootError(`${opts.initrd.name}: initrd at 0x${paddr.toString(16)} would overlap the kernel image; give more memory`);
      }
    }
    m.mem.writeBytes(paddr, opts.initrd.bytes);
    initrd = { paddr, size };
  }
  writeStartInfo(m, cmdline, initrd);
  const smbios = buildSmbios(m.mem.size);
  m.mem.writeBytes(SMBIOS_ENTRY_PADDR, smbios.entry);
  m.mem.writeBytes(SMBIOS_TABLE_PADDR, smbios.table);
  writeOptionRoms(m); // the ROM headers SeaBIOS leaves below 1 MiB (Linux's probe_roms walks them)
  m.resetProtected32(entry);
  m.cpu.regs.set32(RBX, START_INFO_PADDR);
  return { entry, segments, elf };
}

function writeStartInfo(m: Machine, cmdline: string, initrd: { paddr: number; size: number } | null): void {
  const map = pcE820(m.mem.size);
  const si = Buffer.alloc(0x40);
  si.writeUInt32LE(XEN_HVM_START_MAGIC_VALUE, 0);
  si.writeUInt32LE(1, 4);         // version
  si.writeUInt32LE(0, 8);         // flags
  si.writeUInt32LE(initrd ? 1 : 0, 12);                     // nr_modules
  si.writeBigUInt64LE(initrd ? BigInt(MODLIST_PADDR) : 0n, 16); // modlist_paddr
  if (initrd) {
    const mod = Buffer.alloc(32);  // hvm_modlist_entry: paddr, size, cmdline_paddr, reserved
    mod.writeBigUInt64LE(BigInt(initrd.paddr), 0);
    mod.writeBigUInt64LE(BigInt(initrd.size), 8);
    m.mem.writeBytes(MODLIST_PADDR, mod);
  }
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
