// A patch module's ORC tables joining the kernel image: a fixture patch module, built with ORC by
// klp-lab's objtool (`--orc --module`, fixtures/livepatch/Makefile), placed and relocated by the module loader, and read back
// the way unwind_module_init() finds the tables in the module's memory. The ORC lookup then
// answers for module text after the core kernel (orc_module_find); a module without tables leaves
// its ips without an entry (the ORC unwinder's frame-pointer guess, orc-no-entry).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ElfFile } from '../../../elf/elfFile';
import { ORC_REG_SP, UNWIND_HINT_TYPE_CALL } from '../../../objtool/orc/orcTypes';
import { Kallsyms } from '../../../livepatch/module/kallsyms';
import { loadModule } from '../../../livepatch/module/moduleLoader';
import { imageModuleOf, moduleOrcTable } from '../../../livepatch/observe/moduleOrc';
import { KernelImage } from '../../../livepatch/unwind/kernelImage';
import { FIXTURES } from '../../helpers/fixtures';
import { withoutOrc } from '../module/moduleOrcFixtures';

const BASE = -0x60000000; // 0xffffffffa0000000, where Linux x86-64 puts modules
const kernelElf = ElfFile.read(path.join(FIXTURES, 'kernel', 'kernel-nofp.elf'));
const kallsyms = new Kallsyms(kernelElf);

function load(file: string) {
  return loadModule(ElfFile.read(file), 'klp_nap', BASE, { kallsyms, extra: new Map([['__this_module', BASE - 0x1000]]) });
}

test('a module with ORC: every function starts with the call-entry state, found in the module\'s own table', () => {
  const module = load(path.join(FIXTURES, 'livepatch', 'klp_nap.o'));
  const table = moduleOrcTable(module);
  expect(table).not.toBeNull();
  expect(table!.init).toBe(true);

  const image = KernelImage.fromElf(kernelElf);
  const m = imageModuleOf(module);
  image.addModule(m);
  const functions = m.symbols.filter((s) => module.symbols.get(s.name)!.type === 2 /* STT_FUNC */);
  expect(functions.length).toBeGreaterThan(0);
  for (const f of functions) {
    const e = image.orc!.find(f.addr);
    expect(image.orc!.hit).toBe(m.orc);
    expect(e).toBeGreaterThanOrEqual(0);
    // objtool's entry state of every function: CFA = sp + 8, a call frame
    expect([table!.spReg[e], table!.spOffset[e], table!.type[e]]).toEqual([ORC_REG_SP, 8, UNWIND_HINT_TYPE_CALL]);
    expect(image.text.contains(f.addr)).toBe(true);
    // %pS names the function (or an alias at its address: init_module is livepatch_init)
    const named = /^(\w+)\+0x1\/0x[0-9a-f]+ \[klp_nap\]$/.exec(image.kallsyms.symbol(f.addr + 1));
    expect(m.symbols.filter((s) => s.addr === f.addr).map((s) => s.name)).toContain(named?.[1]);
  }
  // Unloaded, its ips belong to nothing again.
  image.removeModule('klp_nap');
  expect(image.orc!.find(functions[0].addr)).toBe(-1);
  expect(image.text.contains(functions[0].addr)).toBe(false);
});

test('a module built without ORC has no table: its ips have no entry', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-module-no-orc-'));
  try {
    const obj = path.join(dir, 'klp_nap.o');
    withoutOrc(path.join(FIXTURES, 'livepatch', 'klp_nap.o'), obj);
    const module = load(obj);
    expect(moduleOrcTable(module)).toBeNull();
    const image = KernelImage.fromElf(kernelElf);
    const m = imageModuleOf(module);
    image.addModule(m);
    expect(image.text.contains(m.symbols[0].addr)).toBe(true);
    expect(image.orc!.find(m.symbols[0].addr)).toBe(-1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
