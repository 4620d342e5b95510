/**
 * `monitor` commands (the qRcmd packet). A small registry: the stub registers `help`, `tasks` and
 * `regs`; other parts of klp-lab add theirs (`unwind` for the unwinders' traces of the selected task,
 * `lp-state` for the livepatch state) through register(), since the emulator itself may not import
 * livepatch/. Output is plain text; a failing command prints its error instead of killing the session.
 */
import type { Machine } from '../machine';
import type { GuestTask } from './guestTasks';

export interface MonitorContext {
  machine: Machine;
  /** tasks as gdb sees them (empty before the task list is readable) */
  tasks: GuestTask[];
  /** the gdb-selected thread's task (Hg), or null */
  selected: GuestTask | null;
  /** the running task, or null */
  current: GuestTask | null;
}

export type MonitorFn = (args: string[], ctx: MonitorContext) => string;

interface Entry { help: string; fn: MonitorFn }

export class MonitorCommands {
  private readonly entries = new Map<string, Entry>();

  constructor() {
    this.register('help', 'list monitor commands', () => this.helpText());
    this.register('tasks', 'guest tasks: tid, pid, name, state, task_struct, saved sp', (_a, ctx) => {
      if (ctx.tasks.length === 0) return 'no task list (the image has no TASK_* symbols, or it is not mapped yet)\n';
      return ctx.tasks.map((t) => {
        const flag = ctx.current !== null && t.tid === ctx.current.tid ? '*' : ' ';
        return `${flag} ${String(t.tid).padStart(3)} pid ${String(t.pid).padStart(3)} ${t.comm.padEnd(16)} state ${t.state.toString(16).padStart(3)} ` +
          `task ${hex64(t.addr)} sp ${hex64(t.sp)}\n`;
      }).join('');
    });
    this.register('regs', 'system registers outside the target description (STAR/LSTAR/SFMASK, GDTR, IDTR, TR, CPL, TSC)', (_a, ctx) => {
      const m = ctx.machine;
      const ids = ['star', 'lstar', 'cstar', 'sfmask', 'gdtr_base', 'gdtr_limit', 'idtr_base', 'idtr_limit', 'tr', 'tr_base', 'cpl', 'tsc'] as const;
      return ids.map((id) => `${id.padEnd(11)} 0x${m.regRead(id).toString(16)}\n`).join('');
    });
  }

  /** Add or replace a command (later issues: `unwind`, `lp-state`). */
  register(name: string, help: string, fn: MonitorFn): void { this.entries.set(name, { help, fn }); }

  has(name: string): boolean { return this.entries.has(name); }

  helpText(): string {
    const names = [...this.entries.keys()].sort();
    const w = Math.max(...names.map((n) => n.length));
    return names.map((n) => `${n.padEnd(w)}  ${this.entries.get(n)!.help}\n`).join('');
  }

  /** Run one command line; returns its output text (never throws). */
  run(line: string, ctx: MonitorContext): string {
    const words = line.trim().split(/\s+/).filter((w) => w !== '');
    if (words.length === 0) return this.helpText();
    const e = this.entries.get(words[0]);
    if (e === undefined) return `unknown monitor command "${words[0]}" (try "monitor help")\n`;
    try {
      const out = e.fn(words.slice(1), ctx);
      return out.endsWith('\n') || out === '' ? out : out + '\n';
    } catch (err) {
      return `monitor ${words[0]}: ${(err as Error).message}\n`;
    }
  }
}

export function hex64(v: number): string {
  return '0x' + BigInt.asUintN(64, BigInt(v)).toString(16).padStart(16, '0');
}
