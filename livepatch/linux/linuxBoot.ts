// Boots Debian's Linux 6.1 in klp-lab as the QEMU reference does (REAL-LINUX.md): 512 MiB, no ACPI,
// no PCI, reboot by triple fault, the initramfs as PVH module 0 where QEMU puts it, the RTC at
// klp-lab's default base 2024-01-01. Collects the console and the run's figures.
import * as fs from 'fs';
import { Machine, STOP_EXIT, STOP_LIMIT, STOP_TRIPLE, STOP_HALTED, type RunResult } from '../../emulator/machine';
import { loadPvh } from '../../emulator/loader/pvh';

export const LINUX_MEMORY = 512 << 20;
/** The command line of every comparison boot (REAL-LINUX.md: no ACPI, no PCI, reboot by triple fault). */
export const LINUX_CMDLINE = 'console=ttyS0 acpi=off pci=off reboot=t panic=-1';

export interface LinuxBootOptions {
  /** The kernel command line (default LINUX_CMDLINE). */
  append?: string;
  maxInsns?: number;
  onLine?: (line: string) => void;
  /** Called with the loaded machine before it runs (hooks, truth, observers). */
  onMachine?: (m: Machine) => void;
}

export interface LinuxRun {
  console: string;
  result: RunResult;
  /** Retired instructions of the whole run. */
  instructions: number;
  seconds: number;
  unimplemented: Map<string, number>;
  machine: Machine;
}

/** A machine with the kernel and initramfs loaded, its console collected into `bytes`, line by line into onLine. */
export function linuxMachine(vmlinux: string, initramfs: string, opts: LinuxBootOptions = {}): { machine: Machine; console: number[] } {
  const bytes: number[] = [];
  let line: number[] = [];
  const m = new Machine({
    memory: LINUX_MEMORY,
    onConsole: (b) => {
      bytes.push(b);
      if (opts.onLine) { if (b === 10) { opts.onLine(Buffer.from(line).toString('latin1').replace(/\r$/, '')); line = []; } else line.push(b); }
    },
  });
  loadPvh(m, fs.readFileSync(vmlinux), vmlinux,
    { cmdline: opts.append ?? LINUX_CMDLINE, initrd: { bytes: fs.readFileSync(initramfs), name: initramfs } });
  opts.onMachine?.(m);
  return { machine: m, console: bytes };
}

/** Boots and runs until the guest stops (reset, exit, limit). */
export function bootLinux(vmlinux: string, initramfs: string, opts: LinuxBootOptions = {}): LinuxRun {
  const { machine: m, console } = linuxMachine(vmlinux, initramfs, opts);
  const t0 = process.hrtime.bigint();
  const result = m.run(opts.maxInsns ?? 20e9);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { console: Buffer.from(console).toString('latin1'), result, instructions: m.cpu.icount, seconds, unimplemented: m.cpu.unimplemented, machine: m };
}

export function describeStop(r: RunResult): string {
  switch (r.reason) {
    case STOP_EXIT: return `guest exit ${r.exitStatus}`;
    case STOP_LIMIT: return 'instruction limit';
    case STOP_TRIPLE: return `triple fault: ${r.message}`;
    case STOP_HALTED: return 'halted for ever';
    default: return r.message;
  }
}
