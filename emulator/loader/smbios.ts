/**
 * The SMBIOS 2.8 tables that SeaBIOS 1.16.2 leaves in the F segment for QEMU 7.2's `-machine pc`
 * (QEMU builds the structures, hw/smbios/smbios.c; SeaBIOS adds the BIOS structure and the 32-bit
 * entry point). Linux's dmi_scan_machine finds the "_SM_" anchor in 0xF0000-0xFFFFF and prints
 * `SMBIOS 2.8 present.` and `DMI: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1
 * 04/01/2014`. Contents and addresses are the bytes read from QEMU's memory (fixtures/boot/pcprobe.c
 * prints them; test/golden/pc holds them); only the memory sizes depend on `-m`, and the processor ID
 * is qemu64's CPUID leaf 1 (EAX, EDX).
 */

/** Where SeaBIOS places the entry point and the structure table for a pc machine. */
export const SMBIOS_ENTRY_PADDR = 0xf59f0;
export const SMBIOS_TABLE_PADDR = 0xf5a10;
const MACHINE_VERSION = 'pc-i440fx-7.2';

function structure(type: number, handle: number, formatted: number[], strings: string[]): number[] {
  const out = [type, formatted.length + 4, handle & 0xff, handle >> 8, ...formatted];
  if (strings.length === 0) return [...out, 0, 0];
  for (const s of strings) out.push(...Buffer.from(s + '\0', 'latin1'));
  out.push(0);
  return out;
}

const u16 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff];
const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const zeros = (n: number): number[] => new Array<number>(n).fill(0);

/** The structure table for a machine with `ramBytes` of RAM (below 4 GiB), one CPU. */
export function smbiosStructures(ramBytes: number): number[][] {
  const ramKb = Math.floor(ramBytes / 1024), ramMb = Math.floor(ramBytes / (1 << 20));
  return [
    structure(0, 0x0000, [1, 2, ...u16(0xe800), 3, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0x04, 0, 0, 0xff, 0xff],
      ['SeaBIOS', '1.16.2-debian-1.16.2-1', '04/01/2014']),
    structure(1, 0x0100, [1, 2, 3, 0, ...zeros(16), 6, 0, 0], ['QEMU', 'Standard PC (i440FX + PIIX, 1996)', MACHINE_VERSION]),
    structure(3, 0x0300, [1, 1, 2, 0, 0, 3, 3, 3, 2, ...zeros(9)], ['QEMU', MACHINE_VERSION]),
    structure(4, 0x0400, [1, 3, 1, 2, ...u32(0x00060fb1), ...u32(0x078bfbfd), 3, 0, ...u16(0), ...u16(2000), ...u16(2000),
      0x41, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 1, 1, ...u16(2), ...u16(1)], ['CPU 0', 'QEMU', MACHINE_VERSION]),
    structure(16, 0x1000, [1, 3, 6, ...u32(ramKb), ...u16(0xfffe), ...u16(1), ...zeros(8)], []),
    structure(17, 0x1100, [...u16(0x1000), ...u16(0xfffe), ...u16(0xffff), ...u16(0xffff), ...u16(ramMb), 9, 0, 1, 0, 7,
      ...u16(2), ...u16(0), 2, 0, 0, 0, 0, ...u32(0), ...u16(0), ...u16(0), ...u16(0), ...u16(0)], ['DIMM 0', 'QEMU']),
    structure(19, 0x1300, [...u32(0), ...u32(ramKb - 1), ...u16(0x1000), 1, ...zeros(16)], []),
    structure(32, 0x2000, zeros(7), []),
    structure(127, 0x7f00, [], []),
  ];
}

function checksum(bytes: number[], from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += bytes[i];
  return (0x100 - (sum & 0xff)) & 0xff;
}

/**
 * The bytes built for each RAM size: a study loads the same image into a machine of the same size
 * for every run, and building them is nothing to speak of, but V8 spent 121 ms of each study thread
 * optimizing the builder (the loader copies the bytes into RAM; nobody writes to them).
 */
const built = new Map<number, { readonly entry: Uint8Array; readonly table: Uint8Array }>();

/** Entry point and structure table bytes, each with its physical address. */
export function buildSmbios(ramBytes: number): { readonly entry: Uint8Array; readonly table: Uint8Array } {
  let b = built.get(ramBytes);
  if (b === undefined) { b = buildSmbiosOnce(ramBytes); built.set(ramBytes, b); }
  return b;
}

function buildSmbiosOnce(ramBytes: number): { entry: Uint8Array; table: Uint8Array } {
  const structs = smbiosStructures(ramBytes);
  const table = structs.flat();
  const maxStructure = Math.max(...structs.map((s) => s.length));
  const eps = [
    ...Buffer.from('_SM_', 'latin1'), 0, 0x1f, 2, 8, ...u16(maxStructure), 0, 0, 0, 0, 0, 0,
    ...Buffer.from('_DMI_', 'latin1'), 0, ...u16(table.length), ...u32(SMBIOS_TABLE_PADDR), ...u16(structs.length), 0x28,
  ];
  eps[0x15] = checksum(eps, 0x10, 0x1f); // intermediate checksum over the "_DMI_" part
  eps[4] = checksum(eps, 0, 0x1f);
  return { entry: Uint8Array.from(eps), table: Uint8Array.from(table) };
}
