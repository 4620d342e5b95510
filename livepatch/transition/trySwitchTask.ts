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
  log: KlpLog;
  target: PatchState;
  /** What klp_check_stack looks for, computed once per try-complete pass. */
  checked: CheckedFunc[];
  /** 4.12: klp_check_stack words the unreliable and sleeping messages under its own name. */
  checkStackMessages?: boolean;
}

/** A function of a patched object and the code range its stack check looks for. */
export interface CheckedFunc {
  oldName: string;
  start: number;
  end: number;
}

/** The ranges klp_check_stack_func tests, in klp_for_each_object/func order. */
export function checkedFuncs(patch: KlpPatch, target: PatchState, ops: KlpOpsTable): CheckedFunc[] {
  const out: CheckedFunc[] = [];
  for (const obj of patch.objects) {
    if (!obj.patched) continue;
    for (const func of obj.funcs) {
      if (func.immediate) continue; // 4.12 klp_func.immediate: never checked
      const { addr, size } = checkedRange(func, target, ops);
      out.push({ oldName: func.oldName, start: addr, end: addr + size });
    }
  }
  return out;
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

/** klp_check_stack with klp_check_stack_func: 0, -EINVAL (unreliable) or -EADDRINUSE. */
function checkStack(task: KlpTask, ctx: SwitchContext): { err: number; oldName?: string } {
  const trace = ctx.port.reliableStackTrace(task, MAX_STACK_ENTRIES);
  if ('error' in trace) return { err: -EINVAL };
  const entries = trace.entries;
  for (const func of ctx.checked) {
    for (let i = 0; i < entries.length; i++) {
      if (entries[i] >= func.start && entries[i] < func.end) return { err: -EADDRINUSE, oldName: func.oldName };
    }
  }
  return { err: 0 };
}

export function trySwitchTask(task: KlpTask, ctx: SwitchContext): SwitchResult {
  const { port, log } = ctx;
  // Results are shared objects: a pass over thousands of tasks allocates nothing for them.
  if (port.patchState(task) === ctx.target) return ALREADY;
  if (!port.haveReliableStack()) return NO_RELIABLE_STACK;

  // task_call_func(task, klp_check_and_switch_task): the task is pinned while it is checked.
  if (port.isRunningElsewhere(task)) {
    log.trySwitchDebug(`klp_try_switch_task: ${task.comm}:${task.pid} is running`);
    return RUNNING;
  }
  const { err, oldName } = checkStack(task, ctx);
  const checker = ctx.checkStackMessages ? 'klp_check_stack' : 'klp_try_switch_task';
  if (err === -EINVAL) {
    log.trySwitchDebug(`${checker}: ${task.comm}:${task.pid} has an unreliable stack`);
    return UNRELIABLE;
  }
  if (err === -EADDRINUSE) {
    log.trySwitchDebug(`${checker}: ${task.comm}:${task.pid} is sleeping on function ${oldName}`);
    return { switched: false, outcome: 'sleeping-on-function', oldName };
  }
  port.setPatchPending(task, false);
  port.setPatchState(task, ctx.target);
  return SWITCHED;
}

const ALREADY: SwitchResult = Object.freeze({ switched: true, outcome: 'already' });
const SWITCHED: SwitchResult = Object.freeze({ switched: true, outcome: 'switched' });
const NO_RELIABLE_STACK: SwitchResult = Object.freeze({ switched: false, outcome: 'no-reliable-stack' });
const RUNNING: SwitchResult = Object.freeze({ switched: false, outcome: 'running' });
const UNRELIABLE: SwitchResult = Object.freeze({ switched: false, outcome: 'unreliable' });
