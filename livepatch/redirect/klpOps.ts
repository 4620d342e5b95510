// One klp_ops per patched original function: its func_stack, newest patch first
// (kernel/livepatch/patch.c). The first func registered for an original function installs the
// fentry redirection; the last one removed takes it away.

import type { KlpFunc, KlpObject } from '../model/patch';
import { EINVAL } from '../patchState';

export class KlpOps {
  /** Newest first: funcStack[0] is what the ftrace handler looks at. */
  readonly funcStack: KlpFunc[] = [];
  constructor(readonly oldFunc: number) {}
}

/** How redirection is installed at an original function's fentry site (ftrace in the kernel). */
export interface FentryControl {
  /** ftrace_location(): whether the function starts with a traceable fentry call site. */
  hasLocation?(oldFunc: number): boolean;
  /** Returns 0, or a negative errno (the kernel's "failed to register ftrace handler" case). */
  register(ops: KlpOps): number;
  unregister(ops: KlpOps): void;
}

export class KlpOpsTable {
  private readonly byOldFunc = new Map<number, KlpOps>();

  constructor(private readonly fentry: FentryControl, private readonly log: (text: string, level: 'err') => void) {}

  find(oldFunc: number): KlpOps | undefined {
    return this.byOldFunc.get(oldFunc);
  }

  all(): IterableIterator<KlpOps> {
    return this.byOldFunc.values();
  }

  /** klp_patch_func. */
  patchFunc(func: KlpFunc): number {
    if (func.patched) throw new Error(`internal: ${func.oldName} is already patched`);
    let ops = this.byOldFunc.get(func.oldFunc);
    if (!ops) {
      if (this.fentry.hasLocation && !this.fentry.hasLocation(func.oldFunc)) {
        this.log(`failed to find location for function '${func.oldName}'`, 'err');
        return -EINVAL;
      }
      ops = new KlpOps(func.oldFunc);
      const err = this.fentry.register(ops);
      if (err !== 0) {
        this.log(`failed to register ftrace handler for function '${func.oldName}' (${err})`, 'err');
        return err;
      }
      this.byOldFunc.set(func.oldFunc, ops);
    }
    ops.funcStack.unshift(func);
    func.patched = true;
    return 0;
  }

  /** klp_unpatch_func. */
  unpatchFunc(func: KlpFunc): void {
    const ops = this.byOldFunc.get(func.oldFunc);
    if (!func.patched || !ops) return;
    const at = ops.funcStack.indexOf(func);
    if (at >= 0) ops.funcStack.splice(at, 1);
    if (ops.funcStack.length === 0) {
      this.fentry.unregister(ops);
      this.byOldFunc.delete(func.oldFunc);
    }
    func.patched = false;
  }

  /** klp_patch_object: all funcs or none. */
  patchObject(obj: KlpObject): number {
    if (obj.patched) return 0;
    for (const func of obj.funcs) {
      const err = this.patchFunc(func);
      if (err !== 0) {
        this.unpatchObject(obj);
        return err;
      }
    }
    obj.patched = true;
    return 0;
  }

  /** __klp_unpatch_object; with nopsOnly, only the atomic-replace nops go. */
  unpatchObject(obj: KlpObject, nopsOnly = false): void {
    for (const func of obj.funcs) {
      if (nopsOnly && !func.nop) continue;
      if (func.patched) this.unpatchFunc(func);
    }
    if (!nopsOnly || obj.dynamic) obj.patched = false;
  }
}
