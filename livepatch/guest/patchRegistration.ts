// klp_enable_patch() as the fixture kernel hands it to the host (the KLP_HC_ENABLE_PATCH
// hypercall): the guest's struct klp_patch read into a KlpPatch, each function's old address and
// size found by kallsyms as klp_init_object_loaded does, the callbacks made guest calls, then the
// core enables it. Also the other end of the objects' life: a module object bound when its module
// arrives (klp_init_object_loaded) and unbound when it goes, and klp_get_prev_state()'s hypercall.
import type { ElfFile } from '../../elf/elfFile';
import type { FixtureHostInterface } from '../../emulator/kernel/fixtureLayout';
import type { KlpCore } from '../core/klpCore';
import { missingFeature, type KernelVersion } from '../kernelBehaviour';
import { KlpPatch, type KlpObject } from '../model/patch';
import { findObjectSymbol, type Kallsyms } from '../module/kallsyms';
import { klpLayoutOf, readPatchDescription, type PatchDescription } from '../module/patchDescription';
import { EINVAL } from '../patchState';
import type { KernelImage } from '../unwind/kernelImage';
import type { MachineGuestView } from '../observe/machineGuestView';
import type { GuestAccess } from './guestAccess';
import type { GuestCaller } from './guestCall';
import { LabError } from './labError';
import { moduleKallsymsSize, type LoadedPatchModule } from './loadedPatchModule';

export interface PatchRegistrationParts {
  access: GuestAccess;
  view: MachineGuestView;
  image: KernelImage;
  kallsyms: Kallsyms;
  caller: GuestCaller;
  host: FixtureHostInterface;
  kernel: KernelVersion;
  /** Every patch enabled as immediate (4.12's --immediate). */
  immediate: boolean;
  /** The loaded modules, by name. */
  modules: ReadonlyMap<string, LoadedPatchModule>;
  core: () => KlpCore;
}

export class PatchRegistration {
  /** The patch each module registered (its klp_patch), by module name. */
  readonly patchesByModule = new Map<string, KlpPatch>();
  /** The guest address of each klp_object and klp_state the core was given. */
  private readonly objectAddress = new Map<KlpObject, number>();
  private readonly stateAddresses = new Map<KlpPatch, number[]>();

  constructor(private readonly p: PatchRegistrationParts) {}

  /** klp_enable_patch(patch) from the guest: the hypercall's work. */
  enablePatch(patchAddress: number): number {
    const { core, modules } = this.p;
    let desc: PatchDescription;
    try {
      desc = readPatchDescription({ read: (a, l) => this.p.view.readBytes(a, l) }, patchAddress, klpLayoutOf(this.p.image.layout, this.p.image.symbols));
    } catch (err) {
      core().log.klp('err', (err as Error).message);
      return -EINVAL;
    }
    const refused = this.missingPatchFeature(desc);
    if (refused) throw new LabError(`${desc.name}: ${refused}`);
    const patch = new KlpPatch(desc.name, desc.replace, desc.states.map((s) => ({ id: s.id, version: s.version })));
    patch.immediate = desc.immediate || this.p.immediate;
    const module = modules.get(desc.name);
    if (desc.objects.some((o) => !o.funcsAddress)) return -EINVAL;
    this.stateAddresses.set(patch, desc.states.map((st) => st.address));
    for (const o of desc.objects) {
      const cb = o.callbacks;
      const call = (fn: number) => (fn ? () => this.p.caller.call(fn, [o.address]) : undefined);
      const pre = call(cb.prePatch);
      const obj = patch.addObject(o.name, {
        prePatch: pre ? () => Number(BigInt.asIntN(32, BigInt(pre()))) : undefined,
        postPatch: call(cb.postPatch),
        preUnpatch: call(cb.preUnpatch),
        postUnpatch: call(cb.postUnpatch),
      });
      this.objectAddress.set(obj, o.address);
      const target = o.name !== null ? modules.get(o.name) : undefined;
      this.writeObjectMod(obj, target?.klpAlive ? target.structModule : 0);
      for (const f of o.funcs) {
        const func = obj.addFunc(f.oldName, f.newFunc, f.oldSympos);
        func.immediate = f.immediate;
        if (o.name !== null && !target?.klpAlive) continue; // resolved when that module loads
        const found = findObjectSymbol(target?.kallsyms ?? this.p.kallsyms, o.name, f.oldName, f.oldSympos);
        if ('error' in found) {
          core().log.klp('err', found.error);
          return -EINVAL;
        }
        func.oldFunc = found.symbol.address;
        func.oldSize = this.kallsymsSize(found.symbol.address, target) ?? 0;
        if (!func.oldSize) {
          core().log.klp('err', `kallsyms size lookup failed for '${f.oldName}'`);
          return -EINVAL;
        }
        func.newSize = (module && this.kallsymsSize(f.newFunc, module)) || 0;
        if (!func.newSize) {
          core().log.klp('err', `kallsyms size lookup failed for '${f.oldName}' replacement`);
          return -EINVAL;
        }
      }
    }
    const err = core().enable(patch, true);
    if (err === 0) this.patchesByModule.set(desc.name, patch);
    return err;
  }

  /** klp_init_object_loaded for a module object: its functions found in that module, obj->mod set. */
  initObjectLoaded(obj: KlpObject): number {
    const record = obj.name !== null ? this.p.modules.get(obj.name) : undefined;
    const log = this.p.core().log;
    if (!record?.kallsyms) return -EINVAL;
    for (const func of obj.funcs) {
      if (func.nop) continue;
      const found = findObjectSymbol(record.kallsyms, obj.name, func.oldName, func.oldSympos);
      if ('error' in found) {
        log.klp('err', found.error);
        return -EINVAL;
      }
      if (!found.symbol.size) {
        log.klp('err', `kallsyms size lookup failed for '${func.oldName}'`);
        return -EINVAL;
      }
      func.oldFunc = found.symbol.address;
      func.oldSize = this.kallsymsSize(found.symbol.address, record) ?? 0;
      if (!func.oldSize) {
        log.klp('err', `kallsyms size lookup failed for '${func.oldName}'`);
        return -EINVAL;
      }
    }
    this.writeObjectMod(obj, record.structModule);
    return 0;
  }

  /** klp_free_object_loaded: obj->mod = NULL; the functions' addresses are forgotten. */
  freeObjectLoaded(obj: KlpObject): void {
    this.writeObjectMod(obj, 0);
    for (const func of obj.funcs) if (!func.nop) func.oldFunc = 0;
  }

  /** The KLP_HC_GET_PREV_STATE hypercall: klp_get_prev_state(id)'s struct klp_state *, or 0. */
  prevStateAddress(id: number): number {
    const found = this.p.core().prevState(id);
    return found ? this.stateAddresses.get(found.patch)?.[found.index] ?? 0 : 0;
  }

  /** A kernel function the module calls that the chosen kernel does not have, as a refusal. */
  missingKernelApi(obj: ElfFile): string | null {
    for (const sym of obj.symbols()) {
      if (sym.shndx !== 0 || !sym.name) continue;
      if (sym.name.startsWith('klp_shadow_')) return missingFeature(this.p.kernel, 'shadowVariables', `shadow variables (${sym.name})`);
      if (sym.name === 'klp_get_state' || sym.name === 'klp_get_prev_state') return missingFeature(this.p.kernel, 'systemStates', `system states (${sym.name})`);
    }
    return null;
  }

  /** A struct klp_patch field the chosen kernel's livepatch.h does not have, as a refusal. */
  private missingPatchFeature(desc: PatchDescription): string | null {
    const kernel = this.p.kernel;
    const cb = (o: PatchDescription['objects'][number]) => o.callbacks.prePatch || o.callbacks.postPatch || o.callbacks.preUnpatch || o.callbacks.postUnpatch;
    if (desc.objects.some(cb)) return missingFeature(kernel, 'callbacks', 'klp_object.callbacks');
    if (desc.replace) return missingFeature(kernel, 'atomicReplace', 'atomic replace (klp_patch.replace)');
    if (desc.states.length > 0) return missingFeature(kernel, 'systemStates', 'system states (klp_patch.states)');
    return null;
  }

  /**
   * kallsyms_lookup_size_offset(addr)'s size for a symbol's start: the distance to the next
   * symbol, padding included (kernel/kallsyms.c get_symbol_pos; a module's
   * find_kallsyms_symbol), not the ELF st_size. So a return address just past a function's
   * last (noreturn) call, in its padding, still counts as inside it. Undefined when addr
   * starts no symbol.
   */
  private kallsymsSize(addr: number, module?: LoadedPatchModule): number | undefined {
    if (module) return moduleKallsymsSize(addr, module);
    const s = this.p.image.kallsyms.lookup(addr);
    return s && s.offset === 0 ? s.size : undefined;
  }

  private writeObjectMod(obj: KlpObject, structModule: number): void {
    const at = this.objectAddress.get(obj);
    const field = this.p.host.klpObjectMod;
    if (at !== undefined && field !== null) this.p.access.writeU64(at + field.offset, structModule);
  }
}
