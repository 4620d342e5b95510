// One description of a guest kernel's layout, for everything on the host that reads a kernel's
// memory: the gdb stub's threads, the trace's task names, the unwinders' view of stacks, the
// livepatch lab and the consistency checker. It has two sources, and nothing else may hold an
// offset: the fixture kernel exports its own (fixtureLayout.ts, the asm-offsets trick), and real
// Linux describes itself through its BTF and its kallsyms (linuxLayout.ts). The livepatch
// structures a patch module passes to klp_enable_patch have their own part (klpLayout.ts).
import type { Field } from './field';
import type { KlpLayout } from './klpLayout';

export type { Field } from './field';

export interface TaskFields {
  /** struct list_head linking every task from init_task */
  tasks: Field;
  pid: Field;
  comm: Field;
  /** the scheduler state word (Linux 6.1: __state) */
  state: Field;
  /** the base of the task's kernel stack (a pointer) */
  stack: Field;
  /** thread.sp: the stack pointer __switch_to_asm saved */
  sp: Field;
  /** task->flags (PF_*) */
  pfFlags: Field | null;
  /** thread_info.flags (TIF_*) */
  tifFlags: Field;
  patchState: Field;
  onRq: Field;
}

/** struct inactive_task_frame: what __switch_to_asm pushed for a sleeping task. */
export interface InactiveFrameFields { size: number; r15: number; r14: number; r13: number; r12: number; bx: number; bp: number; retAddr: number }

/** The values of the kernel's #defines that host code tests against (a kernel version's ABI). */
export interface KernelConstants {
  tifPatchPending: number;
  tifNotifySignal: number;
  taskRunning: number;
  taskInterruptible: number;
  pfKthread: number;
  pfIdle: number;
}

export interface KernelLayout {
  /** which kernel, as a reader should see it ("fixture kernel", "Linux 6.1.0-57-cloud-amd64") */
  readonly description: string;
  readonly source: 'fixture-exports' | 'btf-kallsyms';
  readonly initTask: number;
  /**
   * The current-task pointer: a plain variable (the fixture kernel's current_task), or a per-CPU
   * variable whose CPU-0 copy is at __per_cpu_offset[0] + `at` (Linux 6.1's current_task).
   */
  readonly currentTask: { at: number; perCpu: boolean };
  /** address of __per_cpu_offset[], for per-CPU variables */
  readonly perCpuOffsets: number | null;
  readonly threadSize: number;
  readonly task: TaskFields;
  readonly listNext: Field;
  readonly frame: InactiveFrameFields;
  readonly constants: KernelConstants;
  /** struct klp_patch and what it points to; null when the image does not describe them (no livepatch) */
  readonly klp: KlpLayout | null;
  /** The fixture kernel records what a task is (user, kthread, idle); Linux derives it from PF_* flags. */
  readonly taskKind: { field: Field; user: number; kthread: number; idle: number } | null;
  /** address of a kernel symbol */
  symbol(name: string): number | undefined;
}

/** The address of the current-task pointer of CPU 0, given a reader of 64-bit guest words. */
export function currentTaskPointerAt(layout: KernelLayout, read64: (va: number) => number | null): number | null {
  if (!layout.currentTask.perCpu) return layout.currentTask.at;
  if (layout.perCpuOffsets === null) return null;
  const base = read64(layout.perCpuOffsets);
  return base === null ? null : base + layout.currentTask.at;
}

export type TaskKind = 'user' | 'kthread' | 'idle';

/** What a task is, from the fixture's kind field or from Linux's PF_* flags and pid. */
export function taskKindOf(layout: KernelLayout, pid: number, kindValue: number | null, pfFlags: number | null): TaskKind {
  if (layout.taskKind !== null && kindValue !== null) {
    return kindValue === layout.taskKind.idle ? 'idle' : kindValue === layout.taskKind.kthread ? 'kthread' : 'user';
  }
  if (pid === 0 || (pfFlags !== null && (pfFlags & layout.constants.pfIdle) !== 0)) return 'idle';
  return pfFlags !== null && (pfFlags & layout.constants.pfKthread) !== 0 ? 'kthread' : 'user';
}
