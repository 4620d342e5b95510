/**
 * Guest physical memory: one ArrayBuffer (default 128 MiB, like `qemu -m 128`) with byte and DataView
 * access, plus a per-page "has decoded code" bit (v86 TLB_HAS_CODE, blink smc.c): every write path
 * that lands on such a page calls `onCodeWrite(page)` so the block cache can drop what it decoded.
 * Addresses beyond RAM read as all-ones and ignore writes (open bus), like unassigned I/O memory.
 */
import { STATE_BYTES } from './stateArea';

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;

const ZERO_PAGE = Buffer.alloc(PAGE_SIZE);

/** PhysicalMemory.saveState(): `present[p]` is 1 for each page stored in `bytes`, in page order. */
export interface MemoryState {
  size: number;
  present: Uint8Array;
  bytes: Uint8Array;
}

/** Calls fn(first, count) for each maximal run of pages whose `present` byte equals `value`. */
function forRuns(present: Uint8Array, value: number, fn: (first: number, count: number) => void): void {
  for (let p = 0; p < present.length;) {
    if (present[p] !== value) { p++; continue; }
    let q = p + 1;
    while (q < present.length && present[q] === value) q++;
    fn(p, q - p);
    p = q;
  }
}

/**
 * RAM of released machines, by size, for the next machine of that size in this thread: a study makes
 * one machine per run, and a fresh 128 MiB buffer each time cost page faults on every page the guest
 * touched and, as V8 counts it as external memory, a full garbage collection per run. Only the pages
 * the last machine may have written are zeroed again (`written`): zeroing all 128 MiB took 2.3 ms a
 * run, 3.9 ms with a second study thread doing the same, and evicted both threads' caches.
 */
const spareRam = new Map<number, { memory: WebAssembly.Memory; written: Uint8Array }>();

const WASM_PAGE = 65536;

export class PhysicalMemory {
  readonly size: number;
  /**
   * RAM and, after it at `stateBase`, the state area that translated WebAssembly code shares with the
   * JS side (memory/stateArea.ts). `u8` and `dv` cover RAM only.
   */
  readonly wasm: WebAssembly.Memory;
  readonly buffer: ArrayBuffer;
  readonly stateBase: number;
  readonly u8: Uint8Array;
  readonly dv: DataView;
  /** Non-zero when the physical page holds decoded instructions. */
  readonly hasCode: Uint8Array;
  /**
   * Non-zero for each page that may hold anything but zeros: every write reaches RAM either through
   * this class's methods, which set it, or through a virtual address whose page the MMU translated
   * first (Mmu.translate sets it for every page it walks to, read or written). A released buffer is
   * zeroed only there; a page not marked is known to be zero.
   */
  readonly written: Uint8Array;
  onCodeWrite: (page: number) => void = () => {};

  constructor(size = 128 * 1024 * 1024) {
    if (size % PAGE_SIZE !== 0 || size <= 0 || size >= 0xe0000000) throw new Error(`bad RAM size ${size}`);
    this.size = size;
    this.stateBase = Math.ceil(size / WASM_PAGE) * WASM_PAGE;
    const spare = spareRam.get(size);
    if (spare !== undefined) {
      spareRam.delete(size);
      const all = new Uint8Array(spare.memory.buffer);
      forRuns(spare.written, 1, (first, n) => all.fill(0, first << PAGE_SHIFT, (first + n) << PAGE_SHIFT));
      all.fill(0, this.stateBase);
      spare.written.fill(0);
      this.wasm = spare.memory;
      this.written = spare.written;
    } else {
      const pages = (this.stateBase + STATE_BYTES) / WASM_PAGE;
      this.wasm = new WebAssembly.Memory({ initial: pages, maximum: pages });
      this.written = new Uint8Array(size >>> PAGE_SHIFT);
    }
    this.buffer = this.wasm.buffer;
    this.u8 = new Uint8Array(this.buffer, 0, size);
    this.dv = new DataView(this.buffer, 0, size);
    this.hasCode = new Uint8Array(size >>> PAGE_SHIFT);
  }

  /**
   * Gives this RAM to the next machine of its size made in this thread. Only for a machine that is
   * done with: nothing may read or write it afterwards, since its bytes become the next machine's.
   */
  release(): void {
    if (!spareRam.has(this.size)) spareRam.set(this.size, { memory: this.wasm, written: this.written });
  }

  inRam(pa: number, len: number): boolean { return pa >= 0 && pa + len <= this.size; }

  read8(pa: number): number { return pa < this.size ? this.u8[pa] : 0xff; }
  write8(pa: number, v: number): void {
    if (pa >= this.size) return;
    if (this.hasCode[pa >>> PAGE_SHIFT] !== 0) this.onCodeWrite(pa >>> PAGE_SHIFT);
    this.written[pa >>> PAGE_SHIFT] = 1;
    this.u8[pa] = v;
  }
  read32(pa: number): number {
    if (pa + 4 <= this.size) return this.dv.getUint32(pa, true);
    return (this.read8(pa) | (this.read8(pa + 1) << 8) | (this.read8(pa + 2) << 16) | (this.read8(pa + 3) << 24)) >>> 0;
  }
  write32(pa: number, v: number): void {
    for (let i = 0; i < 4; i++) this.write8(pa + i, (v >>> (8 * i)) & 0xff);
  }

  /** Copy bytes out (host API, loader); out-of-RAM bytes read as 0xff. */
  readBytes(pa: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) out[i] = this.read8(pa + i);
    return out;
  }
  /**
   * Snapshot state: which pages hold anything but zeros (one byte per page) and those pages' bytes,
   * back to back. Zero pages cost nothing; the has-code bits belong to the block cache, which a
   * restore clears.
   */
  saveState(): MemoryState {
    const pages = this.size >>> PAGE_SHIFT;
    const present = new Uint8Array(pages);
    const all = Buffer.from(this.buffer, 0, this.size);
    let count = 0;
    for (let p = 0; p < pages; p++) {
      if (this.written[p] === 0) continue;
      const at = p << PAGE_SHIFT;
      if (all.compare(ZERO_PAGE, 0, PAGE_SIZE, at, at + PAGE_SIZE) !== 0) { present[p] = 1; count++; }
    }
    const bytes = new Uint8Array(count * PAGE_SIZE);
    let out = 0;
    forRuns(present, 1, (first, n) => {
      bytes.set(this.u8.subarray(first << PAGE_SHIFT, (first + n) << PAGE_SHIFT), out);
      out += n << PAGE_SHIFT;
    });
    return { size: this.size, present, bytes };
  }

  /** Bulk copies: each run of saved pages in one set(), each run of zero pages in one fill(). */
  loadState(s: MemoryState): void {
    let from = 0;
    forRuns(s.present, 1, (first, n) => {
      this.u8.set(s.bytes.subarray(from, from + (n << PAGE_SHIFT)), first << PAGE_SHIFT);
      this.written.fill(1, first, first + n);
      from += n << PAGE_SHIFT;
    });
    // Pages to be zero are only written when they may not be zero (`written`) and are not: writing
    // would make the host commit every untouched page of a fresh machine (measured: 200 ms of a
    // 220 ms restore at 128 MiB).
    const all = Buffer.from(this.buffer, 0, this.size);
    forRuns(s.present, 0, (first, n) => {
      for (let p = first; p < first + n; p++) {
        if (this.written[p] === 0) continue;
        const at = p << PAGE_SHIFT;
        if (all.compare(ZERO_PAGE, 0, PAGE_SIZE, at, at + PAGE_SIZE) !== 0) this.u8.fill(0, at, at + PAGE_SIZE);
        this.written[p] = 0;
      }
    });
  }

  /** Copy bytes in (host API, loader), invalidating decoded code it overwrites. */
  writeBytes(pa: number, data: Uint8Array): void {
    if (pa < 0 || pa + data.length > this.size) throw new RangeError(`physical write 0x${pa.toString(16)}+${data.length} outside RAM`);
    const first = pa >>> PAGE_SHIFT, last = (pa + data.length - 1) >>> PAGE_SHIFT;
    for (let p = first; p <= last && data.length > 0; p++) {
      if (this.hasCode[p] !== 0) this.onCodeWrite(p);
      this.written[p] = 1;
    }
    this.u8.set(data, pa);
  }
}
