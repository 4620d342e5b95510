// A GuestView over a stopped klp-lab Machine (emulator/machine.ts) running a guest kernel: guest
// memory read through a side-effect-free page walk (no accessed bits set, no TLB fill), the task
// list read from init_task with the kernel's one layout description (emulator/kernel/: the fixture
// kernel's exported offsets, or real Linux's BTF and kallsyms), the CPU registers, and the stacks
// besides the task stacks that the running task may be on (real Linux: linuxStacks.ts). Only this
// folder knows the emulator; the unwinders see the GuestView interface.

import type { Machine } from '../../emulator/machine';
import { currentTaskPointerAt, type Field, type KernelLayout, taskKindOf } from '../../emulator/kernel/kernelLayout';
import type { ExtraStack, GuestTask, GuestView } from '../unwind/guestView';
import type { KernelImage } from '../unwind/kernelImage';
import { type InactiveTaskFrameLayout, PTREGS_WORDS, type RegsSnapshot } from '../unwind/ptRegs';
const PTE_P = 1;
const PTE_PS = 0x80;
/** emulator/cpu/registers.ts order */
const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;
/** emulator/cpu/modes.ts segment order: es cs ss ds fs gs */
const SEG_CS = 1, SEG_SS = 2;

export interface MachineTask extends GuestTask {
  /** address of the task_struct */
  readonly addr: number;
  readonly state: number;
}

/** The stacks other than task stacks the running task may be on (IRQ, exception, entry), read at a stop. */
export interface ExtraStackSource {
  stacks(view: MachineGuestView): readonly ExtraStack[];
}

/** The kernel's layout description of an image, or a one-line reason it has none. */
export function taskLayoutOf(img: KernelImage): KernelLayout | string {
  if (img.layout !== null) return img.layout;
  return 'the image describes no task layout: neither the fixture kernel\'s exported offsets (fixtures/kernel/asm-offsets.c) nor a Linux .BTF with kallsyms';
}

/** Slots of the guest view's page-translation table (a power of two). */
const PAGE_SLOTS = 4096;

export class MachineGuestView implements GuestView {
  readonly inactiveTaskFrame: InactiveTaskFrameLayout;
  /**
   * Translations since the last refresh, in an open-addressing table (a Map keyed by kernel page
   * numbers, which are not small integers, cost a tenth of an unwind study): slots belong to the
   * current generation, so a refresh is one increment.
   */
  private readonly pageKeys = new Float64Array(PAGE_SLOTS);
  private readonly pagePhys = new Float64Array(PAGE_SLOTS);
  private readonly pageGen = new Uint32Array(PAGE_SLOTS);
  private generation = 1;
  private pagesCached = 0;
  private lastVpage = NaN;
  private lastPhys = -1;
  private taskCache: MachineTask[] | null = null;
  private regsCache: RegsSnapshot | null = null;

  /** where the running task's other stacks are (none for the fixture kernel) */
  extraStackSource: ExtraStackSource | null = null;
  private extraCache: readonly ExtraStack[] | null = null;

  constructor(
    readonly machine: Machine,
    readonly image: KernelImage,
    readonly layout: KernelLayout,
  ) {
    const f = layout.frame;
    this.inactiveTaskFrame = { bp: f.bp, retAddr: f.retAddr, size: f.size };
  }

  /** Forget cached translations, tasks and registers (call after the machine ran again). */
  refresh(): void {
    if (++this.generation === 0xffffffff) {
      this.pageGen.fill(0);
      this.generation = 1;
    }
    this.pagesCached = 0;
    this.lastVpage = NaN;
    this.taskCache = null;
    this.regsCache = null;
    this.extraCache = null;
  }

  /** The physical address of a virtual page (-1 if unmapped), walking the tables read-only. */
  private physPage(vpage: number): number {
    // Reads go mostly to the page of the read before (a stack, a task struct).
    if (vpage === this.lastVpage) return this.lastPhys;
    let slot = (vpage | 0) & (PAGE_SLOTS - 1);
    while (this.pageGen[slot] === this.generation) {
      if (this.pageKeys[slot] === vpage) {
        this.lastVpage = vpage;
        this.lastPhys = this.pagePhys[slot];
        return this.lastPhys;
      }
      slot = (slot + 1) & (PAGE_SLOTS - 1);
    }
    const c = this.machine.cpu;
    const mem = this.machine.mem;
    let result = -1;
    if ((c.cr0 & 0x80000000) === 0) {
      result = vpage >= 0 ? vpage * 4096 : -1;
    } else if (vpage >= -0x800000000 && vpage < 0x800000000) {
      let table = (c.cr3 - (c.cr3 % 4096)) % 0x10000000000000;
      for (let level = 4; level >= 1; level--) {
        const idx = Math.floor(vpage / 2 ** (9 * (level - 1))) & 511;
        const ea = table + idx * 8;
        if (ea + 8 > mem.size) break;
        const lo = mem.read32(ea);
        const hi = mem.read32(ea + 4);
        if ((lo & PTE_P) === 0) break;
        const addr = (hi & 0x000fffff) * 4294967296 + ((lo & 0xfffff000) >>> 0);
        const large = (lo & PTE_PS) !== 0 && (level === 2 || level === 3);
        if (level === 1 || large) {
          const pages = large ? (level === 3 ? 0x40000 : 0x200) : 1;
          const base = addr - (addr % (pages * 4096));
          result = base + (((vpage % pages) + pages) % pages) * 4096;
          break;
        }
        table = addr;
      }
    }
    if (result + 4096 > mem.size) result = -1;
    // Kept while the table is at most half full (a full one would never end a probe).
    if (this.pagesCached < PAGE_SLOTS / 2) {
      this.pageGen[slot] = this.generation;
      this.pageKeys[slot] = vpage;
      this.pagePhys[slot] = result;
      this.pagesCached++;
    }
    this.lastVpage = vpage;
    this.lastPhys = result;
    return result;
  }

  readWord(addr: number): number | undefined {
    const vpage = Math.floor(addr / 4096);
    const off = addr - vpage * 4096;
    if (off > 4088) {
      const b = this.readBytes(addr, 8);
      if (b === null) return undefined;
      const dv = new DataView(b.buffer);
      return dv.getInt32(4, true) * 4294967296 + dv.getUint32(0, true);
    }
    const pa = this.physPage(vpage);
    if (pa < 0) return undefined;
    const dv = this.machine.mem.dv;
    return dv.getInt32(pa + off + 4, true) * 4294967296 + dv.getUint32(pa + off, true);
  }

  readBytes(addr: number, len: number): Uint8Array | null {
    const out = new Uint8Array(len);
    const u8 = this.machine.mem.u8;
    // Page by page: each piece is one copy out of RAM.
    for (let i = 0; i < len;) {
      const a = addr + i;
      const vpage = Math.floor(a / 4096);
      const pa = this.physPage(vpage);
      if (pa < 0) return null;
      const off = a - vpage * 4096;
      const n = Math.min(len - i, 4096 - off);
      out.set(u8.subarray(pa + off, pa + off + n), i);
      i += n;
    }
    return out;
  }


  cpuRegs(): RegsSnapshot | null {
    if (this.regsCache !== null) return this.regsCache;
    const c = this.machine.cpu;
    const r = c.regs;
    const s = new Float64Array(PTREGS_WORDS);
    const set = (off: number, v: number) => {
      s[off / 8] = v;
    };
    set(0, r.addr(15)); set(8, r.addr(14)); set(16, r.addr(13)); set(24, r.addr(12));
    set(32, r.addr(RBP)); set(40, r.addr(RBX)); set(48, r.addr(11)); set(56, r.addr(10));
    set(64, r.addr(9)); set(72, r.addr(8)); set(80, r.addr(RAX)); set(88, r.addr(RCX));
    set(96, r.addr(RDX)); set(104, r.addr(RSI)); set(112, r.addr(RDI)); set(120, -1);
    set(128, c.rip); set(136, c.sel[SEG_CS] | (c.cpl === 3 ? 3 : 0)); set(144, c.flags.get() >>> 0);
    set(152, r.addr(RSP)); set(160, c.sel[SEG_SS]);
    this.regsCache = s;
    return s;
  }

  /** A field of `size` 1, 2, 4 or 8 bytes as an unsigned number (8: a signed word). */
  readField(addr: number, f: Field): number | undefined {
    if (f.size === 8) return this.readWord(addr + f.offset);
    const at = addr + f.offset, n = Math.min(f.size, 4);
    const vpage = Math.floor(at / 4096), off = at - vpage * 4096;
    if (off + n <= 4096) {
      // Within one page (nearly always): straight from RAM.
      const pa = this.physPage(vpage);
      if (pa < 0) return undefined;
      const u8 = this.machine.mem.u8;
      let v = 0;
      for (let i = n - 1; i >= 0; i--) v = v * 256 + u8[pa + off + i];
      return v;
    }
    const b = this.readBytes(at, n);
    if (b === null) return undefined;
    let v = 0;
    for (let i = b.length - 1; i >= 0; i--) v = v * 256 + b[i];
    return v;
  }

  /** The task_struct of the task the kernel calls current (CPU 0), or 0 when unreadable. */
  currentTask(): number {
    const at = currentTaskPointerAt(this.layout, (va) => this.readWord(va) ?? null);
    return at === null ? 0 : this.readWord(at) ?? 0;
  }

  /** The address of CPU 0's copy of a per-CPU variable at offset `offset` (Linux's per_cpu_ptr). */
  perCpuAddress(offset: number): number | null {
    if (this.layout.perCpuOffsets === null) return null;
    const base = this.readWord(this.layout.perCpuOffsets);
    return base === undefined ? null : base + offset;
  }

  tasks(): readonly MachineTask[] {
    if (this.taskCache !== null) return this.taskCache;
    const found: { addr: number; stack: number }[] = [];
    this.walkTasks((addr, stack) => { found.push({ addr, stack }); });
    const running = this.runningRule(found.some((x) => this.onStack(x.stack)));
    const out: MachineTask[] = [];
    for (const { addr, stack } of found) out.push(this.taskRecord(addr, stack, running));
    this.taskCache = out;
    return out;
  }

  /**
   * The task at task_struct `address` as tasks() has it, or undefined when it is not on the task
   * list; without building the other tasks' records (the guest-switch hook asks at every switch).
   */
  taskAt(address: number): MachineTask | undefined {
    if (this.taskCache !== null) return this.taskCache.find((t) => t.addr === address);
    let found = false, stackOf = 0, anyOnStack = false;
    this.walkTasks((addr, stack) => {
      if (addr === address && !found) { found = true; stackOf = stack; }
      if (this.onStack(stack)) anyOnStack = true;
    });
    return found ? this.taskRecord(address, stackOf, this.runningRule(anyOnStack)) : undefined;
  }

  /** Each task on the kernel's task list from init_task, with its stack (0 when unreadable). */
  private walkTasks(visit: (addr: number, stack: number) => void): void {
    const L = this.layout, T = L.task;
    const seen = new Set<number>();
    let t = L.initTask, count = 0;
    while (!seen.has(t) && count < 4096) {
      seen.add(t);
      visit(t, this.readWord(t + T.stack.offset) ?? 0);
      count++;
      const next = this.readWord(t + T.tasks.offset);
      if (next === undefined) break;
      t = next - T.tasks.offset;
      if (t === L.initTask) break;
    }
  }

  /** Whether %rsp lies on the stack at `stack` (kernel mode only). */
  private onStack(stack: number): boolean {
    const c = this.machine.cpu;
    const rsp = c.regs.addr(RSP);
    return c.cpl === 0 && stack !== 0 && rsp >= stack && rsp < stack + this.layout.threadSize;
  }

  /**
   * The running task: the one whose stack holds rsp (in kernel mode), else current (user mode,
   * or rsp on an IRQ, exception or entry stack). Between __switch_to_asm's stack switch and
   * __switch_to's update of current, the stack decides, as for the kernel's own unwinder.
   */
  private runningRule(anyOnStack: boolean): (addr: number, stack: number) => boolean {
    const current = this.currentTask();
    return (addr, stack) => (anyOnStack ? this.onStack(stack) : addr === current);
  }

  private taskRecord(addr: number, stack: number, running: (addr: number, stack: number) => boolean): MachineTask {
    const L = this.layout, T = L.task;
    const pid = this.readField(addr, T.pid);
    const kindValue = L.taskKind !== null ? this.readField(addr, L.taskKind.field) ?? null : null;
    const pfFlags = T.pfFlags !== null ? this.readField(addr, T.pfFlags) ?? null : null;
    const commBytes = this.readBytes(addr + T.comm.offset, T.comm.size);
    let comm = '';
    if (commBytes) for (const b of commBytes) {
      if (b === 0) break;
      comm += String.fromCharCode(b);
    }
    return {
      addr,
      pid: pid === undefined ? -1 : pid | 0,
      name: comm,
      kind: taskKindOf(L, pid ?? -1, kindValue, pfFlags),
      state: this.readField(addr, T.state) ?? 0,
      stackBegin: stack,
      stackEnd: stack + L.threadSize,
      threadSp: this.readWord(addr + T.sp.offset) ?? 0,
      running: running(addr, stack),
      hasStack: stack !== 0,
    };
  }

  extraStacks(task: GuestTask): readonly ExtraStack[] {
    if (!task.running || this.extraStackSource === null) return [];
    this.extraCache ??= this.extraStackSource.stacks(this);
    return this.extraCache;
  }
}
