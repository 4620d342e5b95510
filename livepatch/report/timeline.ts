// A per-task record of one transition: when each task was flagged, every attempt that could
// not switch it (and why), and when and how it switched. The text view and the SVG chart of
// `klp-lab livepatch` are drawn from it.

export type SwitchPath = 'stack-check' | 'cond-resched' | 'exit-to-user' | 'idle-loop' | 'kthread-patch-point' | 'fork' | 'force' | 'offline-idle';

export interface TaskTimeline {
  pid: number;
  comm: string;
  kind: 'user' | 'kthread' | 'idle';
  /** Virtual ns at which TIF_PATCH_PENDING was set (undefined: never needed to switch). */
  flaggedAt?: number;
  blocked: Array<{ time: number; reason: string }>;
  signalledAt: number[];
  switchedAt?: number;
  switchedBy?: SwitchPath;
}

export class TransitionTimeline {
  readonly tasks = new Map<number, TaskTimeline>();
  completedAt?: number;
  readonly attempts: number[] = [];

  constructor(readonly patch: string, readonly direction: 'patching' | 'unpatching', readonly startedAt: number) {}

  task(pid: number, comm: string, kind: TaskTimeline['kind']): TaskTimeline {
    let t = this.tasks.get(pid);
    if (!t) {
      t = { pid, comm, kind, blocked: [], signalledAt: [] };
      this.tasks.set(pid, t);
    }
    return t;
  }

  flagged(pid: number, comm: string, kind: TaskTimeline['kind'], time: number): void {
    this.task(pid, comm, kind).flaggedAt ??= time;
  }

  blockedAt(pid: number, comm: string, kind: TaskTimeline['kind'], time: number, reason: string): void {
    this.task(pid, comm, kind).blocked.push({ time, reason });
  }

  switched(pid: number, comm: string, kind: TaskTimeline['kind'], time: number, by: SwitchPath): void {
    const t = this.task(pid, comm, kind);
    if (t.switchedAt === undefined) {
      t.switchedAt = time;
      t.switchedBy = by;
    }
  }

  /** Tasks in pid order. */
  rows(): TaskTimeline[] {
    return [...this.tasks.values()].sort((a, b) => a.pid - b.pid);
  }

  /** A plain-text table: one line per task. */
  format(): string {
    const ms = (ns: number) => `${(ns / 1e6).toFixed(3)} ms`;
    const lines = [`transition '${this.patch}' (${this.direction}) started at ${ms(this.startedAt)}` +
      (this.completedAt !== undefined ? `, complete at ${ms(this.completedAt)} (${ms(this.completedAt - this.startedAt)})` : ', not complete')];
    lines.push('  pid  task              kind     switched      by                   blocked (last reason)');
    for (const t of this.rows()) {
      const when = t.switchedAt === undefined ? (t.flaggedAt === undefined ? 'n/a' : 'pending') : ms(t.switchedAt - this.startedAt);
      const last = t.blocked.at(-1)?.reason ?? '';
      lines.push(`  ${String(t.pid).padStart(3)}  ${t.comm.padEnd(16)}  ${t.kind.padEnd(7)}  ${when.padStart(12)}  ${(t.switchedBy ?? '').padEnd(19)}  ` +
        `${t.blocked.length ? `${t.blocked.length}x (${last})` : ''}${t.signalledAt.length ? `, signalled ${t.signalledAt.length}x` : ''}`);
    }
    return lines.join('\n') + '\n';
  }
}
