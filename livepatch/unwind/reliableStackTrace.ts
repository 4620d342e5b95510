// kernel/stacktrace.c stack_trace_save_tsk_reliable() and arch/x86/kernel/stacktrace.c
// arch_stack_walk_reliable() (6.1), with the 4.12 save_stack_trace_tsk_reliable() rules as a
// variant. The result is the kernel's: the number of entries, or -EINVAL with the reason the
// kernel had (kept host-side so that the study can count causes).

import type { GuestTask } from './guestView';
import type { KernelText } from './kernelText';
import { PTREGS_CS, PTREGS_IP, type RegsSnapshot, userModeCs } from './ptRegs';
import type { UnwindErrorCause, Unwinder } from './unwinder';

export const EINVAL = 22;
/** kernel/livepatch/transition.c MAX_STACK_ENTRIES */
export const MAX_STACK_ENTRIES = 100;

export type ReliableVersion = '6.1' | '4.12';

/**
 * 'checked' is the kernel's walk. 'ignore-pt-regs' is a deliberately unsound variant for
 * experiments: it walks through kernel-mode interrupt and exception frames as if they were
 * not there (neither refusing the trace nor reporting the interrupted ip), which is the
 * mistake that makes frame pointers unsafe for live patching. The consistency checker must
 * catch what it lets through.
 */
export type RegsPolicy = 'checked' | 'ignore-pt-regs';

export type UnreliableReason =
  | 'kernel-regs' // an in-kernel interrupt or exception frame (always in 4.12, frame pointers in 6.1)
  | 'not-kernel-text' // a return address outside __kernel_text_address()
  | 'too-many-entries' // the entry buffer filled up
  | 'unwind-error' // the unwinder set its error flag (see `cause`)
  | 'not-final' // 4.12: user regs were not the last frame
  | 'no-stack'; // 4.12: try_get_task_stack() failed

export class ReliableStackTrace {
  /** the entries of the last walk (valid up to `len`) */
  readonly store: Float64Array;
  len = 0;
  reason: UnreliableReason | null = null;
  /** the unwinder's cause when reason is 'unwind-error' */
  cause: UnwindErrorCause | null = null;
  /** the raw ip of the frame that made the walk fail (0 when not at a frame) */
  failIp = 0;
  /** 4.12 appends ULONG_MAX after a successful trace when there is room */
  terminated = false;

  constructor(
    readonly unwinder: Unwinder,
    readonly text: KernelText,
    readonly version: ReliableVersion = '6.1',
    readonly size: number = MAX_STACK_ENTRIES,
    readonly regsPolicy: RegsPolicy = 'checked',
  ) {
    this.store = new Float64Array(size);
  }

  /** The entries of the last walk as an array. */
  entries(): number[] {
    const out = new Array<number>(this.len);
    for (let i = 0; i < this.len; i++) out[i] = this.store[i];
    return out;
  }

  /**
   * stack_trace_save_tsk_reliable(task, store, size): the number of entries, or -EINVAL.
   * `regs`: the task was interrupted with this register state (the running task when the guest
   * stopped); the walk then treats those registers as a pt_regs frame found on the stack,
   * which is what the kernel would meet had the interrupt been taken there.
   */
  save(task: GuestTask, regs: RegsSnapshot | null = null): number {
    this.len = 0;
    this.reason = null;
    this.cause = null;
    this.failIp = 0;
    this.terminated = false;
    if (!task.hasStack) {
      // 6.1: "If the task doesn't have a stack (e.g., a zombie), the stack is reliably empty."
      return this.version === '6.1' ? 0 : this.fail('no-stack', 0);
    }
    if (regs !== null) {
      if (userModeCs(regs[PTREGS_CS / 8])) return 0;
      if (this.regsPolicy === 'ignore-pt-regs') return this.version === '6.1' ? this.walk61(task, regs) : this.walk412(task, regs);
      if (this.version === '4.12' || this.unwinder.name === 'fp') return this.fail('kernel-regs', regs[PTREGS_IP / 8]);
      const ip = regs[PTREGS_IP / 8];
      if (!this.text.contains(ip)) return this.fail('not-kernel-text', ip);
      if (!this.consume(ip)) return this.fail('too-many-entries', ip);
    }
    return this.version === '6.1' ? this.walk61(task, regs) : this.walk412(task, regs);
  }

  private fail(reason: UnreliableReason, ip: number): number {
    this.reason = reason;
    this.failIp = ip;
    return -EINVAL;
  }

  // stack_trace_consume_entry(): false once the buffer is full (so the size-th entry fails)
  private consume(addr: number): boolean {
    if (this.len >= this.size) return false;
    this.store[this.len++] = addr;
    return this.len < this.size;
  }

  // arch_stack_walk_reliable() (6.1)
  private walk61(task: GuestTask, regs: RegsSnapshot | null): number {
    const u = this.unwinder;
    for (u.start(task, regs); !u.done() && !u.error(); u.next()) {
      if (u.atRegs()) {
        // Success path for user tasks.
        if (u.regsUserMode()) return this.len;
        // The unsound variant steps over the frame without a look at the interrupted ip.
        if (this.regsPolicy === 'ignore-pt-regs') continue;
        // Kernel-mode regs: an in-kernel interrupt or exception, which can make frame
        // pointers unreliable (CONFIG_FRAME_POINTER); ORC unwinds through them.
        if (u.name === 'fp') return this.fail('kernel-regs', u.ip());
      }
      const addr = u.returnAddress();
      if (addr === 0) return this.fail('not-kernel-text', u.ip());
      if (!this.consume(addr)) return this.fail('too-many-entries', addr);
    }
    if (u.error()) {
      this.cause = u.errorCause();
      return this.fail('unwind-error', 0);
    }
    return this.len;
  }

  // __save_stack_trace_reliable() (4.12)
  private walk412(task: GuestTask, regs: RegsSnapshot | null): number {
    const u = this.unwinder;
    for (u.start(task, regs); !u.done(); u.next()) {
      if (u.atRegs()) {
        if (!u.regsUserMode()) {
          if (this.regsPolicy === 'ignore-pt-regs') continue;
          return this.fail('kernel-regs', u.ip());
        }
        // The last frame contains the user mode syscall pt_regs: skip it, finish the unwind.
        u.next();
        if (!u.done()) return this.fail('not-final', u.ip());
        break;
      }
      const addr = u.returnAddress();
      if (addr === 0) return this.fail('not-kernel-text', u.ip());
      // save_stack_address(): fails only when the buffer is already full
      if (this.len >= this.size) return this.fail('too-many-entries', addr);
      this.store[this.len++] = addr;
    }
    if (u.error()) {
      this.cause = u.errorCause();
      return this.fail('unwind-error', 0);
    }
    this.terminated = this.len < this.size;
    return this.len;
  }
}
