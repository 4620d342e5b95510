// arch/x86/include/asm/processor.h: task_pt_regs(task), the user (or kthread) pt_regs at the
// very top of a task's kernel stack. TOP_OF_KERNEL_STACK_PADDING is 0 on x86_64.

import { PTREGS_SIZE } from './ptRegs';

export interface StackTop {
  readonly stackEnd: number;
}

export function taskPtRegs(task: StackTop): number {
  return task.stackEnd - PTREGS_SIZE;
}
