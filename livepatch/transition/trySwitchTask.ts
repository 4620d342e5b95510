// klp_try_switch_task, klp_check_and_switch_task, klp_check_stack, klp_check_stack_func
// (kernel/livepatch/transition.c): a task may switch when it is not running and no function
// the transition replaces is on its reliable stack trace.

import type { KernelPort, KlpTask } from '../kernelPort';
import type { KlpLog } from '../klpLog';
import type { KlpFunc, KlpPatch } from '../model/patch';
import { EADDRINUSE, EINVAL, KLP_UNPATCHED, type PatchState } from '../patchState';
import type { KlpOpsTable } from '../redirect/klpOps';

/** MAX_STACK_ENTRIES of transition.c. */
export const MAX_STACK_ENTRIES = 100;

export type SwitchOutcome = 'already' | 'switched' | 'no-reliable-stack' | 'running' | 'unreliable' | 'sleeping-on-function';

export interface SwitchResult {
  switched: boolean;
  outcome: SwitchOutcome;
  /** For 'sleeping-on-function': the old_name of the function found on the stack. */
  oldName?: string;
}

export interface SwitchContext {
  port: KernelPort;
  ops: KlpOpsTable;
  log: KlpLog;
  patch: KlpPatch;
  target: PatchState;
}

/** The code range a func must not be found in, given the direction of the transition. */
export function checkedRange(func: KlpFunc, target: PatchState, ops: KlpOpsTable): { addr: number; size: number } {
  if (target === KLP_UNPATCHED) return { addr: func.newFunc, size: func.newSize };
  const stack = ops.find(func.oldFunc)?.funcStack ?? [func];
  if (stack.length <= 1) return { addr: func.oldFunc, size: func.oldSize };
  // Patching over an older patch: its version is the code being replaced.
  const prev = stack[stack.indexOf(func) + 1];
  return prev ? { addr: prev.newFunc, size: prev.newSize } : { addr: func.oldFunc, size: func.oldSize };
}

/** klp_check_stack_func. */
function stackHasFunc(func: KlpFunc, entries: number[], ctx: SwitchContext): boolean {
  if (func.immediate) return false; // 4.12 klp_func.immediate: never checked
  const { addr, size } = checkedRange(func, ctx.target, ctx.ops);
  for (const address of entries) if (address >= addr && address < addr + size) return true;
  return false;
}

/** klp_check_stack: 0, -EINVAL (unreliable) or -EADDRINUSE with the function's old_name. */
function checkStack(task: KlpTask, ctx: SwitchContext): { err: number; oldName?: string } {
  const trace = ctx.port.reliableStackTrace(task, MAX_STACK_ENTRIES);
  if ('error' in trace) return { err: -EINVAL };
  for (const obj of ctx.patch.objects) {
    if (!obj.patched) continue;
    for (const func of obj.funcs) {
      if (stackHasFunc(func, trace.entries, ctx)) return { err: -EADDRINUSE, oldName: func.oldName };
    }
  }
  return { err: 0 };
}

export function trySwitchTask(task: KlpTask, ctx: SwitchContext): SwitchResult {
  const { port, log } = ctx;
  if (port.patchState(task) === ctx.target) return { switched: true, outcome: 'already' };
  if (!port.haveReliableStack()) return { switched: false, outcome: 'no-reliable-stack' };

  // task_call_func(task, klp_check_and_switch_task): the task is pinned while it is checked.
  if (port.isRunningElsewhere(task)) {
    log.trySwitchDebug(`klp_try_switch_task: ${task.comm}:${task.pid} is running`);
    return { switched: false, outcome: 'running' };
  }
  const { err, oldName } = checkStack(task, ctx);
  if (err === -EINVAL) {
    log.trySwitchDebug(`klp_try_switch_task: ${task.comm}:${task.pid} has an unreliable stack`);
    return { switched: false, outcome: 'unreliable' };
  }
  if (err === -EADDRINUSE) {
    log.trySwitchDebug(`klp_try_switch_task: ${task.comm}:${task.pid} is sleeping on function ${oldName}`);
    return { switched: false, outcome: 'sleeping-on-function', oldName };
  }
  port.setPatchPending(task, false);
  port.setPatchState(task, ctx.target);
  return { switched: true, outcome: 'switched' };
}
