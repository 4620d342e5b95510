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
  frames: WalkFrame[];
  error: boolean;
  cause: UnwindErrorCause | null;
  /** stopped because maxFrames was reached */
  truncated: boolean;
}

export function walkStack(
  u: Unwinder,
  text: KernelText,
  task: GuestTask,
  regs: RegsSnapshot | null,
  maxFrames = 256,
): WalkResult {
  const frames: WalkFrame[] = [];
  if (regs !== null) {
    const ip = regs[PTREGS_IP / 8];
    const user = userModeCs(regs[PTREGS_CS / 8]);
    frames.push({ ip: user ? 0 : ip, kind: user ? 'user-regs' : 'cpu', frameAddr: 0, inText: text.contains(ip) });
  }
  let truncated = false;
  for (u.start(task, regs); !u.done(); u.next()) {
    if (frames.length >= maxFrames) {
      truncated = true;
      break;
    }
    const ip = u.ip();
    const kind = u.atRegs() ? (u.regsUserMode() ? 'user-regs' : 'regs') : 'call';
    frames.push({ ip, kind, frameAddr: kind === 'call' ? u.frameAddr() : u.regsAddr() || u.frameAddr(), inText: text.contains(ip) });
  }
  return { frames, error: u.error(), cause: u.errorCause(), truncated };
}

/**
 * What the studies compare of a walk, without its frame objects: the ips of walkStack's frames up to
 * the first user-mode regs frame, and NaN after them when the walk is incomplete (an unwinder error
 * or maxFrames reached; an incomplete walk never matches the truth). The walk itself goes on to its
 * end as walkStack's does. Also returns walkStack's error, cause and truncated.
 */
export function walkIps(
  u: Unwinder,
  task: GuestTask,
  regs: RegsSnapshot | null,
  maxFrames = 256,
): { ips: number[]; error: boolean; cause: UnwindErrorCause | null; truncated: boolean } {
  const ips: number[] = [];
  let frames = 0;
  let atUser = false;
  if (regs !== null) {
    frames++;
    if (userModeCs(regs[PTREGS_CS / 8])) atUser = true;
    else ips.push(regs[PTREGS_IP / 8]);
  }
  let truncated = false;
  for (u.start(task, regs); !u.done(); u.next()) {
    if (frames >= maxFrames) {
      truncated = true;
      break;
    }
    frames++;
    if (atUser) continue;
    if (u.atRegs() && u.regsUserMode()) atUser = true;
    else ips.push(u.ip());
  }
  const error = u.error();
  if (error || truncated) ips.push(NaN);
  return { ips, error, cause: u.errorCause(), truncated };
}
