// A small in-memory kernel for testing the livepatch core on its own: tasks with patch
// states, flags and stack traces that a test sets, virtual time and delayed work.

import type { KernelPort, KlpTask, ReliableTrace } from '../../livepatch/kernelPort';
import type { FentryControl, KlpOps } from '../../livepatch/redirect/klpOps';
import { KLP_UNDEFINED, type PatchState } from '../../livepatch/patchState';

export interface FakeTask extends KlpTask {
  patchState: PatchState;
  pending: boolean;
  running: boolean;
  /** Return addresses of its reliable trace, or 'unreliable'. */
  stack: number[] | 'unreliable';
  interruptibleSleep: boolean;
  notifySignal: boolean;
  wokenUp: number;
}

export class FakeKernel implements KernelPort, FentryControl {
  time = 0;
  reliable = true;
  target: PatchState = KLP_UNDEFINED;
  readonly taskList: FakeTask[] = [];
  readonly idle: Array<{ task: FakeTask; online: boolean }> = [];
  readonly registered = new Set<KlpOps>();
  registerError = 0;
  synchronizations = 0;
  private pending: { at: number; work: () => void } | undefined;
  private nextPid = 1;

  addTask(comm: string, kind: 'user' | 'kthread', stack: number[] | 'unreliable' = []): FakeTask {
    const t: FakeTask = {
      address: 0x1000 * this.nextPid, pid: this.nextPid++, comm, kind, patchState: KLP_UNDEFINED, pending: false,
      running: false, stack, interruptibleSleep: kind === 'kthread', notifySignal: false, wokenUp: 0,
    };
    this.taskList.push(t);
    return t;
  }

  addIdle(cpu: number, online = true): FakeTask {
    const t: FakeTask = {
      address: 0x100 + cpu, pid: 0, comm: 'swapper/' + cpu, kind: 'idle', cpu, patchState: KLP_UNDEFINED,
      pending: false, running: false, stack: [], interruptibleSleep: false, notifySignal: false, wokenUp: 0,
    };
    this.idle.push({ task: t, online });
    return t;
  }

  /** Runs the delayed work if it is due within `ns`; returns whether it ran. */
  advance(ns: number): boolean {
    this.time += ns;
    if (this.pending && this.pending.at <= this.time) {
      const { work } = this.pending;
      this.pending = undefined;
      work();
      return true;
    }
    return false;
  }

  get workPending(): boolean {
    return this.pending !== undefined;
  }

  // KernelPort
  tasks(): KlpTask[] { return this.taskList; }
  idleTasks() { return this.idle; }
  patchState(t: KlpTask): PatchState { return (t as FakeTask).patchState; }
  setPatchState(t: KlpTask, s: PatchState): void { (t as FakeTask).patchState = s; }
  patchPending(t: KlpTask): boolean { return (t as FakeTask).pending; }
  setPatchPending(t: KlpTask, p: boolean): void { (t as FakeTask).pending = p; }
  setTargetState(s: PatchState): void { this.target = s; }
  isRunningElsewhere(t: KlpTask): boolean { return (t as FakeTask).running; }
  reliableStackTrace(t: KlpTask, max: number): ReliableTrace {
    const s = (t as FakeTask).stack;
    if (s === 'unreliable' || s.length >= max) return { error: -22 };
    return { entries: s };
  }
  haveReliableStack(): boolean { return this.reliable; }
  wakeUpInterruptible(t: KlpTask): void { if ((t as FakeTask).interruptibleSleep) (t as FakeTask).wokenUp++; }
  setNotifySignal(t: KlpTask): void { (t as FakeTask).notifySignal = true; }
  wakeUpIfIdle(cpu: number): void { const i = this.idle.find((x) => x.task.cpu === cpu); if (i) i.task.wokenUp++; }
  synchronize(): void { this.synchronizations++; }
  now(): number { return this.time; }
  /** 6.4's klp_sched_try_switch_key. */
  schedTrySwitch = false;
  setSchedTrySwitch(on: boolean): void { this.schedTrySwitch = on; }
  scheduleDelayedWork(delayNs: number, work: () => void): void { this.pending = { at: this.time + delayNs, work }; }

  // FentryControl
  register(ops: KlpOps): number { if (this.registerError) return this.registerError; this.registered.add(ops); return 0; }
  unregister(ops: KlpOps): void { this.registered.delete(ops); }

  /** The guest's klp_update_patch_state(current) at kernel exit. */
  exitToUser(t: FakeTask): void {
    if (t.pending) {
      t.pending = false;
      t.patchState = this.target;
    }
  }
}
