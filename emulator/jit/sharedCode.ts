/**
 * Decoded blocks and their compiled code, shared by every Machine in the process (or worker thread).
 * A study builds a new Machine per run; without sharing, each run decodes and compiles the same hot
 * blocks again, and V8 optimizes each new function again on its background thread. Insn records and
 * translated functions are position-independent (branch targets and RIP-relative displacements are
 * relative to the next instruction; a translated block takes RIP from the CPU at entry), so a block
 * can be reused wherever the same bytes are decoded in the same mode.
 *
 * The key is the decode mode (bits, ground-truth handlers, block length limit) and the block's own
 * bytes, compared in full on every hit. Only blocks that end at least 15 bytes before the end of their
 * page are shared: their decoding depends on nothing but those bytes.
 */
import type { Insn } from '../decode/insn';

export interface SharedBlock {
  readonly bytes: Uint8Array;
  readonly insns: Insn[];
  /** Compiled form, set by the first machine that compiles the block (see Machine.run). */
  compiled: ((c: never) => void) | null;
  /**
   * The last trace translated from this block (jit/traceSelect.ts): valid wherever the block starts
   * at the same page offset and the page holds the same bytes from `lo` (relative to the block's
   * start) on, so that the whole trace is in the block's page again.
   */
  trace: SharedTrace | null;
  /**
   * The last machine's block for these bytes: its execution count is the process's so far (each new
   * block starts from it, see startExecCount).
   */
  last: { execCount: number } | null;
}

export interface SharedTrace { readonly pageOffset: number; readonly lo: number; readonly bytes: Uint8Array; readonly fn: (c: never) => void }

/** The shared trace of `s` if memory `u8` holds its bytes around the block at `phys`, else null. */
export function matchingTrace(s: SharedBlock, u8: Uint8Array, phys: number): SharedTrace | null {
  const t = s.trace;
  if (t === null || (phys & 0xfff) !== t.pageOffset) return null;
  const b = t.bytes, at = phys + t.lo;
  for (let i = 0; i < b.length; i++) if (u8[at + i] !== b[i]) return null;
  return t;
}

const PREFIX = 16;
/** Beyond this many blocks the table is dropped and refilled (memory stays bounded in long processes). */
const MAX_BLOCKS = 200_000;

const table = new Map<string, SharedBlock[]>();
let count = 0;
export const sharedCodeStats = { hits: 0, misses: 0, added: 0 };

function keyOf(bits: number, truth: boolean, maxInsns: number, bytes: Uint8Array): string {
  let k = `${bits}${truth ? 't' : 'n'}${maxInsns}:`;
  const n = Math.min(PREFIX, bytes.length);
  for (let i = 0; i < n; i++) k += String.fromCharCode(bytes[i]);
  return k;
}

/** The shared block for code starting at bytes[0] in this mode, or null. */
export function findShared(bits: number, truth: boolean, maxInsns: number, bytes: Uint8Array, limit: number): SharedBlock | null {
  const list = table.get(keyOf(bits, truth, maxInsns, bytes));
  if (list !== undefined) {
    outer: for (const s of list) {
      const b = s.bytes;
      if (b.length + 15 > limit || b.length > bytes.length) continue;
      for (let i = 0; i < b.length; i++) if (b[i] !== bytes[i]) continue outer;
      sharedCodeStats.hits++;
      return s;
    }
  }
  sharedCodeStats.misses++;
  return null;
}

/** Offer a freshly decoded block; returns its shared entry, or null when it may not be shared. */
export function addShared(bits: number, truth: boolean, maxInsns: number, bytes: Uint8Array, limit: number, insns: Insn[]): SharedBlock | null {
  let end = 0;
  for (const d of insns) end += d.len;
  if (insns.length === 0 || end + 15 > limit) return null;
  if (count >= MAX_BLOCKS) { table.clear(); count = 0; }
  const key = keyOf(bits, truth, maxInsns, bytes);
  const s: SharedBlock = { bytes: bytes.slice(0, end), insns, compiled: null, trace: null, last: null };
  const list = table.get(key);
  if (list === undefined) table.set(key, [s]); else list.push(s);
  count++;
  sharedCodeStats.added++;
  return s;
}

/**
 * The execution count a new block starts from: what the process's earlier machines ran of the same
 * bytes (at most `threshold - 1`, so that this machine still compiles it at its next execution if they
 * did not), or `initial`. A study runs the same kernel in a new machine per run: a block each run
 * executes a few thousand times is then translated once the runs together reach the threshold, and
 * later runs find the translation (jit/sharedCode.ts) instead of interpreting it again.
 */
export function startExecCount(b: { shared: SharedBlock | null; execCount: number }, initial: number, threshold: number): number {
  const s = b.shared;
  if (s === null) return initial;
  const carried = s.last !== null ? s.last.execCount : 0;
  s.last = b;
  return Math.max(initial, Math.min(carried, threshold - 1));
}

/** Forget everything (tests that measure compilation). */
export function clearShared(): void { table.clear(); count = 0; }
