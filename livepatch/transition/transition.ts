// The per-task consistency model (kernel/livepatch/transition.c, 6.1; 4.12 where marked):
// init → start → try-complete (retried every second) → complete, plus cancel, reverse, force,
// the fork and kernel-exit switching paths. The guest holds the per-task state; this class
// holds the transition's global state (klp_transition_patch, klp_target_state).

import type { KernelBehaviour } from '../kernelBehaviour';
import type { KernelPort, KlpTask } from '../kernelPort';
import type { KlpLog } from '../klpLog';
import type { KlpPatch } from '../model/patch';
import { KLP_PATCHED, KLP_UNDEFINED, KLP_UNPATCHED, directionName, type PatchState } from '../patchState';
import type { KlpOpsTable } from '../redirect/klpOps';
import { checkedFuncs, trySwitchTask, type SwitchContext, type SwitchResult } from './trySwitchTask';

/** SIGNALS_TIMEOUT: failed attempts between two rounds of fake signals. */
export const SIGNALS_TIMEOUT = 15;
/** HZ: the retry period of klp_transition_work is round_jiffies_relative(HZ). */
export const RETRY_PERIOD_NS = 1_000_000_000;

/**
 * round_jiffies_relative(j) on CPU 0 (kernel/time/timer.c round_jiffies_common): the expiry
 * jiffies + j rounded to a whole second, down when less than a quarter past, up otherwise;
 * the unrounded value when rounding would not lie in the future. In jiffies, relative to now.
 */
export function roundJiffiesRelative(now: number, j: number, hz: number): number {
  const original = now + j;
  const rem = original % hz;
  const rounded = rem < hz / 4 ? original - rem : original - rem + hz;
  return (rounded > now ? rounded : original) - now;
}

/** What the transition asks of the rest of the livepatch core when it finishes. */
export interface TransitionOwner {
  /** klp_unpatch_replaced_patches + klp_discard_nops (atomic replace, on patching completion). */
  finishReplace(patch: KlpPatch): void;
  /** post_patch / post_unpatch callbacks of the loaded objects. */
  runPostCallbacks(patch: KlpPatch, target: PatchState): void;
  /** klp_free_patch_async / klp_free_replaced_patches_async, after try-complete succeeds. */
  afterComplete(patch: KlpPatch, wasEnabled: boolean): void;
}

/**
 * One attempt of klp_try_complete_transition, for timelines and studies: the tasks it could
 * not switch (with why) and the ones it switched; tasks already switched are not repeated.
 */
export interface AttemptRecord {
  time: number;
  results: Array<{ task: KlpTask; result: SwitchResult }>;
  complete: boolean;
  signalsSent: boolean;
}

/** Who wants to hear about a transition as it happens (timelines, the checker, studies). */
export interface TransitionListener {
  started?(patch: KlpPatch, target: PatchState, time: number, flagged: KlpTask[]): void;
  attempted?(record: AttemptRecord): void;
  signalled?(task: KlpTask, time: number): void;
  forced?(tasks: KlpTask[], time: number): void;
  completed?(patch: KlpPatch, target: PatchState, time: number): void;
  /** A task switched itself through the core (6.4's cond_resched()). */
  switchedSelf?(task: KlpTask, time: number, by: 'cond-resched'): void;
}

export class KlpTransition {
  readonly listeners: TransitionListener[] = [];
  /** klp_transition_patch. */
  patch: KlpPatch | null = null;
  /** klp_target_state. */
  target: PatchState = KLP_UNDEFINED;
  /** klp_signals_cnt. */
  signalsCount = 0;
  readonly attempts: AttemptRecord[] = [];
  /** Set when a WARN_ON_ONCE fires; the tests assert none does. */
  readonly warnings: string[] = [];

  constructor(
    private readonly port: KernelPort,
    private readonly ops: KlpOpsTable,
    private readonly log: KlpLog,
    private readonly behaviour: KernelBehaviour,
    private readonly owner: TransitionOwner,
  ) {}

  get inProgress(): boolean {
    return this.patch !== null;
  }

  private allTasks(): KlpTask[] {
    return [...this.port.tasks(), ...this.port.idleTasks().map((i) => i.task)];
  }

  private warnOnce(text: string): void {
    if (!this.warnings.includes(text)) this.warnings.push(text);
  }

  private setTarget(state: PatchState): void {
    this.target = state;
    this.port.setTargetState(state);
  }

  /** klp_init_transition. */
  init(patch: KlpPatch, state: PatchState): void {
    if (this.target !== KLP_UNDEFINED) this.warnOnce('klp_init_transition: target state already set');
    this.patch = patch;
    this.setTarget(state);
    if (this.behaviour.transitionDebugLines) {
      this.log.klp('debug', `'${patch.name}': initializing ${directionName(state)} transition`);
    }
    if (patch.immediate) return; // 4.12: no per-task states at all
    const initial: PatchState = state === KLP_PATCHED ? KLP_UNPATCHED : KLP_PATCHED;
    for (const task of this.allTasks()) {
      if (this.port.patchState(task) !== KLP_UNDEFINED) this.warnOnce(`klp_init_transition: ${task.comm}:${task.pid} patch_state not KLP_UNDEFINED`);
      this.port.setPatchState(task, initial);
    }
    // smp_wmb(): task states before func->transition, as the ftrace handler reads them.
    for (const func of patch.funcs()) func.transition = true;
  }

  /** klp_start_transition. */
  start(): void {
    const patch = this.requirePatch();
    if (this.behaviour.version === '4.12') {
      this.log.klp('notice', `'${patch.name}': ${directionName(this.target)}...`);
      if (patch.immediate) {
        // Every task takes the new code at once: nothing to flag, but watchers still hear of it.
        for (const l of this.listeners) l.started?.(patch, this.target, this.port.now(), []);
        return;
      }
    } else {
      this.log.klp('notice', `'${patch.name}': starting ${directionName(this.target)} transition`);
    }
    const flagged: KlpTask[] = [];
    for (const task of this.allTasks()) {
      if (this.port.patchState(task) !== this.target) {
        this.port.setPatchPending(task, true);
        flagged.push(task);
      }
    }
    if (this.behaviour.condReschedSwitch) this.port.setSchedTrySwitch(true); // klp_cond_resched_enable
    this.signalsCount = 0;
    for (const l of this.listeners) l.started?.(patch, this.target, this.port.now(), flagged);
  }

  /** klp_try_complete_transition; returns whether the transition completed. */
  tryComplete(): boolean {
    const patch = this.requirePatch();
    if (this.target === KLP_UNDEFINED) this.warnOnce('klp_try_complete_transition: target undefined');
    const record: AttemptRecord = { time: this.port.now(), results: [], complete: true, signalsSent: false };
    if (!patch.immediate) {
      const ctx = this.switchContext();
      for (const task of this.port.tasks()) {
        const result = trySwitchTask(task, ctx);
        if (result.outcome !== 'already') record.results.push({ task, result });
        if (!result.switched) record.complete = false;
      }
      for (const { task, online } of this.port.idleTasks()) {
        if (online) {
          const result = trySwitchTask(task, ctx);
          if (result.outcome !== 'already') record.results.push({ task, result });
          if (!result.switched) {
            record.complete = false;
            if (this.behaviour.wakeIdle && task.cpu !== undefined) this.port.wakeUpIfIdle(task.cpu);
          }
        } else if (this.port.patchState(task) !== this.target) {
          // Offline idle tasks can be switched immediately.
          this.port.setPatchPending(task, false);
          this.port.setPatchState(task, this.target);
        }
      }
    }
    this.attempts.push(record);
    for (const l of this.listeners) l.attempted?.(record);

    if (!record.complete) {
      if (this.behaviour.signals && this.signalsCount && this.signalsCount % SIGNALS_TIMEOUT === 0) {
        this.sendSignals();
        record.signalsSent = true;
      }
      this.signalsCount++;
      this.port.scheduleDelayedWork(this.retryDelayNs(), () => this.transitionWork());
      return false;
    }

    if (this.behaviour.condReschedSwitch) this.port.setSchedTrySwitch(false); // klp_cond_resched_disable
    const wasEnabled = patch.enabled;
    if (this.behaviour.version === '4.12') {
      this.log.klp('notice', `'${patch.name}': ${directionName(this.target)} complete`);
    }
    this.complete();
    this.owner.afterComplete(patch, wasEnabled);
    return true;
  }

  /** schedule_delayed_work(&klp_transition_work, round_jiffies_relative(HZ)), in ns. */
  private retryDelayNs(): number {
    const clock = this.port.jiffies?.();
    if (!clock) return RETRY_PERIOD_NS;
    return roundJiffiesRelative(clock.jiffies, clock.hz, clock.hz) * (1e9 / clock.hz);
  }

  /**
   * __klp_sched_try_switch (6.4): the current task, at cond_resched() with TIF_PATCH_PENDING,
   * checks its own stack (klp_try_switch_task(current)). Returns whether it switched.
   */
  schedTrySwitch(task: KlpTask): boolean {
    if (!this.patch || !this.port.patchPending(task)) return false;
    if (this.patch.immediate) return false;
    const result = trySwitchTask(task, this.switchContext());
    if (result.switched && result.outcome === 'switched') {
      for (const l of this.listeners) l.switchedSelf?.(task, this.port.now(), 'cond-resched');
    }
    return result.switched;
  }

  /** klp_transition_work_fn: the delayed retry. */
  transitionWork(): void {
    if (this.patch) this.tryComplete();
  }

  /** klp_complete_transition. */
  complete(): void {
    const patch = this.requirePatch();
    const target = this.target;
    if (this.behaviour.transitionDebugLines) {
      this.log.klp('debug', `'${patch.name}': completing ${directionName(target)} transition`);
    }
    if (patch.replace && target === KLP_PATCHED) this.owner.finishReplace(patch);
    if (target === KLP_UNPATCHED) {
      for (const obj of patch.objects) this.ops.unpatchObject(obj);
      this.port.synchronize();
    }
    if (!patch.immediate) {
      for (const func of patch.funcs()) func.transition = false;
      if (target === KLP_PATCHED) this.port.synchronize();
      for (const task of this.allTasks()) {
        if (this.port.patchPending(task)) this.warnOnce(`klp_complete_transition: ${task.comm}:${task.pid} still has TIF_PATCH_PENDING`);
        this.port.setPatchState(task, KLP_UNDEFINED);
      }
    }
    if (this.behaviour.version !== '4.12') {
      this.owner.runPostCallbacks(patch, target);
      this.log.klp('notice', `'${patch.name}': ${directionName(target)} complete`);
    }
    for (const l of this.listeners) l.completed?.(patch, target, this.port.now());
    this.setTarget(KLP_UNDEFINED);
    this.patch = null;
  }

  /** klp_cancel_transition: an error between init and start. */
  cancel(): void {
    const patch = this.requirePatch();
    if (this.target !== KLP_PATCHED) {
      this.warnOnce('klp_cancel_transition: target is not KLP_PATCHED');
      return;
    }
    if (this.behaviour.transitionDebugLines) {
      this.log.klp('debug', `'${patch.name}': canceling patching transition, going to unpatch`);
    }
    this.setTarget(KLP_UNPATCHED);
    this.complete();
  }

  /** klp_reverse_transition: flips the direction of the transition in progress. */
  reverse(): void {
    const patch = this.requirePatch();
    if (this.behaviour.transitionDebugLines) {
      const from = this.target === KLP_PATCHED ? 'patching to unpatching' : 'unpatching to patching';
      this.log.klp('debug', `'${patch.name}': reversing transition from ${from}`);
    }
    patch.enabled = !patch.enabled;
    this.setTarget(this.target === KLP_PATCHED ? KLP_UNPATCHED : KLP_PATCHED);
    for (const task of this.allTasks()) this.port.setPatchPending(task, false);
    this.port.synchronize();
    this.start();
  }

  /** klp_force_transition: every task takes the target state, unchecked. */
  force(allPatches: KlpPatch[]): void {
    const patch = this.requirePatch();
    this.log.klp('warn', 'forcing remaining tasks to the patched state');
    const forced = this.allTasks().filter((task) => this.port.patchPending(task));
    for (const task of this.allTasks()) this.updatePatchState(task);
    for (const l of this.listeners) l.forced?.(forced, this.port.now());
    if (this.target === KLP_UNPATCHED) patch.forced = true;
    else if (patch.replace) for (const p of allPatches) if (p !== patch) p.forced = true;
  }

  /** klp_update_patch_state(task): the task must be current or inactive. */
  updatePatchState(task: KlpTask): void {
    if (this.port.patchPending(task)) {
      this.port.setPatchPending(task, false);
      this.port.setPatchState(task, this.target);
    }
  }

  /** klp_copy_process: the child takes the parent's flag and state (6.1; 4.12 copies both too). */
  copyProcess(parent: KlpTask, child: KlpTask): void {
    this.port.setPatchPending(child, this.port.patchPending(parent));
    this.port.setPatchState(child, this.port.patchState(parent));
  }

  /** klp_send_signals. */
  private sendSignals(): void {
    if (this.signalsCount === SIGNALS_TIMEOUT) this.log.klp('notice', 'signaling remaining tasks');
    for (const task of this.port.tasks()) {
      if (!this.port.patchPending(task)) continue;
      if (task.kind === 'kthread') this.port.wakeUpInterruptible(task);
      else this.port.setNotifySignal(task);
      for (const l of this.listeners) l.signalled?.(task, this.port.now());
    }
  }

  private switchContext(): SwitchContext {
    const patch = this.requirePatch();
    return {
      port: this.port, log: this.log, target: this.target, checked: checkedFuncs(patch, this.target, this.ops),
      checkStackMessages: this.behaviour.checkStackMessages,
    };
  }

  private requirePatch(): KlpPatch {
    if (!this.patch) throw new Error('internal: no transition in progress');
    return this.patch;
  }
}
