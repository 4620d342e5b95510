// Stacks as the fixture kernel's code would leave them, each with the true list of return
// addresses (the entries a correct reliable trace holds, innermost first).

import {
  KERNEL_CS,
  type StackBuilder,
  type SyntheticGuest,
  type SyntheticKernel,
  type SyntheticTask,
  USER_CS,
  makeRegsSnapshot,
} from './syntheticGuest';
import type { RegsSnapshot } from '../../../livepatch/unwind/ptRegs';

export interface Scenario {
  task: SyntheticTask;
  truth: number[];
  /** set for a running task: the CPU's registers */
  regs: RegsSnapshot | null;
  b: StackBuilder;
}

/** copy_thread()'s partial kernel-mode regs at the top, then ret_from_fork -> kthread_main. */
function kthreadBase(g: SyntheticGuest, k: SyntheticKernel, name: string): { b: StackBuilder; task: SyntheticTask; truth: number[] } {
  const task = g.addTask(name, 'kthread');
  const b = g.builder(task);
  b.ptRegs({ ip: 0, cs: KERNEL_CS, sp: 0, bp: 0 });
  b.callFp(k.a('ret_from_fork', 0x20)); // kthread_main's frame: the last frame
  b.locals(2);
  return { b, task, truth: [k.a('ret_from_fork', 0x20)] };
}

/** A kthread asleep in kthread_main -> worker -> schedule -> __schedule. */
export function sleepingKthread(g: SyntheticGuest, k: SyntheticKernel, name = 'kworker'): Scenario {
  const { b, task, truth } = kthreadBase(g, k, name);
  b.callFp(k.a('kthread_main', 0x30)).locals(2); // worker
  b.callFp(k.a('worker', 0x40)); // schedule
  b.callFp(k.a('schedule', 0x20)).locals(4); // __schedule
  b.switchOut(k.a('__schedule', 0x100));
  truth.unshift(k.a('__schedule', 0x100), k.a('schedule', 0x20), k.a('worker', 0x40), k.a('kthread_main', 0x30));
  return { task, truth, regs: null, b };
}

/** A user task blocked in sys_sleep: user pt_regs at the top, entry_SYSCALL_64 -> do_syscall_64. */
export function userInSyscall(g: SyntheticGuest, k: SyntheticKernel, name = 'user'): Scenario {
  const task = g.addTask(name, 'user');
  const b = g.builder(task);
  b.ptRegs({ ip: 0x401234, cs: USER_CS, sp: 0x7ffff000, bp: 0x7ffff100 });
  b.bp = 0x7ffff100; // the user's rbp is still in the register
  b.callFp(k.a('entry_SYSCALL_64', 0x45)).locals(1); // do_syscall_64
  b.callFp(k.a('do_syscall_64', 0x50)); // sys_sleep
  b.callFp(k.a('sys_sleep', 0x20)); // schedule
  b.callFp(k.a('schedule', 0x20)).locals(4); // __schedule
  b.switchOut(k.a('__schedule', 0x100));
  const truth = [
    k.a('__schedule', 0x100),
    k.a('schedule', 0x20),
    k.a('sys_sleep', 0x20),
    k.a('do_syscall_64', 0x50),
    k.a('entry_SYSCALL_64', 0x45),
  ];
  return { task, truth, regs: null, b };
}

/**
 * A kthread preempted by the timer interrupt at helper+`at` (5: after call __fentry__, before
 * push %rbp; 6: after push %rbp, before mov %rsp,%rbp; 9: frame set up), then scheduled
 * away from preempt_schedule_irq.
 */
export function preemptedKthread(g: SyntheticGuest, k: SyntheticKernel, at: number, name = 'cpuhog'): Scenario {
  const { b, task, truth } = kthreadBase(g, k, name);
  b.callFp(k.a('kthread_main', 0x30)).locals(2); // worker
  b.call(k.a('worker', 0x40)); // call helper
  if (at >= 6) b.push(b.bp); // push %rbp
  if (at >= 9) b.bp = b.sp; // mov %rsp,%rbp
  const spAtIrq = b.sp;
  const regs = b.interrupt({ ip: k.a('helper', at), cs: KERNEL_CS, sp: spAtIrq, bp: b.bp });
  b.encode(regs);
  b.callFp(k.a('asm_sysvec_timer', 0x45)); // sysvec_timer
  b.callFp(k.a('sysvec_timer', 0x40)); // preempt_schedule_irq
  b.callFp(k.a('preempt_schedule_irq', 0x20)).locals(2); // __schedule
  b.switchOut(k.a('__schedule', 0x100));
  truth.unshift(
    k.a('__schedule', 0x100),
    k.a('preempt_schedule_irq', 0x20),
    k.a('sysvec_timer', 0x40),
    k.a('asm_sysvec_timer', 0x45),
    k.a('helper', at),
    k.a('worker', 0x40),
    k.a('kthread_main', 0x30),
  );
  return { task, truth, regs: null, b };
}

/** The running kthread, stopped at helper+`at` (its state is the CPU's registers). */
export function runningKthread(g: SyntheticGuest, k: SyntheticKernel, at: number, name = 'running'): Scenario {
  const { b, task, truth } = kthreadBase(g, k, name);
  b.callFp(k.a('kthread_main', 0x30)).locals(2); // worker
  b.call(k.a('worker', 0x40));
  if (at >= 6) b.push(b.bp);
  if (at >= 9) b.bp = b.sp;
  task.running = true;
  const regs = makeRegsSnapshot({ ip: k.a('helper', at), sp: b.sp, bp: b.bp, cs: KERNEL_CS });
  g.regs = regs;
  truth.unshift(k.a('helper', at), k.a('worker', 0x40), k.a('kthread_main', 0x30));
  return { task, truth, regs, b };
}

/** A kthread asleep under `depth` frames of recurse(). */
export function deepKthread(g: SyntheticGuest, k: SyntheticKernel, depth: number, name = 'deep'): Scenario {
  const { b, task, truth } = kthreadBase(g, k, name);
  b.callFp(k.a('kthread_main', 0x30)); // recurse #1
  truth.unshift(k.a('kthread_main', 0x30));
  for (let i = 1; i < depth; i++) {
    b.callFp(k.a('recurse', 0x20));
    truth.unshift(k.a('recurse', 0x20));
  }
  b.callFp(k.a('recurse', 0x30)); // schedule
  b.callFp(k.a('schedule', 0x20)); // __schedule
  b.switchOut(k.a('__schedule', 0x100));
  truth.unshift(k.a('__schedule', 0x100), k.a('schedule', 0x20), k.a('recurse', 0x30));
  return { task, truth, regs: null, b };
}

/** kthread_main -> worker -> leaf_nofp (no frame: a call before the frame is set up) -> schedule. */
export function callWithoutFrame(g: SyntheticGuest, k: SyntheticKernel, name = 'noframe'): Scenario {
  const { b, task, truth } = kthreadBase(g, k, name);
  b.callFp(k.a('kthread_main', 0x30)).locals(2); // worker
  b.call(k.a('worker', 0x40)); // leaf_nofp: no push %rbp
  b.callFp(k.a('leaf_nofp', 0x10)); // schedule
  b.callFp(k.a('schedule', 0x20)); // __schedule
  b.switchOut(k.a('__schedule', 0x100));
  truth.unshift(k.a('__schedule', 0x100), k.a('schedule', 0x20), k.a('leaf_nofp', 0x10), k.a('worker', 0x40), k.a('kthread_main', 0x30));
  return { task, truth, regs: null, b };
}
