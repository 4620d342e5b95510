// Listens to the transition engine and keeps a TransitionTimeline per transition. Switches
// the guest makes by itself (exit to user mode, the idle loop, a kthread patch point, fork)
// are reported by the guest side through guestSwitched().

import type { KlpTask } from '../kernelPort';
import type { KlpPatch } from '../model/patch';
import { directionName, type PatchState } from '../patchState';
import type { AttemptRecord, TransitionListener } from '../transition/transition';
import { TransitionTimeline, type SwitchPath } from './timeline';

export class TimelineRecorder implements TransitionListener {
  readonly timelines: TransitionTimeline[] = [];

  get current(): TransitionTimeline | undefined {
    const t = this.timelines.at(-1);
    return t && t.completedAt === undefined ? t : undefined;
  }

  started(patch: KlpPatch, target: PatchState, time: number, flagged: KlpTask[]): void {
    const t = new TransitionTimeline(patch.name, directionName(target), time);
    for (const task of flagged) t.flagged(task.pid, task.comm, task.kind, time);
    this.timelines.push(t);
  }

  attempted(record: AttemptRecord): void {
    const t = this.current;
    if (!t) return;
    t.attempts.push(record.time);
    for (const { task, result } of record.results) {
      if (result.switched) t.switched(task.pid, task.comm, task.kind, record.time, 'stack-check');
      else t.blockedAt(task.pid, task.comm, task.kind, record.time, result.outcome === 'sleeping-on-function' ? `sleeping on ${result.oldName}` : result.outcome);
    }
  }

  signalled(task: KlpTask, time: number): void {
    this.current?.task(task.pid, task.comm, task.kind).signalledAt.push(time);
  }

  forced(tasks: KlpTask[], time: number): void {
    for (const task of tasks) this.current?.switched(task.pid, task.comm, task.kind, time, 'force');
  }

  completed(_patch: KlpPatch, _target: PatchState, time: number): void {
    const t = this.timelines.at(-1);
    if (t && t.completedAt === undefined) t.completedAt = time;
  }

  switchedSelf(task: KlpTask, time: number, by: 'cond-resched'): void {
    this.guestSwitched(task, time, by);
  }

  guestSwitched(task: KlpTask, time: number, by: SwitchPath): void {
    this.current?.switched(task.pid, task.comm, task.kind, time, by);
  }
}
