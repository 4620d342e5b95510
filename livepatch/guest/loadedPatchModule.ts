// A module the fixture lab loaded (a patch module or an ordinary one): what the host keeps of it
// between modprobe and rmmod, and what it reads from its relocated image.
import type { ElfFile } from '../../elf/elfFile';
import type { Kallsyms } from '../module/kallsyms';
import type { LoadedModule } from '../module/moduleLoader';
import type { ModuleParam } from '../module/moduleParams';

/** enum module_state (include/linux/module.h). */
export const MODULE_STATE_LIVE = 0;
export const MODULE_STATE_COMING = 1;
export const MODULE_STATE_GOING = 2;
export const MODULE_STATE_UNFORMED = 3;

export interface LoadedPatchModule {
  name: string;
  module: LoadedModule;
  /** Address of its struct module (THIS_MODULE). */
  structModule: number;
  /** mod->state (MODULE_STATE_*), mirrored in the guest's struct module. */
  state?: number;
  /** mod->klp_alive: between klp_module_coming and klp_module_going. */
  klpAlive?: boolean;
  /** module_param()s, for modprobe's arguments and /sys/module/<mod>/parameters. */
  params?: ModuleParam[];
  /** Its fentry sites (__mcount_loc), redirectable while it is loaded. */
  mcount?: number[];
  /** Its own symbols, for klp_find_object_symbol on objects that name it. */
  kallsyms?: Kallsyms;
  /** MODULE_INFO(livepatch, "Y"). */
  livepatch?: boolean;
  /** The module memory it holds (its struct module, its image), given back by rmmod. */
  areas?: Array<{ at: number; size: number }>;
}

const PAGE = 4096;

/** A module's fentry sites: its __mcount_loc entries, relocated (absolute addresses). */
export function relocatedMcount(module: LoadedModule): number[] {
  const section = module.sections.find((sec) => sec.name === '__mcount_loc');
  if (!section) return [];
  const v = new DataView(module.image.buffer, module.image.byteOffset, module.image.byteLength);
  const out: number[] = [];
  const start = section.address - module.base;
  for (let at = start; at + 8 <= start + section.size; at += 8) out.push(v.getInt32(at + 4, true) * 0x1_0000_0000 + v.getUint32(at, true));
  return out;
}

/** Upper bound of a module image: its allocated sections, each group page-aligned. */
export function estimateImageSize(obj: ElfFile): number {
  let total = 3 * PAGE;
  for (const s of obj.sections) if (s.flags & 2 /* SHF_ALLOC */) total += s.size + Math.max(1, s.addralign);
  return total;
}

/**
 * kallsyms_lookup_size_offset(addr)'s size for a symbol's start in a module: the distance to the
 * next symbol, padding included (kernel/module/kallsyms.c find_kallsyms_symbol), not the ELF
 * st_size. Undefined when addr starts no symbol of the module's text.
 */
export function moduleKallsymsSize(addr: number, module: LoadedPatchModule): number | undefined {
  const text = module.module.groups.text;
  const textEnd = module.module.base + text.end;
  let next = textEnd;
  let found = false;
  for (const sym of module.module.symbols.values()) {
    if (sym.address === addr) found = true;
    else if (sym.address > addr && sym.address < next) next = sym.address;
  }
  return found && addr < textEnd ? next - addr : undefined;
}
