/**
 * Which trace lines `klp-lab trace` prints: an address range (instructions by their address, events
 * by their RIP), a task (by pid or comm), only the events (exceptions, interrupts, syscalls, returns).
 * Addresses compare in unsigned order (user space below the kernel), though they are held as signed
 * canonical numbers.
 */
import type { TraceItem, TraceTask } from './traceReader';

export type TaskSelector = { pid: number } | { name: string };

export interface TraceFilterSpec {
  /** lowest address shown (inclusive) */
  from?: number;
  /** first address past the range (exclusive) */
  to?: number;
  task?: TaskSelector;
  eventsOnly?: boolean;
}

/** a < b in unsigned 64-bit order for canonical addresses held as signed numbers */
export function addressBelow(a: number, b: number): boolean {
  if ((a < 0) !== (b < 0)) return a >= 0;
  return a < b;
}

export function taskMatches(t: TraceTask | null, sel: TaskSelector): boolean {
  if (t === null) return false;
  return 'pid' in sel ? t.pid === sel.pid : t.comm === sel.name;
}

export function traceFilter(spec: TraceFilterSpec): (item: TraceItem) => boolean {
  const { from, to, task, eventsOnly } = spec;
  return (item) => {
    if (eventsOnly && item.kind !== 'event') return false;
    if (from !== undefined && addressBelow(item.va, from)) return false;
    if (to !== undefined && !addressBelow(item.va, to)) return false;
    if (task !== undefined && !taskMatches(item.task, task)) return false;
    return true;
  };
}
