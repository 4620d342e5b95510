// A guest kernel in klp-lab's emulator with ground truth on, run to an instruction count and
// stopped there: the guest view, the kernel image and the truth the unwinders are judged by. A
// fixture kernel boots from its PVH entry; real Linux starts from a machine its caller prepared
// (linuxWorkload.ts restores a booted snapshot) and reads its other stacks through linuxStacks.ts.

import { ElfFile } from '../../elf/elfFile';
import { Machine, STOP_EXIT, STOP_LIMIT, type RunResult } from '../../emulator/machine';
import { loadPvh } from '../../emulator/loader/pvh';
import type { CallStackTruth } from '../../emulator/truth/callStacks';
import { KernelImage } from '../unwind/kernelImage';
import type { KernelLayout } from '../../emulator/kernel/kernelLayout';
import { GuestModules } from './guestModules';
import { LinuxStacks } from './linuxStacks';
import { MachineGuestView, taskLayoutOf } from './machineGuestView';

export class GuestSetupError extends Error {}

/** A machine already loaded (and perhaps run) by the caller, with its parsed image. */
export interface PreparedMachine {
  machine: Machine;
  image: KernelImage;
  /** real Linux: its other stacks and module reader, read from the image's BTF once by the caller */
  linux?: { stacks: LinuxStacks | null; modules: GuestModules | null };
}

export class StoppedGuest {
  readonly machine: Machine;
  readonly image: KernelImage;
  readonly layout: KernelLayout;
  readonly view: MachineGuestView;
  readonly truth: CallStackTruth;
  /** real Linux: its loaded modules, read from guest memory at each stop */
  readonly modules: GuestModules | null = null;
  /** the last run's result */
  last: RunResult | null = null;

  constructor(readonly bytes: Uint8Array, readonly name: string, prepared?: PreparedMachine) {
    this.image = prepared?.image ?? KernelImage.fromElf(ElfFile.parse(bytes, name));
    const layout = taskLayoutOf(this.image);
    if (typeof layout === 'string') throw new GuestSetupError(`${name}: ${layout}`);
    this.layout = layout;
    if (prepared !== undefined) {
      this.machine = prepared.machine;
    } else {
      this.machine = new Machine({ onConsole: () => undefined });
      loadPvh(this.machine, bytes, name);
    }
    this.truth = this.machine.enableTruth(layout.threadSize);
    this.view = new MachineGuestView(this.machine, this.image, layout);
    if (layout.source === 'btf-kallsyms') {
      const linux = prepared?.linux ?? linuxReaders(ElfFile.parse(bytes, name), layout);
      this.view.extraStackSource = linux.stacks;
      this.modules = linux.modules?.fresh() ?? null;
      this.modules?.sync(this.view, this.image);
    }
  }

  /** Retired instructions so far. */
  get at(): number {
    return this.machine.instructions;
  }

  /**
   * Runs until `target` instructions have retired in total. Returns true when the machine
   * stopped there (false: the guest exited, halted or triple-faulted first; see `last`).
   */
  runTo(target: number): boolean {
    const left = target - this.machine.instructions;
    if (left > 0) this.last = this.machine.run(left);
    this.view.refresh();
    this.modules?.sync(this.view, this.image);
    return this.machine.instructions >= target && (this.last === null || this.last.reason === STOP_LIMIT);
  }

  /** Why the last run stopped, as one line. */
  stopText(): string {
    if (this.last === null) return 'not run';
    if (this.last.reason === STOP_EXIT) return `guest exited with status ${this.last.exitStatus} after ${this.machine.instructions} instructions`;
    return `${this.machine.describeStop(this.last)} after ${this.machine.instructions} instructions`;
  }
}

/** Real Linux's readers of its other stacks and of its loaded modules (each parses the BTF). */
export function linuxReaders(elf: ElfFile, layout: KernelLayout): { stacks: LinuxStacks | null; modules: GuestModules | null } {
  return { stacks: LinuxStacks.fromElf(elf, layout), modules: GuestModules.fromElf(elf, layout) };
}
