// arch/x86/kernel/stacktrace.c arch_stack_walk() as show_stack() uses it, kept as a list of
// frames for display: every frame the unwinder visits (including regs frames and addresses
// outside kernel text, which the reliable walk would refuse), until it is done.

import type { GuestTask } from './guestView';
import type { KernelText } from './kernelText';
import { PTREGS_CS, PTREGS_IP, type RegsSnapshot, userModeCs } from './ptRegs';
import type { UnwindErrorCause, Unwinder } from './unwinder';

export interface WalkFrame {
  /** the return address (or interrupted ip for regs frames); 0 for user-mode regs */
  ip: number;
  /** 'regs': a kernel-mode pt_regs frame; 'user-regs': the user pt_regs ending the stack */
  kind: 'call' | 'regs' | 'user-regs' | 'cpu';
  /** bp (frame pointer) or sp (ORC) of the frame, or the pt_regs address */
  frameAddr: number;
  inText: boolean;
}

export interface WalkResult {
  /** every frame the walk visited (empty when the walk was asked for its ips alone) */
  frames: WalkFrame[];
  /**
   * What the studies compare with the truth: the frames' ips up to the first user-mode regs frame,
   * then NaN when the walk is incomplete (an unwinder error or maxFrames reached), since an
   * incomplete walk never matches the truth.
   */
  ips: number[];
  error: boolean;
  cause: UnwindErrorCause | null;
  /** stopped because maxFrames was reached */
  truncated: boolean;
}

/**
 * The walk of `task` (from `regs` when it was interrupted). `keepFrames` false makes no frame
 * objects, only the ips (a study's hundreds of thousands of walks); the walk goes on to its end
 * either way, so error, cause and truncated are the same.
 */
export function walkStack(
  u: Unwinder,
  text: KernelText,
  task: GuestTask,
  regs: RegsSnapshot | null,
  maxFrames = 256,
  keepFrames = true,
): WalkResult {
  const frames: WalkFrame[] = [];
  const ips: number[] = [];
  let count = 0;
  let atUser = false;
  if (regs !== null) {
    const ip = regs[PTREGS_IP / 8];
    const user = userModeCs(regs[PTREGS_CS / 8]);
    if (keepFrames) frames.push({ ip: user ? 0 : ip, kind: user ? 'user-regs' : 'cpu', frameAddr: 0, inText: text.contains(ip) });
    count++;
    if (user) atUser = true;
    else ips.push(ip);
  }
  let truncated = false;
  for (u.start(task, regs); !u.done(); u.next()) {
    if (count >= maxFrames) {
      truncated = true;
      break;
    }
    count++;
    const ip = u.ip();
    const kind = u.atRegs() ? (u.regsUserMode() ? 'user-regs' : 'regs') : 'call';
    if (keepFrames) frames.push({ ip, kind, frameAddr: kind === 'call' ? u.frameAddr() : u.regsAddr() || u.frameAddr(), inText: text.contains(ip) });
    if (kind === 'user-regs') atUser = true;
    else if (!atUser) ips.push(ip);
  }
  const error = u.error();
  if (error || truncated) ips.push(NaN);
  return { frames, ips, error, cause: u.errorCause(), truncated };
}
