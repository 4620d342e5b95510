// Real Linux's livepatch structures (emulator/kernel/klpLayout.ts, read from the image's BTF) against
// facts that do not come from BTF: the members of struct klp_func, klp_callbacks, klp_object,
// klp_state and klp_patch in the order Linux 6.1's include/linux/livepatch.h declares them, laid out
// by the x86-64 psABI (each member at the next multiple of its alignment; bool 1, unsigned int 4,
// pointers and unsigned long 8, the kernel's own structs 8-aligned). Only the sizes of the embedded
// kernel structs (kobject, list_head, work_struct, completion) are taken from BTF.
import { Btf } from '../../elf/btf';
import { ElfFile } from '../../elf/elfFile';
import type { Field } from '../../emulator/kernel/kernelLayout';
import { kernelLayoutOf } from '../../emulator/kernel/layoutOf';
import { type GuestMemoryReader, klpLayoutOf, readPatchDescription } from '../../livepatch/module/patchDescription';
import { realLinux } from '../helpers/realLinux';

jest.setTimeout(120_000);

type Member = [name: string, type: 'bool' | 'uint' | 'ptr' | 'ulong' | `struct ${string}`];

/** Linux 6.1 include/linux/livepatch.h, member by member (function pointers are pointers). */
const LIVEPATCH_H_61: Record<string, Member[]> = {
  klp_func: [['old_name', 'ptr'], ['new_func', 'ptr'], ['old_sympos', 'ulong'], ['old_func', 'ptr'], ['kobj', 'struct kobject'],
    ['node', 'struct list_head'], ['stack_node', 'struct list_head'], ['old_size', 'ulong'], ['new_size', 'ulong'],
    ['nop', 'bool'], ['patched', 'bool'], ['transition', 'bool']],
  klp_callbacks: [['pre_patch', 'ptr'], ['post_patch', 'ptr'], ['pre_unpatch', 'ptr'], ['post_unpatch', 'ptr'], ['post_unpatch_enabled', 'bool']],
  klp_object: [['name', 'ptr'], ['funcs', 'ptr'], ['callbacks', 'struct klp_callbacks'], ['kobj', 'struct kobject'],
    ['func_list', 'struct list_head'], ['node', 'struct list_head'], ['mod', 'ptr'], ['dynamic', 'bool'], ['patched', 'bool']],
  klp_state: [['id', 'ulong'], ['version', 'uint'], ['data', 'ptr']],
  klp_patch: [['mod', 'ptr'], ['objs', 'ptr'], ['states', 'ptr'], ['replace', 'bool'], ['list', 'struct list_head'],
    ['kobj', 'struct kobject'], ['obj_list', 'struct list_head'], ['enabled', 'bool'], ['forced', 'bool'],
    ['free_work', 'struct work_struct'], ['finish', 'struct completion']],
};

/** Offsets and widths of a struct's members, and its size, laid out as the psABI does. */
function layOut(members: Member[], structSize: (name: string) => number): { fields: Map<string, Field>; size: number } {
  const fields = new Map<string, Field>();
  let at = 0;
  for (const [name, type] of members) {
    const [size, align] = type === 'bool' ? [1, 1] : type === 'uint' ? [4, 4] : type === 'ptr' || type === 'ulong' ? [8, 8] : [structSize(type.slice(7)), 8];
    at = Math.ceil(at / align) * align;
    fields.set(name, { offset: at, size });
    at += size;
  }
  return { fields, size: Math.ceil(at / 8) * 8 };
}

test('klp_* offsets and widths from BTF are those of 6.1\'s livepatch.h under the psABI', () => {
  const elf = ElfFile.read(realLinux().vmlinux);
  const layout = kernelLayoutOf(elf)!;
  expect(layout.source).toBe('btf-kallsyms');
  const L = klpLayoutOf(layout, new Map());
  const btf = Btf.parse(elf.section('.BTF')!.data, elf.name);
  const structSize = (name: string): number => name === 'klp_callbacks' ? expected.klp_callbacks.size : btf.struct(name)!.size;
  const expected: Record<string, { fields: Map<string, Field>; size: number }> = {};
  for (const s of ['klp_callbacks', 'klp_func', 'klp_object', 'klp_state', 'klp_patch']) expected[s] = layOut(LIVEPATCH_H_61[s], structSize);
  const at = (s: string, m: string): Field => expected[s].fields.get(m)!;

  expect(L.func).toEqual({ size: expected.klp_func.size, oldName: at('klp_func', 'old_name'), newFunc: at('klp_func', 'new_func'), oldSympos: at('klp_func', 'old_sympos'), immediate: null });
  expect(L.object).toEqual({ size: expected.klp_object.size, name: at('klp_object', 'name'), funcs: at('klp_object', 'funcs'), callbacks: at('klp_object', 'callbacks') });
  expect(L.callbacks).toEqual({
    prePatch: at('klp_callbacks', 'pre_patch'), postPatch: at('klp_callbacks', 'post_patch'),
    preUnpatch: at('klp_callbacks', 'pre_unpatch'), postUnpatch: at('klp_callbacks', 'post_unpatch'),
  });
  expect(L.state).toEqual({ size: expected.klp_state.size, id: at('klp_state', 'id'), version: at('klp_state', 'version'), data: at('klp_state', 'data') });
  // bool replace is one byte (the fixture's is an int); no immediate since 4.16
  expect(L.patch).toEqual({ mod: at('klp_patch', 'mod'), objs: at('klp_patch', 'objs'), states: at('klp_patch', 'states'), replace: at('klp_patch', 'replace'), immediate: null });
  expect(L.patch.replace).toEqual({ offset: 24, size: 1 });
  // include/linux/module.h: enum module_state state; struct list_head list; char name[MODULE_NAME_LEN],
  // MODULE_NAME_LEN = 64 - sizeof(unsigned long)
  expect(L.module.name).toEqual({ offset: 4 + 4 + 16, size: 56 });
});

test('a klp_patch laid out as 6.1 lays it out reads back: bool replace is one byte, padding ignored', () => {
  const elf = ElfFile.read(realLinux().vmlinux);
  const L = klpLayoutOf(kernelLayoutOf(elf), new Map());
  // guest memory at 0x1000..: a module, a klp_patch, two klp_objects (the last all zero), two klp_funcs, strings
  const base = 0x1000, mem = new Uint8Array(0x1000);
  const view = new DataView(mem.buffer);
  const put = (at: number, f: Field, v: number) => {
    if (f.size === 8) view.setBigUint64(at - base + f.offset, BigInt(v), true);
    else if (f.size === 4) view.setUint32(at - base + f.offset, v, true);
    else mem[at - base + f.offset] = v;
  };
  const module = 0x1000, patch = 0x1100, objs = 0x1200, funcs = 0x1600, strings = 0x1a00;
  mem.set(Buffer.from('klp_lab_test\0'), module - base + L.module.name.offset);
  mem.set(Buffer.from('cmdline_proc_show\0'), strings - base);
  put(patch, L.patch.mod, module);
  put(patch, L.patch.objs, objs);
  put(patch, L.patch.replace, 0);
  mem[patch - base + L.patch.replace.offset + 1] = 0xff; // padding after the bool
  put(objs, L.object.funcs, funcs);
  put(funcs, L.func.oldName, strings);
  put(funcs, L.func.newFunc, 0xffffffffc0001000);
  put(funcs, L.func.oldSympos, 0);
  mem[funcs - base + L.func.size - 1] = 0xff; // klp_func's internal bools, not part of the description
  const reader: GuestMemoryReader = { read: (a, n) => (a >= base && a + n <= base + mem.length ? mem.slice(a - base, a - base + n) : null) };
  const d = readPatchDescription(reader, patch, L);
  expect(d).toMatchObject({ name: 'klp_lab_test', replace: false, immediate: false, states: [] });
  expect(d.objects.map((o) => [o.name, o.funcs.map((f) => [f.oldName, f.oldSympos, f.immediate])])).toEqual([[null, [['cmdline_proc_show', 0, false]]]]);
  put(patch, L.patch.replace, 1);
  expect(readPatchDescription(reader, patch, L).replace).toBe(true);
});
