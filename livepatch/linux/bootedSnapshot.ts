// Real Linux booted once, then restored: the machine is saved at the moment /init prints its ready
// line (e.g. "init: scenario selftests"), and later runs with the same vmlinux, initramfs and
// command line start from there, so each pays only its own instructions (the boot is ~1.4 G).
// Snapshots are cached under .klp-tmp/linux, keyed by the digests of the kernel and initramfs, the
// command line, the ready line and the emulator's own code (a changed emulator boots afresh, so a
// snapshot never hides what a change does to the boot). The kernel turns its command line into /init's environment
// while it boots, so the snapshot is per command line: a scenario, not a whole machine, is shared.
//
// A fresh boot and a restored one run on identically from the ready point (machineSnapshot.ts);
// the console handed to the caller starts after the ready line in both cases.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { STOP_HOST, type Machine } from '../../emulator/machine';
import { SnapshotError } from '../../emulator/snapshot/snapshotError';
import { LINUX_CACHE } from './labFiles';
import { LINUX_MEMORY, describeStop, linuxMachine } from './linuxBoot';

export class LinuxBootError extends Error {}

export interface BootedLinuxOptions {
  /** The kernel command line. */
  append: string;
  /** The console line (without its newline) at which the guest counts as booted. */
  readyLine: string;
  /** Most instructions the boot may take to reach the ready line (default 6 G). */
  maxBootInsns?: number;
  /** Each console line after the ready line. */
  onLine?: (line: string) => void;
}

export interface BootedLinux {
  machine: Machine;
  /** Console bytes after the ready line. */
  console: number[];
  /** Whether the machine came from a cached snapshot (otherwise it booted and saved one). */
  restored: boolean;
  /** Retired instructions from the kernel's entry to the ready line. */
  bootInstructions: number;
  /** The snapshot file. */
  snapshot: string;
}

function fileDigest(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Digest of the emulator's code (emulator/, as built or as sources), computed once per process. */
let emulatorCode: string | null = null;
function emulatorDigest(): string {
  if (emulatorCode !== null) return emulatorCode;
  const root = path.join(__dirname, '..', '..', 'emulator');
  const hash = crypto.createHash('sha256');
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(js|ts)$/.test(e.name) && !e.name.endsWith('.d.ts')) hash.update(`${path.relative(root, p)}\0`).update(fs.readFileSync(p));
    }
  };
  walk(root);
  emulatorCode = hash.digest('hex');
  return emulatorCode;
}

/** The snapshot file for these inputs (it may not exist yet). */
export function bootedSnapshotPath(vmlinux: string, initramfs: string, append: string, readyLine: string): string {
  const key = crypto.createHash('sha256')
    .update(`booted-linux 1\0${fileDigest(vmlinux)}\0${fileDigest(initramfs)}\0${append}\0${readyLine}\0${LINUX_MEMORY}\0${emulatorDigest()}`)
    .digest('hex').slice(0, 16);
  return path.join(LINUX_CACHE, `booted-${key}.snapshot`);
}

/** The machine at its ready line: restored from the cached snapshot, or booted (and saved). */
export function bootedLinux(vmlinux: string, initramfs: string, o: BootedLinuxOptions): BootedLinux {
  const file = bootedSnapshotPath(vmlinux, initramfs, o.append, o.readyLine);
  let ready = false;
  let machine: Machine | null = null;
  const onLine = (line: string): void => {
    if (ready) { o.onLine?.(line); return; }
    if (line.replace(/\r$/, '') === o.readyLine) { ready = true; machine?.stop('ready'); }
  };
  const built = linuxMachine(vmlinux, initramfs, { append: o.append, onLine });
  machine = built.machine;
  const sha256 = crypto.createHash('sha256').update(fs.readFileSync(vmlinux)).digest('hex');
  if (fs.existsSync(file)) {
    try {
      const info = machine.restoreSnapshot(fs.readFileSync(file), { sha256 });
      if (info.cmdline !== o.append) throw new SnapshotError(`taken with the command line "${info.cmdline}"`);
      ready = true;
      return { machine, console: built.console, restored: true, bootInstructions: info.instructions, snapshot: file };
    } catch (e) {
      // A damaged or foreign cache file: boot afresh into a new machine and replace it.
      if (!(e instanceof SnapshotError)) throw e;
      fs.rmSync(file, { force: true });
      return bootedLinux(vmlinux, initramfs, o);
    }
  }
  const r = machine.run(o.maxBootInsns ?? 6e9);
  if (!ready || r.reason !== STOP_HOST) {
    throw new LinuxBootError(`the kernel did not reach "${o.readyLine}" (${describeStop(r)} after ${machine.instructions} instructions)`);
  }
  built.console.length = 0;
  const bytes = machine.saveSnapshot({ name: path.basename(vmlinux), sha256, cmdline: o.append });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return { machine, console: built.console, restored: false, bootInstructions: machine.instructions, snapshot: file };
}
