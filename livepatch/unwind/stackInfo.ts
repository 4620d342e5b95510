// arch/x86/kernel/dumpstack_64.c, dumpstack.c, asm/stacktrace.h: get_stack_info(), on_stack().
// Which stack an address is on. For a task that is not running only its own task stack is
// valid; the running task (the one the guest stopped in) may also be on the extra stacks the
// view reports (IRQ, exception, entry). A visit mask forbids entering a stack type twice.

import type { GuestTask, GuestView } from './guestView';

export const STACK_TYPE_UNKNOWN = 0;
export const STACK_TYPE_TASK = 1;
export const STACK_TYPE_IRQ = 2;
export const STACK_TYPE_SOFTIRQ = 3;
export const STACK_TYPE_ENTRY = 4;
export const STACK_TYPE_EXCEPTION = 5;

export class StackInfo {
  type = STACK_TYPE_UNKNOWN;
  begin = 0;
  end = 0;
  nextSp = 0;

  reset(): void {
    this.type = STACK_TYPE_UNKNOWN;
    this.begin = 0;
    this.end = 0;
    this.nextSp = 0;
  }
}

/** on_stack(info, addr, len): the whole range [addr, addr+len) lies in [begin, end). */
export function onStack(info: StackInfo, addr: number, len: number): boolean {
  return info.type !== STACK_TYPE_UNKNOWN && addr >= info.begin && addr + len <= info.end;
}

/** The mutable part of an unwind state that get_stack_info() updates. */
export interface StackWalkState {
  stackInfo: StackInfo;
  /** bit (1 << type) set once a stack type has been entered */
  stackMask: number;
}

/**
 * get_stack_info(stack, task, info, visit_mask): fills `info` and returns true (the kernel's
 * 0), or marks it unknown and returns false.
 */
export function getStackInfo(
  view: GuestView,
  task: GuestTask,
  stack: number,
  info: StackInfo,
  state: StackWalkState | null,
): boolean {
  if (stack === 0 || !findStack(view, task, stack, info)) {
    info.type = STACK_TYPE_UNKNOWN;
    return false;
  }
  if (state) {
    const bit = 2 ** info.type;
    if (Math.floor(state.stackMask / bit) % 2 === 1) {
      // "WARNING: stack recursion on stack type %d" (printed only for current)
      info.type = STACK_TYPE_UNKNOWN;
      return false;
    }
    state.stackMask += bit;
  }
  return true;
}

function findStack(view: GuestView, task: GuestTask, stack: number, info: StackInfo): boolean {
  if (stack >= task.stackBegin && stack < task.stackEnd) {
    info.type = STACK_TYPE_TASK;
    info.begin = task.stackBegin;
    info.end = task.stackEnd;
    info.nextSp = 0;
    return true;
  }
  if (!task.running) return false;
  for (const s of view.extraStacks(task)) {
    if (stack >= s.begin && stack < s.end) {
      info.type = s.type;
      info.begin = s.begin;
      info.end = s.end;
      info.nextSp = s.nextSp;
      return true;
    }
  }
  return false;
}

const EXCEPTION_STACK_NAMES = ['#DF', 'NMI', '#DB', '#MC', '#VC', '#VC2'];

/** stack_type_name() (dumpstack_64.c), with "TASK" for the task stack. */
export function stackTypeName(type: number): string {
  switch (type) {
    case STACK_TYPE_TASK: return 'TASK';
    case STACK_TYPE_IRQ: return 'IRQ';
    case STACK_TYPE_SOFTIRQ: return 'SOFTIRQ';
    case STACK_TYPE_ENTRY: return 'ENTRY_TRAMPOLINE';
    default: return EXCEPTION_STACK_NAMES[type - STACK_TYPE_EXCEPTION] ?? 'UNKNOWN';
  }
}

/** The stack a running task's stack pointer is on, by stack_type_name(), or "user" in user mode. */
export function runningStackName(view: GuestView, task: GuestTask, sp: number, userMode: boolean): string {
  if (userMode) return 'user';
  const info = new StackInfo();
  return getStackInfo(view, task, sp, info, null) ? stackTypeName(info.type) : 'UNKNOWN';
}
