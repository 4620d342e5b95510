/**
 * The guest kernel's tasks as gdb threads. The layout is the kernel's one description
 * (emulator/kernel/: the fixture kernel's exports, or real Linux's BTF and kallsyms), never
 * hard-coded offsets, and every read goes through the guest page tables, so a task list that is not
 * mapped yet (early boot) or is corrupt simply yields no tasks. Thread id = pid + 1 (gdb reserves 0);
 * the list walk is bounded. On real Linux the current task is the per-CPU current_task of CPU 0.
 *
 * A sleeping task's registers are rebuilt from the inactive_task_frame __switch_to_asm left at
 * thread.sp (Linux's get_wchan / the frame unwinder's starting point): rsp = thread.sp + frame size,
 * rip = the frame's return address, rbp/rbx/r12-r15 from the frame; other registers are unavailable.
 */
import type { ElfFile } from '../../elf/elfFile';
import type { Machine } from '../machine';
import { currentTaskPointerAt, type KernelLayout } from '../kernel/kernelLayout';
import { kernelLayoutOf } from '../kernel/layoutOf';
import { GDB_REGISTERS, REG_RBX, REG_RBP, REG_RSP, REG_R12, REG_R13, REG_R14, REG_R15, REG_RIP } from './targetDescription';
import type { RegisterValues } from './registerMap';

export const MAX_TASKS_WALKED = 1024;

export interface GuestTask {
  tid: number;
  /** task_struct address (canonical, as a signed number) */
  addr: number;
  pid: number;
  comm: string;
  state: number;
  /** saved thread.sp */
  sp: number;
}

const STATE_NAMES: [number, string][] = [[0x80, 'dead'], [0x2, 'uninterruptible'], [0x1, 'sleeping']];

export class GuestTasks {
  constructor(private readonly layout: KernelLayout) {}

  /** The tasks of an image that describes its layout, or null (e.g. the boot tests' images). */
  static fromElf(elf: ElfFile): GuestTasks | null {
    const layout = kernelLayoutOf(elf);
    return layout === null ? null : new GuestTasks(layout);
  }

  /** A 64-bit guest pointer as a canonical signed number, or null if unreadable or non-canonical. */
  private readPtr(m: Machine, va: number): number | null {
    const b = m.virtRead(va, 8);
    if (b === null) return null;
    const lo = (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
    const hi = b[4] | (b[5] << 8) | (b[6] << 16) | (b[7] << 24); // signed
    if (hi >= 0x8000 || hi < -0x8000) return null;
    return hi * 0x100000000 + lo;
  }

  private readTask(m: Machine, addr: number): GuestTask | null {
    const t = this.layout.task;
    const pidB = m.virtRead(addr + t.pid.offset, 4);
    const stateB = m.virtRead(addr + t.state.offset, t.state.size);
    const sp = this.readPtr(m, addr + t.sp.offset);
    const commB = m.virtRead(addr + t.comm.offset, Math.min(64, t.comm.size));
    if (pidB === null || stateB === null || commB === null) return null;
    const pid = pidB[0] | (pidB[1] << 8) | (pidB[2] << 16) | (pidB[3] << 24);
    if (pid < 0 || pid > 0x3fffffff) return null;
    const state = (stateB[0] | (stateB[1] << 8) | (stateB[2] << 16) | (stateB[3] << 24)) >>> 0;
    let end = commB.indexOf(0);
    if (end < 0) end = commB.length;
    const comm = Buffer.from(commB.subarray(0, end)).toString('latin1').replace(/[^\x20-\x7e]/g, '?');
    return { tid: pid + 1, addr, pid, comm, state, sp: sp ?? 0 };
  }

  /** The task list, init_task first; null when it cannot be read (paging not set up yet, corrupt list). */
  list(m: Machine): GuestTask[] | null {
    const L = this.layout;
    const head = L.initTask + L.task.tasks.offset;
    const out: GuestTask[] = [];
    const seen = new Set<number>();
    let task = L.initTask;
    for (let n = 0; n < MAX_TASKS_WALKED; n++) {
      const t = this.readTask(m, task);
      if (t === null) return out.length === 0 ? null : out;
      if (!seen.has(t.tid)) { seen.add(t.tid); out.push(t); }
      const next = this.readPtr(m, task + L.task.tasks.offset + L.listNext.offset);
      if (next === null || next === head) return out;
      task = next - L.task.tasks.offset;
    }
    return out;
  }

  /** Address of the running task (current_task, per-CPU on real Linux), or null. */
  currentAddr(m: Machine): number | null {
    const at = currentTaskPointerAt(this.layout, (va) => this.readPtr(m, va));
    return at === null ? null : this.readPtr(m, at);
  }

  /** Registers of a task that is not running, from its inactive_task_frame; null if unreadable. */
  savedRegisters(m: Machine, t: GuestTask): RegisterValues | null {
    const f = this.layout.frame;
    const frame = m.virtRead(t.sp, f.size);
    if (frame === null || t.sp === 0) return null;
    const at = (off: number): bigint => {
      let v = 0n;
      for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(frame[off + i]);
      return v;
    };
    const regs: RegisterValues = GDB_REGISTERS.map(() => null);
    regs[REG_RSP] = BigInt.asUintN(64, BigInt(t.sp + f.size));
    regs[REG_RBP] = at(f.bp);
    regs[REG_RIP] = at(f.retAddr);
    regs[REG_RBX] = at(f.bx);
    regs[REG_R12] = at(f.r12);
    regs[REG_R13] = at(f.r13);
    regs[REG_R14] = at(f.r14);
    regs[REG_R15] = at(f.r15);
    return regs;
  }

  static describe(t: GuestTask, running: boolean): string {
    let state = 'runnable';
    for (const [bit, name] of STATE_NAMES) if ((t.state & bit) !== 0) { state = name; break; }
    return `pid ${t.pid} ${t.comm} ${running ? 'running' : state}`;
  }
}
