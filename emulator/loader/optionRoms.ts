/**
 * The ROM headers a guest finds below 1 MiB on QEMU 7.2's `-machine pc` after SeaBIOS 1.16 ran (with
 * the default VGA and a PVH `-kernel` boot). Linux's probe_roms() walks this area at boot (video ROM
 * from 0xC0000, then adapter ROMs on 2 KiB steps up to the system ROM) and checksums every ROM it finds
 * byte by byte, several million instructions that shift every later printk timestamp: the same work
 * here keeps virtual time in step with QEMU. Only what the walk sees is reproduced: the 0x55AA
 * signature, the length byte, and whether the bytes sum to zero (QEMU's own contents are not copied:
 * the rest is zero, with one byte that makes the sum right). Recorded from QEMU's memory at the PVH
 * entry point.
 */
import type { Machine } from '../machine';

interface RomHeader { addr: number; blocks: number; checksumValid: boolean; what: string }

export const PC_OPTION_ROMS: readonly RomHeader[] = [
  { addr: 0xc0000, blocks: 0x4e, checksumValid: true, what: 'VGA BIOS (39 KiB)' },
  { addr: 0xca000, blocks: 0x07, checksumValid: true, what: 'PVH boot option ROM' },
  { addr: 0xcb000, blocks: 0x03, checksumValid: false, what: 'option ROM (initialised, no longer summing to 0)' },
  { addr: 0xcb800, blocks: 0x12, checksumValid: false, what: 'option ROM (initialised, no longer summing to 0)' },
  { addr: 0xe8000, blocks: 0x40, checksumValid: false, what: 'SeaBIOS data area with a ROM signature' },
];

export function writeOptionRoms(m: Machine): void {
  for (const r of PC_OPTION_ROMS) {
    const size = r.blocks * 512;
    if (r.addr + size > m.mem.size) continue;
    const rom = new Uint8Array(size);
    rom[0] = 0x55; rom[1] = 0xaa; rom[2] = r.blocks;
    // Make the byte sum 0 (valid) or 1 (invalid) with the last byte.
    const sum = (0x55 + 0xaa + r.blocks) & 0xff;
    rom[size - 1] = ((r.checksumValid ? 0 : 1) - sum) & 0xff;
    m.mem.writeBytes(r.addr, rom);
  }
}
