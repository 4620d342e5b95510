// The fixture kernel's layout, from the absolute symbols it exports (fixtures/kernel/asm-offsets.c:
// TASK_*, LIST_*, FRAME_*, the TIF and task-state values, THREAD_SIZE_value). Field widths are
// those of the fixture's types in fixtures/include/sched.h.
import type { ElfFile } from '../../elf/elfFile';
import type { Field, KernelLayout } from './kernelLayout';

const REQUIRED = ['init_task', 'current_task', 'TASK_tasks', 'TASK_pid', 'TASK_comm', 'TASK_state', 'TASK_stack', 'TASK_sp',
  'TASK_flags', 'TASK_patch_state', 'TASK_on_rq', 'LIST_next', 'FRAME_size', 'FRAME_bp', 'FRAME_bx', 'FRAME_r12',
  'FRAME_r13', 'FRAME_r14', 'FRAME_r15', 'FRAME_ret_addr'];

/** The layout an image exports, or null when it is not a fixture kernel (no TASK_* symbols). */
export function fixtureLayout(elf: ElfFile): KernelLayout | null {
  const sym = new Map<string, number>();
  for (const s of elf.symbols()) if (s.name !== '' && !sym.has(s.name)) sym.set(s.name, Number(BigInt.asIntN(64, s.value)));
  if (REQUIRED.some((n) => !sym.has(n))) return null;
  const at = (name: string, size: number): Field => ({ offset: sym.get(name)!, size });
  const v = (name: string, fallback: number): number => sym.get(name) ?? fallback;
  return {
    description: 'fixture kernel',
    source: 'fixture-exports',
    initTask: sym.get('init_task')!,
    currentTask: { at: sym.get('current_task')!, perCpu: false },
    perCpuOffsets: null,
    threadSize: v('THREAD_SIZE_value', 16384),
    task: {
      tasks: at('TASK_tasks', 16), pid: at('TASK_pid', 4), comm: at('TASK_comm', v('TASK_comm_len', 16)),
      state: at('TASK_state', 8), stack: at('TASK_stack', 8), sp: at('TASK_sp', 8), pfFlags: null,
      tifFlags: at('TASK_flags', 8), patchState: at('TASK_patch_state', 4), onRq: at('TASK_on_rq', 4),
    },
    listNext: at('LIST_next', 8),
    frame: {
      size: sym.get('FRAME_size')!, r15: sym.get('FRAME_r15')!, r14: sym.get('FRAME_r14')!, r13: sym.get('FRAME_r13')!,
      r12: sym.get('FRAME_r12')!, bx: sym.get('FRAME_bx')!, bp: sym.get('FRAME_bp')!, retAddr: sym.get('FRAME_ret_addr')!,
    },
    constants: {
      tifPatchPending: v('TIF_PATCH_PENDING_bit', 13), tifNotifySignal: v('TIF_NOTIFY_SIGNAL_bit', 17),
      taskRunning: v('TASK_STATE_RUNNING', 0), taskInterruptible: v('TASK_STATE_INTERRUPTIBLE', 1), pfKthread: 0x00200000, pfIdle: 0x2,
    },
    taskKind: sym.has('TASK_kind')
      ? { field: at('TASK_kind', 4), user: v('TASK_KIND_USER_value', 0), kthread: v('TASK_KIND_KTHREAD_value', 1), idle: v('TASK_KIND_IDLE_value', 2) }
      : null,
    symbol: (name) => sym.get(name),
  };
}
