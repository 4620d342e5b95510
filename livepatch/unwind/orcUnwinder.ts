// arch/x86/kernel/unwind_orc.c: the ORC unwinder. For each frame it looks up the ORC entry of
// the ip (ip - 1 after a call, ip itself after an interrupt or exception: `signal`), computes
// the caller's sp from sp/bp/a register/an indirection, reads the return address (call frame)
// or a pt_regs / IRET frame (regs frames), and recovers bp. sp_reg UNDEFINED with `end` set is
// the normal end of the stack (UNWIND_HINT_EMPTY in entry code and ret_from_fork).

import type { GuestTask, GuestView } from './guestView';
import type { KernelText } from './kernelText';
import {
  ORC_REG_BP,
  ORC_REG_BP_INDIRECT,
  ORC_REG_DI,
  ORC_REG_DX,
  ORC_REG_PREV_SP,
  ORC_REG_R10,
  ORC_REG_R13,
  ORC_REG_SP,
  ORC_REG_SP_INDIRECT,
  ORC_REG_UNDEFINED,
  UNWIND_HINT_TYPE_CALL,
  UNWIND_HINT_TYPE_REGS,
  UNWIND_HINT_TYPE_REGS_PARTIAL,
} from '../../objtool/orc/orcTypes';
import type { OrcTable } from './orcTable';
import {
  IRET_FRAME_OFFSET,
  IRET_FRAME_SIZE,
  PTREGS_BP,
  PTREGS_CS,
  PTREGS_DI,
  PTREGS_DX,
  PTREGS_IP,
  PTREGS_R10,
  PTREGS_R13,
  PTREGS_SIZE,
  PTREGS_SP,
  type RegsSnapshot,
  userModeCs,
} from './ptRegs';
import { STACK_TYPE_UNKNOWN, StackInfo, getStackInfo, onStack } from './stackInfo';
import { type UnwindErrorCause, type Unwinder, leU } from './unwinder';

const PAGE_SIZE = 4096;

export class OrcUnwinder implements Unwinder {
  readonly name = 'orc' as const;

  // struct unwind_state (CONFIG_UNWINDER_ORC)
  stackInfo = new StackInfo();
  stackMask = 0;
  private task: GuestTask | null = null;
  private err = false;
  private cause: UnwindErrorCause | null = null;
  private signal = false;
  private fullRegs = false;
  private sp = 0;
  private bp = 0;
  private curIp = 0;
  /** current regs frame address (0 = NULL unless regsHost) */
  private regs = 0;
  private prevRegs = 0;
  /** the start regs when they are a host snapshot (the stopped CPU) rather than guest memory */
  private regsHost: RegsSnapshot | null = null;
  private prevRegsHost: RegsSnapshot | null = null;
  /** the ORC entry index used for the last step (-1 = fp guess), for diagnostics */
  lastEntry = -1;

  constructor(
    private readonly view: GuestView,
    private readonly text: KernelText,
    private readonly orc: OrcTable | null,
    /** address of ret_from_fork (a new task's first return address), or 0 */
    private readonly retFromFork: number = 0,
  ) {}

  private hasRegs(): boolean {
    return this.regs !== 0 || this.regsHost !== null;
  }

  private regsWord(off: number): number | undefined {
    if (this.regsHost !== null) return this.regsHost[off / 8];
    return this.view.readWord(this.regs + off);
  }

  private regsUser(): boolean {
    const cs = this.regsWord(PTREGS_CS);
    return cs !== undefined && userModeCs(cs);
  }

  // __unwind_start()
  start(task: GuestTask, regs: RegsSnapshot | null): void {
    this.stackInfo.reset();
    this.stackMask = 0;
    this.task = task;
    this.err = false;
    this.cause = null;
    this.signal = false;
    this.fullRegs = false;
    this.sp = 0;
    this.bp = 0;
    this.curIp = 0;
    this.regs = 0;
    this.prevRegs = 0;
    this.regsHost = null;
    this.prevRegsHost = null;
    this.lastEntry = -1;

    if (this.orc === null || !this.orc.init) return this.fail('orc-not-initialized');
    // task_on_another_cpu(): one CPU, and the running task is unwound from its registers.

    if (regs !== null) {
      if (userModeCs(regs[PTREGS_CS / 8])) {
        this.stackInfo.type = STACK_TYPE_UNKNOWN;
        return;
      }
      this.curIp = regs[PTREGS_IP / 8];
      this.sp = regs[PTREGS_SP / 8];
      this.bp = regs[PTREGS_BP / 8];
      this.regsHost = regs;
      this.fullRegs = true;
      this.signal = true;
    } else {
      const frame = task.threadSp;
      const layout = this.view.inactiveTaskFrame;
      this.sp = frame + layout.size;
      const bp = this.view.readWord(frame + layout.bp);
      const ip = this.view.readWord(frame + layout.retAddr);
      if (bp === undefined || ip === undefined) return this.fail('unreadable-memory');
      this.bp = bp;
      this.curIp = ip;
      this.signal = this.retFromFork !== 0 && ip === this.retFromFork;
    }

    if (!getStackInfo(this.view, task, this.sp, this.stackInfo, this)) {
      // Maybe a stack overflow into a guard page: try the next page up, but the walk is
      // unreliable either way.
      const nextPage = Math.ceil(this.sp / PAGE_SIZE) * PAGE_SIZE;
      this.err = true;
      this.cause = 'orc-bad-start-sp';
      if (!getStackInfo(this.view, task, nextPage, this.stackInfo, this)) return;
    }

    // When starting from regs, skip the regs frame.
    if (regs !== null) {
      this.next();
      return;
    }
    const firstFrame = task.threadSp;
    while (!this.done() && (!onStack(this.stackInfo, firstFrame, 8) || leU(this.sp, firstFrame))) this.next();
  }

  private fail(cause: UnwindErrorCause): void {
    this.err = true;
    if (this.cause === null) this.cause = cause;
    this.stackInfo.type = STACK_TYPE_UNKNOWN;
  }

  // stack_access_ok()
  private stackAccessOk(addr: number, len: number): boolean {
    const info = this.stackInfo;
    if (onStack(info, addr, len)) return true;
    return getStackInfo(this.view, this.task as GuestTask, addr, info, this) && onStack(info, addr, len);
  }

  // get_reg(): from full regs, or from the previous full regs of an IRET-only frame
  private getReg(off: number): number | undefined {
    if (!this.hasRegs()) return undefined;
    if (this.fullRegs) return this.regsWord(off);
    if (this.prevRegsHost !== null) return this.prevRegsHost[off / 8];
    if (this.prevRegs !== 0) return this.view.readWord(this.prevRegs + off);
    return undefined;
  }

  // unwind_next_frame()
  next(): boolean {
    if (this.done()) return false;
    const prevSp = this.sp;
    const prevType = this.stackInfo.type;

    // End-of-stack check for user tasks.
    if (this.hasRegs() && this.regsUser()) return this.theEnd();

    // For a call frame, look up the call instruction itself (ip - 1).
    let e = this.orc!.find(this.signal ? this.curIp : this.curIp - 1);
    // the row may be a loaded module's (orc_module_find): read it from the table that holds it
    let orc = this.orc!.hit;
    if (e < 0) {
      orc = this.orc!;
      // Assume frame pointers (generated code); the rest of the unwind is not reliable.
      e = orc.fpEntry;
      this.err = true;
      if (this.cause === null) this.cause = 'orc-no-entry';
    }
    this.lastEntry = e;

    const spReg = orc.spReg[e];
    const spOffset = orc.spOffset[e];
    // End-of-stack check for kernel threads.
    if (spReg === ORC_REG_UNDEFINED) {
      if (orc.end[e] === 0) return this.error_('orc-undefined-sp');
      return this.theEnd();
    }

    // Find the previous frame's stack.
    let sp: number;
    let indirect = false;
    let v: number | undefined;
    switch (spReg) {
      case ORC_REG_SP:
        sp = this.sp + spOffset;
        break;
      case ORC_REG_BP:
        sp = this.bp + spOffset;
        break;
      case ORC_REG_SP_INDIRECT:
        sp = this.sp;
        indirect = true;
        break;
      case ORC_REG_BP_INDIRECT:
        sp = this.bp + spOffset;
        indirect = true;
        break;
      case ORC_REG_R10:
      case ORC_REG_R13:
      case ORC_REG_DI:
      case ORC_REG_DX:
        v = this.getReg(
          spReg === ORC_REG_R10 ? PTREGS_R10 : spReg === ORC_REG_R13 ? PTREGS_R13 : spReg === ORC_REG_DI ? PTREGS_DI : PTREGS_DX,
        );
        // "missing R10 value at %pB" etc.
        if (v === undefined) return this.error_('orc-missing-reg');
        sp = v;
        break;
      default:
        // "unknown SP base reg %d at %pB"
        return this.error_('orc-unknown-sp-reg');
    }

    if (indirect) {
      v = this.derefStackReg(sp);
      if (v === undefined) return this.error_('orc-bad-stack-access');
      sp = v;
      if (spReg === ORC_REG_SP_INDIRECT) sp += spOffset;
    }

    // Find ip, sp and possibly regs.
    switch (orc.type[e]) {
      case UNWIND_HINT_TYPE_CALL: {
        const ip = this.derefStackReg(sp - 8);
        if (ip === undefined) return this.error_('orc-bad-stack-access');
        this.curIp = ip;
        this.sp = sp;
        this.regs = 0;
        this.regsHost = null;
        this.prevRegs = 0;
        this.prevRegsHost = null;
        this.signal = false;
        break;
      }
      case UNWIND_HINT_TYPE_REGS: {
        if (!this.stackAccessOk(sp, PTREGS_SIZE)) return this.error_('orc-bad-stack-access'); // "can't access registers"
        const ip = this.view.readWord(sp + PTREGS_IP);
        const nsp = this.view.readWord(sp + PTREGS_SP);
        if (ip === undefined || nsp === undefined) return this.error_('unreadable-memory');
        this.curIp = ip;
        this.sp = nsp;
        this.regs = sp;
        this.regsHost = null;
        this.prevRegs = 0;
        this.prevRegsHost = null;
        this.fullRegs = true;
        this.signal = true;
        break;
      }
      case UNWIND_HINT_TYPE_REGS_PARTIAL: {
        if (!this.stackAccessOk(sp, IRET_FRAME_SIZE)) return this.error_('orc-bad-stack-access'); // "can't access iret registers"
        const regs = sp - IRET_FRAME_OFFSET;
        const ip = this.view.readWord(regs + PTREGS_IP);
        const nsp = this.view.readWord(regs + PTREGS_SP);
        if (ip === undefined || nsp === undefined) return this.error_('unreadable-memory');
        this.curIp = ip;
        this.sp = nsp;
        if (this.fullRegs) {
          this.prevRegs = this.regs;
          this.prevRegsHost = this.regsHost;
        }
        this.regs = regs;
        this.regsHost = null;
        this.fullRegs = false;
        this.signal = true;
        break;
      }
      default:
        // "unknown .orc_unwind entry type %d at %pB"
        return this.error_('orc-unknown-type');
    }

    // Find bp.
    switch (orc.bpReg[e]) {
      case ORC_REG_UNDEFINED: {
        const bp = this.getReg(PTREGS_BP);
        if (bp !== undefined) this.bp = bp;
        break;
      }
      case ORC_REG_PREV_SP: {
        const bp = this.derefStackReg(sp + orc.bpOffset[e]);
        if (bp === undefined) return this.error_('orc-bad-stack-access');
        this.bp = bp;
        break;
      }
      case ORC_REG_BP: {
        const bp = this.derefStackReg(this.bp + orc.bpOffset[e]);
        if (bp === undefined) return this.error_('orc-bad-stack-access');
        this.bp = bp;
        break;
      }
      default:
        // "unknown BP base reg %d for ip %pB"
        return this.error_('orc-unknown-bp-reg');
    }

    // Prevent a recursive loop due to bad ORC data.
    if (this.stackInfo.type === prevType && onStack(this.stackInfo, this.sp, 8) && leU(this.sp, prevSp)) {
      // "stack going in the wrong direction? at %pB"
      return this.error_('orc-wrong-direction');
    }
    return true;
  }

  // deref_stack_reg()
  private derefStackReg(addr: number): number | undefined {
    if (!this.stackAccessOk(addr, 8)) return undefined;
    return this.view.readWord(addr);
  }

  private error_(cause: UnwindErrorCause): boolean {
    this.err = true;
    if (this.cause === null) this.cause = cause;
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
    return !this.done() && this.hasRegs();
  }

  regsUserMode(): boolean {
    return this.atRegs() && this.regsUser();
  }

  regsAddr(): number {
    return this.done() ? 0 : this.regs;
  }

  frameAddr(): number {
    return this.sp;
  }
}
