// Which description a kernel image gets: the fixture kernel's exports, else real Linux's BTF and
// kallsyms, else none (the small boot images have no task list).
import type { ElfFile } from '../../elf/elfFile';
import { fixtureLayout } from './fixtureLayout';
import type { KernelLayout } from './kernelLayout';
import { linuxLayout } from './linuxLayout';

export function kernelLayoutOf(elf: ElfFile): KernelLayout | null {
  return fixtureLayout(elf) ?? linuxLayout(elf);
}
