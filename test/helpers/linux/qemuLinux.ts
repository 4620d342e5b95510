// QEMU's console for a real-Linux boot: the reference klp-lab's console is compared with. QEMU runs
// live (about 10 s with icount) because the kernel package may change ABI; its console is cached
// under .klp-tmp/linux/ by the inputs (QEMU version, kernel, initramfs, command line).
//
// The serial port writes to a file (`-serial file:`), not to a pipe (`-serial stdio`): when a pipe's
// reader lags, QEMU's 16550 sees EAGAIN, holds THRE back and retries later, so the guest polls longer
// and takes other interrupts: on a loaded host the console changed from run to run (ttyS0's interrupt
// count, sched_clock's stability mark, "deferred pages initialised in 8ms" instead of 4ms). A file
// never refuses a byte, which is what klp-lab's UART does, and every run is the same.

import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync, execFileSync } from 'child_process';
import { LINUX_CACHE, LINUX_CMDLINE, LinuxFixtureError, type LinuxFixture } from './linuxFixture';

/** The reference machine (REAL-LINUX.md): deterministic time with icount, HLT skipping ahead. */
export function qemuArgs(vmlinux: string, initramfs: string, append: string, serialFile: string): string[] {
  return ['-machine', 'pc', '-cpu', 'qemu64', '-m', '512', '-smp', '1', '-display', 'none', '-no-reboot',
    '-monitor', 'none', '-serial', `file:${serialFile}`, '-icount', 'shift=0,sleep=off',
    '-rtc', 'base=2024-01-01T00:00:00,clock=vm', '-kernel', vmlinux, '-initrd', initramfs, '-append', append];
}

export interface QemuRun { console: string; seconds: number; cached: boolean }

function digest(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Boots the fixture in QEMU (or reads the cached console of an identical earlier boot). */
export function qemuLinuxConsole(f: LinuxFixture, append = LINUX_CMDLINE, opts: { fresh?: boolean } = {}): QemuRun {
  const qemu = process.env.QEMU ?? 'qemu-system-x86_64';
  let version: string;
  try { version = execFileSync(qemu, ['--version'], { encoding: 'utf8' }).split('\n')[0]; } catch {
    throw new LinuxFixtureError(`${qemu} not found: install qemu-system-x86`);
  }
  // The key covers everything that shapes the console: QEMU, its arguments (the serial port's
  // kind among them) and the inputs' contents.
  const args = qemuArgs('VMLINUX', 'INITRAMFS', append, 'CONSOLE').join(' ');
  const key = crypto.createHash('sha256').update(`${version}\0${args}\0${digest(f.kernel.vmlinux)}\0${digest(f.initramfs)}`).digest('hex').slice(0, 16);
  const file = path.join(LINUX_CACHE, `qemu-${key}.console`);
  if (!opts.fresh && fs.existsSync(file)) return { console: fs.readFileSync(file, 'latin1'), seconds: 0, cached: true };
  fs.mkdirSync(LINUX_CACHE, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(qemu, qemuArgs(f.kernel.vmlinux, f.initramfs, append, tmp), { encoding: 'latin1', timeout: 300_000, stdio: ['ignore', 'ignore', 'pipe'] });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const fail = (why: string): never => { fs.rmSync(tmp, { force: true }); throw new LinuxFixtureError(why); };
  if (r.error) fail(`${qemu}: ${r.error.message}`);
  if (r.status !== 0) fail(`${qemu} exited with status ${r.status}: ${(r.stderr ?? '').trim().split('\n').pop()}`);
  const text = fs.readFileSync(tmp, 'latin1');
  fs.renameSync(tmp, file);
  return { console: text, seconds, cached: false };
}
