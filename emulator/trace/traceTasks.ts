/**
 * Who runs, for the trace writer: the physical address of the kernel's current-task pointer word and a
 * reader of a task's pid and comm, from the kernel's layout (emulator/kernel/). Guest virtual addresses
 * in the image are turned into physical ones through the image's PT_LOAD segments (where the PVH loader
 * put them), not through the guest page tables, so the writer never walks, caches or marks anything
 * in the guest's paging structures. A task outside the image's segments stays a bare pointer. A kernel
 * whose current task is a per-CPU variable (real Linux) has no fixed word to watch before its per-CPU
 * areas exist: its traces carry no task records.
 */
import type { ElfFile } from '../../elf/elfFile';
import type { Machine } from '../machine';
import { kernelLayoutOf } from '../kernel/layoutOf';
import type { TaskIdentity } from './traceWriter';

const PT_LOAD = 1;

interface Segment { va: number; pa: number; size: number }

export interface TraceTaskSource {
  taskWordPhys: number;
  describeTask: (task: number) => TaskIdentity | null;
}

/** The task source of a kernel image, or null when it does not export current_task and the layout. */
export function traceTaskSource(elf: ElfFile, m: Machine): TraceTaskSource | null {
  const layout = kernelLayoutOf(elf);
  if (layout === null || layout.currentTask.perCpu) return null;
  const current = layout.currentTask.at, pidOff = layout.task.pid.offset, commOff = layout.task.comm.offset;
  const commLen = Math.min(64, layout.task.comm.size);
  const segments: Segment[] = elf.programs
    .filter((p) => p.type === PT_LOAD && p.memsz > 0)
    .map((p) => ({ va: Number(BigInt.asIntN(64, p.vaddr)), pa: Number(p.paddr), size: p.memsz }));
  const phys = (va: number, len: number): number => {
    for (const s of segments) if (va >= s.va && va + len <= s.va + s.size && s.pa + (va - s.va) + len <= m.mem.size) return s.pa + (va - s.va);
    return -1;
  };
  const taskWordPhys = phys(current, 8);
  if (taskWordPhys < 0) return null;
  const describeTask = (task: number): TaskIdentity | null => {
    const pidAt = phys(task + pidOff, 4), commAt = phys(task + commOff, commLen);
    if (pidAt < 0 || commAt < 0) return null;
    const pid = m.mem.dv.getInt32(pidAt, true);
    const bytes = m.mem.u8.subarray(commAt, commAt + commLen);
    let end = bytes.indexOf(0);
    if (end < 0) end = bytes.length;
    return { pid, comm: Buffer.from(bytes.subarray(0, end)).toString('latin1').replace(/[^\x20-\x7e]/g, '?') };
  };
  return { taskWordPhys, describeTask };
}
