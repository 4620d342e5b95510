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
  /** The WebAssembly module of the block (jit/wasm/wasmTier.ts), once one machine made it. */
  wasm: WasmBlockCode | null;
  /** This block's counter in the execution counts (see execCounts below). */
  readonly countSlot: number;
  /**
   * The last trace translated from this block (jit/traceSelect.ts): valid wherever the block starts
   * at the same page offset and the page holds the same bytes from `lo` (relative to the block's
   * start) on, so that the whole trace is in the block's page again.
   */
  trace: SharedTrace | null;
}

/** A module of the WebAssembly tier and the instructions its blocks number from 0 (jit/wasm/wasmTier.ts). */
export interface WasmModuleCode { readonly module: WebAssembly.Module; readonly insns: readonly Insn[]; readonly blocks: number }
/**
 * A block's function in such a module, and how many of its instructions call handlers; `code` null:
 * the block is not worth that tier (mostly handler calls).
 */
export interface WasmBlockCode { readonly code: WasmModuleCode | null; readonly index: number; readonly handlers: number }

export interface SharedTrace { readonly pageOffset: number; readonly lo: number; readonly bytes: Uint8Array; readonly fn: (c: never) => void }

/** The shared trace of `s` if memory `u8` holds its bytes around the block at `phys`, else null. */
export function matchingTrace(s: SharedBlock, u8: Uint8Array, phys: number): SharedTrace | null {
  const t = s.trace;
  if (t === null || (phys & 0xfff) !== t.pageOffset) return null;
  const b = t.bytes, at = phys + t.lo;
  for (let i = 0; i < b.length; i++) if (u8[at + i] !== b[i]) return null;
  return t;
}

/**
 * Executions of shared blocks, counted by the machines that were released (Machine.release) and by
 * slot, a hash of the block's mode and bytes: a new machine's block starts from its slot's count, so
 * a block that runs a few thousand times in each run of a study is compiled once the runs together
 * reach the threshold. A study's threads count in one shared buffer (adoptExecCounts), so each thread
 * compiles what the study as a whole runs often. Two blocks in one slot only get compiled sooner.
 */
const COUNT_SLOTS = 1 << 16;
let execCounts: Int32Array<ArrayBufferLike> = new Int32Array(COUNT_SLOTS);

/** The execution counts in memory that worker threads can share (made shared on first call). */
export function sharedExecCounts(): SharedArrayBuffer {
  if (!(execCounts.buffer instanceof SharedArrayBuffer)) {
    const shared = new Int32Array(new SharedArrayBuffer(COUNT_SLOTS * 4));
    shared.set(execCounts);
    execCounts = shared;
  }
  return execCounts.buffer as SharedArrayBuffer;
}

/** Counts in the buffer another thread made (sharedExecCounts), instead of this thread's own. */
export function adoptExecCounts(buffer: SharedArrayBuffer): void {
  execCounts = new Int32Array(buffer);
}

/**
 * Whether counts carry over at all. Translating code that runs only a few thousand times a run pays
 * when V8 compiles it on an idle core; with every core running a study thread, the compiles take
 * time from the runs: a 48-run fixture study at --jobs 2 on 2 cores took 2.87 s without carrying
 * counts, 3.25 s with (200 runs: 7.54 against 7.80 s), while at --jobs 1 carrying made 200 runs take
 * 9.55 s instead of 11.23 s. A study turns it off when its threads fill the machine's cores and each
 * has few runs to do (workerPool.ts CARRY_TASKS_PER_THREAD): over 400 runs at --jobs 2, carrying pays.
 */
let carryOver = true;

/** Sets whether counts carry over; returns the setting before. */
export function carryExecCounts(on: boolean): boolean {
  const before = carryOver;
  carryOver = on;
  return before;
}

/** Executions of the block's code counted so far by released machines of this study. */
export function countedExecutions(s: SharedBlock): number {
  return carryOver ? execCounts[s.countSlot] : 0;
}

/** Adds a released machine's executions of the block's code. */
export function countExecutions(s: SharedBlock, n: number): void {
  if (carryOver && n > 0) Atomics.add(execCounts, s.countSlot, Math.min(n, 0x3fffffff));
}

function slotOf(key: string, bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return (h >>> 0) & (COUNT_SLOTS - 1);
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
  const own = bytes.slice(0, end);
  const s: SharedBlock = { bytes: own, insns, compiled: null, wasm: null, trace: null, countSlot: slotOf(key, own) };
  const list = table.get(key);
  if (list === undefined) table.set(key, [s]); else list.push(s);
  count++;
  sharedCodeStats.added++;
  return s;
}

/** Forget everything (tests that measure compilation). */
export function clearShared(): void { table.clear(); count = 0; execCounts.fill(0); }
