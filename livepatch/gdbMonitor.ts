// The gdb stub's livepatch monitor commands for a guest kernel, the fixture kernel or real Linux
// (`klp-lab run IMAGE --gdb PORT`), read through the kernel's one layout description (emulator/kernel/):
//   monitor unwind [PID] [--kernel 4.12]  the frame-pointer (and, with ORC tables, the ORC) unwinders'
//                                         reliable traces of the gdb-selected task, with their verdicts,
//                                         as `klp-lab unwind IMAGE --at N` prints one task
//   monitor lp-state                      klp_target_state and every task's patch_state and
//                                         TIF_PATCH_PENDING, read from guest memory
// The emulator may not import livepatch/, so the commands are registered from here on the stub's
// MonitorCommands. Everything is read through MachineGuestView's side-effect-free page walk: asking
// changes nothing in the guest.

import type { ElfFile } from '../elf/elfFile';
import type { Machine } from '../emulator/machine';
import type { MonitorCommands, MonitorContext } from '../emulator/gdb/monitorCommands';
import { KLP_PATCHED, KLP_UNDEFINED, KLP_UNPATCHED } from './patchState';
import { KernelImage } from './unwind/kernelImage';
import { formatAddress } from './unwind/textSymbols';
import type { KernelLayout } from '../emulator/kernel/kernelLayout';
import { GuestModules } from './observe/guestModules';
import { LinuxStacks } from './observe/linuxStacks';
import { MachineGuestView, type MachineTask, taskLayoutOf } from './observe/machineGuestView';
import type { ReliableVersion } from './unwind/reliableStackTrace';
import { StackInspector, type UnwinderName } from './unwind/stackInspector';
import { formatTaskUnwind } from './unwind/traceFormat';

interface LivepatchLayout {
  patchState: number;
  flags: number;
  tifPatchPending: number;
  klpTargetState: number;
}

/** Where the livepatch state is, from the kernel's layout description (fixture exports or BTF). */
function livepatchLayoutOf(layout: KernelLayout): LivepatchLayout | null {
  const klpTargetState = layout.symbol('klp_target_state');
  if (klpTargetState === undefined) return null;
  return { patchState: layout.task.patchState.offset, flags: layout.task.tifFlags.offset, tifPatchPending: layout.constants.tifPatchPending, klpTargetState };
}

export function patchStateName(v: number): string {
  switch (v) {
    case KLP_UNDEFINED: return 'KLP_UNDEFINED';
    case KLP_UNPATCHED: return 'KLP_UNPATCHED';
    case KLP_PATCHED: return 'KLP_PATCHED';
    default: return 'invalid';
  }
}

function targetMeaning(v: number): string {
  switch (v) {
    case KLP_UNDEFINED: return 'no transition in progress';
    case KLP_UNPATCHED: return 'unpatching';
    case KLP_PATCHED: return 'patching';
    default: return 'not a patch state';
  }
}

/** Commands over one machine running one kernel image. */
export class KernelMonitor {
  readonly view: MachineGuestView;
  private readonly lp: LivepatchLayout | null;

  /** real Linux: the loaded modules, re-read before each unwind (their text, symbols, ORC) */
  modules: GuestModules | null = null;

  constructor(readonly machine: Machine, readonly image: KernelImage, view: MachineGuestView) {
    this.view = view;
    this.lp = livepatchLayoutOf(view.layout);
  }

  /** The monitor for a kernel image that describes its layout (fixture kernel or real Linux), or null. */
  static forImage(m: Machine, elf: ElfFile): KernelMonitor | null {
    const image = KernelImage.fromElf(elf);
    const layout = taskLayoutOf(image);
    if (typeof layout === 'string') return null;
    const view = new MachineGuestView(m, image, layout);
    const km = new KernelMonitor(m, image, view);
    if (layout.source === 'btf-kallsyms') {
      view.extraStackSource = LinuxStacks.fromElf(elf, layout);
      km.modules = GuestModules.fromElf(elf, layout);
    }
    return km;
  }

  get hasLivepatchState(): boolean { return this.lp !== null; }

  private i32(addr: number): number | null {
    const b = this.view.readBytes(addr, 4);
    return b === null ? null : b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24);
  }

  private bit(addr: number, bit: number): boolean | null {
    const b = this.view.readBytes(addr + (bit >> 3), 1);
    return b === null ? null : ((b[0] >> (bit & 7)) & 1) === 1;
  }

  private tasks(): readonly MachineTask[] {
    this.view.refresh();
    this.modules?.sync(this.view, this.image);
    return this.view.tasks();
  }

  /** The task a command is about: `PID` if given, else the gdb-selected one (which falls back to current). */
  private target(pidArg: string | undefined, ctx: MonitorContext, tasks: readonly MachineTask[]): MachineTask {
    if (pidArg !== undefined) {
      if (!/^\d+$/.test(pidArg)) throw new Error(`"${pidArg}" is not a pid`);
      const t = tasks.find((x) => x.pid === Number(pidArg));
      if (t === undefined) throw new Error(`no task with pid ${pidArg}`);
      return t;
    }
    const want = ctx.selected ?? ctx.current;
    if (want === null) throw new Error('no task selected (the task list is not readable yet)');
    const t = tasks.find((x) => x.addr === want.addr);
    if (t === undefined) throw new Error(`task ${formatAddress(want.addr)} is not on the task list`);
    return t;
  }

  unwind(args: string[], ctx: MonitorContext): string {
    let version: ReliableVersion = '6.1';
    let pid: string | undefined;
    for (let i = 0; i < args.length; i++) {
      if (args[i] === '--kernel') {
        const v = args[++i];
        if (v !== '6.1' && v !== '4.12') throw new Error('--kernel takes 6.1 or 4.12');
        version = v;
      } else if (pid === undefined) pid = args[i];
      else throw new Error('usage: monitor unwind [PID] [--kernel 6.1|4.12]');
    }
    const task = this.target(pid, ctx, this.tasks());
    const names: UnwinderName[] = this.image.orc !== null ? ['fp', 'orc'] : ['fp'];
    const insp = new StackInspector(this.view, this.image, names, version);
    const result = insp.unwindTask(task, this.machine.truth);
    const out = [`stopped after ${this.machine.instructions} instructions (kernel ${version} rules)`];
    if (this.image.orc === null) out.push('orc: the image has no ORC tables (orc_init false): frame pointers only');
    out.push(formatTaskUnwind(result, this.image.kallsyms));
    return out.join('\n') + '\n';
  }

  lpState(_args: string[], ctx: MonitorContext): string {
    const lp = this.lp;
    if (lp === null) return 'the kernel has no livepatch state (no klp_target_state symbol)\n';
    const tasks = this.tasks();
    const selected = ctx.selected ?? ctx.current;
    const target = this.i32(lp.klpTargetState);
    const out = [target === null ? 'klp_target_state: not readable' : `klp_target_state ${target} ${patchStateName(target)} (${targetMeaning(target)})`];
    out.push(`   ${'pid'.padStart(5)}  ${'comm'.padEnd(16)} ${'kind'.padEnd(8)} ${'patch_state'.padEnd(17)} TIF_PATCH_PENDING`);
    for (const t of tasks) {
      const state = this.i32(t.addr + lp.patchState);
      const pending = this.bit(t.addr + lp.flags, lp.tifPatchPending);
      const mark = (selected !== null && t.addr === selected.addr ? '*' : ' ') + (ctx.current !== null && t.addr === ctx.current.addr ? '>' : ' ');
      const stateText = state === null ? '?' : `${String(state).padStart(2)} ${patchStateName(state)}`;
      out.push(`${mark} ${String(t.pid).padStart(5)}  ${t.name.padEnd(16)} ${t.kind.padEnd(8)} ${stateText.padEnd(17)} ${pending === null ? '?' : pending ? 'set' : '-'}`);
    }
    out.push('(* the gdb-selected task, > the task on the CPU)');
    return out.join('\n') + '\n';
  }
}

/**
 * Register `unwind` and `lp-state` when the image describes its layout (fixture kernel, real Linux), and
 * turn on the emulator's ground truth so the unwind verdicts can be judged (call before the guest runs).
 * Returns false, registering nothing, for other images.
 */
export function attachKernelMonitor(monitor: MonitorCommands, m: Machine, elf: ElfFile): boolean {
  const km = KernelMonitor.forImage(m, elf);
  if (km === null) return false;
  if (m.truth === null) m.enableTruth(km.view.layout.threadSize);
  monitor.register('unwind', "unwinders' reliable traces of the selected task (or PID) with their verdicts: unwind [PID] [--kernel 6.1|4.12]",
    (args, ctx) => km.unwind(args, ctx));
  if (km.hasLivepatchState) {
    monitor.register('lp-state', 'livepatch state: klp_target_state, per task patch_state and TIF_PATCH_PENDING (* selected, > on the CPU)',
      (args, ctx) => km.lpState(args, ctx));
  }
  return true;
}
