// Reads a patch module's struct klp_patch (with its objects, funcs, callbacks and states) from
// guest memory, as klp_enable_patch receives it. The structure layout comes from the kernel
// image's absolute KLP_* symbols (the asm-offsets trick; fixtures/include/livepatch.h asserts
// the same offsets at compile time), so nothing here hard-codes the guest's ABI.

export interface GuestMemoryReader {
  /** `len` bytes at a guest virtual address, or null when some of it is not mapped. */
  read(address: number, len: number): Uint8Array | null;
}

const LAYOUT_FIELDS = [
  'KLP_FUNC_old_name', 'KLP_FUNC_new_func', 'KLP_FUNC_old_sympos', 'KLP_FUNC_immediate', 'KLP_FUNC_size',
  'KLP_OBJECT_name', 'KLP_OBJECT_funcs', 'KLP_OBJECT_callbacks', 'KLP_OBJECT_size',
  'KLP_CALLBACKS_pre_patch', 'KLP_CALLBACKS_post_patch', 'KLP_CALLBACKS_pre_unpatch', 'KLP_CALLBACKS_post_unpatch',
  'KLP_STATE_id', 'KLP_STATE_version', 'KLP_STATE_data', 'KLP_STATE_size',
  'KLP_PATCH_mod', 'KLP_PATCH_objs', 'KLP_PATCH_states', 'KLP_PATCH_replace', 'KLP_PATCH_immediate',
  'MODULE_name', 'MODULE_size',
] as const;

export type KlpLayout = Record<(typeof LAYOUT_FIELDS)[number], number>;

/** The layout from the kernel's absolute symbols; names every one that is missing. */
export function klpLayoutFromSymbols(symbols: ReadonlyMap<string, number>): KlpLayout {
  const missing = LAYOUT_FIELDS.filter((f) => !symbols.has(f));
  if (missing.length) throw new PatchDescriptionError(`kernel image does not export the livepatch layout (missing ${missing.join(', ')})`);
  return Object.fromEntries(LAYOUT_FIELDS.map((f) => [f, symbols.get(f)!])) as KlpLayout;
}

export interface FuncDescription {
  oldName: string;
  newFunc: number;
  oldSympos: number;
  immediate: boolean;
}

export interface ObjectDescription {
  /** null for vmlinux. */
  name: string | null;
  funcs: FuncDescription[];
  /** Guest addresses of the callbacks (0 = none). */
  callbacks: CallbackAddresses;
  /** Guest address of the struct klp_object (callbacks receive it). */
  address: number;
  /** klp_object.funcs itself: 0 is a NULL array, which klp_enable_patch refuses. */
  funcsAddress: number;
}

export interface CallbackAddresses {
  prePatch: number;
  postPatch: number;
  preUnpatch: number;
  postUnpatch: number;
}

export interface PatchDescription {
  /** patch->mod->name. */
  name: string;
  objects: ObjectDescription[];
  /** `address`: where the struct klp_state is (klp_get_state returns it). */
  states: Array<{ id: number; version: number; data: number; address: number }>;
  replace: boolean;
  immediate: boolean;
}

/** A description that cannot be read: klp_enable_patch fails with -EINVAL. */
export class PatchDescriptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PatchDescriptionError';
  }
}

/** Arrays end at an all-zero entry; a bound keeps a corrupt one from running forever. */
const MAX_ENTRIES = 4096;
const KSYM_NAME_LEN = 512;

class Reader {
  constructor(private readonly mem: GuestMemoryReader) {}

  bytes(address: number, len: number, what: string): Uint8Array {
    const b = this.mem.read(address, len);
    if (!b) throw new PatchDescriptionError(`${what} at ${hexAddress(address)} is not mapped`);
    return b;
  }

  u64(address: number, what: string): number {
    const v = new DataView(this.bytes(address, 8, what).buffer);
    const lo = v.getUint32(0, true);
    const hi = v.getInt32(4, true);
    return hi * 0x1_0000_0000 + lo;
  }

  u32(address: number, what: string): number {
    return new DataView(this.bytes(address, 4, what).buffer).getUint32(0, true);
  }

  string(address: number, max: number, what: string): string {
    let out = '';
    for (let i = 0; i < max; i++) {
      const c = this.bytes(address + i, 1, what)[0];
      if (c === 0) return out;
      out += String.fromCharCode(c);
    }
    throw new PatchDescriptionError(`${what} at ${hexAddress(address)} is not terminated within ${max} bytes`);
  }
}

export function hexAddress(address: number): string {
  return '0x' + BigInt.asUintN(64, BigInt(address)).toString(16);
}

export function readPatchDescription(mem: GuestMemoryReader, patchAddress: number, L: KlpLayout): PatchDescription {
  const r = new Reader(mem);
  const mod = r.u64(patchAddress + L.KLP_PATCH_mod, 'klp_patch.mod');
  const objs = r.u64(patchAddress + L.KLP_PATCH_objs, 'klp_patch.objs');
  const statesAt = r.u64(patchAddress + L.KLP_PATCH_states, 'klp_patch.states');
  if (!mod || !objs) throw new PatchDescriptionError('klp_patch has no mod or no objs');
  const desc: PatchDescription = {
    name: r.string(mod + L.MODULE_name, L.MODULE_size - L.MODULE_name, 'module name'),
    objects: [],
    states: [],
    replace: r.u32(patchAddress + L.KLP_PATCH_replace, 'klp_patch.replace') !== 0,
    immediate: r.u32(patchAddress + L.KLP_PATCH_immediate, 'klp_patch.immediate') !== 0,
  };
  for (let i = 0; ; i++) {
    if (i === MAX_ENTRIES) throw new PatchDescriptionError('klp_patch.objs has no terminating entry');
    const at = objs + i * L.KLP_OBJECT_size;
    const namePtr = r.u64(at + L.KLP_OBJECT_name, 'klp_object.name');
    const funcs = r.u64(at + L.KLP_OBJECT_funcs, 'klp_object.funcs');
    if (!namePtr && !funcs) break;
    const cb = at + L.KLP_OBJECT_callbacks;
    const obj: ObjectDescription = {
      name: namePtr ? r.string(namePtr, 56, 'klp_object.name') : null,
      funcs: [],
      callbacks: {
        prePatch: r.u64(cb + L.KLP_CALLBACKS_pre_patch, 'pre_patch'),
        postPatch: r.u64(cb + L.KLP_CALLBACKS_post_patch, 'post_patch'),
        preUnpatch: r.u64(cb + L.KLP_CALLBACKS_pre_unpatch, 'pre_unpatch'),
        postUnpatch: r.u64(cb + L.KLP_CALLBACKS_post_unpatch, 'post_unpatch'),
      },
      address: at,
      funcsAddress: funcs,
    };
    for (let j = 0; funcs; j++) {
      if (j === MAX_ENTRIES) throw new PatchDescriptionError('klp_object.funcs has no terminating entry');
      const f = funcs + j * L.KLP_FUNC_size;
      const oldName = r.u64(f + L.KLP_FUNC_old_name, 'klp_func.old_name');
      const newFunc = r.u64(f + L.KLP_FUNC_new_func, 'klp_func.new_func');
      const sympos = r.u64(f + L.KLP_FUNC_old_sympos, 'klp_func.old_sympos');
      if (!oldName && !newFunc && !sympos) break;
      obj.funcs.push({
        oldName: oldName ? r.string(oldName, KSYM_NAME_LEN, 'klp_func.old_name') : '',
        newFunc,
        oldSympos: sympos,
        immediate: r.u32(f + L.KLP_FUNC_immediate, 'klp_func.immediate') !== 0,
      });
    }
    desc.objects.push(obj);
  }
  for (let i = 0; statesAt; i++) {
    if (i === MAX_ENTRIES) throw new PatchDescriptionError('klp_patch.states has no terminating entry');
    const at = statesAt + i * L.KLP_STATE_size;
    const id = r.u64(at + L.KLP_STATE_id, 'klp_state.id');
    if (!id) break;
    desc.states.push({ id, version: r.u32(at + L.KLP_STATE_version, 'klp_state.version'), data: r.u64(at + L.KLP_STATE_data, 'klp_state.data'), address: at });
  }
  return desc;
}
