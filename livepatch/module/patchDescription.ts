// Reads a patch module's struct klp_patch (with its objects, funcs, callbacks and states) from
// guest memory, as klp_enable_patch receives it. The structure layout is the kernel's layout
// description (emulator/kernel/klpLayout.ts: the fixture kernel's exported KLP_* offsets, or real
// Linux's BTF), so nothing here hard-codes the guest's ABI, and each field is read at its width.
import type { Field, KernelLayout } from '../../emulator/kernel/kernelLayout';
import { type KlpLayout, missingFixtureKlpSymbols } from '../../emulator/kernel/klpLayout';

export type { KlpLayout };

export interface GuestMemoryReader {
  /** `len` bytes at a guest virtual address, or null when some of it is not mapped. */
  read(address: number, len: number): Uint8Array | null;
}

/**
 * The kernel's livepatch layout, or a PatchDescriptionError saying why the image has none (for the
 * fixture kernel: the exported KLP_* symbols it lacks).
 */
export function klpLayoutOf(layout: KernelLayout | null, symbols: ReadonlyMap<string, number>): KlpLayout {
  if (layout?.klp) return layout.klp;
  if (layout?.source === 'btf-kallsyms') throw new PatchDescriptionError('the kernel\'s BTF does not describe struct klp_patch (a kernel without CONFIG_LIVEPATCH)');
  throw new PatchDescriptionError(`kernel image does not export the livepatch layout (missing ${missingFixtureKlpSymbols(symbols).join(', ')})`);
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

  /** An integer or pointer field at its width (bool, int, long, pointer). */
  field(base: number, f: Field, what: string): number {
    switch (f.size) {
      case 1: return this.bytes(base + f.offset, 1, what)[0];
      case 2: { const b = this.bytes(base + f.offset, 2, what); return b[0] | (b[1] << 8); }
      case 4: return this.u32(base + f.offset, what);
      case 8: return this.u64(base + f.offset, what);
      default: throw new PatchDescriptionError(`${what} has a width of ${f.size} bytes`);
    }
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
  const mod = r.field(patchAddress, L.patch.mod, 'klp_patch.mod');
  const objs = r.field(patchAddress, L.patch.objs, 'klp_patch.objs');
  const statesAt = r.field(patchAddress, L.patch.states, 'klp_patch.states');
  if (!mod || !objs) throw new PatchDescriptionError('klp_patch has no mod or no objs');
  const desc: PatchDescription = {
    name: r.string(mod + L.module.name.offset, L.module.name.size, 'module name'),
    objects: [],
    states: [],
    replace: r.field(patchAddress, L.patch.replace, 'klp_patch.replace') !== 0,
    immediate: L.patch.immediate !== null && r.field(patchAddress, L.patch.immediate, 'klp_patch.immediate') !== 0,
  };
  for (let i = 0; ; i++) {
    if (i === MAX_ENTRIES) throw new PatchDescriptionError('klp_patch.objs has no terminating entry');
    const at = objs + i * L.object.size;
    const namePtr = r.field(at, L.object.name, 'klp_object.name');
    const funcs = r.field(at, L.object.funcs, 'klp_object.funcs');
    if (!namePtr && !funcs) break;
    const cb = at + L.object.callbacks.offset;
    const obj: ObjectDescription = {
      name: namePtr ? r.string(namePtr, 56, 'klp_object.name') : null,
      funcs: [],
      callbacks: {
        prePatch: r.field(cb, L.callbacks.prePatch, 'pre_patch'),
        postPatch: r.field(cb, L.callbacks.postPatch, 'post_patch'),
        preUnpatch: r.field(cb, L.callbacks.preUnpatch, 'pre_unpatch'),
        postUnpatch: r.field(cb, L.callbacks.postUnpatch, 'post_unpatch'),
      },
      address: at,
      funcsAddress: funcs,
    };
    for (let j = 0; funcs; j++) {
      if (j === MAX_ENTRIES) throw new PatchDescriptionError('klp_object.funcs has no terminating entry');
      const f = funcs + j * L.func.size;
      const oldName = r.field(f, L.func.oldName, 'klp_func.old_name');
      const newFunc = r.field(f, L.func.newFunc, 'klp_func.new_func');
      const sympos = r.field(f, L.func.oldSympos, 'klp_func.old_sympos');
      if (!oldName && !newFunc && !sympos) break;
      obj.funcs.push({
        oldName: oldName ? r.string(oldName, KSYM_NAME_LEN, 'klp_func.old_name') : '',
        newFunc,
        oldSympos: sympos,
        immediate: L.func.immediate !== null && r.field(f, L.func.immediate, 'klp_func.immediate') !== 0,
      });
    }
    desc.objects.push(obj);
  }
  for (let i = 0; statesAt; i++) {
    if (i === MAX_ENTRIES) throw new PatchDescriptionError('klp_patch.states has no terminating entry');
    const at = statesAt + i * L.state.size;
    const id = r.field(at, L.state.id, 'klp_state.id');
    if (!id) break;
    desc.states.push({ id, version: r.field(at, L.state.version, 'klp_state.version'), data: r.field(at, L.state.data, 'klp_state.data'), address: at });
  }
  return desc;
}
