/**
 * gdb breakpoints and watchpoints (Z0-Z4) on the machine's public hook API, the way udbserver builds
 * them on unicorn: Z0 (software) and Z1 (hardware) breakpoints are both code hooks on one address, so
 * guest memory is never patched with int3 and gdb's memory reads show the real bytes; Z2/Z3/Z4
 * watchpoints are memory hooks on the watched range (write, read, access). A hit records what fired and
 * asks the machine to stop: a code hook stops before the instruction, a memory hook after the access.
 */
import { Machine, HOOK_CODE, HOOK_MEM_READ, HOOK_MEM_WRITE } from '../machine';

export const Z_SW = 0, Z_HW = 1, Z_WRITE = 2, Z_READ = 3, Z_ACCESS = 4;
/** Upper bound on installed points (a hostile client cannot grow the hook lists without limit). */
export const MAX_POINTS = 4096;
export const MAX_WATCH_LEN = 4096;

export interface PointHit {
  type: number;
  /** breakpoint address, or the watched range's start (what gdb expects in `watch:`) */
  addr: number;
  /** for watchpoints: the accessed address */
  access: number;
}

export class Breakpoints {
  private readonly points = new Map<string, number>();
  /** The last hit since clearHit(), or null. */
  hit: PointHit | null = null;

  constructor(private readonly m: Machine) {}

  private static key(type: number, addr: number, len: number): string { return `${type}:${addr}:${len}`; }

  get count(): number { return this.points.size; }

  /** Insert; returns false when the limit is reached or the arguments are unusable. Inserting twice is fine. */
  insert(type: number, addr: number, len: number): boolean {
    const key = Breakpoints.key(type, addr, len);
    if (this.points.has(key)) return true;
    if (this.points.size >= MAX_POINTS) return false;
    let id: number;
    if (type === Z_SW || type === Z_HW) {
      id = this.m.hookAdd(HOOK_CODE, () => { this.hit = { type, addr, access: addr }; this.m.stop('gdb breakpoint'); }, addr, addr);
    } else if (type === Z_WRITE || type === Z_READ || type === Z_ACCESS) {
      if (len < 1 || len > MAX_WATCH_LEN) return false;
      const kinds = type === Z_WRITE ? HOOK_MEM_WRITE : type === Z_READ ? HOOK_MEM_READ : HOOK_MEM_READ | HOOK_MEM_WRITE;
      id = this.m.hookAdd(kinds, (address: number, _size: number, write: boolean) => {
        this.hit = { type: type === Z_ACCESS ? Z_ACCESS : write ? Z_WRITE : Z_READ, addr, access: address };
        this.m.stop('gdb watchpoint');
      }, addr, addr + len - 1);
    } else return false;
    this.points.set(key, id);
    return true;
  }

  remove(type: number, addr: number, len: number): boolean {
    const key = Breakpoints.key(type, addr, len);
    const id = this.points.get(key);
    if (id === undefined) return false;
    this.m.hookDel(id);
    this.points.delete(key);
    return true;
  }

  clear(): void {
    for (const id of this.points.values()) this.m.hookDel(id);
    this.points.clear();
    this.hit = null;
  }
}
