// A GuestView over a stopped klp-lab Machine (emulator/machine.ts) running a fixture kernel:
// guest memory read through a side-effect-free page walk (no accessed bits set, no TLB fill),
// the task list read from init_task with the layout the kernel exports as absolute symbols
// (TASK_*, FRAME_*, THREAD_SIZE_value: fixtures/kernel/asm-offsets.c), and the CPU registers.
// Only this file knows the emulator; the unwinders see the GuestView interface.

import type { Machine } from '../../emulator/machine';
import type { ExtraStack, GuestTask, GuestView, TaskKind } from './guestView';
import type { KernelImage } from './kernelImage';
import { type InactiveTaskFrameLayout, LINUX_INACTIVE_TASK_FRAME, PTREGS_WORDS, type RegsSnapshot } from './ptRegs';

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

export interface TaskLayout {
  tasks: number;
  pid: number;
  kind: number;
  comm: number;
  commLen: number;
  stack: number;
  sp: number;
  state: number;
  threadSize: number;
  initTask: number;
  currentTask: number;
  kindUser: number;
  kindKthread: number;
  kindIdle: number;
}

/** The layout symbols the fixture kernel exports, or a one-line reason they are missing. */
export function taskLayoutOf(img: KernelImage): TaskLayout | string {
  const need = ['TASK_tasks', 'TASK_pid', 'TASK_kind', 'TASK_comm', 'TASK_stack', 'TASK_sp', 'TASK_state', 'THREAD_SIZE_value', 'init_task', 'current_task'];
  const missing = need.filter((n) => img.symbol(n) === undefined);
  if (missing.length > 0) return `the image does not export ${missing.join(', ')} (see fixtures/kernel/asm-offsets.c)`;
  const s = (n: string, d = 0) => img.symbol(n) ?? d;
  return {
    tasks: s('TASK_tasks'), pid: s('TASK_pid'), kind: s('TASK_kind'), comm: s('TASK_comm'), commLen: s('TASK_comm_len', 16),
    stack: s('TASK_stack'), sp: s('TASK_sp'), state: s('TASK_state'), threadSize: s('THREAD_SIZE_value'),
    initTask: s('init_task'), currentTask: s('current_task'),
    kindUser: s('TASK_KIND_USER_value', 0), kindKthread: s('TASK_KIND_KTHREAD_value', 1), kindIdle: s('TASK_KIND_IDLE_value', 2),
  };
}

export class MachineGuestView implements GuestView {
  readonly inactiveTaskFrame: InactiveTaskFrameLayout;
  private readonly pageCache = new Map<number, number>();
  private taskCache: MachineTask[] | null = null;
  private regsCache: RegsSnapshot | null = null;

  constructor(
    readonly machine: Machine,
    readonly image: KernelImage,
    readonly layout: TaskLayout,
  ) {
    const bp = image.symbol('FRAME_bp');
    const ret = image.symbol('FRAME_ret_addr');
    const size = image.symbol('FRAME_size');
    this.inactiveTaskFrame = bp !== undefined && ret !== undefined && size !== undefined ? { bp, retAddr: ret, size } : LINUX_INACTIVE_TASK_FRAME;
  }

  /** Forget cached translations, tasks and registers (call after the machine ran again). */
  refresh(): void {
    this.pageCache.clear();
    this.taskCache = null;
    this.regsCache = null;
  }

  /** The physical address of a virtual page (-1 if unmapped), walking the tables read-only. */
  private physPage(vpage: number): number {
    const hit = this.pageCache.get(vpage);
    if (hit !== undefined) return hit;
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
    this.pageCache.set(vpage, result);
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
    for (let i = 0; i < len; i++) {
      const a = addr + i;
      const vpage = Math.floor(a / 4096);
      const pa = this.physPage(vpage);
      if (pa < 0) return null;
      out[i] = this.machine.mem.u8[pa + (a - vpage * 4096)];
    }
    return out;
  }

  /** A 32-bit signed int (a word read would be inexact when its upper half is large). */
  private readInt32(addr: number): number | undefined {
    const b = this.readBytes(addr, 4);
    if (b === null) return undefined;
    return b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24);
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

  tasks(): readonly MachineTask[] {
    if (this.taskCache !== null) return this.taskCache;
    const L = this.layout;
    const out: MachineTask[] = [];
    const c = this.machine.cpu;
    const rsp = c.regs.addr(RSP);
    const current = this.readWord(L.currentTask) ?? 0;
    const seen = new Set<number>();
    let t = L.initTask;
    while (!seen.has(t) && out.length < 4096) {
      seen.add(t);
      const stack = this.readWord(t + L.stack) ?? 0;
      const kindVal = this.readInt32(t + L.kind) ?? -1;
      const kind: TaskKind = kindVal === L.kindUser ? 'user' : kindVal === L.kindIdle ? 'idle' : 'kthread';
      const commBytes = this.readBytes(t + L.comm, L.commLen);
      let comm = '';
      if (commBytes) for (const b of commBytes) {
        if (b === 0) break;
        comm += String.fromCharCode(b);
      }
      const onStack = c.cpl === 0 && stack !== 0 && rsp >= stack && rsp < stack + L.threadSize;
      const running = c.cpl === 3 ? t === current : onStack || (t === current && !this.rspOnSomeTaskStack(rsp));
      out.push({
        addr: t,
        pid: this.readInt32(t + L.pid) ?? -1,
        name: comm,
        kind,
        state: this.readWord(t + L.state) ?? 0,
        stackBegin: stack,
        stackEnd: stack + L.threadSize,
        threadSp: this.readWord(t + L.sp) ?? 0,
        running,
        hasStack: stack !== 0,
      });
      const next = this.readWord(t + L.tasks);
      if (next === undefined) break;
      t = next - L.tasks;
      if (t === L.initTask) break;
    }
    this.taskCache = out;
    return out;
  }

  private rspOnSomeTaskStack(rsp: number): boolean {
    // evaluated lazily from the list being built: a second pass is not needed because the
    // running task is either found by its stack or is `current` with rsp elsewhere (entry code)
    const L = this.layout;
    let t = L.initTask;
    for (let i = 0; i < 4096; i++) {
      const stack = this.readWord(t + L.stack) ?? 0;
      if (stack !== 0 && rsp >= stack && rsp < stack + L.threadSize) return true;
      const next = this.readWord(t + L.tasks);
      if (next === undefined) return false;
      t = next - L.tasks;
      if (t === L.initTask) return false;
    }
    return false;
  }

  extraStacks(_task: GuestTask): readonly ExtraStack[] {
    return [];
  }
}
