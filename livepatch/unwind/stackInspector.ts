// Unwinds every task of a stopped guest with each unwinder (a reliable walk as livepatch does,
// plus a plain walk for display and for judging refusals) and compares with the ground truth.

import { FrameUnwinder } from './frameUnwinder';
import { type TruthSource, truthAddresses } from './groundTruth';
import type { GuestTask, GuestView } from './guestView';
import type { KernelImage } from './kernelImage';
import { OrcUnwinder } from './orcUnwinder';
import type { RegsSnapshot } from './ptRegs';
import { ReliableStackTrace, type ReliableVersion, type UnreliableReason } from './reliableStackTrace';
import { type WalkResult, walkStack } from './stackWalk';
import type { UnwindErrorCause, Unwinder } from './unwinder';
import { type VerdictClass, classify } from './verdict';

export type UnwinderName = 'fp' | 'orc';

export interface UnwinderRun {
  unwinder: UnwinderName;
  /** stack_trace_save_tsk_reliable()'s return: entries, or -EINVAL */
  ret: number;
  reliable: boolean;
  reason: UnreliableReason | null;
  cause: UnwindErrorCause | null;
  failIp: number;
  entries: number[];
  walk: WalkResult;
  /** the ips of the plain walk up to the user boundary */
  walkIps: number[];
  verdict: VerdictClass | null;
}

export interface TaskUnwind {
  task: GuestTask;
  /** the CPU registers when the task is the running one */
  regs: RegsSnapshot | null;
  truth: number[] | null;
  runs: UnwinderRun[];
}

export class StackInspector {
  private readonly unwinders: Unwinder[];
  private readonly walkers: ReliableStackTrace[];

  constructor(
    readonly view: GuestView,
    readonly image: KernelImage,
    names: readonly UnwinderName[] = ['fp', 'orc'],
    readonly version: ReliableVersion = '6.1',
  ) {
    this.unwinders = names.map((n) =>
      n === 'fp' ? new FrameUnwinder(view, image.text, version) : new OrcUnwinder(view, image.text, image.orc, image.retFromFork),
    );
    this.walkers = this.unwinders.map((u) => new ReliableStackTrace(u, image.text, version));
  }

  /**
   * Every unwinder's reliable walk and plain walk of `task`, judged against the truth when given.
   * `walkFrames` false leaves the plain walk's frames out (its ips, error and cause stay): what a
   * study needs, without an object per frame.
   */
  unwindTask(task: GuestTask, truth: TruthSource | null = null, walkFrames = true): TaskUnwind {
    const regs = task.running ? this.view.cpuRegs() : null;
    const truthAddrs = truth !== null && task.hasStack ? truthAddresses(truth, this.view, task, regs) : truth !== null ? [] : null;
    const runs: UnwinderRun[] = [];
    for (let i = 0; i < this.unwinders.length; i++) {
      const u = this.unwinders[i];
      const r = this.walkers[i];
      const ret = r.save(task, regs);
      const entries = r.entries();
      const walk = task.hasStack
        ? walkStack(u, this.image.text, task, regs, undefined, walkFrames)
        : { frames: [], ips: [], error: false, cause: null, truncated: false };
      const walkIps = walk.ips;
      runs.push({
        unwinder: u.name,
        ret,
        reliable: ret >= 0,
        reason: r.reason,
        cause: r.cause,
        failIp: r.failIp,
        entries,
        walk,
        walkIps,
        verdict: truthAddrs === null ? null : classify(ret >= 0, entries, walkIps, truthAddrs),
      });
    }
    return { task, regs, truth: truthAddrs, runs };
  }

  unwindAll(truth: TruthSource | null = null): TaskUnwind[] {
    return this.view.tasks().map((t) => this.unwindTask(t, truth));
  }
}
