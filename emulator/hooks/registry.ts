/**
 * Host hooks (unicorn uc_hook_add habit): before an instruction at an address range, on guest memory
 * accesses in a range, on interrupts/exceptions, on port I/O. Each kind has its own list; an absent kind
 * costs nothing: code hooks are checked per block (a block is run instruction by instruction only when a
 * hook range overlaps it), memory hooks switch the MMU to its slow path only while installed. Deletion is
 * deferred while hooks run (unicorn `to_delete`).
 */
export const HOOK_CODE = 1, HOOK_MEM_READ = 2, HOOK_MEM_WRITE = 4, HOOK_INTR = 8, HOOK_IO = 16;

export type CodeHookFn = (address: number) => void;
export type MemHookFn = (address: number, size: number, write: boolean, value: bigint) => void;
export type IntrHookFn = (vector: number, errorCode: number, kind: number) => void;
export type IoHookFn = (port: number, size: number, write: boolean, value: number) => void;

export interface HookEntry {
  id: number; type: number; begin: number; end: number;
  fn: CodeHookFn | MemHookFn | IntrHookFn | IoHookFn; deleted: boolean;
}

export class HookRegistry {
  private nextId = 1;
  readonly code: HookEntry[] = [];
  readonly mem: HookEntry[] = [];
  readonly intr: HookEntry[] = [];
  readonly io: HookEntry[] = [];
  /** Bumped whenever the code-hook set changes (blocks recheck their overlap). */
  generation = 0;
  /**
   * Copies of code, mem, intr and io that the run* methods iterate, so that hooks may add or delete
   * hooks while they run; made again only after a change (not a copy per call).
   */
  private readonly snapshots: (HookEntry[] | null)[] = [null, null, null, null];
  onChange: () => void = () => {};

  add(type: number, fn: HookEntry['fn'], begin = 1, end = 0): number {
    const e: HookEntry = { id: this.nextId++, type, begin, end, fn, deleted: false };
    if (type & HOOK_CODE) this.code.push(e);
    if (type & (HOOK_MEM_READ | HOOK_MEM_WRITE)) this.mem.push(e);
    if (type & HOOK_INTR) this.intr.push(e);
    if (type & HOOK_IO) this.io.push(e);
    this.snapshots.fill(null);
    this.generation++;
    this.onChange();
    return e.id;
  }

  del(id: number): boolean {
    let found = false;
    for (const list of [this.code, this.mem, this.intr, this.io]) {
      const i = list.findIndex((e) => e.id === id);
      if (i >= 0) { list[i].deleted = true; list.splice(i, 1); found = true; }
    }
    if (found) { this.snapshots.fill(null); this.generation++; this.onChange(); }
    return found;
  }

  /** begin > end means "everywhere" (unicorn HOOK_BOUND_CHECK). */
  private static covers(e: HookEntry, lo: number, hi: number): boolean {
    return e.begin > e.end || (e.begin <= hi && e.end >= lo);
  }

  codeOverlaps(lo: number, hi: number): boolean {
    for (const e of this.code) if (HookRegistry.covers(e, lo, hi)) return true;
    return false;
  }

  private snapshot(kind: number, list: HookEntry[]): HookEntry[] {
    let s = this.snapshots[kind];
    if (s === null) { s = list.slice(); this.snapshots[kind] = s; }
    return s;
  }

  runCode(address: number): void {
    for (const e of this.snapshot(0, this.code)) {
      if (!e.deleted && HookRegistry.covers(e, address, address)) (e.fn as CodeHookFn)(address);
    }
  }

  runMem(address: number, size: number, write: boolean, lo: number, hi: number): void {
    for (const e of this.snapshot(1, this.mem)) {
      if (e.deleted || (e.type & (write ? HOOK_MEM_WRITE : HOOK_MEM_READ)) === 0) continue;
      if (HookRegistry.covers(e, address, address + size - 1)) {
        (e.fn as MemHookFn)(address, size, write, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
      }
    }
  }

  runIntr(vector: number, errorCode: number, kind: number): void {
    for (const e of this.snapshot(2, this.intr)) if (!e.deleted) (e.fn as IntrHookFn)(vector, errorCode, kind);
  }

  runIo(port: number, size: number, write: boolean, value: number): void {
    for (const e of this.snapshot(3, this.io)) {
      if (!e.deleted && HookRegistry.covers(e, port, port)) (e.fn as IoHookFn)(port, size, write, value);
    }
  }
}
