// QEMU's console for a real-Linux boot: the reference klp-lab's console is compared with. QEMU runs
// live (about 2 s with icount) because the kernel package may change ABI; its console is cached under
// .klp-tmp/linux/ by the inputs (QEMU version, kernel, initramfs, command line).

import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync, execFileSync } from 'child_process';
import { LINUX_CACHE, LINUX_CMDLINE, LinuxFixtureError, type LinuxFixture } from './linuxFixture';

/** The reference machine (REAL-LINUX.md): deterministic time with icount, HLT skipping ahead. */
export function qemuArgs(vmlinux: string, initramfs: string, append: string): string[] {
  return ['-machine', 'pc', '-cpu', 'qemu64', '-m', '512', '-smp', '1', '-display', 'none', '-no-reboot',
    '-monitor', 'none', '-serial', 'stdio', '-icount', 'shift=0,sleep=off',
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
  const key = crypto.createHash('sha256').update(`${version}\0${digest(f.kernel.vmlinux)}\0${digest(f.initramfs)}\0${append}`).digest('hex').slice(0, 16);
  const file = path.join(LINUX_CACHE, `qemu-${key}.console`);
  if (!opts.fresh && fs.existsSync(file)) return { console: fs.readFileSync(file, 'latin1'), seconds: 0, cached: true };
  const t0 = process.hrtime.bigint();
  const r = spawnSync(qemu, qemuArgs(f.kernel.vmlinux, f.initramfs, append), { encoding: 'latin1', timeout: 300_000, maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.error) throw new LinuxFixtureError(`${qemu}: ${r.error.message}`);
  if (r.status !== 0) throw new LinuxFixtureError(`${qemu} exited with status ${r.status}: ${(r.stderr ?? '').trim().split('\n').pop()}`);
  fs.mkdirSync(LINUX_CACHE, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, r.stdout, 'latin1');
  fs.renameSync(tmp, file);
  return { console: r.stdout, seconds, cached: false };
}
