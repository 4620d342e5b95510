// The true trace of a task from the emulator's ground truth (emulator/truth/callStacks.ts): the
// return-address slots of the calls that are really active on its stack, and the saved RIP of
// kernel-mode interrupt frames, innermost first; what a correct reliable trace must hold.
// A user-mode interrupt or exception frame is the bottom of the kernel stack (the user boundary).

import type { GuestTask, GuestView } from './guestView';
import { PTREGS_CS, PTREGS_IP, type RegsSnapshot, userModeCs } from './ptRegs';
import type { TruthChain } from '../../emulator/truth/callStacks';

/** The shape of emulator/truth CallStackTruth that this file reads (structural, no import). */
export interface TruthSource {
  readonly stacks: ReadonlyMap<number, TruthChain>;
  readonly stackSize: number;
}

export const TRUTH_FRAME_CALL = 0;
/** the longest x86 instruction: a call's return address lies at most this far after it */
const MAX_CALL_LENGTH = 15;
export const TRUTH_FRAME_INTERRUPT = 1;

export interface TruthEntry {
  /** the return address (call) or interrupted RIP (interrupt), as the stack holds it */
  addr: number;
  kind: 'call' | 'interrupt' | 'cpu';
  /** address of the slot (0 for the CPU's own rip) */
  slot: number;
  /** the call instruction or interrupted instruction the truth recorded */
  from: number;
}

/**
 * The active frames of `task` from `startSp` up. For the running task pass its CPU registers:
 * the entry list then starts with the current rip (kernel mode), as a walk from registers does.
 */
export function truthTrace(truth: TruthSource, mem: GuestView, task: GuestTask, regs: RegsSnapshot | null): TruthEntry[] {
  const out: TruthEntry[] = [];
  if (regs !== null) {
    if (userModeCs(regs[PTREGS_CS / 8])) return out;
    out.push({ addr: regs[PTREGS_IP / 8], kind: 'cpu', slot: 0, from: regs[PTREGS_IP / 8] });
  }
  const startSp = regs !== null ? regs[152 / 8] : task.threadSp;
  const frames: { kind: number; sp: number; from: number }[] = [];
  // The running task may be on another stack (IRQ, exception, entry): its frames come first, then
  // those of the stack it was entered from above the stack pointer it left there (next_sp).
  let sp = startSp;
  const visited: number[] = [];
  for (;;) {
    const stack = stackOf(mem, task, regs !== null, sp);
    if (stack === null || visited.includes(stack.begin)) break;
    visited.push(stack.begin);
    for (const f of framesIn(truth, stack.begin, stack.end, sp)) if (!staleCall(mem, f)) frames.push(f);
    if (stack.nextSp === 0) break;
    sp = stack.nextSp;
  }
  // A task that never ran sleeps on the frame copy_thread() built: no call pushed its return
  // address (ret_from_fork), but switching to it "returns" there, so it is an active frame.
  if (regs === null && task.hasStack) {
    const slot = task.threadSp + mem.inactiveTaskFrame.retAddr;
    if (!frames.some((f) => f.sp === slot)) frames.unshift({ kind: TRUTH_FRAME_CALL, sp: slot, from: 0 });
  }
  for (const f of frames) {
    if (f.kind === TRUTH_FRAME_INTERRUPT) {
      const cs = mem.readWord(f.sp + 8);
      if (cs !== undefined && userModeCs(cs)) break;
    }
    const addr = mem.readWord(f.sp);
    out.push({ addr: addr ?? 0, kind: f.kind === TRUTH_FRAME_INTERRUPT ? 'interrupt' : 'call', slot: f.sp, from: f.from });
  }
  return out;
}

/** The stack holding `sp`: the task stack, or (running task only) one of the view's other stacks. */
function stackOf(mem: GuestView, task: GuestTask, running: boolean, sp: number): { begin: number; end: number; nextSp: number } | null {
  if (sp >= task.stackBegin && sp < task.stackEnd) return { begin: task.stackBegin, end: task.stackEnd, nextSp: 0 };
  if (!running) return null;
  for (const s of mem.extraStacks(task)) if (sp >= s.begin && sp < s.end) return s;
  return null;
}

/** The truth's frames at or above `sp` in [begin, end), by address (innermost first). */
function framesIn(truth: TruthSource, begin: number, end: number, sp: number): { kind: number; sp: number; from: number }[] {
  const out: { kind: number; sp: number; from: number }[] = [];
  const size = truth.stackSize;
  for (let key = Math.floor(begin / size); key <= Math.floor((end - 1) / size); key++) {
    const chain = truth.stacks.get(key);
    if (!chain) continue;
    for (let i = 0; i < chain.length; i++) {
      const at = chain.spAt(i);
      if (at >= sp && at >= begin && at < end) out.push(chain.frame(i));
    }
  }
  // A chain runs from the outermost frame to the innermost (descending addresses): reversed, it is in
  // address order, which a sort (stable, so frames that share a slot keep their order) is only
  // needed for when several chains contribute or two frames share a slot.
  out.reverse();
  for (let i = 1; i < out.length; i++) {
    if (out[i].sp <= out[i - 1].sp) return out.reverse().sort((a, b) => a.sp - b.sp);
  }
  return out;
}

/**
 * A call frame whose slot no longer holds the address after the call: it was returned from through
 * a copy (Linux's error_entry, PUSH_AND_CLEAR_REGS save_ret=1, moves its return address below the
 * pt_regs it builds over the slot and RETs from there), or the stack was given to a new task whose
 * copy_thread() wrote over it (vmalloc'd stacks are reused). Either way it is no active frame.
 */
function staleCall(mem: GuestView, f: { kind: number; sp: number; from: number }): boolean {
  if (f.kind !== TRUTH_FRAME_CALL) return false;
  const addr = mem.readWord(f.sp);
  return addr === undefined || !(addr - f.from >= 1 && addr - f.from <= MAX_CALL_LENGTH);
}
