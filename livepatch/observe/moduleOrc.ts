// A module klp-lab's own loader placed (livepatch/module/moduleLoader.ts: the fixture kernel's patch
// modules) as the kernel image takes it: its text, its symbols, and its ORC tables read from the
// relocated image the way unwind_module_init() finds them in the module's memory. A module built
// without ORC (no .orc_unwind_ip) has no table, and the ORC unwinder then guesses frame pointers
// there and calls the trace unreliable (orc-no-entry), as the kernel does.
import type { LoadedModule } from '../module/moduleLoader';
import type { ImageModule } from '../unwind/kernelImage';
import { OrcTable } from '../unwind/orcTable';

export function imageModuleOf(module: LoadedModule): ImageModule {
  const text = module.groups.text;
  const textStart = module.base + text.start;
  const textEnd = module.base + text.end;
  const symbols = [...module.symbols].map(([name, s]) => ({ name, addr: s.address })).filter((s) => s.addr >= textStart && s.addr < textEnd);
  return { name: module.name, textStart, textEnd, symbols, orc: moduleOrcTable(module) };
}

/** The module's ORC table from its placed, relocated .orc_unwind_ip and .orc_unwind, or null. */
export function moduleOrcTable(module: LoadedModule): OrcTable | null {
  const ip = module.sections.find((s) => s.name === '.orc_unwind_ip');
  const orc = module.sections.find((s) => s.name === '.orc_unwind');
  if (ip === undefined || orc === undefined) return null;
  const bytes = (s: { address: number; size: number }): Uint8Array => module.image.subarray(s.address - module.base, s.address - module.base + s.size);
  return OrcTable.fromMemory(bytes(ip), ip.address, bytes(orc));
}
