// What the livepatch core needs from the kernel it patches. The real implementation reads and
// writes the fixture kernel's memory inside the emulator; tests use a small fake. The names
// follow the kernel primitives each method stands for.

import type { PatchState } from './patchState';

/** A guest task, identified by the address of its task structure. */
export interface KlpTask {
  readonly address: number;
  readonly pid: number;
  readonly comm: string;
  readonly kind: 'user' | 'kthread' | 'idle';
  /** For idle tasks: the CPU they idle. */
  readonly cpu?: number;
}

/** stack_trace_save_tsk_reliable: the return addresses, or a negative errno when unreliable. */
export type ReliableTrace = { entries: number[] } | { error: number };

export interface KernelPort {
  /** for_each_process_thread: every task except the idle tasks. */
  tasks(): KlpTask[];
  /** idle_task(cpu) for each possible CPU, with whether the CPU is online. */
  idleTasks(): Array<{ task: KlpTask; online: boolean }>;

  patchState(task: KlpTask): PatchState;
  setPatchState(task: KlpTask, state: PatchState): void;
  patchPending(task: KlpTask): boolean;
  setPatchPending(task: KlpTask, pending: boolean): void;
  /** klp_target_state as the guest's klp_update_patch_state reads it. */
  setTargetState(state: PatchState): void;

  /** task_curr(task) && task != current: running on a CPU, so its stack cannot be checked. */
  isRunningElsewhere(task: KlpTask): boolean;
  /** stack_trace_save_tsk_reliable with livepatch's 100-entry buffer. */
  reliableStackTrace(task: KlpTask, maxEntries: number): ReliableTrace;
  /** klp_have_reliable_stack(): CONFIG_STACKTRACE && HAVE_RELIABLE_STACKTRACE. */
  haveReliableStack(): boolean;

  /** wake_up_state(task, TASK_INTERRUPTIBLE). */
  wakeUpInterruptible(task: KlpTask): void;
  /** set_notify_signal(task): a fake signal that sends the task through the exit path. */
  setNotifySignal(task: KlpTask): void;
  /** wake_up_if_idle(cpu). */
  wakeUpIfIdle(cpu: number): void;

  /** klp_synchronize_transition(): schedule_on_each_cpu(no-op). */
  synchronize(): void;
  /** Virtual time in nanoseconds. */
  now(): number;
  /** jiffies and HZ, for round_jiffies_relative (without them the retry period is 1 s). */
  jiffies?(): { jiffies: number; hz: number };
  /** klp_cond_resched_enable/disable: 6.4's klp_sched_try_switch_key. */
  setSchedTrySwitch(on: boolean): void;
  /** schedule_delayed_work: run `work` after `delayNs` of virtual time (replacing a pending one). */
  scheduleDelayedWork(delayNs: number, work: () => void): void;
}
