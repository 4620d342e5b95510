// Linux 6.1's stacks besides the task stacks, as arch/x86/kernel/dumpstack_64.c's
// get_stack_info_noinstr() finds them for the current task on CPU 0:
//   - the exception (IST) stacks: the per-CPU pointer cea_exception_stacks to struct
//     cea_exception_stacks in the CPU entry area; each of DF, NMI, DB, MCE, VC, VC2 is its own type
//     (STACK_TYPE_EXCEPTION + ESTACK_*), guard pages between them are no stack, and next_sp is the
//     sp of the pt_regs at the top of the stack (in_exception_stack);
//   - the IRQ stack: the per-CPU hardirq_stack_ptr points at its topmost word, which holds the
//     stack pointer the switch came from (in_irq_stack; soft interrupts run on it too on x86_64);
//   - the entry trampoline stack: struct entry_stack in the CPU entry area, whose end is the TSS's
//     sp0 (cpu_init_exception_handling loads cpu_entry_stack(cpu) + 1 there and 64-bit context
//     switches leave it), with no next stack (in_entry_stack).
// Every size and offset comes from the image's BTF, every per-CPU variable from its kallsyms.
import type { ElfFile } from '../../elf/elfFile';
import { Btf } from '../../elf/btf';
import type { KernelLayout } from '../../emulator/kernel/kernelLayout';
import { btfField } from '../../emulator/kernel/linuxLayout';
import type { ExtraStack } from '../unwind/guestView';
import { PTREGS_SIZE } from '../unwind/ptRegs';
import { STACK_TYPE_ENTRY, STACK_TYPE_EXCEPTION, STACK_TYPE_IRQ } from '../unwind/stackInfo';
import type { ExtraStackSource } from './machineGuestView';

/** What the stacks are read through: CPU 0's per-CPU addresses and guest words. */
export interface PerCpuReader {
  perCpuAddress(offset: number): number | null;
  readWord(addr: number): number | undefined;
}

/** enum exception_stack_ordering (arch/x86/include/asm/cpu_entry_area.h), ESTACK_DF first. */
export const EXCEPTION_STACK_NAMES = ['DF', 'NMI', 'DB', 'MCE', 'VC', 'VC2'] as const;

/** struct pt_regs' sp (arch/x86/include/asm/ptrace.h) */
const PTREGS_SP = 152;

export interface LinuxStackGeometry {
  /** per-CPU offsets of the variables */
  hardirqStackPtr: number;
  ceaExceptionStacks: number;
  cpuTssRw: number;
  /** sizeof(struct irq_stack): IRQ_STACK_SIZE */
  irqStackSize: number;
  /** sizeof(struct entry_stack) */
  entryStackSize: number;
  /** offsetof(struct tss_struct, x86_tss.sp0) */
  tssSp0: number;
  /** offset and size of each exception stack inside struct cea_exception_stacks, ESTACK_* order */
  exceptionStacks: { name: string; offset: number; size: number }[];
}

export class LinuxStacks implements ExtraStackSource {
  constructor(readonly geometry: LinuxStackGeometry) {}

  /** The geometry of a Linux image (BTF and kallsyms), or null when it lacks one of the pieces. */
  static fromElf(elf: ElfFile, layout: KernelLayout): LinuxStacks | null {
    const sec = elf.section('.BTF');
    if (sec === undefined || layout.perCpuOffsets === null) return null;
    const btf = Btf.parse(sec.data, elf.name);
    const hardirq = layout.symbol('hardirq_stack_ptr');
    const cea = layout.symbol('cea_exception_stacks');
    const tss = layout.symbol('cpu_tss_rw');
    const irq = btf.struct('irq_stack');
    const entry = btf.struct('entry_stack');
    if (hardirq === undefined || cea === undefined || tss === undefined || irq === undefined || entry === undefined) return null;
    return new LinuxStacks({
      hardirqStackPtr: hardirq,
      ceaExceptionStacks: cea,
      cpuTssRw: tss,
      irqStackSize: irq.size,
      entryStackSize: entry.size,
      tssSp0: btfField(btf, 'tss_struct', 'x86_tss.sp0', elf.name).offset,
      exceptionStacks: EXCEPTION_STACK_NAMES.map((name) => ({ name, ...btfField(btf, 'cea_exception_stacks', `${name}_stack`, elf.name) })),
    });
  }

  /** The stacks as they are in the stopped guest (unreadable pointers leave a stack out). */
  stacks(view: PerCpuReader): readonly ExtraStack[] {
    const g = this.geometry;
    const out: ExtraStack[] = [];
    const ptr = (perCpu: number): number | undefined => {
      const at = view.perCpuAddress(perCpu);
      return at === null ? undefined : view.readWord(at);
    };
    const estacks = ptr(g.ceaExceptionStacks);
    if (estacks !== undefined && estacks !== 0) {
      g.exceptionStacks.forEach((s, k) => {
        if (s.size === 0) return;
        const begin = estacks + s.offset;
        const end = begin + s.size;
        out.push({ type: STACK_TYPE_EXCEPTION + k, begin, end, nextSp: view.readWord(end - PTREGS_SIZE + PTREGS_SP) ?? 0 });
      });
    }
    const irqTop = ptr(g.hardirqStackPtr);
    if (irqTop !== undefined && irqTop !== 0) {
      const end = irqTop + 8;
      out.push({ type: STACK_TYPE_IRQ, begin: end - g.irqStackSize, end, nextSp: view.readWord(end - 8) ?? 0 });
    }
    const tss = view.perCpuAddress(g.cpuTssRw);
    const sp0 = tss === null ? undefined : view.readWord(tss + g.tssSp0);
    if (sp0 !== undefined && sp0 !== 0) out.push({ type: STACK_TYPE_ENTRY, begin: sp0 - g.entryStackSize, end: sp0, nextSp: 0 });
    return out;
  }
}
