// The true trace of a task from the emulator's ground truth (emulator/truth/callStacks.ts): the
// return-address slots of the calls that are really active on its stack, and the saved RIP of
// kernel-mode interrupt frames, innermost first; what a correct reliable trace must hold.
// A user-mode interrupt or exception frame is the bottom of the kernel stack (the user boundary).

import type { GuestTask, GuestView } from './guestView';
import { PTREGS_CS, PTREGS_IP, type RegsSnapshot, userModeCs } from './ptRegs';
import type { TruthChain } from '../../emulator/truth/callStacks';

/** What this file reads of emulator/truth CallStackTruth: its stacks' chains, by region. */
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
  visitTrace(truth, mem, task, regs, (addr, kind, slot, from) => out.push({ addr, kind, slot, from }));
  return out;
}

/** truthTrace's addresses alone (what the studies compare traces with). */
export function truthAddresses(truth: TruthSource, mem: GuestView, task: GuestTask, regs: RegsSnapshot | null): number[] {
  const out: number[] = [];
  visitTrace(truth, mem, task, regs, (addr) => out.push(addr));
  return out;
}

/**
 * The frames a trace gathers, in columns that every trace reuses (a study traces every task at
 * hundreds of thousands of stop points): kind, slot address and call site, `frameCount` of them.
 */
const frameKind: number[] = [];
const frameSp: number[] = [];
const frameFrom: number[] = [];
let frameCount = 0;

function visitTrace(truth: TruthSource, mem: GuestView, task: GuestTask, regs: RegsSnapshot | null,
  visit: (addr: number, kind: TruthEntry['kind'], slot: number, from: number) => void): void {
  if (regs !== null) {
    if (userModeCs(regs[PTREGS_CS / 8])) return;
    visit(regs[PTREGS_IP / 8], 'cpu', 0, regs[PTREGS_IP / 8]);
  }
  frameCount = 0;
  const startSp = regs !== null ? regs[152 / 8] : task.threadSp;
  // The running task may be on another stack (IRQ, exception, entry): its frames come first, then
  // those of the stack it was entered from above the stack pointer it left there (next_sp).
  let sp = startSp;
  const visited: number[] = [];
  for (;;) {
    const stack = stackOf(mem, task, regs !== null, sp);
    if (stack === null || visited.includes(stack.begin)) break;
    visited.push(stack.begin);
    framesIn(truth, mem, stack.begin, stack.end, sp);
    if (stack.nextSp === 0) break;
    sp = stack.nextSp;
  }
  // A task that never ran sleeps on the frame copy_thread() built: no call pushed its return
  // address (ret_from_fork), but switching to it "returns" there, so it is an active frame.
  if (regs === null && task.hasStack) {
    const slot = task.threadSp + mem.inactiveTaskFrame.retAddr;
    let found = false;
    for (let i = 0; i < frameCount && !found; i++) found = frameSp[i] === slot;
    if (!found) {
      for (let i = frameCount; i > 0; i--) { frameKind[i] = frameKind[i - 1]; frameSp[i] = frameSp[i - 1]; frameFrom[i] = frameFrom[i - 1]; }
      frameKind[0] = TRUTH_FRAME_CALL; frameSp[0] = slot; frameFrom[0] = 0;
      frameCount++;
    }
  }
  for (let i = 0; i < frameCount; i++) {
    const kind = frameKind[i], at = frameSp[i];
    if (kind === TRUTH_FRAME_INTERRUPT) {
      const cs = mem.readWord(at + 8);
      if (cs !== undefined && userModeCs(cs)) break;
    }
    visit(mem.readWord(at) ?? 0, kind === TRUTH_FRAME_INTERRUPT ? 'interrupt' : 'call', at, frameFrom[i]);
  }
}

/** The stack holding `sp`: the task stack, or (running task only) one of the view's other stacks. */
function stackOf(mem: GuestView, task: GuestTask, running: boolean, sp: number): { begin: number; end: number; nextSp: number } | null {
  if (sp >= task.stackBegin && sp < task.stackEnd) return { begin: task.stackBegin, end: task.stackEnd, nextSp: 0 };
  if (!running) return null;
  for (const s of mem.extraStacks(task)) if (sp >= s.begin && sp < s.end) return s;
  return null;
}

/**
 * Appends the truth's frames at or above `sp` in [begin, end) to the frame columns, by address
 * (innermost first), leaving out stale calls (staleCall).
 */
function framesIn(truth: TruthSource, mem: GuestView, begin: number, end: number, sp: number): void {
  const first = frameCount;
  const size = truth.stackSize;
  for (let key = Math.floor(begin / size); key <= Math.floor((end - 1) / size); key++) {
    const chain = truth.stacks.get(key);
    if (!chain) continue;
    for (let i = 0; i < chain.length; i++) {
      const at = chain.spAt(i);
      if (at >= sp && at >= begin && at < end) {
        frameKind[frameCount] = chain.kindAt(i); frameSp[frameCount] = at; frameFrom[frameCount] = chain.fromAt(i);
        frameCount++;
      }
    }
  }
  // A chain runs from the outermost frame to the innermost (descending addresses): reversed, it is in
  // address order, which a sort (stable, so frames that share a slot keep their order) is only
  // needed for when several chains contribute or two frames share a slot.
  reverseFrames(first, frameCount);
  let ordered = true;
  for (let i = first + 1; i < frameCount && ordered; i++) ordered = frameSp[i] > frameSp[i - 1];
  if (!ordered) {
    reverseFrames(first, frameCount);
    const order: { kind: number; sp: number; from: number }[] = [];
    for (let i = first; i < frameCount; i++) order.push({ kind: frameKind[i], sp: frameSp[i], from: frameFrom[i] });
    order.sort((x, y) => x.sp - y.sp);
    order.forEach((f, k) => { frameKind[first + k] = f.kind; frameSp[first + k] = f.sp; frameFrom[first + k] = f.from; });
  }
  let kept = first;
  for (let i = first; i < frameCount; i++) {
    if (staleCall(mem, frameKind[i], frameSp[i], frameFrom[i])) continue;
    frameKind[kept] = frameKind[i]; frameSp[kept] = frameSp[i]; frameFrom[kept] = frameFrom[i];
    kept++;
  }
  frameCount = kept;
}

function reverseFrames(from: number, to: number): void {
  for (let i = from, j = to - 1; i < j; i++, j--) {
    const k = frameKind[i], s = frameSp[i], f = frameFrom[i];
    frameKind[i] = frameKind[j]; frameSp[i] = frameSp[j]; frameFrom[i] = frameFrom[j];
    frameKind[j] = k; frameSp[j] = s; frameFrom[j] = f;
  }
}

/**
 * A call frame whose slot no longer holds the address after the call: it was returned from through
 * a copy (Linux's error_entry, PUSH_AND_CLEAR_REGS save_ret=1, moves its return address below the
 * pt_regs it builds over the slot and RETs from there), or the stack was given to a new task whose
 * copy_thread() wrote over it (vmalloc'd stacks are reused). Either way it is no active frame.
 */
function staleCall(mem: GuestView, kind: number, sp: number, from: number): boolean {
  if (kind !== TRUTH_FRAME_CALL) return false;
  const addr = mem.readWord(sp);
  return addr === undefined || !(addr - from >= 1 && addr - from <= MAX_CALL_LENGTH);
}
