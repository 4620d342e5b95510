// Debian's Linux 6.1 cloud kernel with the busybox initramfs, booted in klp-lab and in QEMU (live,
// cached by inputs): the consoles compared line by line with printk timestamps stripped. The figure
// to drive to zero is the number of differing lines; ALLOWED lists the differences this branch still
// has, each explained, so that any change (better or worse) fails the test and is looked at.
import { linuxFixture } from '../helpers/linux/linuxFixture';
import { qemuLinuxConsole } from '../helpers/linux/qemuLinux';
import { klpBootLinux, describeStop, type KlpLinuxRun } from '../helpers/linux/klpLinux';
import { diffConsoles, formatConsoleDiff, type ConsoleDiff } from '../helpers/linux/consoleDiff';
import { STOP_TRIPLE } from '../../emulator/machine';

// Why the remaining lines differ (each one is the same cause seen from both sides):
/** klp-lab's PVH memory map is not yet QEMU's (SeaBIOS reserves the top 128 KiB of RAM below 4 GiB,
 * 0xfffc0000 (the BIOS) and 0xfd00000000 (the HyperTransport hole)), so every line derived from the
 * end of RAM differs: last_pfn, zones, node ranges, page counts, /proc/meminfo. Devices branch. */
const E820 = 'e820 map';
/** QEMU's SeaBIOS provides SMBIOS 2.8 tables (DMI strings); klp-lab none yet. Devices branch. */
const SMBIOS = 'no SMBIOS tables';
/** Figures that depend on virtual time: the different memory map and the DMI scan change the work
 * done at boot by ~0.4 ms of 1.4 s, enough to move sched_clock's stability mark and the timer count. */
const TIMING = 'virtual time';

/** Lines only QEMU prints, and why klp-lab does not (yet). */
const ALLOWED_ONLY_QEMU: [string, string][] = [
  ["BIOS-e820: [mem 0x0000000000100000-0x000000001ffdffff] usable", E820],
  ["BIOS-e820: [mem 0x000000001ffe0000-0x000000001fffffff] reserved", E820],
  ["BIOS-e820: [mem 0x00000000fffc0000-0x00000000ffffffff] reserved", E820],
  ["BIOS-e820: [mem 0x000000fd00000000-0x000000ffffffffff] reserved", E820],
  ["SMBIOS 2.8 present.", SMBIOS],
  ["DMI: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014", SMBIOS],
  ["last_pfn = 0x1ffe0 max_arch_pfn = 0x400000000", E820],
  ["Faking a node at [mem 0x0000000000000000-0x000000001ffdffff]", E820],
  ["  DMA32    [mem 0x0000000001000000-0x000000001ffdffff]", E820],
  ["  node   0: [mem 0x0000000000100000-0x000000001ffdffff]", E820],
  ["Initmem setup node 0 [mem 0x0000000000001000-0x000000001ffdffff]", E820],
  ["On node 0, zone DMA32: 32 pages in unavailable ranges", E820],
  ["[mem 0x20000000-0xfffbffff] available for PCI devices", E820],
  ["Built 1 zonelists, mobility grouping on.  Total pages: 128736", E820],
  ["Memory: 219836K/523768K available (14343K kernel code, 2327K rwdata, 8348K rodata, 2612K init, 5436K bss, 53232K reserved, 0K cma-reserved)", E820],
  ["sched_clock: Marking stable (464055318, 852138)->(465982855, -1075399)", TIMING],
  ["  0:        325    XT-PIC      timer", TIMING],
  ["MemTotal:         481300 kB", E820],
  ["MemFree:          450468 kB", E820],
  ["MemAvailable:     450120 kB", E820],
];
/** Lines only klp-lab prints, and why. */
const ALLOWED_ONLY_KLP: [string, string][] = [
  ["BIOS-e820: [mem 0x0000000000100000-0x000000001fffffff] usable", E820],
  ["BIOS-e820: [mem 0x00000000feffc000-0x00000000feffffff] reserved", E820],
  ["DMI not present or invalid.", SMBIOS],
  ["last_pfn = 0x20000 max_arch_pfn = 0x400000000", E820],
  ["Faking a node at [mem 0x0000000000000000-0x000000001fffffff]", E820],
  ["  DMA32    [mem 0x0000000001000000-0x000000001fffffff]", E820],
  ["  node   0: [mem 0x0000000000100000-0x000000001fffffff]", E820],
  ["Initmem setup node 0 [mem 0x0000000000001000-0x000000001fffffff]", E820],
  ["[mem 0x20000000-0xfeffbfff] available for PCI devices", E820],
  ["Built 1 zonelists, mobility grouping on.  Total pages: 128768", E820],
  ["Memory: 219840K/523896K available (14343K kernel code, 2327K rwdata, 8348K rodata, 2612K init, 5436K bss, 53232K reserved, 0K cma-reserved)", E820],
  ["sched_clock: Marking stable (463727347, 812846)->(465548602, -1008409)", TIMING],
  ["  0:        323    XT-PIC      timer", TIMING],
  ["MemTotal:         481428 kB", E820],
  ["MemFree:          450596 kB", E820],
  ["MemAvailable:     450240 kB", E820],
];
/** Instructions the boot still meets that klp-lab does not implement (each raised #UD in the guest). */
const ALLOWED_UNIMPLEMENTED: [string, string][] = [];

const BOOT_TIMEOUT_MS = 45 * 60 * 1000;

describe('Debian Linux 6.1 boots in klp-lab as in QEMU', () => {
  const f = linuxFixture();
  const qemu = qemuLinuxConsole(f);
  let k: KlpLinuxRun;
  let d: ConsoleDiff;

  beforeAll(() => {
    k = klpBootLinux(f);
    d = diffConsoles(qemu.console, k.console);
    process.stdout.write(`real Linux: ${describeStop(k.result)} after ${k.instructions} instructions (${(k.instructions / k.seconds / 1e6).toFixed(1)} MIPS)\n${formatConsoleDiff(d)}\n`);
  }, BOOT_TIMEOUT_MS);

  test('QEMU runs the whole scenario (the reference is sound)', () => {
    expect(qemu.console).toContain('Run /init as init process');
    expect(qemu.console).toContain('init: scenario default done');
    expect(qemu.console).toMatch(/reboot: machine restart\r?\n$/);
  });

  test('klp-lab reaches /init, runs the whole scenario and resets as QEMU does', () => {
    expect(k.console).toContain('Run /init as init process');
    expect(k.console).toContain('init: scenario default done');
    expect(k.console).toMatch(/reboot: machine restart\r?\n$/);
  });

  test('user space (busybox and bash on glibc: float printf, sort, awk, sha256sum, gzip) prints what it prints under QEMU', () => {
    const tail = (c: string): string => { const t = c.replace(/\r/g, ''); return t.slice(t.indexOf('\nLinux (none) '), t.indexOf('init: scenario default done')); };
    expect(tail(qemu.console).length).toBeGreaterThan(200);
    expect(tail(k.console)).toBe(tail(qemu.console));
  });

  test('the lines only QEMU prints are exactly the explained ones', () => {
    expect(d.onlyReference).toEqual(ALLOWED_ONLY_QEMU.map(([l]) => l));
  });

  test('the lines only klp-lab prints are exactly the explained ones', () => {
    expect(d.onlyKlp).toEqual(ALLOWED_ONLY_KLP.map(([l]) => l));
  });

  test('no instruction reaches the unimplemented path beyond the explained ones', () => {
    expect([...k.unimplemented.keys()].sort()).toEqual(ALLOWED_UNIMPLEMENTED.map(([n]) => n).sort());
  });

  test('the run ends the way QEMU\'s does: reboot=t resets through a triple fault', () => {
    expect(k.result.reason).toBe(STOP_TRIPLE);
  });
});
