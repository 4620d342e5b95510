// The livepatch core (kernel/livepatch/core.c): the list of patches, enabling and disabling
// them, the sysfs controls (enabled, transition, force, <object>/patched), atomic replace with
// nop functions, system-state compatibility and callbacks. Functions are resolved by the
// loader before a patch reaches enable(); this file starts where klp_enable_patch does.

import { kernelBehaviour, type KernelBehaviour, type KernelVersion } from '../kernelBehaviour';
import type { KernelPort, KlpTask } from '../kernelPort';
import { KlpLog, type LogOptions } from '../klpLog';
import { KlpPatch, type KlpFunc, type KlpObject } from '../model/patch';
import { EBUSY, EINVAL, KLP_PATCHED, KLP_UNPATCHED, type PatchState } from '../patchState';
import { KlpOpsTable, type FentryControl } from '../redirect/klpOps';
import { KlpTransition, type TransitionOwner } from '../transition/transition';

export interface KlpCoreOptions {
  kernel?: KernelVersion;
  log?: Partial<LogOptions>;
  /** Whether an object (null = vmlinux, else a module name) is loaded. */
  isObjectLoaded?: (name: string | null) => boolean;
  /**
   * klp_init_object_loaded for a module object whose module arrives (klp_module_coming):
   * find its functions in the module and set obj->mod. 0 or -errno.
   */
  initObjectLoaded?: (obj: KlpObject) => number;
  /** klp_free_object_loaded: the module goes; obj->mod = NULL, the functions forgotten. */
  freeObjectLoaded?: (obj: KlpObject) => void;
}

export class KlpCore implements TransitionOwner {
  /** klp_patches, oldest first. */
  readonly patches: KlpPatch[] = [];
  readonly behaviour: KernelBehaviour;
  readonly log: KlpLog;
  readonly ops: KlpOpsTable;
  readonly transition: KlpTransition;
  /** Patch modules whose reference livepatch still holds (try_module_get at enable). */
  private readonly moduleRefs = new Set<KlpPatch>();
  private readonly isObjectLoaded: (name: string | null) => boolean;
  private readonly options: KlpCoreOptions;

  constructor(private readonly port: KernelPort, fentry: FentryControl, options: KlpCoreOptions = {}) {
    this.options = options;
    this.behaviour = kernelBehaviour(options.kernel ?? '6.1');
    this.log = new KlpLog(() => port.now(), options.log);
    this.ops = new KlpOpsTable(fentry, (text, level) => this.log.klp(level, text));
    this.transition = new KlpTransition(port, this.ops, this.log, this.behaviour, this);
    this.isObjectLoaded = options.isObjectLoaded ?? ((name) => name === null);
  }

  // ---- enabling ----------------------------------------------------------------------------

  /**
   * klp_enable_patch: registers the patch and starts its patching transition. 0 or -errno.
   * `funcsGiven` tells whether every object has a funcs array (the kernel rejects a NULL one;
   * an empty array, as the callback test modules have, is fine); without it an object with no
   * functions is taken for a NULL array.
   */
  enable(patch: KlpPatch, funcsGiven = false): number {
    if (patch.objects.length === 0 || (!funcsGiven && patch.objects.some((o) => o.funcs.length === 0))) return -EINVAL;
    if (!this.port.haveReliableStack()) {
      if (this.behaviour.version === '4.12') {
        if (!patch.immediate) {
          this.log.klp('err', "This architecture doesn't have support for the livepatch consistency model.");
          return -38; // -ENOSYS
        }
      } else {
        this.log.klp('warn', "This architecture doesn't have support for the livepatch consistency model.");
        this.log.klp('warn', 'The livepatch transition may never complete.');
      }
    }
    if (this.behaviour.version !== '4.12' && !this.isPatchCompatible(patch)) {
      this.log.klp('err', `Livepatch patch (${patch.name}) is not compatible with the already installed livepatches.`);
      return -EINVAL;
    }
    if (patch.replace) this.addNops(patch);
    this.patches.push(patch);
    const err = this.behaviour.version === '4.12' ? this.enable412(patch) : this.enable61(patch);
    if (err !== 0 && this.behaviour.version !== '4.12') this.freePatch(patch);
    return err;
  }

  /** __klp_enable_patch (6.1). */
  private enable61(patch: KlpPatch): number {
    if (this.transition.inProgress) return -EBUSY;
    if (patch.enabled) return -EINVAL;
    this.moduleRefs.add(patch);
    this.log.klp('notice', `enabling patch '${patch.name}'`);
    this.transition.init(patch, KLP_PATCHED);
    for (const obj of patch.objects) {
      if (!this.objectLoaded(obj)) continue;
      let err = this.prePatchCallback(obj);
      if (err) {
        this.log.klp('warn', `pre-patch callback failed for object '${obj.displayName}'`);
        return this.enableFailed(patch, err);
      }
      err = this.ops.patchObject(obj);
      if (err) {
        this.log.klp('warn', `failed to patch object '${obj.displayName}'`);
        return this.enableFailed(patch, err);
      }
    }
    this.transition.start();
    patch.enabled = true;
    this.transition.tryComplete();
    return 0;
  }

  private enableFailed(patch: KlpPatch, err: number): number {
    this.log.klp('warn', `failed to enable patch '${patch.name}'`);
    this.transition.cancel();
    return err;
  }

  /** __klp_enable_patch (4.12): stacking rules, no callbacks, enabled set after try-complete. */
  private enable412(patch: KlpPatch): number {
    if (this.transition.inProgress) return -EBUSY;
    if (patch.enabled) return -EINVAL;
    const at = this.patches.indexOf(patch);
    if (at > 0 && !this.patches[at - 1].enabled) return -EBUSY;
    this.moduleRefs.add(patch);
    this.log.klp('notice', `enabling patch '${patch.name}'`);
    this.transition.init(patch, KLP_PATCHED);
    for (const obj of patch.objects) {
      if (!this.objectLoaded(obj)) continue;
      const err = this.ops.patchObject(obj);
      if (err) {
        this.log.klp('warn', `failed to enable patch '${patch.name}'`);
        this.transition.cancel();
        return err;
      }
    }
    this.transition.start();
    this.transition.tryComplete();
    patch.enabled = true;
    return 0;
  }

  // ---- disabling and the sysfs controls ----------------------------------------------------

  /** __klp_disable_patch. */
  private disable(patch: KlpPatch): number {
    if (this.behaviour.version === '4.12') {
      if (this.transition.inProgress) return -EBUSY;
      const at = this.patches.indexOf(patch);
      if (at < this.patches.length - 1 && this.patches[at + 1].enabled) return -EBUSY;
      this.transition.init(patch, KLP_UNPATCHED);
      this.transition.start();
      this.transition.tryComplete();
      patch.enabled = false;
      return 0;
    }
    if (!patch.enabled) return -EINVAL;
    if (this.transition.inProgress) return -EBUSY;
    this.transition.init(patch, KLP_UNPATCHED);
    for (const obj of patch.objects) if (obj.patched) this.preUnpatchCallback(obj);
    this.transition.start();
    patch.enabled = false;
    this.transition.tryComplete();
    return 0;
  }

  /** Writing /sys/kernel/livepatch/<patch>/enabled. */
  writeEnabled(patch: KlpPatch, enabled: boolean): number {
    if (patch.freed) return -EINVAL;
    if (patch.enabled === enabled) return -EINVAL;
    if (patch === this.transition.patch) {
      this.transition.reverse();
      return 0;
    }
    if (!enabled) return this.disable(patch);
    if (this.behaviour.version === '4.12') return this.enable412(patch);
    return -EINVAL;
  }

  /** Writing /sys/kernel/livepatch/<patch>/force. */
  writeForce(patch: KlpPatch, value: boolean): number {
    if (!this.behaviour.force) return -EINVAL;
    if (!value) return 0;
    if (patch !== this.transition.patch) return -EINVAL;
    this.transition.force(this.patches);
    return 0;
  }

  /** /sys/kernel/livepatch/<patch>/transition. */
  readTransition(patch: KlpPatch): boolean {
    return this.transition.patch === patch;
  }

  /** /proc/<pid>/patch_state. */
  readPatchState(task: KlpTask): PatchState {
    return this.port.patchState(task);
  }

  /** Whether the patch module can be removed (rmmod): freed, and its reference dropped. */
  canRemoveModule(patch: KlpPatch): boolean {
    return !this.patches.includes(patch) && !this.moduleRefs.has(patch);
  }

  // ---- what the transition asks for (TransitionOwner) --------------------------------------

  runPostCallbacks(patch: KlpPatch, target: PatchState): void {
    for (const obj of patch.objects) {
      if (!this.objectLoaded(obj)) continue;
      if (target === KLP_PATCHED) this.postPatchCallback(obj);
      else this.postUnpatchCallback(obj);
    }
  }

  // ---- the module notifiers (klp_module_coming, klp_module_going) --------------------------

  /**
   * klp_module_coming: a module in MODULE_STATE_COMING; every patch with an object for it
   * applies that object (pre_patch, patch, post_patch unless it is the transition patch).
   * Returns 0, or the error that makes the module loader refuse the module.
   */
  moduleComing(name: string): number {
    if (this.behaviour.moduleNotifiersEnabledOnly) return this.moduleComing412(name);
    if (name === 'vmlinux') {
      this.log.klp('err', 'vmlinux.ko: invalid module name');
      return -EINVAL;
    }
    for (const patch of this.patches) {
      const obj = patch.objects.find((o) => o.name === name);
      if (!obj) continue;
      let err = this.options.initObjectLoaded ? this.options.initObjectLoaded(obj) : 0;
      if (err) {
        this.log.klp('warn', `failed to initialize patch '${patch.name}' for module '${name}' (${err})`);
        return this.moduleComingFailed(patch, name, err);
      }
      this.log.klp('notice', `applying patch '${patch.name}' to loading module '${name}'`);
      err = this.prePatchCallback(obj);
      if (err) {
        this.log.klp('warn', `pre-patch callback failed for object '${name}'`);
        return this.moduleComingFailed(patch, name, err);
      }
      err = this.ops.patchObject(obj);
      if (err) {
        this.log.klp('warn', `failed to apply patch '${patch.name}' to module '${name}' (${err})`);
        this.postUnpatchCallback(obj);
        return this.moduleComingFailed(patch, name, err);
      }
      if (patch !== this.transition.patch) this.postPatchCallback(obj);
    }
    return 0;
  }

  private moduleComingFailed(patch: KlpPatch, name: string, err: number): number {
    this.log.klp('warn', `patch '${patch.name}' failed for module '${name}', refusing to load module '${name}'`);
    const obj = patch.objects.find((o) => o.name === name);
    if (obj) this.options.freeObjectLoaded?.(obj);
    this.cleanupModulePatches(name, patch);
    return err;
  }

  /**
   * klp_module_coming as 4.12 has it: every patch's object for the module is initialised, but
   * only a patch that is enabled or in transition patches it; there are no callbacks.
   */
  private moduleComing412(name: string): number {
    for (const patch of this.patches) {
      const obj = patch.objects.find((o) => o.name === name);
      if (!obj) continue;
      let err = this.options.initObjectLoaded ? this.options.initObjectLoaded(obj) : 0;
      if (err) this.log.klp('warn', `failed to initialize patch '${patch.name}' for module '${name}' (${err})`);
      else if (patch.enabled || patch === this.transition.patch) {
        this.log.klp('notice', `applying patch '${patch.name}' to loading module '${name}'`);
        err = this.ops.patchObject(obj);
        if (err) this.log.klp('warn', `failed to apply patch '${patch.name}' to module '${name}' (${err})`);
      }
      if (err) {
        this.log.klp('warn', `patch '${patch.name}' failed for module '${name}', refusing to load module '${name}'`);
        this.options.freeObjectLoaded?.(obj);
        return err;
      }
    }
    return 0;
  }

  /** klp_module_going: a module in MODULE_STATE_GOING; its objects are reverted. */
  moduleGoing(name: string): void {
    if (!this.behaviour.moduleNotifiersEnabledOnly) {
      this.cleanupModulePatches(name, null);
      return;
    }
    // 4.12: only a patch that is enabled or in transition unpatches; every object is freed.
    for (const patch of this.patches) {
      const obj = patch.objects.find((o) => o.name === name);
      if (!obj) continue;
      if (patch.enabled || patch === this.transition.patch) {
        this.log.klp('notice', `reverting patch '${patch.name}' on unloading module '${name}'`);
        this.ops.unpatchObject(obj);
      }
      this.options.freeObjectLoaded?.(obj);
    }
  }

  /** klp_cleanup_module_patches_limited: every patch before `limit` reverts its object for `name`. */
  private cleanupModulePatches(name: string, limit: KlpPatch | null): void {
    for (const patch of this.patches) {
      if (patch === limit) break;
      const obj = patch.objects.find((o) => o.name === name);
      if (!obj) continue;
      if (patch !== this.transition.patch) this.preUnpatchCallback(obj);
      this.log.klp('notice', `reverting patch '${patch.name}' on unloading module '${name}'`);
      this.ops.unpatchObject(obj);
      this.postUnpatchCallback(obj);
      this.options.freeObjectLoaded?.(obj);
    }
  }

  /** klp_get_prev_state: the newest state `id` of the installed patches before the transition patch. */
  prevState(id: number): { patch: KlpPatch; index: number } | null {
    if (!this.transition.patch) return null; // WARN_ON_ONCE(!klp_transition_patch)
    let found: { patch: KlpPatch; index: number } | null = null;
    for (const patch of this.patches) {
      if (patch === this.transition.patch) break;
      const index = patch.states.findIndex((s) => s.id === id);
      if (index >= 0) found = { patch, index };
    }
    return found;
  }

  /** The reference count livepatch holds on a patch's module (try_module_get): 1 or 0. */
  moduleRefcount(patch: KlpPatch): number {
    return this.moduleRefs.has(patch) ? 1 : 0;
  }

  finishReplace(patch: KlpPatch): void {
    // klp_unpatch_replaced_patches
    for (const old of this.patches) {
      if (old === patch) continue;
      old.enabled = false;
      for (const obj of old.objects) this.ops.unpatchObject(obj);
    }
    // klp_discard_nops: the nops go back to the original code, then disappear.
    for (const obj of patch.objects) this.ops.unpatchObject(obj, true);
    for (const obj of patch.objects) {
      for (let i = obj.funcs.length - 1; i >= 0; i--) if (obj.funcs[i].nop) obj.funcs.splice(i, 1);
    }
    for (let i = patch.objects.length - 1; i >= 0; i--) if (patch.objects[i].dynamic) patch.objects.splice(i, 1);
  }

  afterComplete(patch: KlpPatch, wasEnabled: boolean): void {
    if (this.behaviour.version === '4.12') {
      // 4.12 drops the module reference when unpatching completes, unless anything was immediate.
      const immediate = patch.immediate || [...patch.funcs()].some((f) => f.immediate);
      if (!wasEnabled && !immediate) this.moduleRefs.delete(patch);
      return;
    }
    if (!wasEnabled) this.freePatch(patch);
    else if (patch.replace) for (const old of this.patches.filter((p) => p !== patch)) this.freePatch(old);
  }

  // ---- helpers -----------------------------------------------------------------------------

  private objectLoaded(obj: KlpObject): boolean {
    return this.isObjectLoaded(obj.name);
  }

  /** klp_pre_patch_callback. */
  private prePatchCallback(obj: KlpObject): number {
    const err = obj.callbacks.prePatch ? obj.callbacks.prePatch(obj) : 0;
    if (!err) obj.postUnpatchEnabled = true;
    return err;
  }

  /** klp_post_patch_callback. */
  private postPatchCallback(obj: KlpObject): void {
    obj.callbacks.postPatch?.(obj);
  }

  /** klp_pre_unpatch_callback. */
  private preUnpatchCallback(obj: KlpObject): void {
    obj.callbacks.preUnpatch?.(obj);
  }

  /** klp_post_unpatch_callback. */
  private postUnpatchCallback(obj: KlpObject): void {
    if (obj.postUnpatchEnabled) obj.callbacks.postUnpatch?.(obj);
    obj.postUnpatchEnabled = false;
  }

  /** klp_free_patch_*: off the list; the module reference goes unless the patch was forced. */
  private freePatch(patch: KlpPatch): void {
    const at = this.patches.indexOf(patch);
    if (at >= 0) this.patches.splice(at, 1);
    patch.freed = true;
    if (!patch.forced) this.moduleRefs.delete(patch);
  }

  /** klp_add_nops: a nop for every function an older patch changes and this one does not. */
  private addNops(patch: KlpPatch): void {
    for (const old of this.patches) {
      for (const oldObj of old.objects) {
        let obj = patch.objects.find((o) => o.name === oldObj.name);
        for (const oldFunc of oldObj.funcs) {
          if (obj?.funcs.some((f) => f.oldName === oldFunc.oldName && f.oldSympos === oldFunc.oldSympos)) continue;
          if (!obj) {
            obj = patch.addObject(oldObj.name);
            obj.dynamic = true;
          }
          const nop: KlpFunc = obj.addFunc(oldFunc.oldName, oldFunc.oldFunc, oldFunc.oldSympos);
          nop.nop = true;
          nop.oldFunc = oldFunc.oldFunc;
          nop.oldSize = oldFunc.oldSize;
          nop.newSize = oldFunc.oldSize;
        }
      }
    }
  }

  /** klp_is_patch_compatible (kernel/livepatch/state.c). */
  private isPatchCompatible(patch: KlpPatch): boolean {
    for (const old of this.patches) {
      for (const oldState of old.states) {
        const state = patch.states.find((s) => s.id === oldState.id);
        if (!state) {
          if (patch.replace) return false;
          continue;
        }
        if (state.version < oldState.version) return false;
      }
    }
    return true;
  }
}

