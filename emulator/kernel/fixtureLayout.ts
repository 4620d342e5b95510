// The fixture kernel's layout, from the absolute symbols it exports (fixtures/kernel/asm-offsets.c:
// TASK_*, LIST_*, FRAME_*, KLP_*, the TIF and task-state values, THREAD_SIZE_value). Field widths are
// those of the fixture's types in fixtures/include/sched.h.
import type { ElfFile } from '../../elf/elfFile';
import type { Field, KernelLayout } from './kernelLayout';
import { fixtureKlpLayout } from './klpLayout';

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
    klp: fixtureKlpLayout(sym),
    symbol: (name) => sym.get(name),
  };
}

/**
 * The fixture kernel's interface to the host, beside its task layout: the structures and numbers
 * the fixture lab (livepatch/guest/) reads and writes in guest memory to load modules and take
 * hypercalls (fixtures/kernel/hostcall.c, fixtures/include/livepatch.h). Real Linux has no such
 * interface: its own modprobe runs inside the guest.
 */
export interface FixtureHostInterface {
  /** struct host_call, the khostcall kthread's request block */
  hostCall: { fn: Field; arg0: Field; arg1: Field; result: Field; requested: Field; done: Field };
  /** klp_hypercall's numbers (KLP_HC_*): older images export only the first */
  hypercalls: { enablePatch: number; getPrevState: number | undefined; schedTrySwitch: number | undefined };
  /** the module area (MODULES_VADDR..MODULES_END) */
  modules: { start: number; end: number } | null;
  /** struct module: name[56], state, and its size */
  module: { name: Field; state: Field | null; size: number };
  /** struct kernel_param (module_param) */
  kernelParam: { name: Field; arg: Field; type: Field; perm: Field; size: number };
  /** klp_object.mod, which the host sets while the object's module is loaded */
  klpObjectMod: Field | null;
  /** proc_read's file numbers (PROC_*) */
  proc: { cmdline: number; meminfo: number };
  /** HZ, when the image says */
  hz: number | undefined;
}

/** The host interface an image exports, or null when it has no khostcall (not the fixture kernel). */
export function fixtureHostInterface(elf: ElfFile): FixtureHostInterface | null {
  const sym = new Map<string, number>();
  for (const s of elf.symbols()) if (s.name !== '' && !sym.has(s.name)) sym.set(s.name, Number(BigInt.asIntN(64, s.value)));
  const hostCall = ['HOST_CALL_fn', 'HOST_CALL_arg0', 'HOST_CALL_arg1', 'HOST_CALL_result', 'HOST_CALL_requested', 'HOST_CALL_done'];
  if (hostCall.some((n) => !sym.has(n))) return null;
  const at = (name: string, size: number): Field => ({ offset: sym.get(name)!, size });
  const atOr = (name: string, fallback: number, size: number): Field => ({ offset: sym.get(name) ?? fallback, size });
  const start = sym.get('MODULES_VADDR'), end = sym.get('MODULES_END');
  return {
    hostCall: {
      fn: at('HOST_CALL_fn', 8), arg0: at('HOST_CALL_arg0', 8), arg1: at('HOST_CALL_arg1', 8),
      result: at('HOST_CALL_result', 8), requested: at('HOST_CALL_requested', 8), done: at('HOST_CALL_done', 8),
    },
    hypercalls: { enablePatch: sym.get('KLP_HC_ENABLE_PATCH_nr') ?? 1, getPrevState: sym.get('KLP_HC_GET_PREV_STATE_nr'), schedTrySwitch: sym.get('KLP_HC_SCHED_TRY_SWITCH_nr') },
    modules: start !== undefined && end !== undefined ? { start, end } : null,
    module: { name: atOr('MODULE_name', 0, 56), state: sym.has('MODULE_state') ? at('MODULE_state', 4) : null, size: sym.get('MODULE_size') ?? 64 },
    kernelParam: {
      name: atOr('KPARAM_name', 0, 8), arg: atOr('KPARAM_arg', 8, 8), type: atOr('KPARAM_type', 16, 4), perm: atOr('KPARAM_perm', 20, 4),
      size: sym.get('KPARAM_size') ?? 24,
    },
    klpObjectMod: sym.has('KLP_OBJECT_mod') ? at('KLP_OBJECT_mod', 8) : null,
    proc: { cmdline: sym.get('PROC_CMDLINE_nr') ?? 0, meminfo: sym.get('PROC_MEMINFO_nr') ?? 1 },
    hz: sym.get('KERNEL_HZ'),
  };
}
