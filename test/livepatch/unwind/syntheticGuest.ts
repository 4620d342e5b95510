// A synthetic stopped guest for the unwinder tests and benchmark: sparse byte memory, a kernel
// text of named functions with ORC rows written the way objtool 6.1 writes them for each kind
// of code, tasks with stacks, and a builder that lays out frames exactly as the CPU and the
// entry code would (call pushes the return address, prologues push rbp, entry code pushes a
// pt_regs and encodes it in rbp, __switch_to_asm leaves an inactive_task_frame).

import type { ExtraStack, GuestTask, GuestView, TaskKind } from '../../../livepatch/unwind/guestView';
import { TextSymbols } from '../../../livepatch/unwind/textSymbols';
import { KernelImage } from '../../../livepatch/unwind/kernelImage';
import { KernelText } from '../../../livepatch/unwind/kernelText';
import {
  ORC_REG_BP,
  ORC_REG_PREV_SP,
  ORC_REG_SP,
  ORC_REG_UNDEFINED,
  type OrcEntry,
  UNWIND_HINT_TYPE_CALL,
  UNWIND_HINT_TYPE_REGS,
  UNWIND_HINT_TYPE_REGS_PARTIAL,
} from '../../../objtool/orc/orcTypes';
import { OrcTable, type OrcRow } from '../../../livepatch/unwind/orcTable';
import { TruthChain } from '../../../emulator/truth/callStacks';
import {
  LINUX_INACTIVE_TASK_FRAME,
  PTREGS_BP,
  PTREGS_CS,
  PTREGS_FLAGS,
  PTREGS_IP,
  PTREGS_SIZE,
  PTREGS_SP,
  PTREGS_SS,
  type RegsSnapshot,
  makeRegsSnapshot,
} from '../../../livepatch/unwind/ptRegs';

/** 0xffffffff81000000 as a signed number */
export const KTEXT = -0x7f000000;
/** stacks from 0xffffc90000000000 */
export const STACKS = -0x370000000000;
export const THREAD_SIZE = 16384;
export const KERNEL_CS = 0x10;
export const USER_CS = 0x33;
export const USER_SS = 0x2b;

export class SparseMemory {
  private readonly pages = new Map<number, Uint8Array>();
  private readonly views = new Map<number, DataView>();

  private page(addr: number, create: boolean): DataView | undefined {
    const pn = Math.floor(addr / 4096);
    let v = this.views.get(pn);
    if (!v && create) {
      const p = new Uint8Array(4096);
      this.pages.set(pn, p);
      v = new DataView(p.buffer);
      this.views.set(pn, v);
    }
    return v;
  }

  write(addr: number, value: number): void {
    const off = addr - Math.floor(addr / 4096) * 4096;
    if (off > 4088) {
      const b = BigInt.asUintN(64, BigInt(value));
      for (let i = 0; i < 8; i++) this.writeByte(addr + i, Number((b >> BigInt(8 * i)) & 0xffn));
      return;
    }
    const v = this.page(addr, true) as DataView;
    const lo = value % 4294967296;
    v.setUint32(off, lo < 0 ? lo + 4294967296 : lo, true);
    v.setInt32(off + 4, Math.floor(value / 4294967296), true);
  }

  private writeByte(addr: number, b: number): void {
    const v = this.page(addr, true) as DataView;
    v.setUint8(addr - Math.floor(addr / 4096) * 4096, b);
  }

  readWord(addr: number): number | undefined {
    const off = addr - Math.floor(addr / 4096) * 4096;
    if (off > 4088) {
      let b = 0n;
      for (let i = 7; i >= 0; i--) {
        const p = this.page(addr + i, false);
        if (!p) return undefined;
        b = (b << 8n) | BigInt(p.getUint8(addr + i - Math.floor((addr + i) / 4096) * 4096));
      }
      return Number(BigInt.asIntN(64, b));
    }
    const v = this.page(addr, false);
    if (!v) return undefined;
    return v.getInt32(off + 4, true) * 4294967296 + v.getUint32(off, true);
  }
}

// ---------------------------------------------------------------- synthetic kernel text

/** How objtool would describe a function (the ORC rows its CFI produces). */
export type FnShape =
  | 'fp' // -mfentry, push %rbp; mov %rsp,%rbp; ...; leave; ret
  | 'nofp' // a leaf without frame: sp+8 throughout
  | 'empty' // entry code under UNWIND_HINT_EMPTY: end of stack
  | 'syscall' // entry_SYSCALL_64: empty until the user pt_regs are saved, then regs
  | 'irq' // interrupt entry: IRET frame (regs partial), then full regs
  | 'generated' // text without any ORC rows (as generated code would be)
  | 'custom'; // the rows given in FnSpec.rows

export interface FnSpec {
  name: string;
  size: number;
  shape: FnShape;
  /** for 'custom': [offset, entry] pairs (missing fields: sp+8, bp undefined, call) */
  rows?: [number, Partial<OrcEntry>][];
}

/** Offsets inside an 'fp' function: after push %rbp, after mov %rsp,%rbp. */
export const FP_AFTER_PUSH = 6;
export const FP_AFTER_MOV = 9;
/** In 'syscall'/'irq' entries, where the full pt_regs are complete. */
export const ENTRY_REGS_DONE = 0x30;

export interface SyntheticKernelOptions {
  /** leave out the ORC tables entirely (orc_init false) */
  noOrc?: boolean;
  /** extra rows (override behaviour for a test) */
  extraRows?: OrcRow[];
}

export class SyntheticKernel {
  readonly fns = new Map<string, { start: number; size: number; shape: FnShape }>();
  readonly image: KernelImage;
  readonly rows: OrcRow[] = [];

  constructor(specs: readonly FnSpec[], opts: SyntheticKernelOptions = {}) {
    let at = KTEXT;
    const ksyms: { name: string; addr: number }[] = [];
    for (const s of specs) {
      this.fns.set(s.name, { start: at, size: s.size, shape: s.shape });
      ksyms.push({ name: s.name, addr: at });
      this.rows.push(...rowsFor(at, s));
      at += s.size;
    }
    const end = at;
    // the section terminator objtool appends
    this.rows.push({ ip: end, spReg: ORC_REG_UNDEFINED, spOffset: 0, bpReg: ORC_REG_UNDEFINED, bpOffset: 0, type: 0, end: 0 });
    if (opts.extraRows) this.rows.push(...opts.extraRows);
    const text = new KernelText([{ start: KTEXT, end, name: '_stext' }]);
    const kallsyms = new TextSymbols();
    kallsyms.addRange(KTEXT, end, ksyms);
    let orc: OrcTable | null = null;
    if (!opts.noOrc) {
      orc = new OrcTable(this.rows);
      orc.setLookupRange({ start: KTEXT, stop: end });
    }
    const rff = this.fns.get('ret_from_fork');
    this.image = new KernelImage({ text, kallsyms, orc, retFromFork: rff ? rff.start : 0 });
  }

  /** Address of name+off. */
  a(name: string, off = 0): number {
    const f = this.fns.get(name);
    if (!f) throw new Error(`no function ${name}`);
    return f.start + off;
  }

  get textEnd(): number {
    let end = KTEXT;
    for (const f of this.fns.values()) end = Math.max(end, f.start + f.size);
    return end;
  }
}

function row(ip: number, spReg: number, spOffset: number, bpReg: number, bpOffset: number, type = UNWIND_HINT_TYPE_CALL, end = 0): OrcRow {
  return { ip, spReg, spOffset, bpReg, bpOffset, type, end };
}

function rowsFor(at: number, s: FnSpec): OrcRow[] {
  switch (s.shape) {
    case 'fp':
      return [
        row(at, ORC_REG_SP, 8, ORC_REG_UNDEFINED, 0),
        row(at + FP_AFTER_PUSH, ORC_REG_SP, 16, ORC_REG_PREV_SP, -16),
        row(at + FP_AFTER_MOV, ORC_REG_BP, 16, ORC_REG_PREV_SP, -16),
        row(at + s.size - 1, ORC_REG_SP, 8, ORC_REG_UNDEFINED, 0),
      ];
    case 'nofp':
      return [row(at, ORC_REG_SP, 8, ORC_REG_UNDEFINED, 0)];
    case 'empty':
      return [row(at, ORC_REG_UNDEFINED, 0, ORC_REG_UNDEFINED, 0, UNWIND_HINT_TYPE_CALL, 1)];
    case 'syscall':
      return [
        row(at, ORC_REG_UNDEFINED, 0, ORC_REG_UNDEFINED, 0, UNWIND_HINT_TYPE_CALL, 1),
        row(at + ENTRY_REGS_DONE, ORC_REG_SP, 0, ORC_REG_UNDEFINED, 0, UNWIND_HINT_TYPE_REGS),
      ];
    case 'irq':
      return [
        row(at, ORC_REG_SP, 0, ORC_REG_UNDEFINED, 0, UNWIND_HINT_TYPE_REGS_PARTIAL),
        row(at + ENTRY_REGS_DONE, ORC_REG_SP, 0, ORC_REG_UNDEFINED, 0, UNWIND_HINT_TYPE_REGS),
      ];
    case 'generated':
      return [row(at, ORC_REG_UNDEFINED, 0, ORC_REG_UNDEFINED, 0)];
    case 'custom':
      return (s.rows ?? []).map(([off, e]) => ({
        ip: at + off,
        spReg: e.spReg ?? ORC_REG_SP,
        spOffset: e.spOffset ?? 8,
        bpReg: e.bpReg ?? ORC_REG_UNDEFINED,
        bpOffset: e.bpOffset ?? 0,
        type: e.type ?? UNWIND_HINT_TYPE_CALL,
        end: e.end ?? 0,
      }));
  }
}

/** The default synthetic kernel most tests use. */
export function standardKernel(opts: SyntheticKernelOptions = {}, extra: FnSpec[] = []): SyntheticKernel {
  return new SyntheticKernel(
    [
      { name: '_text_start', size: 0x10, shape: 'empty' },
      { name: 'entry_SYSCALL_64', size: 0x80, shape: 'syscall' },
      { name: 'asm_sysvec_timer', size: 0x80, shape: 'irq' },
      { name: 'ret_from_fork', size: 0x40, shape: 'empty' },
      { name: '__switch_to_asm', size: 0x40, shape: 'nofp' },
      { name: '__schedule', size: 0x200, shape: 'fp' },
      { name: 'schedule', size: 0x40, shape: 'fp' },
      { name: 'preempt_schedule_irq', size: 0x40, shape: 'fp' },
      { name: 'sysvec_timer', size: 0x80, shape: 'fp' },
      { name: 'do_syscall_64', size: 0x100, shape: 'fp' },
      { name: 'sys_sleep', size: 0x60, shape: 'fp' },
      { name: 'kthread_main', size: 0x80, shape: 'fp' },
      { name: 'worker', size: 0x80, shape: 'fp' },
      { name: 'helper', size: 0x60, shape: 'fp' },
      { name: 'recurse', size: 0x40, shape: 'fp' },
      { name: 'leaf_nofp', size: 0x20, shape: 'nofp' },
      ...extra,
    ],
    opts,
  );
}

// ---------------------------------------------------------------- tasks and stacks

export class SyntheticTask implements GuestTask {
  threadSp = 0;
  running = false;
  hasStack = true;
  constructor(
    readonly pid: number,
    readonly name: string,
    readonly kind: TaskKind,
    readonly stackBegin: number,
    readonly stackEnd: number,
  ) {}
}

export class SyntheticGuest implements GuestView {
  readonly mem = new SparseMemory();
  /** ground truth in emulator/truth's shape: stack region -> frames, outermost first */
  readonly truth = { stacks: new Map<number, TruthChain>(), stackSize: THREAD_SIZE };
  readonly taskList: SyntheticTask[] = [];
  regs: RegsSnapshot | null = null;
  readonly extra: ExtraStack[] = [];
  readonly inactiveTaskFrame = LINUX_INACTIVE_TASK_FRAME;

  readWord(addr: number): number | undefined {
    return this.mem.readWord(addr);
  }

  tasks(): readonly GuestTask[] {
    return this.taskList;
  }

  cpuRegs(): RegsSnapshot | null {
    return this.regs;
  }

  extraStacks(task: GuestTask): readonly ExtraStack[] {
    return task.running ? this.extra : [];
  }

  /** A new task with a zeroed 16 KiB stack. */
  addTask(name: string, kind: TaskKind): SyntheticTask {
    const pid = this.taskList.length + 1;
    const begin = STACKS + pid * 2 * THREAD_SIZE;
    const t = new SyntheticTask(pid, name, kind, begin, begin + THREAD_SIZE);
    for (let a = begin; a < begin + THREAD_SIZE; a += 8) this.mem.write(a, 0);
    this.taskList.push(t);
    return t;
  }

  builder(task: SyntheticTask): StackBuilder {
    return new StackBuilder(this, task);
  }
}

export interface RegsValues {
  ip: number;
  cs: number;
  sp: number;
  bp: number;
  ss?: number;
  flags?: number;
}

/** Lays out a task's kernel stack from the top down, as the code would. */
export class StackBuilder {
  sp: number;
  bp = 0;
  constructor(
    readonly guest: SyntheticGuest,
    readonly task: SyntheticTask,
  ) {
    this.sp = task.stackEnd;
  }

  push(v: number): this {
    this.sp -= 8;
    this.guest.mem.write(this.sp, v);
    return this;
  }

  /** Pushes a full pt_regs (the hardware IRET frame, then the entry code's registers). */
  ptRegs(r: RegsValues): number {
    this.sp -= PTREGS_SIZE;
    const base = this.sp;
    const m = this.guest.mem;
    for (let off = 0; off < PTREGS_SIZE; off += 8) m.write(base + off, 0);
    m.write(base + PTREGS_IP, r.ip);
    m.write(base + PTREGS_CS, r.cs);
    m.write(base + PTREGS_FLAGS, r.flags ?? 0x202);
    m.write(base + PTREGS_SP, r.sp);
    m.write(base + PTREGS_SS, r.ss ?? (r.cs === USER_CS ? USER_SS : 0x18));
    m.write(base + PTREGS_BP, r.bp);
    return base;
  }

  /** `call`: pushes the return address (and records the frame in the ground truth). */
  call(ret: number): this {
    this.push(ret);
    this.record(0, this.sp, ret - 5);
    return this;
  }

  private record(kind: number, sp: number, from: number): void {
    const key = Math.floor(sp / THREAD_SIZE);
    const stacks = this.guest.truth.stacks;
    let ch = stacks.get(key);
    if (!ch) stacks.set(key, (ch = new TruthChain()));
    ch.push(kind, sp, from, 0);
  }

  /** An interrupt or exception: the CPU's frame and the entry code's registers (a pt_regs). */
  interrupt(r: RegsValues): number {
    const regs = this.ptRegs(r);
    this.record(1, regs + PTREGS_IP, r.ip);
    return regs;
  }

  /** push %rbp; mov %rsp,%rbp */
  enter(): this {
    this.push(this.bp);
    this.bp = this.sp;
    return this;
  }

  /** call + the callee's frame-pointer prologue */
  callFp(ret: number): this {
    return this.call(ret).enter();
  }

  /** Room for locals (zeros). */
  locals(words: number): this {
    for (let i = 0; i < words; i++) this.push(0);
    return this;
  }

  /** ENCODE_FRAME_POINTER: rbp = &pt_regs | 1 */
  encode(regs: number): this {
    this.bp = regs + 1;
    return this;
  }

  /** call __switch_to_asm + its pushes; the task now sleeps with thread.sp here. */
  switchOut(ret: number): this {
    this.call(ret);
    this.push(this.bp);
    for (let i = 0; i < 5; i++) this.push(0x1000 + i); // rbx, r12-r15
    this.task.threadSp = this.sp;
    return this;
  }
}

export { makeRegsSnapshot, KERNEL_CS as KCS };
