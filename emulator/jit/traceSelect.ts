/**
 * Which blocks a hot block's translation takes along (a trace). Real Linux's blocks are short (about
 * four instructions): returning to the run loop after each costs a lookup, and each translated
 * function costs V8 about 0.4 ms of optimizing before its size counts. So a hot block is translated
 * together with the successors the run loop has been chaining it to: from each block, the linked
 * successor that ran more often, as long as it is on the same page (so that the trace's positions are
 * relative to its start both virtually and physically, and a write to the page invalidates all of
 * it), lies wholly in that page, is not in the trace yet, ran at least a quarter as often as the
 * head, and the trace stays short.
 *
 * The translated trace continues into the next block only when the run loop would have chained to it
 * (translateBlock.ts chainTail); otherwise it leaves with the state the run loop expects.
 */
import type { Block } from '../decode/blockCache';
import type { Insn } from '../decode/insn';
import { FORM } from '../exec/table';

/**
 * One block of a trace: its instructions and where it starts, in bytes from the trace's first block
 * (all blocks of a trace lie in one page, so the distance is the same virtually and physically).
 */
export interface TraceSegment { insns: Insn[]; offset: number }

/** Longest trace, in instructions. */
export const MAX_TRACE_INSNS = 64;
/** Most blocks in a trace. */
export const MAX_TRACE_BLOCKS = 8;
/** A successor joins the trace when it ran at least 1/HOT_SHARE as often as the head so far. */
const HOT_SHARE = 4;

function length(b: { insns: Insn[] }): number {
  let n = 0;
  for (const d of b.insns) n += d.len;
  return n;
}

/** Whether block `b`, at `offset` from the trace's head, ends in a JMP or Jcc (taken or not) to `target`. */
export function branchesTo(b: Block | { insns: Insn[] }, offset: number, target: number): boolean {
  const last = b.insns[b.insns.length - 1];
  if (last === undefined || (last.form !== FORM.jcc && last.form !== FORM.jmpRel)) return false;
  const end = offset + length(b);
  return end + last.target === target || (last.form === FORM.jcc && end === target);
}

/**
 * The trace starting with `head` at virtual address `va`: the head, then successors while they
 * qualify. `epoch` and `cpl` are the current MMU epoch and privilege level, for which links hold.
 * `count` brings a block's execCount up to date first (the WebAssembly tier's chained executions).
 */
export function selectTrace(head: Block, va: number, epoch: number, cpl: number, count: (b: Block) => void = () => {}): { segs: TraceSegment[]; blocks: Block[] } {
  count(head);
  const segs: TraceSegment[] = [{ insns: head.insns, offset: 0 }];
  const blocks: Block[] = [head];
  const page = Math.floor(head.phys / 4096);
  let total = head.insns.length;
  let cur = head;
  while (blocks.length < MAX_TRACE_BLOCKS) {
    let next: Block | null = null, nextVa = NaN;
    for (const [lva, lb, le, lc] of [[cur.linkVa0, cur.linkBlock0, cur.linkEpoch0, cur.linkCpl0],
      [cur.linkVa1, cur.linkBlock1, cur.linkEpoch1, cur.linkCpl1]] as [number, Block | null, number, number][]) {
      if (lb === null || le !== epoch || lc !== cpl || !lb.valid || lb.bits !== 64) continue;
      count(lb);
      if (next === null || lb.execCount > next.execCount) { next = lb; nextVa = lva; }
    }
    // A block whose branch goes back to the head closes a loop, which the translation runs inside
    // its function: the trace ends there even if the other successor ran more often (blocks that
    // run inside a translated trace are not counted, and a trace head's links record the exits of
    // its whole trace, so counts and links say little about loop bodies).
    if (branchesTo(cur, segs[segs.length - 1].offset, 0) || next === null || blocks.includes(next)) break;
    // A successor that ran much less often than the head is a cold path: translating it costs V8's
    // optimizing time for little.
    if (next.execCount * HOT_SHARE < head.execCount) break;
    const offset = nextVa - va;
    if (Math.floor(next.phys / 4096) !== page || next.phys - head.phys !== offset || next.pages.length !== 1) break;
    if ((next.phys & 0xfff) + length(next) > 4096) break;
    if (total + next.insns.length > MAX_TRACE_INSNS) break;
    total += next.insns.length;
    segs.push({ insns: next.insns, offset });
    blocks.push(next);
    cur = next;
  }
  return { segs, blocks };
}

/** The byte range a trace's code spans, from its head's start (lo may be negative: blocks before it). */
export function traceSpan(segs: TraceSegment[]): { lo: number; hi: number } {
  let lo = 0, hi = 0;
  for (const g of segs) {
    let end = g.offset;
    for (const d of g.insns) end += d.len;
    if (g.offset < lo) lo = g.offset;
    if (end > hi) hi = end;
  }
  return { lo, hi };
}
