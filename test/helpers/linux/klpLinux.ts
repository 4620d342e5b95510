// Boots the real-Linux fixture in klp-lab as the QEMU reference does (512 MiB, the same command
// line, the initramfs as the PVH module), collecting the console and the run's figures.

import * as fs from 'fs';
import { Machine, STOP_EXIT, STOP_LIMIT, STOP_TRIPLE, STOP_HALTED, type RunResult } from '../../../emulator/machine';
import { loadPvh, START_INFO_PADDR } from '../../../emulator/loader/pvh';
import { LINUX_CMDLINE, type LinuxFixture } from './linuxFixture';

export const LINUX_MEMORY = 512 << 20;

/**
 * Where QEMU's PVH boot puts the initrd: the highest page-aligned address below
 * below_4g_mem_size - acpi_data_size (0x28000 on -machine pc) (QEMU hw/i386/x86.c, x86_load_linux).
 */
export function initrdAddress(memory: number, size: number): number {
  return Math.floor((memory - 0x28000 - 1 - size) / 4096) * 4096;
}

/** Places the initramfs as module 0 of the PVH start info (hvm_start_info.nr_modules/modlist_paddr). */
function addInitrd(m: Machine, initrd: Uint8Array): void {
  const addr = initrdAddress(m.mem.size, initrd.length);
  m.mem.writeBytes(addr, initrd);
  const modlist = START_INFO_PADDR + 0x180; // after the start info, memory map and command line
  const entry = Buffer.alloc(32); // hvm_modlist_entry: paddr, size, cmdline_paddr, reserved
  entry.writeBigUInt64LE(BigInt(addr), 0);
  entry.writeBigUInt64LE(BigInt(initrd.length), 8);
  m.mem.writeBytes(modlist, entry);
  const si = Buffer.alloc(12);
  si.writeUInt32LE(1, 0); // nr_modules
  si.writeBigUInt64LE(BigInt(modlist), 4);
  m.mem.writeBytes(START_INFO_PADDR + 12, si);
}

export interface KlpLinuxRun {
  console: string;
  result: RunResult;
  /** Retired instructions of the whole run. */
  instructions: number;
  seconds: number;
  unimplemented: Map<string, number>;
  machine: Machine;
}

export function klpBootLinux(f: LinuxFixture, opts: { append?: string; maxInsns?: number; onLine?: (line: string) => void; onMachine?: (m: Machine) => void } = {}): KlpLinuxRun {
  const bytes: number[] = [];
  let line: number[] = [];
  const m = new Machine({
    memory: LINUX_MEMORY,
    onConsole: (b) => {
      bytes.push(b);
      if (opts.onLine) { if (b === 10) { opts.onLine(Buffer.from(line).toString('latin1').replace(/\r$/, '')); line = []; } else line.push(b); }
    },
  });
  loadPvh(m, fs.readFileSync(f.kernel.vmlinux), f.kernel.vmlinux, opts.append ?? LINUX_CMDLINE);
  addInitrd(m, fs.readFileSync(f.initramfs));
  opts.onMachine?.(m);
  const t0 = process.hrtime.bigint();
  const result = m.run(opts.maxInsns ?? 20e9);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { console: Buffer.from(bytes).toString('latin1'), result, instructions: m.cpu.icount, seconds, unimplemented: m.cpu.unimplemented, machine: m };
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
