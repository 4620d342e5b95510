// The livepatch core's view of the fixture kernel running in the emulator (KernelPort): task
// states and TIF flags in guest task structures (offsets and widths from the kernel's layout
// description, emulator/kernel/),
// klp_target_state in guest memory, reliable stack traces from the unwinders, and the delayed
// work on the khostcall kthread.
//
// One CPU: the core only runs in a hypercall from khostcall (module init, the delayed work),
// so every other task is switched out and "running elsewhere" never applies. The current
// task's own stack is checked as the kernel checks current's: from its frame at the hypercall
// (see currentTrace).

import type { KernelPort, KlpTask, ReliableTrace } from '../kernelPort';
import { KLP_UNDEFINED, type PatchState } from '../patchState';
import type { GuestTask } from '../unwind/guestView';
import type { MachineGuestView, MachineTask } from '../observe/machineGuestView';
import type { ReliableStackTrace } from '../unwind/reliableStackTrace';
import type { FixtureHostInterface } from '../../emulator/kernel/fixtureLayout';
import { currentTaskPointerAt, type Field, type KernelLayout } from '../../emulator/kernel/kernelLayout';
import { RBP, RSP } from '../../emulator/cpu/registers';
import type { GuestAccess } from './guestAccess';
import type { HostCalls } from './hostCalls';

/** What the port reads and writes: the kernel's layout, resolved once. */
interface Layout {
  patchState: Field;
  tifFlags: Field;
  state: Field;
  onRq: Field;
  tifPatchPending: number;
  tifNotifySignal: number;
  stateInterruptible: number;
  stateRunning: number;
  klpTargetState: number;
  jiffies: number;
  hz: number | undefined;
  /** The host-written switches of fixtures/kernel/livepatch.c (absent in older images). */
  patchPoints: number | undefined;
  schedTrySwitchKey: number | undefined;
  updateAfterSignal: number | undefined;
}

/** How the fixture kernel is to behave where kernels differ (written into its switches). */
export interface GuestModel {
  /** HAVE_RELIABLE_STACKTRACE. */
  reliableStacktrace: boolean;
  /** The seed's kthread patch points (klp_kthread_patch_points). */
  kthreadPatchPoints: boolean;
  /** 4.12's exit order: klp_update_patch_state after signals (klp_update_after_signal). */
  updateAfterSignal: boolean;
}

export class GuestKernelPort implements KernelPort {
  private readonly L: Layout;
  /** Set while host work runs inside a hypercall: the current task stands at klp_hypercall_ret. */
  inHypercall = false;

  constructor(
    private readonly access: GuestAccess,
    private readonly view: MachineGuestView,
    private readonly layout: KernelLayout,
    host: FixtureHostInterface,
    private readonly hostCalls: HostCalls,
    private readonly reliable: ReliableStackTrace,
    private readonly model: GuestModel = { reliableStacktrace: true, kthreadPatchPoints: false, updateAfterSignal: false },
  ) {
    const need = (name: string) => {
      const v = layout.symbol(name);
      if (v === undefined) throw new Error(`the kernel image has no ${name}`);
      return v;
    };
    const t = layout.task, k = layout.constants;
    this.L = {
      patchState: t.patchState, tifFlags: t.tifFlags, state: t.state, onRq: t.onRq,
      tifPatchPending: k.tifPatchPending, tifNotifySignal: k.tifNotifySignal,
      stateInterruptible: k.taskInterruptible, stateRunning: k.taskRunning,
      klpTargetState: need('klp_target_state'), jiffies: need('jiffies'), hz: host.hz,
      patchPoints: layout.symbol('klp_kthread_patch_points'), schedTrySwitchKey: layout.symbol('klp_sched_try_switch_key'),
      updateAfterSignal: layout.symbol('klp_update_after_signal'),
    };
    if (model.kthreadPatchPoints && this.L.patchPoints === undefined) throw new Error('the kernel image has no klp_kthread_patch_points');
  }

  /** A field's value, as wide as the field (4 or 8 bytes; 8-byte values as numbers). */
  private read(at: number, f: Field): number {
    return f.size === 8 ? this.access.u64(at + f.offset) : this.access.i32(at + f.offset);
  }

  private write(at: number, f: Field, v: number): void {
    if (f.size === 8) this.access.writeU64(at + f.offset, v);
    else this.access.writeI32(at + f.offset, v);
  }

  private guestTasks(): readonly MachineTask[] {
    this.view.refresh();
    return this.view.tasks();
  }

  private toKlp(t: MachineTask): KlpTask {
    return { address: t.addr, pid: t.pid, comm: t.name, kind: t.kind, cpu: t.kind === 'idle' ? 0 : undefined };
  }

  tasks(): KlpTask[] {
    return this.guestTasks().filter((t) => t.kind !== 'idle').map((t) => this.toKlp(t));
  }

  idleTasks(): Array<{ task: KlpTask; online: boolean }> {
    return this.guestTasks().filter((t) => t.kind === 'idle').map((t) => ({ task: this.toKlp(t), online: true }));
  }

  /** The task a KlpTask stands for, by task-struct address. */
  findTask(address: number): MachineTask | undefined {
    return this.guestTasks().find((t) => t.addr === address);
  }

  /**
   * The same task's record, built alone: for callers that only read it (the guest-switch hook, at
   * every switch). Not the object the unwinders know the task by, which findTask returns.
   */
  taskRecordAt(address: number): MachineTask | undefined {
    this.view.refresh();
    return this.view.taskAt(address);
  }

  /** current (CPU 0's, the only CPU): a plain variable in the fixture, per-CPU in Linux. */
  currentTaskAddress(): number {
    const at = currentTaskPointerAt(this.layout, (va) => this.access.u64(va));
    return at === null ? 0 : this.access.u64(at);
  }

  patchState(task: KlpTask): PatchState {
    const v = this.read(task.address, this.L.patchState);
    return (v === 0 || v === 1 ? v : KLP_UNDEFINED) as PatchState;
  }

  setPatchState(task: KlpTask, state: PatchState): void {
    this.write(task.address, this.L.patchState, state);
  }

  private flagBit(address: number, bit: number): boolean {
    return Math.floor(this.read(address, this.L.tifFlags) / 2 ** bit) % 2 === 1;
  }

  /** Between two guest instructions a read-modify-write is as atomic as the guest's lock ops. */
  private setFlagBit(task: KlpTask, bit: number, on: boolean): void {
    const f = this.L.tifFlags;
    const width = BigInt(f.size * 8);
    const flags = BigInt.asUintN(Number(width), BigInt(this.read(task.address, f)));
    const mask = 1n << BigInt(bit);
    const next = on ? flags | mask : flags & ~mask;
    this.write(task.address, f, Number(BigInt.asIntN(Number(width), next)));
  }

  patchPending(task: KlpTask): boolean {
    return this.patchPendingAt(task.address);
  }

  /** TIF_PATCH_PENDING of the task struct at `address`, without looking the task up. */
  patchPendingAt(address: number): boolean {
    return this.flagBit(address, this.L.tifPatchPending);
  }

  setPatchPending(task: KlpTask, pending: boolean): void {
    this.setFlagBit(task, this.L.tifPatchPending, pending);
  }

  /**
   * Also writes the model's switches: the guest clears .bss as it boots, and they only
   * matter while a transition has tasks pending.
   */
  setTargetState(state: PatchState): void {
    this.access.writeI32(this.L.klpTargetState, state);
    if (this.L.patchPoints !== undefined) this.access.writeI32(this.L.patchPoints, this.model.kthreadPatchPoints ? 1 : 0);
    if (this.L.updateAfterSignal !== undefined) this.access.writeI32(this.L.updateAfterSignal, this.model.updateAfterSignal ? 1 : 0);
  }

  setSchedTrySwitch(on: boolean): void {
    if (this.L.schedTrySwitchKey === undefined) throw new Error('the kernel image has no klp_sched_try_switch_key (cond_resched switching, 6.4)');
    this.access.writeI32(this.L.schedTrySwitchKey, on ? 1 : 0);
  }

  jiffies(): { jiffies: number; hz: number } {
    return { jiffies: this.access.u64(this.L.jiffies), hz: this.L.hz ?? 1000 };
  }

  /** Whether the seed's kthread patch points are on. */
  get kthreadPatchPoints(): boolean {
    return this.model.kthreadPatchPoints;
  }

  /**
   * task_curr(task) && task != current. Inside a hypercall the current task is the one doing
   * the work (khostcall). Between instructions (a sysfs write from the host) the task on the CPU
   * is running and cannot be checked, as another CPU's task could not.
   */
  isRunningElsewhere(task: KlpTask): boolean {
    return !this.inHypercall && task.address === this.currentTaskAddress();
  }

  haveReliableStack(): boolean {
    return this.model.reliableStacktrace;
  }

  reliableStackTrace(task: KlpTask, maxEntries: number): ReliableTrace {
    const t = this.findTask(task.address);
    if (!t) return { entries: [] }; // gone from the list: nothing to check
    const isCurrent = t.addr === this.currentTaskAddress();
    const n = isCurrent ? this.currentTrace(t) : this.reliable.save(t);
    if (n < 0) return { error: n };
    const entries = this.reliable.entries();
    return entries.length >= maxEntries ? { error: -22 } : { entries };
  }

  /**
   * stack_trace_save_tsk_reliable(current): the kernel starts from its own frame. Here current
   * stands at klp_hypercall's RET, so its caller's return address is at %rsp and its caller's
   * frame in %rbp: exactly the state __switch_to_asm leaves for a sleeping task whose
   * inactive_task_frame ends at %rsp + 8 (ret_addr in the return slot, bp just below). The bp
   * word is written below %rsp, where nothing lives, for the walk and restored after it.
   */
  private currentTrace(t: MachineTask): number {
    if (!this.inHypercall) return -16; // -EBUSY: not at a point where its stack can be read
    const regs = this.access.machine.cpu.regs;
    const frame = this.view.inactiveTaskFrame;
    const rsp = regs.addr(RSP);
    const threadSp = rsp + 8 - frame.size;
    if (frame.retAddr !== frame.size - 8) return -22;
    const bpSlot = threadSp + frame.bp;
    const old = this.access.u64(bpSlot);
    this.access.writeU64(bpSlot, regs.addr(RBP));
    try {
      const sleeping: GuestTask = { ...t, threadSp, running: false };
      return this.reliable.save(sleeping);
    } finally {
      this.access.writeU64(bpSlot, old);
    }
  }

  wakeUpInterruptible(task: KlpTask): void {
    const state = this.read(task.address, this.L.state);
    if (state !== this.L.stateInterruptible) return;
    this.write(task.address, this.L.state, this.L.stateRunning);
    this.write(task.address, this.L.onRq, 1);
  }

  /** set_notify_signal(): the flag, then signal_wake_up(), which ends an interruptible sleep. */
  setNotifySignal(task: KlpTask): void {
    this.setFlagBit(task, this.L.tifNotifySignal, true);
    this.wakeUpInterruptible(task);
  }

  /** One CPU, and it is busy running the work: the idle task is not running. */
  wakeUpIfIdle(): void {}

  /** schedule_on_each_cpu(no-op): with one CPU running this work, already true. */
  synchronize(): void {}

  now(): number {
    return this.access.machine.cpu.icount;
  }

  /**
   * The work runs in khostcall's hypercall, as klp_transition_work_fn runs in a kworker: that
   * task is current, so its own stack is checked (task == current), not refused as running.
   */
  scheduleDelayedWork(delayNs: number, work: () => void): void {
    this.hostCalls.cancelWork();
    this.hostCalls.scheduleWork(delayNs, () => {
      const outer = this.inHypercall;
      this.inHypercall = true;
      try {
        work();
      } finally {
        this.inHypercall = outer;
      }
    });
  }
}
