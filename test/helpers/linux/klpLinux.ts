// Boots the real-Linux fixture in klp-lab as the QEMU reference does (512 MiB, the same command
// line, the initramfs as PVH module 0 where QEMU puts it, RTC base 2024-01-01 as klp-lab's default),
// collecting the console and the run's figures.

import * as fs from 'fs';
import { Machine, STOP_EXIT, STOP_LIMIT, STOP_TRIPLE, STOP_HALTED, type RunResult } from '../../../emulator/machine';
import { loadPvh } from '../../../emulator/loader/pvh';
import { LINUX_CMDLINE, type LinuxFixture } from './linuxFixture';

export const LINUX_MEMORY = 512 << 20;

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
  loadPvh(m, fs.readFileSync(f.kernel.vmlinux), f.kernel.vmlinux,
    { cmdline: opts.append ?? LINUX_CMDLINE, initrd: { bytes: fs.readFileSync(f.initramfs), name: f.initramfs } });
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
