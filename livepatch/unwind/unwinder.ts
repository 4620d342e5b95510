// The interface both x86 unwinders present to the stack walkers (arch/x86/include/asm/unwind.h):
// unwind_start, unwind_next_frame, unwind_done, unwind_error, unwind_get_return_address,
// unwind_get_entry_regs. One unwinder object is reused for many walks (no allocation per frame).

import type { GuestTask } from './guestView';
import type { RegsSnapshot } from './ptRegs';

/** Why an unwinder set its error flag (a host-side diagnosis; the kernel only sets a bool). */
export type UnwindErrorCause =
  // frame pointer (unwind_frame.c)
  | 'fp-bad-frame-pointer' // next bp (saved in a frame) is not on a valid stack
  | 'fp-bad-regs-bp' // next bp (saved in pt_regs) is not on a valid stack
  | 'fp-frame-goes-down' // next frame starts below the end of the previous one
  // ORC (unwind_orc.c)
  | 'orc-not-initialized' // no usable .orc_unwind table (orc_init false)
  | 'orc-bad-start-sp' // the starting sp is not on a valid stack
  | 'orc-no-entry' // no ORC entry for ip: frame-pointer guess used
  | 'orc-undefined-sp' // sp_reg UNDEFINED without the end bit
  | 'orc-unknown-sp-reg'
  | 'orc-unknown-bp-reg'
  | 'orc-unknown-type'
  | 'orc-missing-reg' // R10/R13/DI/DX needed but no full regs
  | 'orc-bad-stack-access' // a stack slot or pt_regs not on a valid stack
  | 'orc-wrong-direction' // sp did not grow on the same stack
  // both
  | 'unreadable-memory'; // the view could not read a word the walk needed

export interface Unwinder {
  readonly name: 'fp' | 'orc';
  /**
   * unwind_start(state, task, regs, NULL). regs: the register state of an interrupted task
   * (the running task when the guest stopped), or null to start from a sleeping task's
   * inactive_task_frame.
   */
  start(task: GuestTask, regs: RegsSnapshot | null): void;
  /** unwind_next_frame(): false once done (normal end or error). */
  next(): boolean;
  /** unwind_done() */
  done(): boolean;
  /** unwind_error() */
  error(): boolean;
  /** The cause behind error(), or null. */
  errorCause(): UnwindErrorCause | null;
  /** unwind_get_return_address(): the frame's ip if it is kernel text, else 0 (0 when done). */
  returnAddress(): number;
  /** The frame's raw ip (0 for user-mode regs). */
  ip(): number;
  /** unwind_get_entry_regs() != NULL */
  atRegs(): boolean;
  /** user_mode(unwind_get_entry_regs()); false when not at regs */
  regsUserMode(): boolean;
  /** Address of the pt_regs frame (0 when not at one, or when they are the start snapshot). */
  regsAddr(): number;
  /** A stack address naming the frame for display: bp (frame pointer) or sp (ORC). */
  frameAddr(): number;
}

/** Unsigned a < b on signed-number addresses (kernel addresses are negative numbers). */
export function ltU(a: number, b: number): boolean {
  return a < 0 === b < 0 ? a < b : a >= 0;
}

/** Unsigned a <= b on signed-number addresses. */
export function leU(a: number, b: number): boolean {
  return a === b || ltU(a, b);
}
