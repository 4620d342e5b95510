// What the unwinders may see of a stopped guest: a read-only view that keeps livepatch/unwind
// independent of the emulator. The emulator (or a synthetic test guest) implements it.
//
// Addresses and stack words are JS numbers holding the signed 64-bit value: a canonical
// x86_64 address lies in [-2^47, 2^47) and is exact, kernel addresses are negative
// (0xffffffff81000000 is -0x7f000000). A non-canonical word may be inexact; it is never on a
// stack nor in kernel text, so every check that matters still rejects it. No bigint here.

import type { InactiveTaskFrameLayout, RegsSnapshot } from './ptRegs';

export type TaskKind = 'user' | 'kthread' | 'idle';

export interface GuestTask {
  readonly pid: number;
  readonly name: string;
  readonly kind: TaskKind;
  /** task_stack_page(task): lowest address of the kernel stack */
  readonly stackBegin: number;
  /** task_stack_page(task) + THREAD_SIZE: one past the highest address */
  readonly stackEnd: number;
  /** thread.sp: where __switch_to_asm left the inactive_task_frame (stale while running) */
  readonly threadSp: number;
  /** On the CPU when the guest stopped: its state is the CPU's registers, not thread.sp. */
  readonly running: boolean;
  /** try_get_task_stack() would succeed (false for an exited task whose stack is gone). */
  readonly hasStack: boolean;
}

/** task_pt_regs(task): the top of the stack minus sizeof(pt_regs) (no padding on x86_64). */
export { taskPtRegs } from './taskPtRegs';

/** A stack other than the task stack (IRQ, exception/IST, entry) valid for the running task. */
export interface ExtraStack {
  /** STACK_TYPE_* (stackInfo.ts); each type may be entered once per walk */
  readonly type: number;
  readonly begin: number;
  readonly end: number;
  /** the stack pointer of the stack this one was entered from (0 = none) */
  readonly nextSp: number;
}

export interface GuestMemory {
  /**
   * The 64-bit little-endian word at a kernel virtual address, as a signed number, or
   * undefined when the address is not mapped (a guest fault, never a host exception).
   */
  readWord(addr: number): number | undefined;
}

export interface GuestView extends GuestMemory {
  /** Every task in the guest's task list, in list order. */
  tasks(): readonly GuestTask[];
  /** The CPU's registers in pt_regs order, for the running task; null if no task runs. */
  cpuRegs(): RegsSnapshot | null;
  /** Stacks besides the task stack that the running task may be on (empty when none). */
  extraStacks(task: GuestTask): readonly ExtraStack[];
  /** The inactive_task_frame layout (Linux's unless the guest says otherwise). */
  readonly inactiveTaskFrame: InactiveTaskFrameLayout;
}
