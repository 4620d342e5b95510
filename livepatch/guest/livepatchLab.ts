// The live-patching lab: the fixture kernel booted in the emulator with the livepatch core
// attached. It loads patch modules as modprobe would (the image copied into the module area,
// its init run by the khostcall kthread, klp_enable_patch arriving as a hypercall), exposes
// the sysfs controls, and runs the machine in virtual time while transitions proceed.

import * as path from 'path';
import { ElfFile } from '../../elf/elfFile';
import { Machine, STOP_EXIT, STOP_HOST, STOP_LIMIT, type RunResult } from '../../emulator/machine';
import { loadPvh } from '../../emulator/loader/pvh';
import type { CallStackTruth } from '../../emulator/truth/callStacks';
import { HOOK_CODE } from '../../emulator/hooks/registry';
import { RDI, RSP } from '../../emulator/cpu/registers';
import { KlpCore } from '../core/klpCore';
import type { KernelVersion } from '../kernelBehaviour';
import type { LogOptions } from '../klpLog';
import { KlpPatch } from '../model/patch';
import { Kallsyms, findObjectSymbol } from '../module/kallsyms';
import { ModuleLoadError, loadModule, type LoadedModule } from '../module/moduleLoader';
import { klpLayoutFromSymbols, readPatchDescription, type PatchDescription } from '../module/patchDescription';
import { EINVAL } from '../patchState';
import { TimelineRecorder } from '../report/timelineRecorder';
import type { SwitchPath } from '../report/timeline';
import { FrameUnwinder } from '../unwind/frameUnwinder';
import { KernelImage } from '../unwind/kernelImage';
import { MachineGuestView, taskLayoutOf } from '../unwind/machineGuestView';
import { OrcUnwinder } from '../unwind/orcUnwinder';
import { ReliableStackTrace } from '../unwind/reliableStackTrace';
import { FentryRedirect } from './fentryRedirect';
import { GuestAccess, hex } from './guestAccess';
import { GuestCaller } from './guestCall';
import { GuestKernelPort } from './guestKernelPort';
import { HostCalls } from './hostCalls';

/**
 * The reliable unwinder behind klp_try_switch_task: frame pointer or ORC as Linux has them, or
 * 'unsound', a frame-pointer walk that ignores pt_regs frames (an experiment's broken control).
 */
export type LabUnwinder = 'fp' | 'orc' | 'unsound';

export interface LabOptions {
  kernel?: KernelVersion;
  unwinder?: LabUnwinder;
  /** 4.12 only: every patch is enabled as `immediate` (no consistency model), whatever it says. */
  immediate?: boolean;
  /** Seeded timer-interrupt latency (see MachineOptions.timerJitter). */
  timerJitter?: { seed: number; maxNs: number };
  /** The PVH command line (the fixture kernel reads scale=N and stats). */
  cmdline?: string;
  log?: Partial<LogOptions>;
  /** Keep the emulator's ground truth of call stacks (for the consistency checker). */
  truth?: boolean;
}

export interface LoadedPatchModule {
  name: string;
  module: LoadedModule;
  /** Address of its struct module (THIS_MODULE). */
  structModule: number;
}

/** A failure the user caused or can act on; one line. */
export class LabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabError';
  }
}

const PAGE = 4096;
const KLP_HC_ENABLE_PATCH_DEFAULT = 1;

export class LivepatchLab {
  readonly machine: Machine;
  readonly image: KernelImage;
  readonly elf: ElfFile;
  readonly kallsyms: Kallsyms;
  readonly view: MachineGuestView;
  readonly access: GuestAccess;
  readonly hostCalls: HostCalls;
  readonly caller: GuestCaller;
  readonly port: GuestKernelPort;
  readonly fentry: FentryRedirect;
  readonly core: KlpCore;
  readonly recorder = new TimelineRecorder();
  readonly truth: CallStackTruth | null;
  readonly console: number[] = [];
  readonly modules = new Map<string, LoadedPatchModule>();
  /** The patch each module registered (its klp_patch), by module name. */
  readonly patchesByModule = new Map<string, KlpPatch>();
  private moduleTop: number;
  private readonly hostCodeAt: number;
  private hostCodeInstalled = false;
  private readonly moduleEnd: number;
  private lastRun: RunResult | null = null;

  constructor(readonly imageBytes: Uint8Array, readonly imageName: string, readonly options: LabOptions = {}) {
    this.elf = ElfFile.parse(imageBytes, imageName);
    this.image = KernelImage.fromElf(this.elf);
    this.kallsyms = new Kallsyms(this.elf);
    const layout = taskLayoutOf(this.image);
    if (typeof layout === 'string') throw new LabError(`${imageName}: ${layout}`);
    if (options.immediate && (options.kernel ?? '6.1') !== '4.12') {
      throw new LabError('immediate patches exist only in Linux 4.12 (use --kernel 4.12)');
    }
    this.machine = new Machine({ onConsole: (b) => this.console.push(b), timerJitter: options.timerJitter });
    loadPvh(this.machine, imageBytes, imageName, options.cmdline ?? '');
    this.truth = options.truth ? this.machine.enableTruth(layout.threadSize) : null;
    this.view = new MachineGuestView(this.machine, this.image, layout);
    this.access = new GuestAccess(this.machine, this.view);

    const modulesStart = this.need('MODULES_VADDR');
    this.moduleEnd = this.need('MODULES_END');
    // The first module page holds the host's own code: the fentry trampoline (a RET) and the
    // return sentinel of guest calls (a UD2 that is never executed: a hook stops there).
    const trampoline = modulesStart;
    const sentinel = modulesStart + 16;
    this.moduleTop = modulesStart + PAGE;
    this.image.text.add({ start: modulesStart, end: modulesStart + 32, name: '[klp-lab trampolines]' });

    this.hostCalls = new HostCalls(this.machine, this.access, this.image);
    this.caller = new GuestCaller(this.machine, this.access, sentinel);
    if (options.unwinder === 'orc' && !this.image.orc) {
      throw new LabError(`${imageName} has no ORC tables (.orc_unwind): use an image built with them (fixtures/kernel/kernel-nofp.elf) or --unwinder fp`);
    }
    const unwinder = options.unwinder === 'orc'
      ? new OrcUnwinder(this.view, this.image.text, this.image.orc, this.image.retFromFork)
      : new FrameUnwinder(this.view, this.image.text, options.kernel ?? '6.1');
    const regsPolicy = options.unwinder === 'unsound' ? 'ignore-pt-regs' : 'checked';
    const reliable = new ReliableStackTrace(unwinder, this.image.text, options.kernel ?? '6.1', undefined, regsPolicy);
    this.port = new GuestKernelPort(this.access, this.view, this.image, this.hostCalls, reliable);
    this.fentry = new FentryRedirect(this.machine, this.access, this.elf, this.need('__fentry__'), trampoline, () => {
      const current = this.port.currentTaskAddress();
      return this.port.patchState({ address: current, pid: 0, comm: '', kind: 'kthread' });
    });
    this.core = new KlpCore(this.port, this.fentry, {
      kernel: options.kernel,
      log: options.log,
      isObjectLoaded: (name) => name === null || this.modules.has(name),
    });
    this.core.transition.listeners.push(this.recorder);
    this.hostCalls.onHypercallNr(this.image.symbol('KLP_HC_ENABLE_PATCH_nr') ?? KLP_HC_ENABLE_PATCH_DEFAULT, (arg) =>
      this.inHypercall(() => this.enablePatch(arg)),
    );
    this.hostCodeAt = trampoline;
    this.watchGuestSwitches();
  }

  /**
   * Tasks that switch themselves (klp_update_patch_state at the kernel exit, a kthread patch
   * point or the idle loop) go on the timeline with the path they took, named by the caller.
   */
  private watchGuestSwitches(): void {
    const record = (fixedPath?: SwitchPath) => () => {
      if (!this.recorder.current) return;
      const regs = this.machine.cpu.regs;
      const address = fixedPath ? this.port.currentTaskAddress() : regs.addr(RDI);
      const task = this.port.findTask(address);
      if (!task) return;
      const klpTask = { address: task.addr, pid: task.pid, comm: task.name, kind: task.kind };
      if (!this.port.patchPending(klpTask)) return;
      let by = fixedPath;
      if (!by) {
        const caller = this.image.kallsyms.functionOf(this.access.u64(regs.addr(RSP))) ?? '';
        by = caller.includes('exit_to_user') ? 'exit-to-user' : caller.includes('idle') || caller.includes('cpu_startup') ? 'idle-loop' : 'kthread-patch-point';
      }
      this.recorder.guestSwitched(klpTask, this.now, by);
    };
    const update = this.image.symbol('klp_update_patch_state');
    if (update !== undefined) this.machine.hookAdd(HOOK_CODE, record(), update, update);
    // klp_update_patch_state may be inlined into the kthread patch point.
    const point = this.image.symbol('klp_kthread_patch_point');
    if (point !== undefined) this.machine.hookAdd(HOOK_CODE, record('kthread-patch-point'), point, point);
  }

  /**
   * The host code page (a RET, then a UD2 at +16) is written when the first module arrives:
   * before the kernel has built its page tables there is no module area to write to.
   */
  private installHostCode(): void {
    if (this.hostCodeInstalled) return;
    const code = new Uint8Array(32);
    code[0] = 0xc3;
    code[16] = 0x0f;
    code[17] = 0x0b;
    this.access.write(this.hostCodeAt, code);
    this.hostCodeInstalled = true;
  }

  private need(name: string): number {
    const v = this.image.symbol(name);
    if (v === undefined) throw new LabError(`${this.imageName}: the kernel image does not export ${name}`);
    return v;
  }

  /** Runs host work as the kernel would run it from khostcall (current's stack is walkable). */
  private inHypercall<T>(fn: () => T): T {
    this.port.inHypercall = true;
    try {
      return fn();
    } finally {
      this.port.inHypercall = false;
    }
  }

  get consoleText(): string {
    return Buffer.from(this.console).toString('latin1');
  }

  /** Virtual time in nanoseconds (1 instruction = 1 ns, idle time skipped by HLT included). */
  get now(): number {
    return this.machine.cpu.icount;
  }

  /** Whether the guest has exited (or the machine stopped for good). */
  get stopped(): boolean {
    return this.lastRun !== null && this.lastRun.reason !== STOP_LIMIT && this.lastRun.reason !== STOP_HOST;
  }

  get exitStatus(): number | undefined {
    return this.lastRun?.reason === STOP_EXIT ? this.lastRun.exitStatus : undefined;
  }

  describeStop(): string {
    return this.lastRun ? this.machine.describeStop(this.lastRun) : 'not run';
  }

  /** Runs until virtual time `until` (ns), a predicate holds, or the guest stops. */
  runUntil(until: number, predicate: () => boolean = () => false, chunk = 200_000): boolean {
    while (this.now < until && !predicate()) {
      this.lastRun = this.machine.run(chunk, until);
      if (this.lastRun.reason !== STOP_LIMIT && this.lastRun.reason !== STOP_HOST) return false;
    }
    return predicate() || this.now >= until;
  }

  /** Runs for `ns` more nanoseconds of virtual time. */
  runFor(ns: number): boolean {
    return this.runUntil(this.now + ns);
  }

  /** Runs until the guest exits or `maxNs` of virtual time pass. */
  runToExit(maxNs: number): RunResult | null {
    this.runUntil(this.now + maxNs);
    return this.lastRun;
  }

  private allocate(size: number): number {
    const at = this.moduleTop;
    const end = at + Math.ceil(size / PAGE) * PAGE;
    if (end > this.moduleEnd) throw new LabError(`the module area is full (${hex(at)}..${hex(this.moduleEnd)})`);
    this.moduleTop = end;
    return at;
  }

  /**
   * modprobe: load a patch module, run its init in the guest, wait for it to return (at most
   * `maxNs` of virtual time). Returns init's return value (0 or -errno).
   */
  modprobe(objectPath: string, maxNs = 5_000_000_000): number {
    const name = path.basename(objectPath).replace(/\.(k?o)$/, '').replace(/-/g, '_');
    if (this.modules.has(name)) return -17; // -EEXIST
    this.installHostCode();
    const obj = ElfFile.read(objectPath);
    const structModule = this.allocate(64);
    const nameBytes = new Uint8Array(56);
    nameBytes.set(Buffer.from(name.slice(0, 55), 'latin1'));
    this.access.write(structModule, nameBytes);
    const size = estimateImageSize(obj);
    const base = this.allocate(size);
    let module: LoadedModule;
    try {
      module = loadModule(obj, name, base, { kallsyms: this.kallsyms, extra: new Map([['__this_module', structModule]]) });
    } catch (err) {
      if (err instanceof ModuleLoadError) {
        for (const line of err.lines) this.core.log.print('warn', line);
        return err.errno;
      }
      throw err;
    }
    this.access.write(base, module.image);
    const text = module.groups.text;
    this.image.text.add({ start: base + text.start, end: base + text.end, name: `[${name}]` });
    this.modules.set(name, { name, module, structModule });
    const init = module.symbols.get('init_module');
    if (!init) return 0;
    let result: number | undefined;
    this.hostCalls.post(init.address, 0, 0, (r) => (result = r));
    this.runUntil(this.now + maxNs, () => result !== undefined);
    if (result === undefined) throw new LabError(`${name}: init did not return within ${maxNs / 1e6} ms of virtual time (${this.describeStop()})`);
    const err = Number(BigInt.asIntN(32, BigInt(result)));
    if (err !== 0) {
      this.modules.delete(name);
      return err;
    }
    return 0;
  }

  /** The patch registered by a module. */
  patch(moduleName: string): KlpPatch | undefined {
    return this.patchesByModule.get(moduleName);
  }

  /** klp_enable_patch(patch) from the guest: the hypercall's work. */
  private enablePatch(patchAddress: number): number {
    let desc: PatchDescription;
    try {
      desc = readPatchDescription({ read: (a, l) => this.view.readBytes(a, l) }, patchAddress, klpLayoutFromSymbols(this.image.symbols));
    } catch (err) {
      this.core.log.klp('err', (err as Error).message);
      return -EINVAL;
    }
    const patch = new KlpPatch(desc.name, desc.replace, desc.states.map((s) => ({ id: s.id, version: s.version })));
    patch.immediate = desc.immediate || this.options.immediate === true;
    const module = this.modules.get(desc.name);
    for (const o of desc.objects) {
      const cb = o.callbacks;
      const call = (fn: number) => (fn ? () => this.caller.call(fn, [o.address]) : undefined);
      const pre = call(cb.prePatch);
      const obj = patch.addObject(o.name, {
        prePatch: pre ? () => Number(BigInt.asIntN(32, BigInt(pre()))) : undefined,
        postPatch: call(cb.postPatch),
        preUnpatch: call(cb.preUnpatch),
        postUnpatch: call(cb.postUnpatch),
      });
      for (const f of o.funcs) {
        const func = obj.addFunc(f.oldName, f.newFunc, f.oldSympos);
        func.immediate = f.immediate;
        if (o.name !== null && !this.modules.has(o.name)) continue; // resolved when that module loads
        const found = findObjectSymbol(this.kallsyms, o.name, f.oldName, f.oldSympos);
        if ('error' in found) {
          this.core.log.klp('err', found.error);
          return -EINVAL;
        }
        func.oldFunc = found.symbol.address;
        func.oldSize = found.symbol.size;
        const replacement = module ? [...module.module.symbols.values()].find((s) => s.address === f.newFunc) : undefined;
        if (!found.symbol.size) {
          this.core.log.klp('err', `kallsyms size lookup failed for '${f.oldName}'`);
          return -EINVAL;
        }
        if (!replacement || !replacement.size) {
          this.core.log.klp('err', `kallsyms size lookup failed for '${f.oldName}' replacement`);
          return -EINVAL;
        }
        func.newSize = replacement.size;
      }
    }
    const err = this.core.enable(patch);
    if (err === 0) this.patchesByModule.set(desc.name, patch);
    return err;
  }

  /** echo 0|1 > /sys/kernel/livepatch/<name>/enabled */
  writeEnabled(moduleName: string, enabled: boolean): number {
    const p = this.patch(moduleName);
    if (!p || p.freed) return -2; // -ENOENT: no such sysfs file
    return this.core.writeEnabled(p, enabled);
  }

  /** echo 1 > /sys/kernel/livepatch/<name>/force */
  writeForce(moduleName: string): number {
    const p = this.patch(moduleName);
    if (!p || p.freed) return -2;
    return this.core.writeForce(p, true);
  }

  /** Whether a transition is in progress. */
  get inTransition(): boolean {
    return this.core.transition.inProgress;
  }

  /** Runs until no transition is in progress (or `maxNs` pass); returns whether it finished. */
  waitForTransition(maxNs = 60_000_000_000): boolean {
    return this.runUntil(this.now + maxNs, () => !this.inTransition);
  }
}

/** Upper bound of a module image: its allocated sections, each group page-aligned. */
function estimateImageSize(obj: ElfFile): number {
  let total = 3 * PAGE;
  for (const s of obj.sections) if (s.flags & 2 /* SHF_ALLOC */) total += s.size + Math.max(1, s.addralign);
  return total;
}
