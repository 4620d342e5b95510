// The consistency checker attached to a running lab: it learns each transition's two sides
// from the livepatch core as the transition starts, watches every entry into a function of
// either side (a code hook where the body starts: after the `call __fentry__` of a kernel
// function, since a redirected call never runs the old body), and at each entry hands the
// current task's true stack, from the emulator's ground truth, to the ConsistencyChecker.
// When a transition completes it checks every task's true stack once more.

import type { KlpPatch } from '../model/patch';
import { KLP_PATCHED, type PatchState } from '../patchState';
import { checkedRange } from '../transition/trySwitchTask';
import type { AttemptRecord, TransitionListener } from '../transition/transition';
import type { KlpTask } from '../kernelPort';
import { truthAddresses } from '../unwind/groundTruth';
import { userModeCs } from '../unwind/ptRegs';
import { HOOK_CODE } from '../../emulator/hooks/registry';
import { RSP } from '../../emulator/cpu/registers';
import { FRAME_CALL } from '../../emulator/truth/callStacks';
import type { LivepatchLab } from '../guest/livepatchLab';
import { ConsistencyChecker, type CodeRange, type TransitionSides } from './consistencyChecker';

/** Bytes of the `call __fentry__` that opens every traced kernel function. */
const FENTRY_CALL_LEN = 5;

export class LabConsistencyChecker implements TransitionListener {
  readonly checker = new ConsistencyChecker();
  private readonly hooked = new Set<number>();

  constructor(private readonly lab: LivepatchLab) {
    if (!lab.truth) throw new Error('internal: the consistency checker needs a lab with ground truth (truth: true)');
    lab.core.transition.listeners.push(this);
  }

  get violations() {
    return this.checker.violations;
  }

  started(patch: KlpPatch, target: PatchState): void {
    const sides = this.sidesOf(patch, target);
    this.checker.watch(sides);
    for (const r of [...sides.replaced, ...sides.replacing]) this.hookBody(r);
  }

  /** Every task a stack check switched: its true stack must hold none of the replaced code. */
  attempted(record: AttemptRecord): void {
    const patch = this.lab.core.transition.patch;
    if (!patch) return;
    for (const { task, result } of record.results) if (result.outcome === 'switched') this.checkSwitched(patch, task, record.time);
  }

  switchedSelf(task: KlpTask, time: number): void {
    const patch = this.lab.core.transition.patch;
    if (patch) this.checkSwitched(patch, task, time);
  }

  private checkSwitched(patch: KlpPatch, task: KlpTask, time: number): void {
    const lab = this.lab;
    const t = lab.port.findTask(task.address);
    if (!t || !t.hasStack) return;
    const regs = t.running ? lab.view.cpuRegs() : null;
    const addresses = truthAddresses(lab.truth!, lab.view, t, regs);
    this.checker.observeSwitch(time, patch.name, `${t.name}:${t.pid}`, addresses);
  }

  completed(patch: KlpPatch, _target: PatchState, time: number): void {
    const lab = this.lab;
    lab.view.refresh();
    const regs = lab.view.cpuRegs();
    const stacks = lab.view.tasks().filter((t) => t.hasStack).map((t) => ({
      task: `${t.name}:${t.pid}`,
      addresses: truthAddresses(lab.truth!, lab.view, t, t.running ? regs : null),
    }));
    this.checker.observeCompletion(time, patch.name, stacks);
  }

  /**
   * The code a transition replaces and the code replacing it, per function: patching swaps
   * the versions that ran before (the original and every older patch's: after a consistent
   * transition no task holds any of them) for the patch's own; unpatching swaps them back. A
   * nop (atomic replace) "replaces" with the original.
   */
  private sidesOf(patch: KlpPatch, target: PatchState): TransitionSides {
    const previous: CodeRange[] = [];
    const own: CodeRange[] = [];
    for (const obj of patch.objects) {
      if (!obj.patched) continue;
      for (const func of obj.funcs) {
        const prev = checkedRange(func, KLP_PATCHED, this.lab.core.ops);
        const prevName = prev.addr === func.oldFunc ? `old ${func.oldName}` : `${func.oldName} of an older patch`;
        previous.push({ start: prev.addr, end: prev.addr + prev.size, name: prevName });
        if (target === KLP_PATCHED) {
          // Versions older than the one the stack check looks for (4.12's immediate patches).
          const stack = this.lab.core.ops.find(func.oldFunc)?.funcStack ?? [];
          const older = stack.slice(stack.indexOf(func) + 2);
          for (const o of older) previous.push({ start: o.newFunc, end: o.newFunc + o.newSize, name: `${func.oldName} of an older patch` });
          if (older.length > 0) previous.push({ start: func.oldFunc, end: func.oldFunc + func.oldSize, name: `old ${func.oldName}` });
        }
        own.push({ start: func.newFunc, end: func.newFunc + func.newSize, name: func.nop ? `old ${func.oldName} (nop of '${patch.name}')` : `new ${func.oldName}` });
      }
    }
    return target === KLP_PATCHED
      ? { patch: patch.name, replaced: previous, replacing: own }
      : { patch: patch.name, replaced: own, replacing: previous };
  }

  private hookBody(range: CodeRange): void {
    const body = this.lab.fentry.hasLocation(range.start) ? range.start + FENTRY_CALL_LEN : range.start;
    if (this.hooked.has(body)) return;
    this.hooked.add(body);
    this.lab.machine.hookAdd(HOOK_CODE, () => this.observeCurrent(), body, body);
  }

  /** The running task's true stack, innermost first: rip, then each active return address. */
  private observeCurrent(): void {
    const lab = this.lab;
    const m = lab.machine;
    const truth = lab.truth!;
    const addresses = [m.cpu.rip];
    for (const f of truth.framesAt(m.cpu.regs.addr(RSP))) {
      if (f.kind !== FRAME_CALL && userModeCs(lab.access.u64(f.sp + 8))) break;
      addresses.push(lab.access.u64(f.sp));
    }
    this.checker.observe(lab.now, () => {
      const current = lab.port.findTask(lab.port.currentTaskAddress());
      return current ? `${current.name}:${current.pid}` : '?';
    }, addresses);
  }
}
