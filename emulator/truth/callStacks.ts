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

/**
 * One stack's active frames, outermost first, kept in columns: a kernel makes a call every few
 * dozen instructions, and an object per frame (with its addresses boxed) was most of a livepatch
 * study's allocation. Reading a frame makes its object.
 */
export class TruthChain implements Iterable<TruthFrame> {
  length = 0;
  private kinds = new Uint8Array(16);
  private sps = new Float64Array(16);
  private froms = new Float64Array(16);
  private tos = new Float64Array(16);

  push(kind: number, sp: number, from: number, to: number): void {
    const n = this.length;
    if (n === this.sps.length) this.grow();
    this.kinds[n] = kind; this.sps[n] = sp; this.froms[n] = from; this.tos[n] = to;
    this.length = n + 1;
  }

  /** Drops the frames that lie below `sp` (they were popped). */
  pruneBelow(sp: number): void {
    let n = this.length;
    while (n > 0 && this.sps[n - 1] < sp) n--;
    this.length = n;
  }

  /** Frame i's fields, read without making its object. */
  spAt(i: number): number {
    return this.sps[i];
  }

  kindAt(i: number): number {
    return this.kinds[i];
  }

  fromAt(i: number): number {
    return this.froms[i];
  }

  frame(i: number): TruthFrame {
    return { kind: this.kinds[i], sp: this.sps[i], from: this.froms[i], to: this.tos[i] };
  }

  *[Symbol.iterator](): Iterator<TruthFrame> {
    for (let i = 0; i < this.length; i++) yield this.frame(i);
  }

  private grow(): void {
    const size = this.sps.length * 2;
    const kinds = new Uint8Array(size), sps = new Float64Array(size), froms = new Float64Array(size), tos = new Float64Array(size);
    kinds.set(this.kinds); sps.set(this.sps); froms.set(this.froms); tos.set(this.tos);
    this.kinds = kinds; this.sps = sps; this.froms = froms; this.tos = tos;
  }
}

export class CallStackTruth implements CallObserver {
  /** Stack region index → its frames. */
  readonly stacks = new Map<number, TruthChain>();
  events = 0;
  /** The stack of the last lookup: calls and returns mostly stay on one stack between switches. */
  private lastKey = NaN;
  private lastChain = new TruthChain();

  constructor(private readonly c: Cpu, readonly stackSize: number) {}

  /** The chain of the stack holding `sp`, made when it has none yet. */
  private chain(sp: number): TruthChain {
    const key = Math.floor(sp / this.stackSize);
    if (key === this.lastKey) return this.lastChain;
    let ch = this.stacks.get(key);
    if (ch === undefined) { ch = new TruthChain(); this.stacks.set(key, ch); }
    this.lastKey = key;
    this.lastChain = ch;
    return ch;
  }

  /** After a near CALL pushed its return address at RSP. */
  onCall(from: number, to: number): void {
    if (this.c.cpl !== 0) return;
    this.events++;
    const sp = this.c.regs.addr(RSP);
    const ch = this.chain(sp);
    ch.pruneBelow(sp);
    ch.push(FRAME_CALL, sp, from, to);
  }

  /** After a RET (RSP already above the return slot). */
  onRet(): void {
    if (this.c.cpl !== 0) return;
    this.events++;
    const sp = this.c.regs.addr(RSP);
    this.chain(sp - 1).pruneBelow(sp);
  }

  onInterrupt(vector: number, frameSp: number, _fromCpl: number): void {
    this.events++;
    const ch = this.chain(frameSp);
    ch.pruneBelow(frameSp);
    ch.push(FRAME_INTERRUPT, frameSp, this.c.insnStart, vector);
  }

  /** IRET popped the hardware frame whose RIP slot is at `ripSlot`. */
  onIret(ripSlot: number): void {
    this.events++;
    this.chain(ripSlot).pruneBelow(ripSlot + 1);
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
    this.lastKey = NaN;
    for (const [key, flat] of s.stacks) {
      const ch = new TruthChain();
      for (let i = 0; i + 3 < flat.length; i += 4) ch.push(flat[i], flat[i + 1], flat[i + 2], flat[i + 3]);
      this.stacks.set(key, ch);
    }
    this.events = s.events;
  }

  /** The active frames of the stack containing `sp`, innermost first. */
  framesAt(sp: number): TruthFrame[] {
    const ch = this.stacks.get(Math.floor(sp / this.stackSize));
    if (ch === undefined) return [];
    return [...ch].filter((f) => f.sp >= sp).reverse();
  }
}
