// The booted machine every real-kernel patch run starts from: Debian's Linux 6.1 with the lab
// initramfs in its `livepatch` scenario (fixtures/linux/lab-init: the workload's kthreads, user
// tasks asleep under read(2), a shell reading commands from the console), run to the scenario's
// ready line with the emulator's ground truth on from the first instruction, and saved. The
// snapshot is cached under .klp-tmp/linux, keyed by the digests of the kernel, the initramfs and
// the command line, so a run costs only its own instructions.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Machine, STOP_LIMIT } from '../../emulator/machine';
import type { OpenedSnapshot } from '../../emulator/snapshot/machineSnapshot';
import { LINUX_61_X86_64 } from '../../emulator/kernel/linuxLayout';
import { LINUX_CACHE, cached } from './labFiles';
import { LINUX_CMDLINE, LINUX_MEMORY, describeStop, linuxMachine } from './linuxBoot';

/** What lab-init prints when the scenario's tasks run and its shell waits for commands. */
export const LIVEPATCH_READY = 'init: livepatch ready';
/** The command line of the patch runs: the comparison boot's, with the lab-init scenario. */
export const LIVEPATCH_CMDLINE = `${LINUX_CMDLINE} scenario=livepatch`;
/** The boot to the ready line is about 1.5 G instructions; give it room, not for ever. */
const BOOT_LIMIT = 12e9;

export class LivepatchBootError extends Error {}

export interface LivepatchSnapshot {
  /** The snapshot file. */
  path: string;
  /** Virtual ns at which it was taken. */
  virtualTime: number;
  /** The console up to the ready line. */
  console: string;
}

function sha256File(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** The ground truth of a Linux machine tracks its kernel stacks (THREAD_SIZE regions). */
export function enableLinuxTruth(m: Machine): void {
  m.enableTruth(LINUX_61_X86_64.threadSize);
}

/** The cached booted snapshot for this kernel, initramfs and command line (booted on first use). */
export function livepatchSnapshot(vmlinux: string, initramfs: string, cmdline = LIVEPATCH_CMDLINE, onBoot?: () => void): LivepatchSnapshot {
  const key = crypto.createHash('sha256').update('livepatch-snapshot 1\0').update(sha256File(vmlinux)).update('\0')
    .update(sha256File(initramfs)).update('\0').update(cmdline).digest('hex').slice(0, 16);
  const dir = path.join(LINUX_CACHE, `livepatch-snapshot-${key}`);
  cached(dir, (tmp) => {
    onBoot?.();
    let ready = false;
    let machine: Machine | undefined;
    const { machine: m, console } = linuxMachine(vmlinux, initramfs, {
      append: cmdline,
      onMachine: enableLinuxTruth,
      onLine: (line) => { if (line.includes(LIVEPATCH_READY)) { ready = true; machine?.stop('ready'); } },
    });
    machine = m;
    const r = m.run(BOOT_LIMIT);
    const text = Buffer.from(console).toString('latin1');
    if (!ready) {
      const tail = text.trimEnd().split('\n').slice(-3).map((l) => l.trim()).join(' | ');
      throw new LivepatchBootError(`the livepatch scenario did not get ready (${r.reason === STOP_LIMIT ? 'instruction limit' : describeStop(r)}): ${tail}`);
    }
    fs.writeFileSync(path.join(tmp, 'snapshot'), m.saveSnapshot({ name: path.basename(vmlinux), sha256: '', cmdline }));
    fs.writeFileSync(path.join(tmp, 'console'), text);
    fs.writeFileSync(path.join(tmp, 'time'), String(m.cpu.icount));
  });
  return {
    path: path.join(dir, 'snapshot'),
    virtualTime: Number(fs.readFileSync(path.join(dir, 'time'), 'utf8')),
    console: fs.readFileSync(path.join(dir, 'console'), 'latin1'),
  };
}

/** A machine restored from the snapshot, ground truth on, console bytes to `onConsole`. */
export function restoreLivepatchMachine(snapshot: Uint8Array | OpenedSnapshot, onConsole: (b: number) => void): Machine {
  const m = new Machine({ memory: LINUX_MEMORY, onConsole });
  enableLinuxTruth(m);
  m.restoreSnapshot(snapshot);
  return m;
}
