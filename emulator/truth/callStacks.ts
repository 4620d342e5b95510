/**
 * Ground truth: for every kernel stack, the chain of frames that are really active: near calls
 * (return address slot and target), interrupt/exception frames, and their unwinding by RET and IRET.
 * Stacks are identified by their aligned region (THREAD_SIZE-style, `stackSize` bytes), so a context
 * switch (RSP moving to another task's stack) needs no special event: each stack keeps its own chain.
 *
 * It is off by default; Machine.enableTruth() makes that machine's decoder pick instrumented call/ret
 * forms (exec/table.ts bindForm) and flushes its block cache, so the default path pays nothing.
 * Only CPL 0 activity is tracked (user stacks are not kernel stacks).
 */
import type { Cpu } from '../cpu/cpu';
import type { CallObserver } from '../cpu/cpuLinks';
import { RSP } from '../cpu/registers';

export const FRAME_CALL = 0, FRAME_INTERRUPT = 1;

export interface TruthFrame {
  kind: number;
  /** Address of the return-address slot (call) or of the saved RIP in the hardware frame (interrupt). */
  sp: number;
  /** Address of the call instruction, or the interrupted RIP. */
  from: number;
  /** Call target or the vector. */
  to: number;
}

/** CallStackTruth.saveState(): JSON-able. */
export interface TruthState {
  stackSize: number;
  events: number;
  stacks: [number, number[]][];
}

export class CallStackTruth implements CallObserver {
  /** Stack region index → frames, outermost first. */
  readonly stacks = new Map<number, TruthFrame[]>();
  events = 0;

  constructor(private readonly c: Cpu, readonly stackSize: number) {}

  private chain(sp: number): TruthFrame[] {
    const key = Math.floor(sp / this.stackSize);
    let ch = this.stacks.get(key);
    if (ch === undefined) { ch = []; this.stacks.set(key, ch); }
    return ch;
  }

  /** Drop frames that lie below `sp` (they were popped). */
  private prune(ch: TruthFrame[], sp: number): void {
    while (ch.length > 0 && ch[ch.length - 1].sp < sp) ch.pop();
  }

  /** After a near CALL pushed its return address at RSP. */
  onCall(from: number, to: number): void {
    if (this.c.cpl !== 0) return;
    this.events++;
    const sp = this.c.regs.addr(RSP);
    const ch = this.chain(sp);
    this.prune(ch, sp);
    ch.push({ kind: FRAME_CALL, sp, from, to });
  }

  /** After a RET (RSP already above the return slot). */
  onRet(): void {
    if (this.c.cpl !== 0) return;
    this.events++;
    const sp = this.c.regs.addr(RSP);
    this.prune(this.chain(sp - 1), sp);
  }

  onInterrupt(vector: number, frameSp: number, _fromCpl: number): void {
    this.events++;
    const ch = this.chain(frameSp);
    this.prune(ch, frameSp);
    ch.push({ kind: FRAME_INTERRUPT, sp: frameSp, from: this.c.insnStart, to: vector });
  }

  /** IRET popped the hardware frame whose RIP slot is at `ripSlot`. */
  onIret(ripSlot: number): void {
    this.events++;
    this.prune(this.chain(ripSlot), ripSlot + 1);
  }

  /**
   * Snapshot state (saved only when truth is on): the chains as [kind, sp, from, to] quadruples, so
   * that a machine restored mid-run still knows the frames that were active at the snapshot.
   */
  saveState(): TruthState {
    const stacks: [number, number[]][] = [];
    for (const [key, ch] of this.stacks) {
      const flat: number[] = [];
      for (const f of ch) flat.push(f.kind, f.sp, f.from, f.to);
      stacks.push([key, flat]);
    }
    return { stackSize: this.stackSize, events: this.events, stacks };
  }

  loadState(s: TruthState): void {
    this.stacks.clear();
    for (const [key, flat] of s.stacks) {
      const ch: TruthFrame[] = [];
      for (let i = 0; i + 3 < flat.length; i += 4) ch.push({ kind: flat[i], sp: flat[i + 1], from: flat[i + 2], to: flat[i + 3] });
      this.stacks.set(key, ch);
    }
    this.events = s.events;
  }

  /** The active frames of the stack containing `sp`, innermost first. */
  framesAt(sp: number): TruthFrame[] {
    const ch = this.stacks.get(Math.floor(sp / this.stackSize));
    if (ch === undefined) return [];
    return ch.filter((f) => f.sp >= sp).reverse();
  }
}
