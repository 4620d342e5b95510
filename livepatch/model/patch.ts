// The patch description: klp_patch, klp_object, klp_func (include/linux/livepatch.h), as the
// host mirrors them. Addresses are guest kernel virtual addresses as numbers.

import type { PatchState } from '../patchState';

export interface KlpCallbacks {
  /** Returns 0 or a negative errno; non-zero stops the patching of that object. */
  prePatch?: (obj: KlpObject) => number;
  postPatch?: (obj: KlpObject) => void;
  preUnpatch?: (obj: KlpObject) => void;
  postUnpatch?: (obj: KlpObject) => void;
}

export class KlpFunc {
  /** Resolved by the loader (kallsyms lookup of oldName, oldSympos). */
  oldFunc = 0;
  oldSize = 0;
  newSize = 0;
  /** An atomic-replace placeholder: keep the original code. */
  nop = false;
  patched = false;
  transition = false;
  /** 4.12 klp_func.immediate: never stack-checked. */
  immediate = false;

  constructor(
    readonly object: KlpObject,
    readonly oldName: string,
    /** Address of the replacement; for a nop, the original function itself. */
    public newFunc: number,
    readonly oldSympos = 0,
  ) {}
}

export class KlpObject {
  readonly funcs: KlpFunc[] = [];
  patched = false;
  /** Added by atomic replace for an object only older patches touched. */
  dynamic = false;
  /** Records that pre_patch succeeded, so post_unpatch runs (klp_callbacks.post_unpatch_enabled). */
  postUnpatchEnabled = false;

  constructor(
    readonly patch: KlpPatch,
    /** null for vmlinux, else a module name. */
    readonly name: string | null,
    readonly callbacks: KlpCallbacks = {},
  ) {}

  get displayName(): string {
    return this.name ?? 'vmlinux';
  }

  addFunc(oldName: string, newFunc: number, oldSympos = 0): KlpFunc {
    const f = new KlpFunc(this, oldName, newFunc, oldSympos);
    this.funcs.push(f);
    return f;
  }
}

export interface KlpState {
  id: number;
  version: number;
  data?: unknown;
}

export class KlpPatch {
  readonly objects: KlpObject[] = [];
  enabled = false;
  forced = false;
  /** 4.12 klp_patch.immediate: no per-task consistency at all. */
  immediate = false;
  /** True once the patch has been freed (klp_free_patch_*): it is gone from the patch list. */
  freed = false;

  constructor(
    /** The module's name (patch->mod->name), used in every message. */
    readonly name: string,
    readonly replace = false,
    readonly states: KlpState[] = [],
  ) {}

  addObject(name: string | null, callbacks: KlpCallbacks = {}): KlpObject {
    const o = new KlpObject(this, name, callbacks);
    this.objects.push(o);
    return o;
  }

  *funcs(): Generator<KlpFunc> {
    for (const o of this.objects) yield* o.funcs;
  }
}

/** What the transition engine needs to know about a task's state in the guest. */
export interface TaskPatchView {
  patchState: PatchState;
  patchPending: boolean;
}
