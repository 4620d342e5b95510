// modprobe and rmmod on the fixture kernel, as load_module()/do_init_module() and delete_module()
// do in Linux 6.1: the host relocates the module into the module area, moves it through the
// module states, runs livepatch's module notifiers (klp_module_coming/going) in a kthread, sets
// its parameters, and runs its init and exit in the guest through khostcall.
import * as path from 'path';
import { ElfFile } from '../../elf/elfFile';
import { Kallsyms } from '../module/kallsyms';
import { ModuleLoadError, loadModule, type LoadedModule } from '../module/moduleLoader';
import { imageModuleOf } from '../observe/moduleOrc';
import { modinfo, moduleParams } from '../module/moduleParams';
import { GuestCallError } from './guestCall';
import { LabError } from './labError';
import {
  MODULE_STATE_COMING, MODULE_STATE_GOING, MODULE_STATE_LIVE, MODULE_STATE_UNFORMED, estimateImageSize, relocatedMcount,
  type LoadedPatchModule,
} from './loadedPatchModule';
import type { LivepatchLab } from './livepatchLab';

/** Errors of the module loader and rmmod (Linux's numbers). */
const ENOENT = 2;
const EAGAIN = 11;
const EBUSY = 16;
const EEXIST = 17;

export class GuestModprobe {
  /** The loaded modules, by name. */
  readonly modules = new Map<string, LoadedPatchModule>();

  constructor(private readonly lab: LivepatchLab) {}

  /**
   * modprobe MODULE [param=value ...]: load a module (a patch module or an ordinary one) as
   * load_module() and do_init_module() do in Linux 6.1: the image is relocated into the module
   * area (MODULE_STATE_UNFORMED), made live for fentry and kallsyms (COMING), livepatch's
   * klp_module_coming applies the patches that have an object for it, the parameters are set,
   * and init runs in the guest (at most `maxNs` of virtual time); then LIVE. Returns 0 or the
   * -errno the load fails with (init's, or the notifier's); the kernel's messages are logged.
   */
  modprobe(objectPath: string, params: readonly string[], maxNs: number): number {
    const name = path.basename(objectPath).replace(/\.(k?o)$/, '').replace(/-/g, '_');
    try {
      return this.loadModuleAndInit(objectPath, name, params, maxNs);
    } catch (e) {
      // A module whose code (init, a callback klp_enable_patch runs) crashes the guest is the
      // user's error: one line with the module's name and the guest's oops.
      if (e instanceof GuestCallError) {
        const crash = this.lab.crashReport();
        throw new LabError(crash ? `${name}: a callback crashed the guest: ${crash}` : `${name}: a callback did not return: ${e.message}`);
      }
      throw e;
    }
  }

  private loadModuleAndInit(objectPath: string, name: string, params: readonly string[], maxNs: number): number {
    const lab = this.lab;
    if (this.modules.has(name)) return -EEXIST;
    lab.area.installHostCode();
    const obj = ElfFile.read(objectPath);
    const refused = lab.registration.missingKernelApi(obj);
    if (refused) throw new LabError(`${name}: ${refused}`);
    const moduleSize = lab.host.module.size;
    const structModule = lab.area.allocate(moduleSize);
    const nameField = lab.host.module.name;
    const nameBytes = new Uint8Array(nameField.size);
    nameBytes.set(Buffer.from(name.slice(0, nameField.size - 1), 'latin1'));
    lab.access.write(structModule + nameField.offset, nameBytes);
    const size = estimateImageSize(obj);
    const base = lab.area.allocate(size);
    let module: LoadedModule;
    try {
      module = loadModule(obj, name, base, { kallsyms: lab.kallsyms, extra: new Map([['__this_module', structModule]]) });
    } catch (err) {
      lab.area.release(structModule, moduleSize);
      lab.area.release(base, size);
      if (err instanceof ModuleLoadError) {
        for (const line of err.lines) lab.core.log.print('warn', line);
        return err.errno;
      }
      throw err;
    }
    lab.access.write(base, module.image);
    // load_module(): the module's text becomes kernel text, its symbols symbolize, and its ORC
    // tables (objtool --orc --module) serve the ORC unwinder in its text (unwind_module_init).
    lab.image.addModule(imageModuleOf(module));
    const kp = lab.host.kernelParam;
    const record: LoadedPatchModule = {
      name, module, structModule,
      params: moduleParams(module, { name: kp.name.offset, arg: kp.arg.offset, type: kp.type.offset, perm: kp.perm.offset, size: kp.size }),
      mcount: relocatedMcount(module),
      kallsyms: new Kallsyms([...module.symbols].map(([symName, sym]) => ({ name: symName, address: sym.address, size: sym.size, type: sym.type, global: false }))),
      livepatch: modinfo(obj.section('.modinfo')?.data).get('livepatch') === 'Y',
      areas: [{ at: structModule, size: moduleSize }, { at: base, size }],
    };
    this.modules.set(name, record);
    this.setModuleState(record, MODULE_STATE_UNFORMED);
    const forget = () => {
      lab.fentry.removeSites(record.mcount ?? []);
      lab.image.removeModule(name);
      this.modules.delete(name);
      for (const a of record.areas ?? []) lab.area.release(a.at, a.size);
    };

    // complete_formation, then prepare_coming_module: klp_module_coming.
    lab.fentry.addSites(record.mcount ?? []);
    this.setModuleState(record, MODULE_STATE_COMING);
    record.klpAlive = true;
    // (Only when a patch has an object for it is there work for a kthread: a plain patch
    // module's load keeps the timing it always had.)
    const wanted = name === 'vmlinux' || lab.core.patches.some((p) => p.objects.some((o) => o.name === name));
    let err = wanted ? lab.inKthread(() => lab.core.moduleComing(name), maxNs) : 0;
    if (err) {
      record.klpAlive = false;
      forget();
      return err;
    }
    // parse_args: unknown parameters are ignored, bad values refuse the module.
    err = lab.params.setFromArgs(record, params);
    if (err) {
      this.goingCleanup(record, maxNs);
      forget();
      return err;
    }
    const init = module.symbols.get('init_module');
    if (init) {
      let result: number | undefined;
      lab.hostCalls.post(init.address, 0, 0, (r) => {
        result = r;
        // In serve mode the kernel idles: a run chunk spans much virtual time, so stop as
        // soon as init is back (the workload's default runs keep their chunk-bound timing).
        if (lab.serveMode) lab.machine.stop('module init done');
      });
      lab.runUntil(lab.now + maxNs, () => result !== undefined);
      if (result === undefined) {
        const crash = lab.stopped ? lab.crashReport() : null;
        throw new LabError(crash ? `${name}: init crashed the guest: ${crash}` : `${name}: init did not return within ${maxNs / 1e6} ms of virtual time (${lab.describeStop()})`);
      }
      err = Number(BigInt.asIntN(32, BigInt(result)));
      if (err !== 0) {
        // do_init_module's failure path: GOING, the notifiers, freed.
        this.goingCleanup(record, maxNs);
        forget();
        return err;
      }
    }
    this.setModuleState(record, MODULE_STATE_LIVE);
    return 0;
  }

  /** MODULE_STATE_GOING, then klp_module_going (in a kthread, as the module loader's caller). */
  private goingCleanup(record: LoadedPatchModule, maxNs: number): void {
    const lab = this.lab;
    this.setModuleState(record, MODULE_STATE_GOING);
    if (lab.core.patches.some((p) => p.objects.some((o) => o.name === record.name))) {
      lab.inKthread(() => lab.core.moduleGoing(record.name), maxNs);
    }
    record.klpAlive = false;
  }

  /**
   * rmmod MODULE (delete_module): refused while the module is in use (a livepatch module whose
   * patch still holds its reference) or when it has init but no exit; otherwise GOING, its exit
   * runs in the guest, klp_module_going reverts what patches did to it, and it is gone.
   * Returns 0 or -errno (-ENOENT not loaded, -EAGAIN in use, -EBUSY no exit function).
   */
  rmmod(name: string, maxNs: number): number {
    const lab = this.lab;
    const record = this.modules.get(name);
    if (!record || record.state === MODULE_STATE_GOING) return -ENOENT;
    if (this.refcount(name) > 0) return -EAGAIN;
    const init = record.module.symbols.get('init_module');
    const exit = record.module.symbols.get('cleanup_module');
    if (init && !exit) return -EBUSY;
    this.setModuleState(record, MODULE_STATE_GOING);
    if (exit) {
      let done = false;
      lab.hostCalls.post(exit.address, 0, 0, () => {
        done = true;
        lab.machine.stop('module exit done');
      });
      lab.runUntil(lab.now + maxNs, () => done);
      if (!done) {
        const crash = lab.stopped ? lab.crashReport() : null;
        throw new LabError(crash ? `${name}: exit crashed the guest: ${crash}` : `${name}: exit did not return within ${maxNs / 1e6} ms of virtual time (${lab.describeStop()})`);
      }
    }
    lab.inKthread(() => lab.core.moduleGoing(name), maxNs);
    record.klpAlive = false;
    lab.fentry.removeSites(record.mcount ?? []);
    lab.image.removeModule(name);
    this.modules.delete(name);
    lab.registration.patchesByModule.delete(name);
    for (const a of record.areas ?? []) lab.area.release(a.at, a.size);
    return 0;
  }

  /** /sys/module/<name>/refcnt: the reference livepatch holds on a patch module (canRemoveModule). */
  refcount(name: string): number {
    const patch = this.lab.registration.patchesByModule.get(name);
    return patch && !this.lab.core.canRemoveModule(patch) ? 1 : 0;
  }

  private setModuleState(record: LoadedPatchModule, state: number): void {
    record.state = state;
    const field = this.lab.host.module.state;
    if (field !== null) this.lab.access.writeI32(record.structModule + field.offset, state);
  }
}
