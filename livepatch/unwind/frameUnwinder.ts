// arch/x86/kernel/unwind_frame.c: the frame-pointer unwinder. Follows the %rbp chain: each
// frame is [saved rbp, return address]; a saved rbp with bit 0 set is an encoded pointer to
// pt_regs (ENCODE_FRAME_POINTER in interrupt and exception entry); the walk ends at the last
// frame just below task_pt_regs (a kthread's final frame, or the syscall frame of a user task,
// whose user pt_regs are reported as one more frame), or at user-mode regs.
// `version` selects 6.1 (default) or 4.12 behaviour (4.12 lacks the ip == 0 "NULL call" start).

import type { GuestTask, GuestView } from './guestView';
import type { KernelText } from './kernelText';
import { PTREGS_BP, PTREGS_CS, PTREGS_IP, PTREGS_SIZE, PTREGS_SP, type RegsSnapshot, userModeCs } from './ptRegs';
import { STACK_TYPE_UNKNOWN, StackInfo, getStackInfo, onStack } from './stackInfo';
import { taskPtRegs } from './taskPtRegs';
import { type UnwindErrorCause, type Unwinder, ltU } from './unwinder';

/** FRAME_HEADER_SIZE: saved rbp + return address */
const FRAME_HEADER_SIZE = 16;
/** GCC_REALIGN_WORDS on x86_64 */
const GCC_REALIGN_WORDS = 1;

export type KernelVersion = '6.1' | '4.12';

export class FrameUnwinder implements Unwinder {
  readonly name = 'fp' as const;

  // struct unwind_state (CONFIG_UNWINDER_FRAME_POINTER)
  stackInfo = new StackInfo();
  stackMask = 0;
  private task: GuestTask | null = null;
  private err = false;
  private cause: UnwindErrorCause | null = null;
  private gotIrq = false;
  /** pointer to the current frame's saved-rbp slot (0 = NULL) */
  private bp = 0;
  private origSp = 0;
  private curIp = 0;
  /** a saved bp to use instead of *bp (start from ip == 0) */
  private nextBp = 0;
  /** the current pt_regs frame (0 = NULL) */
  private regs = 0;
  /** set by updateStackState when it fails */
  private failCause: UnwindErrorCause | null = null;

  constructor(
    private readonly view: GuestView,
    private readonly text: KernelText,
    private readonly version: KernelVersion = '6.1',
  ) {}

  /** Did the walk cross an encoded pt_regs frame or start from regs (state->got_irq)? */
  gotIrqFrame(): boolean {
    return this.gotIrq;
  }

  private read(addr: number): number | undefined {
    return this.view.readWord(addr);
  }

  private userModeRegs(regs: number): boolean {
    const cs = this.read(regs + PTREGS_CS);
    return cs !== undefined && userModeCs(cs);
  }

  // __unwind_start(), with first_frame = get_stack_pointer(task, regs)
  start(task: GuestTask, regs: RegsSnapshot | null): void {
    this.stackInfo.reset();
    this.stackMask = 0;
    this.task = task;
    this.err = false;
    this.cause = null;
    this.gotIrq = regs !== null;
    this.bp = 0;
    this.origSp = 0;
    this.curIp = 0;
    this.nextBp = 0;
    this.regs = 0;

    // Don't even attempt to start from user mode regs.
    if (regs !== null && userModeCs(regs[PTREGS_CS / 8])) {
      this.stackInfo.type = STACK_TYPE_UNKNOWN;
      return;
    }

    // get_frame_pointer(): regs->bp, or &inactive_task_frame->bp of a sleeping task
    let bp = regs !== null ? regs[PTREGS_BP / 8] : task.threadSp + this.view.inactiveTaskFrame.bp;
    const firstFrame = regs !== null ? regs[PTREGS_SP / 8] : task.threadSp;

    // A call through a NULL pointer: *sp is a return address, pretend a frame exists below it.
    if (this.version === '6.1' && regs !== null && regs[PTREGS_IP / 8] === 0 && !ltU(regs[PTREGS_SP / 8], firstFrame)) {
      this.nextBp = bp;
      bp = regs[PTREGS_SP / 8] - 8;
    }

    getStackInfo(this.view, task, bp, this.stackInfo, this);
    this.updateStackState(bp);

    // Skip ahead until the first frame (regs->sp or thread.sp) is reached.
    while (
      !this.done() &&
      (!onStack(this.stackInfo, firstFrame, 8) || (this.nextBp === 0 && ltU(this.bp, firstFrame)))
    ) {
      this.next();
    }
  }

  // update_stack_state()
  private updateStackState(nextBp: number): boolean {
    const info = this.stackInfo;
    const prevType = info.type;
    const prevFrameEnd = this.regs !== 0 ? this.regs + PTREGS_SIZE : this.bp + FRAME_HEADER_SIZE;

    // Is the next frame pointer an encoded pointer to pt_regs? (exact for canonical values)
    const isRegs = (nextBp & 1) !== 0;
    let frame: number;
    let len: number;
    if (isRegs) {
      frame = nextBp - 1;
      len = PTREGS_SIZE;
      this.gotIrq = true;
    } else {
      frame = nextBp;
      len = FRAME_HEADER_SIZE;
    }

    // If the next bp isn't on the current stack, switch to the next one.
    while (!onStack(info, frame, len)) {
      if (!getStackInfo(this.view, this.task as GuestTask, info.nextSp, info, this)) {
        this.failCause = this.regs !== 0 ? 'fp-bad-regs-bp' : 'fp-bad-frame-pointer';
        return false;
      }
    }

    // Make sure it only unwinds up and doesn't overlap the previous frame.
    if (this.origSp !== 0 && info.type === prevType && frame < prevFrameEnd) {
      this.failCause = 'fp-frame-goes-down';
      return false;
    }

    if (isRegs) {
      this.regs = frame;
      this.bp = 0;
    } else {
      this.bp = nextBp;
      this.regs = 0;
    }

    // Save the return address.
    if (this.regs !== 0 && this.userModeRegs(this.regs)) {
      this.curIp = 0;
    } else {
      const addrP = this.regs !== 0 ? this.regs + PTREGS_IP : this.bp + 8;
      const addr = this.read(addrP);
      if (addr === undefined) {
        this.failCause = 'unreadable-memory';
        return false;
      }
      // unwind_recover_ret_addr(): no function-graph tracer or rethook in the guest.
      this.curIp = addr;
    }

    if (this.origSp === 0) this.origSp = frame;
    return true;
  }

  private lastFrame(): number {
    return taskPtRegs(this.task as GuestTask) - 2 * 8;
  }

  // is_last_task_frame(): is_last_frame || is_last_aligned_frame || is_last_ftrace_frame
  private isLastTaskFrame(): boolean {
    const bp = this.bp;
    if (bp === 0) return false;
    const lastBp = this.lastFrame();
    if (bp === lastBp) return true;
    const alignedBp = lastBp - GCC_REALIGN_WORDS * 8;
    if (bp === alignedBp) {
      const a = this.read(alignedBp + 8);
      if (a !== undefined && a === this.read(lastBp + 8)) return true;
    }
    if (bp === lastBp - 3 * 8) {
      const w0 = this.read(bp);
      const w1 = this.read(bp + 8);
      if (w0 !== undefined && w1 !== undefined && w0 === this.read(bp + 16) && w1 === this.read(bp + 32)) {
        return true;
      }
    }
    return false;
  }

  // unwind_next_frame()
  next(): boolean {
    if (this.done()) return false;

    // Have we reached the end?
    if (this.regs !== 0 && this.userModeRegs(this.regs)) return this.theEnd();

    if (this.isLastTaskFrame()) {
      const regs = taskPtRegs(this.task as GuestTask);
      // kthreads: partial regs from copy_thread() end the stack.
      if (!this.userModeRegs(regs)) return this.theEnd();
      // The syscall regs frame, which entry code does not encode.
      this.regs = regs;
      this.bp = 0;
      this.curIp = 0;
      return true;
    }

    let nextBp: number | undefined;
    if (this.nextBp !== 0) {
      nextBp = this.nextBp;
      this.nextBp = 0;
    } else if (this.regs !== 0) {
      nextBp = this.read(this.regs + PTREGS_BP);
    } else {
      nextBp = this.read(this.bp);
    }
    if (nextBp === undefined) {
      this.failCause = 'unreadable-memory';
    } else if (this.updateStackState(nextBp)) {
      return true;
    }

    // bad_address: for a non-current task the kernel only sets the error (no warning).
    this.err = true;
    this.cause = this.failCause;
    return this.theEnd();
  }

  private theEnd(): boolean {
    this.stackInfo.type = STACK_TYPE_UNKNOWN;
    return false;
  }

  done(): boolean {
    return this.stackInfo.type === STACK_TYPE_UNKNOWN;
  }

  error(): boolean {
    return this.err;
  }

  errorCause(): UnwindErrorCause | null {
    return this.cause;
  }

  returnAddress(): number {
    if (this.done()) return 0;
    return this.text.contains(this.curIp) ? this.curIp : 0;
  }

  ip(): number {
    return this.curIp;
  }

  atRegs(): boolean {
    return !this.done() && this.regs !== 0;
  }

  regsUserMode(): boolean {
    return this.atRegs() && this.userModeRegs(this.regs);
  }

  regsAddr(): number {
    return this.done() ? 0 : this.regs;
  }

  frameAddr(): number {
    return this.regs !== 0 ? this.regs : this.bp;
  }
}
