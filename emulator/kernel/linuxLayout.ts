// Real Linux's layout, from the image itself: every offset and width from its BTF (.BTF), every
// address from its kallsyms tables (elf/kallsyms.ts), and the #define values the host tests
// against from the kernel version's headers (below, with their sources). Nothing is typed in for
// one build: another 6.1 build with other offsets is read the same way.
import type { ElfFile } from '../../elf/elfFile';
import { Btf, BtfKind, type BtfType } from '../../elf/btf';
import { ElfError } from '../../elf/elfError';
import { KernelSymbols, readKallsyms } from '../../elf/kallsyms';
import type { Field, KernelConstants, KernelLayout } from './kernelLayout';
import { btfKlpLayout } from './klpLayout';

/**
 * Linux 6.1 x86_64: arch/x86/include/asm/thread_info.h (TIF_PATCH_PENDING 13, TIF_NOTIFY_SIGNAL 17),
 * include/linux/sched.h (TASK_RUNNING 0, TASK_INTERRUPTIBLE 1, PF_IDLE 0x2, PF_KTHREAD 0x00200000),
 * arch/x86/include/asm/page_64_types.h (THREAD_SIZE = PAGE_SIZE << 2 without KASAN).
 */
export const LINUX_61_X86_64: KernelConstants & { threadSize: number } = {
  tifPatchPending: 13, tifNotifySignal: 17, taskRunning: 0, taskInterruptible: 1, pfKthread: 0x00200000, pfIdle: 0x2,
  threadSize: 16384,
};

/** A member of a struct by path ("thread.sp"), looking inside anonymous members as C does. */
export function btfField(btf: Btf, struct: string, path: string, file = 'vmlinux'): Field {
  const s = btf.struct(struct);
  if (s === undefined) throw new ElfError(file, `BTF has no struct ${struct}`);
  let t: BtfType = s, offset = 0;
  let size = 0;
  for (const part of path.split('.')) {
    const found = findMember(btf, t, part);
    if (found === null) throw new ElfError(file, `BTF struct ${struct} has no member ${path}`);
    offset += found.bitOffset / 8;
    size = btf.sizeOf(found.type);
    const next = btf.resolve(found.type);
    if (next !== undefined) t = next;
  }
  return { offset, size };
}

function findMember(btf: Btf, t: BtfType, name: string): { bitOffset: number; type: number } | null {
  for (const m of t.members) {
    if (m.name === name) return m;
    if (m.name === '') {
      const inner = btf.resolve(m.type);
      if (inner !== undefined && (inner.kind === BtfKind.Struct || inner.kind === BtfKind.Union)) {
        const f = findMember(btf, inner, name);
        if (f !== null) return { bitOffset: m.bitOffset + f.bitOffset, type: f.type };
      }
    }
  }
  return null;
}

/** The layout of a Linux image with BTF and kallsyms, or null when it has no .BTF. */
export function linuxLayout(elf: ElfFile): KernelLayout | null {
  const sec = elf.section('.BTF');
  if (sec === undefined) return null;
  const btf = Btf.parse(sec.data, elf.name);
  const syms = new KernelSymbols(readKallsyms(elf));
  const need = (name: string): number => {
    const s = syms.get(name);
    if (s === undefined) throw new ElfError(elf.name, `kallsyms has no ${name}`);
    return s.address;
  };
  const f = (struct: string, path: string): Field => btfField(btf, struct, path, elf.name);
  const frame = (m: string): number => f('inactive_task_frame', m).offset;
  const banner = /Linux version (\S+)/.exec(Buffer.from(elf.section('.rodata')?.data.subarray(0, 1 << 20) ?? []).toString('latin1'));
  const current = syms.get('current_task');
  if (current === undefined) throw new ElfError(elf.name, 'kallsyms has no current_task');
  return {
    description: `Linux ${banner?.[1] ?? '(unknown version)'}`,
    source: 'btf-kallsyms',
    initTask: need('init_task'),
    currentTask: { at: current.address, perCpu: current.type === 'A' },
    perCpuOffsets: syms.get('__per_cpu_offset')?.address ?? null,
    threadSize: LINUX_61_X86_64.threadSize,
    task: {
      tasks: f('task_struct', 'tasks'), pid: f('task_struct', 'pid'), comm: f('task_struct', 'comm'),
      state: f('task_struct', '__state'), stack: f('task_struct', 'stack'), sp: f('task_struct', 'thread.sp'),
      pfFlags: f('task_struct', 'flags'), tifFlags: f('task_struct', 'thread_info.flags'),
      patchState: f('task_struct', 'patch_state'), onRq: f('task_struct', 'on_rq'),
    },
    listNext: f('list_head', 'next'),
    frame: {
      size: btf.struct('inactive_task_frame')!.size, r15: frame('r15'), r14: frame('r14'), r13: frame('r13'),
      r12: frame('r12'), bx: frame('bx'), bp: frame('bp'), retAddr: frame('ret_addr'),
    },
    constants: LINUX_61_X86_64,
    taskKind: null,
    klp: btfKlpLayout(btf, f),
    symbol: (name) => syms.get(name)?.address,
  };
}
