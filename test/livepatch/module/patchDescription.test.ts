// A patch module loaded and relocated, then its klp_patch read back from (fake) guest memory.

import * as path from 'path';
import { ElfFile } from '../../../elf/elfFile';
import { Kallsyms } from '../../../livepatch/module/kallsyms';
import { loadModule } from '../../../livepatch/module/moduleLoader';
import { fixtureKlpLayout } from '../../../emulator/kernel/klpLayout';
import { kernelLayoutOf } from '../../../emulator/kernel/layoutOf';
import {
  PatchDescriptionError, klpLayoutOf, readPatchDescription, type GuestMemoryReader,
} from '../../../livepatch/module/patchDescription';
import { FIXTURES } from '../../helpers/fixtures';

// The offsets fixtures/include/livepatch.h asserts at compile time.
const SYMBOLS = new Map(Object.entries({
  KLP_FUNC_old_name: 0, KLP_FUNC_new_func: 8, KLP_FUNC_old_sympos: 16, KLP_FUNC_immediate: 24, KLP_FUNC_size: 32,
  KLP_OBJECT_name: 0, KLP_OBJECT_funcs: 8, KLP_OBJECT_callbacks: 16, KLP_OBJECT_size: 56,
  KLP_CALLBACKS_pre_patch: 0, KLP_CALLBACKS_post_patch: 8, KLP_CALLBACKS_pre_unpatch: 16, KLP_CALLBACKS_post_unpatch: 24,
  KLP_STATE_id: 0, KLP_STATE_version: 8, KLP_STATE_data: 16, KLP_STATE_size: 24,
  KLP_PATCH_mod: 0, KLP_PATCH_objs: 8, KLP_PATCH_states: 16, KLP_PATCH_replace: 24, KLP_PATCH_immediate: 28,
  MODULE_name: 0, MODULE_size: 56,
}));
const LAYOUT = fixtureKlpLayout(SYMBOLS)!;

const BASE = -0x60000000;
const MODULE_STRUCT = -0x5ffff000 + 0x100000; // a struct module the loader places elsewhere

function loadSample() {
  const kallsyms = new Kallsyms(ElfFile.read(path.join(FIXTURES, 'elf', 'sample.elf')));
  const obj = ElfFile.read(path.join(FIXTURES, 'livepatch', 'livepatch-sample.o'));
  const extra = new Map([['__this_module', MODULE_STRUCT], ['__fentry__', BASE - 0x1000], ['klp_enable_patch', BASE - 0x2000]]);
  const loaded = loadModule(obj, 'livepatch_sample', BASE, { kallsyms, extra });
  const moduleStruct = new Uint8Array(56);
  moduleStruct.set(Buffer.from('livepatch_sample'));
  const mem: GuestMemoryReader = {
    read(address, len) {
      if (address >= BASE && address + len <= BASE + loaded.image.length) return loaded.image.slice(address - BASE, address - BASE + len);
      if (address >= MODULE_STRUCT && address + len <= MODULE_STRUCT + 56) return moduleStruct.slice(address - MODULE_STRUCT, address - MODULE_STRUCT + len);
      return null;
    },
  };
  // The patch is static: find it through the relocation of klp_enable_patch's argument is
  // what the guest does at run time; here the symbol table gives it directly.
  const patchSym = obj.symbols().find((s) => s.name === 'patch')!;
  const data = loaded.sections.find((s) => s.index === patchSym.shndx)!;
  return { loaded, mem, patchAddress: data.address + Number(patchSym.value) };
}

test('the description reads back as the C source wrote it', () => {
  const { loaded, mem, patchAddress } = loadSample();
  const d = readPatchDescription(mem, patchAddress, LAYOUT);
  expect(d.name).toBe('livepatch_sample');
  expect(d.replace).toBe(true);
  expect(d.immediate).toBe(false);
  expect(d.states).toEqual([{ id: 7, version: 2, data: 0, address: expect.any(Number) }]);
  expect(d.objects).toHaveLength(1);
  const [obj] = d.objects;
  expect(obj.name).toBeNull();
  expect(obj.funcs.map((f) => [f.oldName, f.oldSympos])).toEqual([['classify', 0], ['say_hello', 1]]);
  expect(obj.funcs[0].newFunc).toBe(loaded.symbols.get('livepatch_classify')!.address);
  expect(obj.callbacks.prePatch).toBe(loaded.symbols.get('pre_patch')!.address);
  expect(obj.callbacks.postPatch).toBe(0);
  expect(obj.callbacks.postUnpatch).toBe(loaded.symbols.get('post_unpatch')!.address);
});

test('an unmapped pointer is a description error, not a host crash', () => {
  const { mem, patchAddress } = loadSample();
  expect(() => readPatchDescription(mem, patchAddress + 0x100000, LAYOUT)).toThrow(PatchDescriptionError);
  expect(() => klpLayoutOf(null, new Map())).toThrow(/missing KLP_FUNC_old_name, KLP_FUNC_new_func/);
  expect(() => klpLayoutOf(null, new Map([...SYMBOLS].filter(([k]) => k !== 'KLP_STATE_size')))).toThrow(/\(missing KLP_STATE_size\)$/);
  expect(fixtureKlpLayout(new Map([...SYMBOLS].filter(([k]) => k !== 'KLP_PATCH_objs')))).toBeNull();
});

test('the fixture kernel\'s layout description carries the offsets its livepatch.h asserts, at their widths', () => {
  const layout = kernelLayoutOf(ElfFile.read(path.join(FIXTURES, 'kernel', 'kernel.elf')))!;
  expect(layout.source).toBe('fixture-exports');
  expect(layout.klp).toEqual(LAYOUT);
  expect(klpLayoutOf(layout, new Map())).toBe(layout.klp);
  // int replace, int immediate (4 bytes); pointers and longs 8
  expect([layout.klp!.patch.replace, layout.klp!.patch.immediate, layout.klp!.func.oldSympos]).toEqual([
    { offset: 24, size: 4 }, { offset: 28, size: 4 }, { offset: 16, size: 8 },
  ]);
  expect(layout.klp!.module.name).toEqual({ offset: 0, size: 56 });
});
