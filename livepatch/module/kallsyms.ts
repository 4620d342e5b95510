// kallsyms by name for the guest kernel, built from its ELF symbol table: every named function,
// object and label, in address order as the kernel's kallsyms table is, for the module loader
// and klp_find_object_symbol's sympos rules and messages (kernel/livepatch/core.c). Lookup by
// address (symbolization, %pB) is livepatch/unwind/textSymbols.ts (TextSymbols).

import * as C from '../../elf/constants';
import type { ElfFile } from '../../elf/elfFile';

export interface KernelSymbol {
  name: string;
  /** Kernel virtual address as a signed number (canonical addresses are exact). */
  address: number;
  size: number;
  type: number;
  global: boolean;
}

/** A 64-bit canonical address as a JS number (negative for the kernel half). */
export function canonicalToNumber(value: bigint): number {
  return Number(BigInt.asIntN(64, value));
}

export class Kallsyms {
  /** Sorted by address, then by name. */
  readonly symbols: KernelSymbol[];
  private readonly byName = new Map<string, KernelSymbol[]>();

  /** From a kernel image's symbol table, or (a module's kallsyms) from its symbols. */
  constructor(image: ElfFile | KernelSymbol[]) {
    const list = Array.isArray(image)
      ? [...image]
      : image
        .symbols()
        .filter((s) => s.name !== '' && s.shndx !== C.SHN_UNDEF && s.shndx !== C.SHN_ABS &&
          (s.type === C.STT_FUNC || s.type === C.STT_OBJECT || s.type === C.STT_NOTYPE))
        .map((s) => ({ name: s.name, address: canonicalToNumber(s.value), size: s.size, type: s.type, global: s.bind !== C.STB_LOCAL }));
    this.symbols = list.sort((a, b) => a.address - b.address || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const s of this.symbols) {
      const list = this.byName.get(s.name);
      if (list) list.push(s);
      else this.byName.set(s.name, [s]);
    }
  }

  /** Every symbol with this name, in kallsyms order. */
  lookupAll(name: string): KernelSymbol[] {
    return this.byName.get(name) ?? [];
  }

  /** The global symbol of this name (what EXPORT_SYMBOL would give a module), if unique. */
  lookupGlobal(name: string): KernelSymbol | undefined {
    const globals = this.lookupAll(name).filter((s) => s.global);
    return globals.length === 1 ? globals[0] : undefined;
  }
}

export type FindResult = { symbol: KernelSymbol } | { error: string };

/**
 * klp_find_object_symbol: sympos 0 means the name must be unique; N > 0 the Nth match in
 * kallsyms order. The messages are the kernel's (objname is "(null)" for vmlinux in the
 * ambiguity message, exactly as printk prints a NULL %s there).
 */
export function findObjectSymbol(kallsyms: Kallsyms, objname: string | null, name: string, sympos: number): FindResult {
  const matches = kallsyms.lookupAll(name);
  const count = sympos > 0 ? Math.min(matches.length, sympos) : Math.min(matches.length, 2);
  const found = count > 0 ? matches[count - 1] : undefined;
  if (!found) return { error: `symbol '${name}' not found in symbol table` };
  if (count > 1 && sympos === 0) return { error: `unresolvable ambiguity for symbol '${name}' in object '${objname ?? '(null)'}'` };
  if (sympos > 0 && sympos !== count) {
    return { error: `symbol position ${sympos} for symbol '${name}' in object '${objname ?? 'vmlinux'}' not found` };
  }
  return { symbol: found };
}
