/**
 * The guest kernel's tasks as gdb threads. The layout comes from the image's absolute ELF symbols (the
 * asm-offsets trick: TASK_*, LIST_*, FRAME_*, init_task, current_task), never from hard-coded offsets,
 * and every read goes through the guest page tables, so a task list that is not mapped yet (early boot)
 * or is corrupt simply yields no tasks. Thread id = pid + 1 (gdb reserves 0); the list walk is bounded.
 *
 * A sleeping task's registers are rebuilt from the inactive_task_frame __switch_to_asm left at
 * thread.sp (Linux's get_wchan / the frame unwinder's starting point): rsp = thread.sp + frame size,
 * rip = the frame's return address, rbp/rbx/r12-r15 from the frame; other registers are unavailable.
 */
import type { ElfFile } from '../../elf/elfFile';
import type { Machine } from '../machine';
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

const REQUIRED = ['init_task', 'current_task', 'TASK_tasks', 'TASK_pid', 'TASK_comm', 'TASK_comm_len', 'TASK_state', 'TASK_sp',
  'LIST_next', 'FRAME_size', 'FRAME_bp', 'FRAME_bx', 'FRAME_r12', 'FRAME_r13', 'FRAME_r14', 'FRAME_r15', 'FRAME_ret_addr'] as const;
type Sym = (typeof REQUIRED)[number];

const STATE_NAMES: [number, string][] = [[0x80, 'dead'], [0x2, 'uninterruptible'], [0x1, 'sleeping']];

export class GuestTasks {
  private constructor(private readonly s: Record<Sym, number>) {}

  /** The layout from an image's symbols, or null when the image has no task list (e.g. the boot tests). */
  static fromElf(elf: ElfFile): GuestTasks | null {
    const found = new Map<string, bigint>();
    for (const sym of elf.symbols()) if (sym.name !== '') found.set(sym.name, sym.value);
    const s = {} as Record<Sym, number>;
    for (const name of REQUIRED) {
      const v = found.get(name);
      if (v === undefined) return null;
      s[name] = Number(BigInt.asIntN(64, v));
    }
    return new GuestTasks(s);
  }

  private read64(m: Machine, va: number): number | null {
    const b = m.virtRead(va, 8);
    if (b === null) return null;
    const lo = b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24);
    const hi = b[4] | (b[5] << 8) | (b[6] << 16) | (b[7] << 24);
    return hi * 0x100000000 + (lo >>> 0);
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
    const s = this.s;
    const pidB = m.virtRead(addr + s.TASK_pid, 4);
    const state = this.read64(m, addr + s.TASK_state);
    const sp = this.readPtr(m, addr + s.TASK_sp);
    const commB = m.virtRead(addr + s.TASK_comm, Math.min(64, s.TASK_comm_len));
    if (pidB === null || state === null || commB === null) return null;
    const pid = pidB[0] | (pidB[1] << 8) | (pidB[2] << 16) | (pidB[3] << 24);
    if (pid < 0 || pid > 0x3fffffff) return null;
    let end = commB.indexOf(0);
    if (end < 0) end = commB.length;
    const comm = Buffer.from(commB.subarray(0, end)).toString('latin1').replace(/[^\x20-\x7e]/g, '?');
    return { tid: pid + 1, addr, pid, comm, state, sp: sp ?? 0 };
  }

  /** The task list, init_task first; null when it cannot be read (paging not set up yet, corrupt list). */
  list(m: Machine): GuestTask[] | null {
    const s = this.s;
    const head = s.init_task + s.TASK_tasks;
    const out: GuestTask[] = [];
    const seen = new Set<number>();
    let task = s.init_task;
    for (let n = 0; n < MAX_TASKS_WALKED; n++) {
      const t = this.readTask(m, task);
      if (t === null) return out.length === 0 ? null : out;
      if (!seen.has(t.tid)) { seen.add(t.tid); out.push(t); }
      const next = this.readPtr(m, task + s.TASK_tasks + s.LIST_next);
      if (next === null || next === head) return out;
      task = next - s.TASK_tasks;
    }
    return out;
  }

  /** Address of the running task (current_task), or null. */
  currentAddr(m: Machine): number | null { return this.readPtr(m, this.s.current_task); }

  /** Registers of a task that is not running, from its inactive_task_frame; null if unreadable. */
  savedRegisters(m: Machine, t: GuestTask): RegisterValues | null {
    const s = this.s;
    const frame = m.virtRead(t.sp, s.FRAME_size);
    if (frame === null || t.sp === 0) return null;
    const at = (off: number): bigint => {
      let v = 0n;
      for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(frame[off + i]);
      return v;
    };
    const regs: RegisterValues = GDB_REGISTERS.map(() => null);
    regs[REG_RSP] = BigInt.asUintN(64, BigInt(t.sp + s.FRAME_size));
    regs[REG_RBP] = at(s.FRAME_bp);
    regs[REG_RIP] = at(s.FRAME_ret_addr);
    regs[REG_RBX] = at(s.FRAME_bx);
    regs[REG_R12] = at(s.FRAME_r12);
    regs[REG_R13] = at(s.FRAME_r13);
    regs[REG_R14] = at(s.FRAME_r14);
    regs[REG_R15] = at(s.FRAME_r15);
    return regs;
  }

  static describe(t: GuestTask, running: boolean): string {
    let state = 'runnable';
    for (const [bit, name] of STATE_NAMES) if ((t.state & bit) !== 0) { state = name; break; }
    return `pid ${t.pid} ${t.comm} ${running ? 'running' : state}`;
  }
}
