// klp_ftrace_handler (kernel/livepatch/patch.c): decides, each time an original function is
// entered through its fentry site, which version runs: the newest func on the stack; during a
// transition, a task still in KLP_UNPATCHED takes the next older one (or the original).

import { KLP_UNDEFINED, KLP_UNPATCHED, type PatchState } from '../patchState';
import type { KlpOps } from './klpOps';

export interface HandlerDecision {
  /** Where execution continues: a new function's address, or undefined for the original. */
  target: number | undefined;
  /** The WARN_ON_ONCE cases: an empty stack, or a task in transition with KLP_UNDEFINED. */
  warning?: string;
}

export function klpFtraceHandler(ops: KlpOps, currentPatchState: () => PatchState): HandlerDecision {
  let index = 0;
  let func = ops.funcStack[0];
  if (!func) return { target: undefined, warning: 'klp_ftrace_handler: empty func_stack' };
  let warning: string | undefined;
  if (func.transition) {
    const state = currentPatchState();
    if (state === KLP_UNDEFINED) warning = 'klp_ftrace_handler: task in transition with KLP_UNDEFINED patch state';
    if (state === KLP_UNPATCHED) {
      index = 1;
      func = ops.funcStack[index];
      if (!func) return { target: undefined, warning };
    }
  }
  // A nop stands for the original code: redirecting to it would loop.
  if (func.nop) return { target: undefined, warning };
  return { target: func.newFunc, warning };
}
