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
import { DEFAULT_EXPERIMENTS, FEATURE_SINCE, hasImmediate, kernelBehaviour, missingFeature, type KernelExperiments, type KernelVersion } from '../kernelBehaviour';
import type { LogOptions } from '../klpLog';
import { KlpPatch, type KlpObject } from '../model/patch';
import { Kallsyms, findObjectSymbol } from '../module/kallsyms';
import { ModuleLoadError, loadModule, type LoadedModule } from '../module/moduleLoader';
import { klpLayoutFromSymbols, readPatchDescription, type PatchDescription } from '../module/patchDescription';
import { formatParamValue, modinfo, moduleParams, parseParamArg, parseParamValue, type ModuleParam } from '../module/moduleParams';
import { EINVAL } from '../patchState';
import { TimelineRecorder } from '../report/timelineRecorder';
import type { SwitchPath } from '../report/timeline';
import { FrameUnwinder } from '../unwind/frameUnwinder';
import { KernelImage } from '../unwind/kernelImage';
import { MachineGuestView, taskLayoutOf } from '../observe/machineGuestView';
import { OrcUnwinder } from '../unwind/orcUnwinder';
import { ReliableStackTrace } from '../unwind/reliableStackTrace';
import { FentryRedirect } from './fentryRedirect';
import { GuestAccess, hex } from './guestAccess';
import { GuestCallError, GuestCaller } from './guestCall';
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
  /** The guest's console lines also go to the kernel log (core.log), as printk's go to dmesg. */
  kmsg?: boolean;
  /** The seed's design options (no kernel release has them): see KernelExperiments. */
  experiments?: Partial<KernelExperiments>;
}

/** The one-line refusal of a kernel/unwinder/option combination no release had, or null. */
export function unsupportedCombination(kernel: KernelVersion, unwinder: LabUnwinder | undefined, immediate: boolean | undefined): string | null {
  if (unwinder === 'orc') {
    const missing = missingFeature(kernel, 'orc', 'the ORC unwinder');
    if (missing) return missing;
  }
  if (immediate && !hasImmediate(kernel)) return `immediate patches exist only in Linux 4.12 to 4.15 (4.16 removed them): --kernel ${kernel} does not have them`;
  return null;
}

/** enum module_state (include/linux/module.h). */
export const MODULE_STATE_LIVE = 0;
export const MODULE_STATE_COMING = 1;
export const MODULE_STATE_GOING = 2;
export const MODULE_STATE_UNFORMED = 3;

export interface LoadedPatchModule {
  name: string;
  module: LoadedModule;
  /** Address of its struct module (THIS_MODULE). */
  structModule: number;
  /** mod->state (MODULE_STATE_*), mirrored in the guest's struct module. */
  state?: number;
  /** mod->klp_alive: between klp_module_coming and klp_module_going. */
  klpAlive?: boolean;
  /** module_param()s, for modprobe's arguments and /sys/module/<mod>/parameters. */
  params?: ModuleParam[];
  /** Its fentry sites (__mcount_loc), redirectable while it is loaded. */
  mcount?: number[];
  /** Its own symbols, for klp_find_object_symbol on objects that name it. */
  kallsyms?: Kallsyms;
  /** MODULE_INFO(livepatch, "Y"). */
  livepatch?: boolean;
  /** The module memory it holds (its struct module, its image), given back by rmmod. */
  areas?: Array<{ at: number; size: number }>;
}

/** Errors of the module loader and rmmod (Linux's numbers). */
const ENOENT = 2;
const EAGAIN = 11;
const EBUSY = 16;
const EEXIST = 17;

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
  /** The guest address of each klp_object and klp_state the core was given. */
  private readonly objectAddress = new Map<KlpObject, number>();
  private readonly stateAddresses = new Map<KlpPatch, number[]>();
  private consoleLine: number[] = [];
  private hypercallDepth = 0;

  constructor(readonly imageBytes: Uint8Array, readonly imageName: string, readonly options: LabOptions = {}) {
    this.elf = ElfFile.parse(imageBytes, imageName);
    this.image = KernelImage.fromElf(this.elf);
    this.kallsyms = new Kallsyms(this.elf);
    const layout = taskLayoutOf(this.image);
    if (typeof layout === 'string') throw new LabError(`${imageName}: ${layout}`);
    const kernel = options.kernel ?? '6.1';
    const refused = unsupportedCombination(kernel, options.unwinder, options.immediate);
    if (refused) throw new LabError(refused);
    const experiments = { ...DEFAULT_EXPERIMENTS, ...options.experiments };
    // The unwinders' reliability rules are 6.1's for every later release modelled.
    const unwindVersion = kernel === '4.12' ? '4.12' : '6.1';
    this.machine = new Machine({ onConsole: (b) => this.onConsoleByte(b), timerJitter: options.timerJitter });
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
      : new FrameUnwinder(this.view, this.image.text, unwindVersion);
    const regsPolicy = options.unwinder === 'unsound' ? 'ignore-pt-regs' : 'checked';
    const reliable = new ReliableStackTrace(unwinder, this.image.text, unwindVersion, undefined, regsPolicy);
    const behaviour = kernelBehaviour(kernel);
    if (behaviour.condReschedSwitch && this.image.symbol('klp_sched_try_switch_key') === undefined) {
      throw new LabError(`${imageName}: the kernel image has no cond_resched() switching (klp_sched_try_switch_key) for --kernel ${kernel}`);
    }
    if (experiments.kthreadPatchPoints && this.image.symbol('klp_kthread_patch_points') === undefined) {
      throw new LabError(`${imageName}: the kernel image has no kthread patch points (klp_kthread_patch_points)`);
    }
    this.port = new GuestKernelPort(this.access, this.view, this.image, this.hostCalls, reliable, {
      reliableStacktrace: experiments.reliableStacktrace,
      kthreadPatchPoints: experiments.kthreadPatchPoints,
      updateAfterSignal: behaviour.updateAfterSignal,
    });
    this.fentry = new FentryRedirect(this.machine, this.access, this.elf, this.need('__fentry__'), trampoline, () => {
      const current = this.port.currentTaskAddress();
      return this.port.patchState({ address: current, pid: 0, comm: '', kind: 'kthread' });
    });
    this.core = new KlpCore(this.port, this.fentry, {
      kernel: options.kernel,
      log: options.log,
      isObjectLoaded: (name) => name === null || this.modules.get(name)?.klpAlive === true,
      initObjectLoaded: (obj) => this.initObjectLoaded(obj),
      freeObjectLoaded: (obj) => this.freeObjectLoaded(obj),
    });
    this.core.transition.listeners.push(this.recorder);
    this.hostCalls.onHypercallNr(this.image.symbol('KLP_HC_ENABLE_PATCH_nr') ?? KLP_HC_ENABLE_PATCH_DEFAULT, (arg) =>
      this.inHypercall(() => this.enablePatch(arg)),
    );
    const prevState = this.image.symbol('KLP_HC_GET_PREV_STATE_nr');
    if (prevState !== undefined) this.hostCalls.onHypercallNr(prevState, (id) => this.prevStateAddress(id));
    // 6.4's __klp_sched_try_switch: current checks its own stack at cond_resched().
    const schedTrySwitch = this.image.symbol('KLP_HC_SCHED_TRY_SWITCH_nr');
    if (schedTrySwitch !== undefined) {
      this.hostCalls.onHypercallNr(schedTrySwitch, () => this.inHypercall(() => {
        const address = this.port.currentTaskAddress();
        const task = this.port.findTask(address);
        if (task) this.core.transition.schedTrySwitch({ address, pid: task.pid, comm: task.name, kind: task.kind });
        return 0;
      }));
    }
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
      if (by === 'kthread-patch-point' && !this.port.kthreadPatchPoints) return; // the point is off
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
    this.hypercallDepth++;
    this.port.inHypercall = true;
    try {
      return fn();
    } finally {
      // Hypercalls nest (a callback that makes one): only the outermost leaves the state.
      if (--this.hypercallDepth === 0) this.port.inHypercall = false;
    }
  }

  /** A console byte; with the kmsg option, each complete line also goes to the kernel log. */
  private onConsoleByte(b: number): void {
    this.console.push(b);
    if (!this.options.kmsg) return;
    if (b === 0x0a) {
      const text = Buffer.from(this.consoleLine).toString('latin1').replace(/\r$/, '');
      this.consoleLine = [];
      this.core.log.print('info', text);
    } else {
      this.consoleLine.push(b);
    }
  }

  /** The kernel runs in serve mode ("selftest" on its command line): no workload, it idles. */
  get serveMode(): boolean {
    return /(^|\s)selftest(\s|$)/.test(this.options.cmdline ?? '');
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

  /** Module memory given back by rmmod (or a failed load), reused first-fit, page-granular. */
  private readonly freeAreas: Array<{ at: number; size: number }> = [];

  private allocate(size: number): number {
    const want = Math.ceil(size / PAGE) * PAGE;
    const fit = this.freeAreas.findIndex((a) => a.size >= want);
    if (fit >= 0) {
      const area = this.freeAreas[fit];
      const at = area.at;
      if (area.size === want) this.freeAreas.splice(fit, 1);
      else this.freeAreas[fit] = { at: at + want, size: area.size - want };
      return at;
    }
    const at = this.moduleTop;
    const end = at + Math.ceil(size / PAGE) * PAGE;
    if (end > this.moduleEnd) throw new LabError(`the module area is full (${hex(at)}..${hex(this.moduleEnd)})`);
    this.moduleTop = end;
    return at;
  }

  private release(at: number, size: number): void {
    this.freeAreas.push({ at, size: Math.ceil(size / PAGE) * PAGE });
    this.freeAreas.sort((a, b) => a.at - b.at);
    for (let i = this.freeAreas.length - 1; i > 0; i--) {
      const prev = this.freeAreas[i - 1];
      if (prev.at + prev.size === this.freeAreas[i].at) {
        prev.size += this.freeAreas[i].size;
        this.freeAreas.splice(i, 1);
      }
    }
  }

  /**
   * modprobe MODULE [param=value ...]: load a module (a patch module or an ordinary one) as
   * load_module() and do_init_module() do in Linux 6.1: the image is relocated into the module
   * area (MODULE_STATE_UNFORMED), made live for fentry and kallsyms (COMING), livepatch's
   * klp_module_coming applies the patches that have an object for it, the parameters are set,
   * and init runs in the guest (at most `maxNs` of virtual time); then LIVE. Returns 0 or the
   * -errno the load fails with (init's, or the notifier's); the kernel's messages are logged.
   */
  modprobe(objectPath: string, params: readonly string[] | number = [], maxNs = 5_000_000_000): number {
    if (typeof params === 'number') {
      maxNs = params;
      params = [];
    }
    const name = path.basename(objectPath).replace(/\.(k?o)$/, '').replace(/-/g, '_');
    try {
      return this.loadModuleAndInit(objectPath, name, params, maxNs);
    } catch (e) {
      // A module whose code (init, a callback klp_enable_patch runs) crashes the guest is the
      // user's error: one line with the module's name and the guest's oops.
      if (e instanceof GuestCallError) {
        const crash = this.crashReport();
        throw new LabError(crash ? `${name}: a callback crashed the guest: ${crash}` : `${name}: a callback did not return: ${e.message}`);
      }
      throw e;
    }
  }

  /**
   * The guest's last panic line, with the faulting RIP named by kallsyms (%pS), or null when
   * the guest did not panic.
   */
  crashReport(): string | null {
    const line = this.consoleText.split('\n').reverse().find((l) => l.startsWith('PANIC: '));
    if (!line) return this.stopped ? this.describeStop() : null;
    const text = line.slice('PANIC: '.length).trim();
    const rip = /\bip ([0-9a-f]+)/.exec(text)?.[1] ?? /\bat ([0-9a-f]+)/.exec(text)?.[1];
    if (!rip) return text;
    const address = Number(BigInt.asIntN(64, BigInt(`0x${rip}`))); // kernel addresses are negative numbers here
    return `${text} (RIP ${this.symbolize(address)})`;
  }

  /** An address as %pS prints it: symbol+0xoff, in the kernel or a loaded module. */
  symbolize(address: number): string {
    if (this.image.kallsyms.lookup(address)) return this.image.kallsyms.symbol(address);
    for (const m of this.modules.values()) {
      for (const [symName, sym] of m.module.symbols) {
        if (sym.size && address >= sym.address && address < sym.address + sym.size) return `${symName}+0x${(address - sym.address).toString(16)} [${m.name}]`;
      }
    }
    return hex(address);
  }

  private loadModuleAndInit(objectPath: string, name: string, params: readonly string[], maxNs: number): number {
    if (this.modules.has(name)) return -EEXIST;
    this.installHostCode();
    const obj = ElfFile.read(objectPath);
    const refused = this.missingKernelApi(obj);
    if (refused) throw new LabError(`${name}: ${refused}`);
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
      this.release(structModule, 64);
      this.release(base, size);
      if (err instanceof ModuleLoadError) {
        for (const line of err.lines) this.core.log.print('warn', line);
        return err.errno;
      }
      throw err;
    }
    this.access.write(base, module.image);
    const text = module.groups.text;
    const textName = `[${name}]`;
    this.image.text.add({ start: base + text.start, end: base + text.end, name: textName });
    const record: LoadedPatchModule = {
      name, module, structModule,
      params: moduleParams(module, this.kparamLayout()),
      mcount: relocatedMcount(module),
      kallsyms: new Kallsyms([...module.symbols].map(([symName, sym]) => ({ name: symName, address: sym.address, size: sym.size, type: sym.type, global: false }))),
      livepatch: modinfo(obj.section('.modinfo')?.data).get('livepatch') === 'Y',
      areas: [{ at: structModule, size: 64 }, { at: base, size }],
    };
    this.modules.set(name, record);
    this.setModuleState(record, MODULE_STATE_UNFORMED);
    const forget = () => {
      this.fentry.removeSites(record.mcount ?? []);
      this.image.text.remove(textName);
      this.modules.delete(name);
      for (const a of record.areas ?? []) this.release(a.at, a.size);
    };

    // complete_formation, then prepare_coming_module: klp_module_coming.
    this.fentry.addSites(record.mcount ?? []);
    this.setModuleState(record, MODULE_STATE_COMING);
    record.klpAlive = true;
    // (Only when a patch has an object for it is there work for a kthread: a plain patch
    // module's load keeps the timing it always had.)
    const wanted = name === 'vmlinux' || this.core.patches.some((p) => p.objects.some((o) => o.name === name));
    let err = wanted ? this.inKthread(() => this.core.moduleComing(name), maxNs) : 0;
    if (err) {
      record.klpAlive = false;
      forget();
      return err;
    }
    // parse_args: unknown parameters are ignored, bad values refuse the module.
    err = this.setParams(record, params);
    if (err) {
      this.goingCleanup(record, maxNs);
      forget();
      return err;
    }
    const init = module.symbols.get('init_module');
    if (init) {
      let result: number | undefined;
      this.hostCalls.post(init.address, 0, 0, (r) => {
        result = r;
        // In serve mode the kernel idles: a run chunk spans much virtual time, so stop as
        // soon as init is back (the workload's default runs keep their chunk-bound timing).
        if (this.serveMode) this.machine.stop('module init done');
      });
      this.runUntil(this.now + maxNs, () => result !== undefined);
      if (result === undefined) {
        const crash = this.stopped ? this.crashReport() : null;
        throw new LabError(crash ? `${name}: init crashed the guest: ${crash}` : `${name}: init did not return within ${maxNs / 1e6} ms of virtual time (${this.describeStop()})`);
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
    this.setModuleState(record, MODULE_STATE_GOING);
    if (this.core.patches.some((p) => p.objects.some((o) => o.name === record.name))) {
      this.inKthread(() => this.core.moduleGoing(record.name), maxNs);
    }
    record.klpAlive = false;
  }

  /**
   * rmmod MODULE (delete_module): refused while the module is in use (a livepatch module whose
   * patch still holds its reference) or when it has init but no exit; otherwise GOING, its exit
   * runs in the guest, klp_module_going reverts what patches did to it, and it is gone.
   * Returns 0 or -errno (-ENOENT not loaded, -EAGAIN in use, -EBUSY no exit function).
   */
  rmmod(name: string, maxNs = 5_000_000_000): number {
    const record = this.modules.get(name);
    if (!record || record.state === MODULE_STATE_GOING) return -ENOENT;
    if (this.moduleRefcount(name) > 0) return -EAGAIN;
    const init = record.module.symbols.get('init_module');
    const exit = record.module.symbols.get('cleanup_module');
    if (init && !exit) return -EBUSY;
    this.setModuleState(record, MODULE_STATE_GOING);
    if (exit) {
      let done = false;
      this.hostCalls.post(exit.address, 0, 0, () => {
        done = true;
        this.machine.stop('module exit done');
      });
      this.runUntil(this.now + maxNs, () => done);
      if (!done) {
        const crash = this.stopped ? this.crashReport() : null;
        throw new LabError(crash ? `${name}: exit crashed the guest: ${crash}` : `${name}: exit did not return within ${maxNs / 1e6} ms of virtual time (${this.describeStop()})`);
      }
    }
    this.inKthread(() => this.core.moduleGoing(name), maxNs);
    record.klpAlive = false;
    this.fentry.removeSites(record.mcount ?? []);
    this.image.text.remove(`[${name}]`);
    this.modules.delete(name);
    this.patchesByModule.delete(name);
    for (const a of record.areas ?? []) this.release(a.at, a.size);
    return 0;
  }

  /** /sys/module/<name>/refcnt: the reference livepatch holds on a patch module (canRemoveModule). */
  moduleRefcount(name: string): number {
    const patch = this.patchesByModule.get(name);
    return patch && !this.core.canRemoveModule(patch) ? 1 : 0;
  }

  /** /sys/module/<name>/parameters/<param>, read: the value as the kernel prints it, or undefined. */
  readParam(moduleName: string, param: string): string | undefined {
    const p = this.modules.get(moduleName)?.params?.find((q) => q.name === param);
    if (!p) return undefined;
    const raw = p.type === 'bool' ? this.access.bytes(p.address, 1)[0] : this.access.i32(p.address);
    return formatParamValue(p, raw);
  }

  /** Writing /sys/module/<name>/parameters/<param>: 0, -ENOENT (no such file) or -EINVAL. */
  writeParam(moduleName: string, param: string, text: string): number {
    const p = this.modules.get(moduleName)?.params?.find((q) => q.name === param && q.perm !== 0);
    if (!p) return -ENOENT;
    const v = parseParamValue(p, text);
    if (v === null) return -EINVAL;
    this.storeParam(p, v);
    return 0;
  }

  private storeParam(p: ModuleParam, v: number): void {
    if (p.type === 'bool') this.access.write(p.address, new Uint8Array([v ? 1 : 0]));
    else this.access.writeI32(p.address, v);
  }

  /** parse_args on modprobe's "name=value" words. */
  private setParams(record: LoadedPatchModule, args: readonly string[]): number {
    for (const arg of args) {
      const { name, value } = parseParamArg(arg);
      const p = record.params?.find((q) => q.name === name);
      if (!p) {
        this.core.log.print('warn', `${record.name}: unknown parameter '${name}' ignored`);
        continue;
      }
      const v = parseParamValue(p, value);
      if (v === null) {
        this.core.log.print('err', `${record.name}: '${value ?? ''}' invalid for parameter '${name}'`);
        return -EINVAL;
      }
      this.storeParam(p, v);
    }
    return 0;
  }

  private setModuleState(record: LoadedPatchModule, state: number): void {
    record.state = state;
    const at = this.image.symbol('MODULE_state');
    if (at !== undefined) this.access.writeI32(record.structModule + at, state);
  }

  private kparamLayout() {
    const sym = (n: string, d: number) => this.image.symbol(n) ?? d;
    return { name: sym('KPARAM_name', 0), arg: sym('KPARAM_arg', 8), type: sym('KPARAM_type', 16), perm: sym('KPARAM_perm', 20), size: sym('KPARAM_size', 24) };
  }

  /**
   * Runs `fn` in the khostcall kthread, inside a hypercall, as the kernel runs a module
   * notifier or a sysfs store in the writer's context: every other task is switched out, and
   * guest callbacks it makes run there. Waits at most `maxNs` of virtual time for it.
   */
  inKthread<T>(fn: () => T, maxNs = 5_000_000_000): T {
    this.installHostCode();
    let result: { value: T } | undefined;
    let failure: unknown;
    let done = false;
    this.hostCalls.runWork(() => {
      try {
        result = { value: this.inHypercall(fn) };
      } catch (e) {
        failure = e;
      }
    }, () => {
      done = true;
      this.machine.stop('host work done');
    });
    this.runUntil(this.now + maxNs, () => done || failure !== undefined || result !== undefined);
    if (failure !== undefined) throw failure;
    if (!result) throw new LabError(`the host's work in khostcall did not run within ${maxNs / 1e6} ms of virtual time (${this.describeStop()})`);
    // khostcall finishes the request (its done counter) by the next tick.
    this.runUntil(this.now + maxNs, () => done);
    return result.value;
  }

  /** `cat /proc/<file>`: the guest's show function run in khostcall (proc_read), its text. */
  readProc(file: 'cmdline' | 'meminfo', maxNs = 5_000_000_000): string {
    const fn = this.need('proc_read');
    const buf = this.need('proc_buf');
    const which = file === 'cmdline' ? this.image.symbol('PROC_CMDLINE_nr') ?? 0 : this.image.symbol('PROC_MEMINFO_nr') ?? 1;
    this.installHostCode();
    let result: number | undefined;
    this.hostCalls.post(fn, which, 0, (r) => {
      result = r;
      this.machine.stop('proc read done');
    });
    this.runUntil(this.now + maxNs, () => result !== undefined);
    if (result === undefined) throw new LabError(`reading /proc/${file} did not finish within ${maxNs / 1e6} ms of virtual time`);
    if (result < 0) throw new LabError(`/proc/${file}: error ${result}`);
    return Buffer.from(this.access.bytes(buf, result)).toString('latin1');
  }

  /** Writing the kernel.ftrace_enabled sysctl: 0 or -EBUSY. */
  setFtraceEnabled(enabled: boolean): number {
    return this.fentry.setFtraceEnabled(enabled);
  }

  /** klp_init_object_loaded for a module object: its functions found in that module, obj->mod set. */
  private initObjectLoaded(obj: KlpObject): number {
    const record = obj.name !== null ? this.modules.get(obj.name) : undefined;
    if (!record?.kallsyms) return -EINVAL;
    for (const func of obj.funcs) {
      if (func.nop) continue;
      const found = findObjectSymbol(record.kallsyms, obj.name, func.oldName, func.oldSympos);
      if ('error' in found) {
        this.core.log.klp('err', found.error);
        return -EINVAL;
      }
      if (!found.symbol.size) {
        this.core.log.klp('err', `kallsyms size lookup failed for '${func.oldName}'`);
        return -EINVAL;
      }
      func.oldFunc = found.symbol.address;
      func.oldSize = this.kallsymsSize(found.symbol.address, record) ?? 0;
      if (!func.oldSize) {
        this.core.log.klp('err', `kallsyms size lookup failed for '${func.oldName}'`);
        return -EINVAL;
      }
    }
    this.writeObjectMod(obj, record.structModule);
    return 0;
  }

  /**
   * kallsyms_lookup_size_offset(addr)'s size for a symbol's start: the distance to the next
   * symbol, padding included (kernel/kallsyms.c get_symbol_pos; a module's
   * find_kallsyms_symbol), not the ELF st_size. So a return address just past a function's
   * last (noreturn) call, in its padding, still counts as inside it. Undefined when addr
   * starts no symbol.
   */
  private kallsymsSize(addr: number, module?: LoadedPatchModule): number | undefined {
    if (!module) {
      const s = this.image.kallsyms.lookup(addr);
      return s && s.offset === 0 ? s.size : undefined;
    }
    const text = module.module.groups.text;
    const textEnd = module.module.base + text.end;
    let next = textEnd;
    let found = false;
    for (const sym of module.module.symbols.values()) {
      if (sym.address === addr) found = true;
      else if (sym.address > addr && sym.address < next) next = sym.address;
    }
    return found && addr < textEnd ? next - addr : undefined;
  }

  /** klp_free_object_loaded: obj->mod = NULL; the functions' addresses are forgotten. */
  private freeObjectLoaded(obj: KlpObject): void {
    this.writeObjectMod(obj, 0);
    for (const func of obj.funcs) if (!func.nop) func.oldFunc = 0;
  }

  private writeObjectMod(obj: KlpObject, structModule: number): void {
    const at = this.objectAddress.get(obj);
    const off = this.image.symbol('KLP_OBJECT_mod');
    if (at !== undefined && off !== undefined) this.access.writeU64(at + off, structModule);
  }

  /** The KLP_HC_GET_PREV_STATE hypercall: klp_get_prev_state(id)'s struct klp_state *, or 0. */
  private prevStateAddress(id: number): number {
    const found = this.core.prevState(id);
    return found ? this.stateAddresses.get(found.patch)?.[found.index] ?? 0 : 0;
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
    const refused = this.missingPatchFeature(desc);
    if (refused) throw new LabError(`${desc.name}: ${refused}`);
    const patch = new KlpPatch(desc.name, desc.replace, desc.states.map((s) => ({ id: s.id, version: s.version })));
    patch.immediate = desc.immediate || this.options.immediate === true;
    const module = this.modules.get(desc.name);
    if (desc.objects.some((o) => !o.funcsAddress)) return -EINVAL;
    this.stateAddresses.set(patch, desc.states.map((st) => st.address));
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
      this.objectAddress.set(obj, o.address);
      const target = o.name !== null ? this.modules.get(o.name) : undefined;
      this.writeObjectMod(obj, target?.klpAlive ? target.structModule : 0);
      for (const f of o.funcs) {
        const func = obj.addFunc(f.oldName, f.newFunc, f.oldSympos);
        func.immediate = f.immediate;
        if (o.name !== null && !target?.klpAlive) continue; // resolved when that module loads
        const found = findObjectSymbol(target?.kallsyms ?? this.kallsyms, o.name, f.oldName, f.oldSympos);
        if ('error' in found) {
          this.core.log.klp('err', found.error);
          return -EINVAL;
        }
        func.oldFunc = found.symbol.address;
        func.oldSize = this.kallsymsSize(found.symbol.address, target) ?? 0;
        if (!func.oldSize) {
          this.core.log.klp('err', `kallsyms size lookup failed for '${f.oldName}'`);
          return -EINVAL;
        }
        func.newSize = (module && this.kallsymsSize(f.newFunc, module)) || 0;
        if (!func.newSize) {
          this.core.log.klp('err', `kallsyms size lookup failed for '${f.oldName}' replacement`);
          return -EINVAL;
        }
      }
    }
    const err = this.core.enable(patch, true);
    if (err === 0) this.patchesByModule.set(desc.name, patch);
    return err;
  }

  /** A struct klp_patch field the chosen kernel's livepatch.h does not have, as a refusal. */
  private missingPatchFeature(desc: PatchDescription): string | null {
    const kernel = this.options.kernel ?? '6.1';
    const cb = (o: PatchDescription['objects'][number]) => o.callbacks.prePatch || o.callbacks.postPatch || o.callbacks.preUnpatch || o.callbacks.postUnpatch;
    if (desc.objects.some(cb)) return missingFeature(kernel, 'callbacks', 'klp_object.callbacks');
    if (desc.replace) return missingFeature(kernel, 'atomicReplace', 'atomic replace (klp_patch.replace)');
    if (desc.states.length > 0) return missingFeature(kernel, 'systemStates', 'system states (klp_patch.states)');
    return null;
  }

  /** A kernel function the module calls that the chosen kernel does not have, as a refusal. */
  private missingKernelApi(obj: ElfFile): string | null {
    const kernel = this.options.kernel ?? '6.1';
    for (const sym of obj.symbols()) {
      if (sym.shndx !== 0 || !sym.name) continue;
      if (sym.name.startsWith('klp_shadow_')) return missingFeature(kernel, 'shadowVariables', `shadow variables (${sym.name})`);
      if (sym.name === 'klp_get_state' || sym.name === 'klp_get_prev_state') return missingFeature(kernel, 'systemStates', `system states (${sym.name})`);
    }
    return null;
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

/** A module's fentry sites: its __mcount_loc entries, relocated (absolute addresses). */
function relocatedMcount(module: LoadedModule): number[] {
  const section = module.sections.find((sec) => sec.name === '__mcount_loc');
  if (!section) return [];
  const v = new DataView(module.image.buffer, module.image.byteOffset, module.image.byteLength);
  const out: number[] = [];
  const start = section.address - module.base;
  for (let at = start; at + 8 <= start + section.size; at += 8) out.push(v.getInt32(at + 4, true) * 0x1_0000_0000 + v.getUint32(at, true));
  return out;
}

/** Upper bound of a module image: its allocated sections, each group page-aligned. */
function estimateImageSize(obj: ElfFile): number {
  let total = 3 * PAGE;
  for (const s of obj.sections) if (s.flags & 2 /* SHF_ALLOC */) total += s.size + Math.max(1, s.addralign);
  return total;
}
