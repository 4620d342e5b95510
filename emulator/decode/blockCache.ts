/**
 * Decoded blocks keyed by physical address (STYLE.md "Blocks, not per-instruction lookups"): per
 * physical page, a sparse table from page offset to Block, checked against the decode bitness (the
 * mode key). A block never crosses a page end except for its last instruction; that instruction's
 * second page is registered too, so a write to either page invalidates the block.
 * Invalidation is driven by PhysicalMemory.onCodeWrite (writes to pages with the has-code bit).
 */
import { Insn, InsnBinder } from './insn';
import { InsnDecoder } from './decoder';
import { PhysicalMemory } from '../memory/physicalMemory';
import type { Cpu } from '../cpu/cpu';
import { findShared, addShared, countExecutions, type SharedBlock } from '../jit/sharedCode';

export class Block {
  valid = true;
  /** Set when instruction hooks cover the block: the run loop then goes one instruction at a time. */
  hooked = false;
  /** Set when instruction hooks cover any of the code its compiled form runs (a translated trace). */
  spanHooked = false;
  /**
   * Two successor links (block chaining): the next block reached from this one at virtual address
   * linkVa*, valid while the MMU epoch and CPL are unchanged and the target block is valid.
   */
  linkVa0 = NaN; linkBlock0: Block | null = null; linkEpoch0 = -1; linkCpl0 = -1;
  linkVa1 = NaN; linkBlock1: Block | null = null; linkEpoch1 = -1; linkCpl1 = -1;
  linkNext = 0;
  hookGen = -1;
  hookVa = NaN;
  /** Executions so far (until compiled) and the compiled form of the whole block (exec/threadedBlock.ts, jit/). */
  execCount = 0;
  /** What execCount started from: other machines' executions of the same code (jit/sharedCode.ts). */
  carried = 0;
  compiled: ((c: Cpu) => void) | null = null;
  /** The WebAssembly form (jit/wasm), while the block is in that tier. */
  wasmFn: ((c: Cpu) => void) | null = null;
  /** Its slot in the machine's function table (jit/wasm/wasmChain.ts), and its chained executions already counted. */
  wasmSlot = -1;
  wasmCounted = 0;
  /** The execution count at which the block leaves the WebAssembly tier for the JS translator (-1: never). */
  wasmPromoteAt = -1;
  /** The process-wide entry for these bytes (jit/sharedCode.ts), or null when the block is not shared. */
  shared: SharedBlock | null = null;
  /** The trace writer that described this block (emulator/trace), its id there and the VA it was described at. */
  traceWriter = -1;
  traceId = 0;
  traceVa = NaN;
  constructor(readonly insns: Insn[], readonly phys: number, readonly bits: number, readonly pages: number[]) {}
}

class CodePage {
  readonly byOffset = new Map<number, Block>();
  /** Every block that has bytes on this page (including blocks starting on the previous page). */
  readonly blocks = new Set<Block>();
}

export interface BlockStats {
  built: number; invalidatedPages: number; invalidatedBlocks: number; lookups: number; misses: number;
}

export class BlockCache {
  private readonly pages: (CodePage | undefined)[];
  readonly decoder: InsnDecoder;
  readonly stats: BlockStats = { built: 0, invalidatedPages: 0, invalidatedBlocks: 0, lookups: 0, misses: 0 };
  /** Called when a page first gets code (the MMU must stop fast writes to it). */
  onNewCodePage: (page: number) => void = () => {};
  /** Called with every invalidated block (the run loop leaves a block that was invalidated under it). */
  onInvalidate: () => void = () => {};

  /** `bind` gives each decoded instruction its form (exec/table.ts bindForm). */
  constructor(private readonly mem: PhysicalMemory, bind: InsnBinder) {
    this.decoder = new InsnDecoder(bind);
    this.pages = new Array(mem.size >>> 12);
    this.invalidations = new Uint8Array(mem.size >>> 12);
    this.invalidatedAt = new Float64Array(mem.size >>> 12);
    mem.onCodeWrite = (page) => this.invalidatePage(page);
  }

  lookup(phys: number, bits: number): Block | undefined {
    const p = this.pages[phys >>> 12];
    if (p === undefined) return undefined;
    const b = p.byOffset.get(phys & 0xfff);
    return b !== undefined && b.bits === bits ? b : undefined;
  }

  /**
   * Decode a block at `va` (physical `phys`). `bytes` holds the bytes from `phys` to the page end plus
   * up to 15 bytes of the next page (`nextPhys`, or -1 when the next page is not accessible).
   */
  build(va: number, phys: number, bits: number, bytes: Uint8Array, nextPhys: number, maxInsns: number): Block {
    const limit = 4096 - (phys & 0xfff);
    // The same bytes decoded in the same mode by any machine of this process (jit/sharedCode.ts).
    const truth = this.decoder.truth;
    let shared = findShared(bits, truth, maxInsns, bytes, limit);
    let insns: Insn[];
    if (shared !== null) insns = shared.insns;
    else {
      insns = this.decoder.decodeBlock(bytes, va, bits, limit, maxInsns);
      shared = addShared(bits, truth, maxInsns, bytes, limit, insns);
    }
    let end = 0;
    for (const d of insns) end += d.len;
    const pages = [phys >>> 12];
    if (end > limit && nextPhys >= 0) pages.push(nextPhys >>> 12);
    const b = new Block(insns, phys, bits, pages);
    b.shared = shared;
    for (const pg of pages) {
      let p = this.pages[pg];
      if (p === undefined) { p = new CodePage(); this.pages[pg] = p; }
      p.blocks.add(b);
      if (this.mem.hasCode[pg] === 0) { this.mem.hasCode[pg] = 1; this.onNewCodePage(pg); }
    }
    const old = this.pages[phys >>> 12]!.byOffset.get(phys & 0xfff);
    if (old !== undefined) old.valid = false;
    this.pages[phys >>> 12]!.byOffset.set(phys & 0xfff, b);
    this.stats.built++;
    return b;
  }

  /** Times each physical page lost its blocks to a code write (the JIT leaves such pages alone while they keep being written). */
  readonly invalidations: Uint8Array;
  /** When each page last lost its blocks, on `clock` (the machine's CPU: its icount). */
  readonly invalidatedAt: Float64Array;
  clock: { icount: number } = { icount: 0 };

  invalidatePage(page: number): void {
    const p = this.pages[page];
    this.mem.hasCode[page] = 0;
    if (p === undefined) return;
    if (this.invalidations[page] < 255) this.invalidations[page]++;
    this.invalidatedAt[page] = this.clock.icount;
    this.pages[page] = undefined;
    this.stats.invalidatedPages++;
    for (const b of p.blocks) {
      b.valid = false;
      this.stats.invalidatedBlocks++;
      for (const other of b.pages) {
        if (other === page) continue;
        const q = this.pages[other];
        if (q === undefined) continue;
        q.blocks.delete(b);
        if (q.byOffset.get(b.phys & 0xfff) === b && other === b.phys >>> 12) q.byOffset.delete(b.phys & 0xfff);
      }
    }
    this.onInvalidate();
  }

  /** Adds each shared block's executions in this machine to the counts of its code (jit/sharedCode.ts). */
  passOnExecCounts(): void {
    for (const p of this.pages) {
      if (p === undefined) continue;
      for (const b of p.blocks) if (b.shared !== null) countExecutions(b.shared, b.execCount - b.carried);
    }
  }

  /** Drop everything (hooks added/removed, host-requested flush). */
  clear(): void {
    for (let i = 0; i < this.pages.length; i++) {
      const p = this.pages[i];
      if (p === undefined) continue;
      for (const b of p.blocks) b.valid = false;
      this.pages[i] = undefined;
      this.mem.hasCode[i] = 0;
    }
    this.onInvalidate();
  }
}
