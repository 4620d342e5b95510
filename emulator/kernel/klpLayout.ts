// The layout of the structures a livepatch module hands to klp_enable_patch() (struct klp_patch,
// its klp_object and klp_func arrays, klp_callbacks, klp_state, and the module's name), as the
// host reads them from guest memory. Two sources, as for the task layout (kernelLayout.ts): the
// fixture kernel's exported KLP_* symbols (fixtures/kernel/asm-offsets.c; fixtures/include/
// livepatch.h asserts the same offsets at compile time), and real Linux's BTF.
import type { Btf } from '../../elf/btf';
import type { Field } from './field';

export interface KlpLayout {
  func: { size: number; oldName: Field; newFunc: Field; oldSympos: Field; immediate: Field | null };
  object: { size: number; name: Field; funcs: Field; callbacks: Field };
  callbacks: { prePatch: Field; postPatch: Field; preUnpatch: Field; postUnpatch: Field };
  state: { size: number; id: Field; version: Field; data: Field };
  /** `immediate`: Linux 4.12's field (gone in 4.16), which the fixture kernel keeps for its 4.12 model */
  patch: { mod: Field; objs: Field; states: Field; replace: Field; immediate: Field | null };
  /** struct module's name[MODULE_NAME_LEN] */
  module: { name: Field };
}

/** The fixture's symbols for KlpLayout, each with the width of its field in fixtures/include/livepatch.h. */
const FIXTURE_FIELDS: ReadonlyArray<readonly [string, number]> = [
  ['KLP_FUNC_old_name', 8], ['KLP_FUNC_new_func', 8], ['KLP_FUNC_old_sympos', 8], ['KLP_FUNC_immediate', 4], ['KLP_FUNC_size', 0],
  ['KLP_OBJECT_name', 8], ['KLP_OBJECT_funcs', 8], ['KLP_OBJECT_callbacks', 32], ['KLP_OBJECT_size', 0],
  ['KLP_CALLBACKS_pre_patch', 8], ['KLP_CALLBACKS_post_patch', 8], ['KLP_CALLBACKS_pre_unpatch', 8], ['KLP_CALLBACKS_post_unpatch', 8],
  ['KLP_STATE_id', 8], ['KLP_STATE_version', 4], ['KLP_STATE_data', 8], ['KLP_STATE_size', 0],
  ['KLP_PATCH_mod', 8], ['KLP_PATCH_objs', 8], ['KLP_PATCH_states', 8], ['KLP_PATCH_replace', 4], ['KLP_PATCH_immediate', 4],
  ['MODULE_name', 0], ['MODULE_size', 0],
];

/** The KLP_* (and MODULE_*) symbols a fixture image lacks for KlpLayout, in a fixed order. */
export function missingFixtureKlpSymbols(symbols: ReadonlyMap<string, number>): string[] {
  return FIXTURE_FIELDS.map(([name]) => name).filter((name) => !symbols.has(name));
}

/** The layout from the fixture kernel's exported offsets, or null when one is missing. */
export function fixtureKlpLayout(symbols: ReadonlyMap<string, number>): KlpLayout | null {
  if (missingFixtureKlpSymbols(symbols).length > 0) return null;
  const width = new Map(FIXTURE_FIELDS);
  const f = (name: string): Field => ({ offset: symbols.get(name)!, size: width.get(name)! });
  const n = (name: string): number => symbols.get(name)!;
  return {
    func: { size: n('KLP_FUNC_size'), oldName: f('KLP_FUNC_old_name'), newFunc: f('KLP_FUNC_new_func'), oldSympos: f('KLP_FUNC_old_sympos'), immediate: f('KLP_FUNC_immediate') },
    object: { size: n('KLP_OBJECT_size'), name: f('KLP_OBJECT_name'), funcs: f('KLP_OBJECT_funcs'), callbacks: f('KLP_OBJECT_callbacks') },
    callbacks: {
      prePatch: f('KLP_CALLBACKS_pre_patch'), postPatch: f('KLP_CALLBACKS_post_patch'),
      preUnpatch: f('KLP_CALLBACKS_pre_unpatch'), postUnpatch: f('KLP_CALLBACKS_post_unpatch'),
    },
    state: { size: n('KLP_STATE_size'), id: f('KLP_STATE_id'), version: f('KLP_STATE_version'), data: f('KLP_STATE_data') },
    patch: { mod: f('KLP_PATCH_mod'), objs: f('KLP_PATCH_objs'), states: f('KLP_PATCH_states'), replace: f('KLP_PATCH_replace'), immediate: f('KLP_PATCH_immediate') },
    // char name[]: from its offset to the end of the struct (the fixture's struct module ends with an int state)
    module: { name: { offset: n('MODULE_name'), size: symbols.has('MODULE_state') ? n('MODULE_state') - n('MODULE_name') : n('MODULE_size') - n('MODULE_name') } },
  };
}

/**
 * The layout from a Linux image's BTF (include/linux/livepatch.h of its version), or null when the
 * kernel has no livepatch (no struct klp_patch: CONFIG_LIVEPATCH off). `field` reads a member's
 * offset and width (linuxLayout.ts btfField).
 */
export function btfKlpLayout(btf: Btf, field: (struct: string, path: string) => Field): KlpLayout | null {
  const names = ['klp_func', 'klp_object', 'klp_callbacks', 'klp_state', 'klp_patch', 'module'];
  if (names.some((s) => btf.struct(s) === undefined)) return null;
  const size = (s: string): number => btf.struct(s)!.size;
  const has = (s: string, m: string): boolean => btf.struct(s)!.members.some((x) => x.name === m);
  return {
    func: {
      size: size('klp_func'), oldName: field('klp_func', 'old_name'), newFunc: field('klp_func', 'new_func'),
      oldSympos: field('klp_func', 'old_sympos'), immediate: has('klp_func', 'immediate') ? field('klp_func', 'immediate') : null,
    },
    object: { size: size('klp_object'), name: field('klp_object', 'name'), funcs: field('klp_object', 'funcs'), callbacks: field('klp_object', 'callbacks') },
    callbacks: {
      prePatch: field('klp_callbacks', 'pre_patch'), postPatch: field('klp_callbacks', 'post_patch'),
      preUnpatch: field('klp_callbacks', 'pre_unpatch'), postUnpatch: field('klp_callbacks', 'post_unpatch'),
    },
    state: { size: size('klp_state'), id: field('klp_state', 'id'), version: field('klp_state', 'version'), data: field('klp_state', 'data') },
    patch: {
      mod: field('klp_patch', 'mod'), objs: field('klp_patch', 'objs'), states: field('klp_patch', 'states'),
      replace: field('klp_patch', 'replace'), immediate: has('klp_patch', 'immediate') ? field('klp_patch', 'immediate') : null,
    },
    module: { name: field('module', 'name') },
  };
}
