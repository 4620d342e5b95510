// Real Linux running the lab initramfs's `scenario=workload` (fixtures/linux/lab-init): the
// klp_lab_workload kthreads, user tasks asleep in read(2), a shell loop. It is booted once with
// ground truth on, up to the console line "init: workload ready", and saved as a snapshot cached
// under .klp-tmp/linux, keyed by the digests of the kernel, the initramfs and the command line. A
// study then restores it (100-200 ms) and pays only for its own stop points.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ElfFile } from '../../elf/elfFile';
import { Machine, STOP_HOST } from '../../emulator/machine';
import { OpenedSnapshot } from '../../emulator/snapshot/machineSnapshot';
import { LINUX_CMDLINE, LINUX_MEMORY, describeStop, linuxMachine } from '../linux/linuxBoot';
import { LINUX_CACHE } from '../linux/labFiles';
import { KernelImage } from '../unwind/kernelImage';
import { GuestSetupError, StoppedGuest, linuxReaders } from './stoppedGuest';

export const WORKLOAD_READY = 'init: workload ready';
export const WORKLOAD_CMDLINE = `${LINUX_CMDLINE} scenario=workload`;
/** Ground truth's stack regions: THREAD_SIZE of Linux 6.1 x86_64 (task stacks are THREAD_ALIGN-ed). */
const TRUTH_STACK_SIZE = 16384;

function digestFile(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

export interface WorkloadSnapshot {
  file: string;
  /** retired instructions at the snapshot */
  instructions: number;
}

/**
 * The booted workload's snapshot file (built on first use: a boot of 1.5 G instructions or more).
 * `onLine` sees the console of that boot.
 */
export function workloadSnapshot(vmlinux: string, initramfs: string, onLine?: (line: string) => void): WorkloadSnapshot {
  const key = crypto.createHash('sha256')
    .update(`unwind-workload 1\0${digestFile(vmlinux)}\0${digestFile(initramfs)}\0${WORKLOAD_CMDLINE}\0`).digest('hex').slice(0, 16);
  const file = path.join(LINUX_CACHE, `unwind-workload-${key}.snap`);
  if (!fs.existsSync(file)) {
    let machine: Machine | null = null;
    let ready = false;
    const { machine: m } = linuxMachine(vmlinux, initramfs, {
      append: WORKLOAD_CMDLINE,
      onMachine: (mm) => { mm.enableTruth(TRUTH_STACK_SIZE); machine = mm; },
      onLine: (line) => {
        onLine?.(line);
        if (line.includes(WORKLOAD_READY)) { ready = true; machine?.stop('workload ready'); }
      },
    });
    const r = m.run(30e9);
    if (!ready || r.reason !== STOP_HOST) throw new GuestSetupError(`${vmlinux}: the workload never got ready (${describeStop(r)} after ${m.instructions} instructions)`);
    const bytes = m.saveSnapshot({ name: path.basename(vmlinux), sha256: digestFile(vmlinux), cmdline: WORKLOAD_CMDLINE });
    fs.mkdirSync(LINUX_CACHE, { recursive: true });
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, file);
  }
  const opened = OpenedSnapshot.open(fs.readFileSync(file));
  return { file, instructions: opened.info.instructions };
}

/** Restores stopped guests from one snapshot: the image is parsed and the snapshot unpacked once. */
export class WorkloadGuests {
  private readonly snapshot: OpenedSnapshot;
  readonly bytes: Uint8Array;
  readonly image: KernelImage;
  readonly instructions: number;
  private readonly linux: ReturnType<typeof linuxReaders>;

  constructor(readonly vmlinux: string, readonly snapshotFile: string) {
    this.bytes = new Uint8Array(fs.readFileSync(vmlinux));
    this.snapshot = OpenedSnapshot.open(fs.readFileSync(snapshotFile));
    this.instructions = this.snapshot.info.instructions;
    const elf = ElfFile.parse(this.bytes, vmlinux);
    this.image = KernelImage.fromElf(elf);
    if (this.image.layout === null) throw new GuestSetupError(`${vmlinux}: not a Linux image with BTF and kallsyms`);
    this.linux = linuxReaders(elf, this.image.layout);
  }

  /** A fresh machine at the snapshot, stopped there, ground truth loaded. */
  restore(): StoppedGuest {
    const machine = new Machine({ memory: LINUX_MEMORY, onConsole: () => undefined });
    machine.enableTruth(TRUTH_STACK_SIZE);
    machine.restoreSnapshot(this.snapshot);
    return new StoppedGuest(this.bytes, this.vmlinux, { machine, image: this.image, linux: this.linux });
  }
}

/** A kernel image klp-lab runs as real Linux (its layout is in its .BTF), not as a fixture kernel. */
export function isLinuxImage(elf: ElfFile): boolean {
  return elf.section('.BTF') !== undefined && elf.section('.orc_unwind') !== undefined;
}

/** Stop points after the workload snapshot, by default: 1 s of the guest's virtual time. */
export const LINUX_STUDY_INSNS = 1_000_000_000;
