// The live-patching lab: the fixture kernel booted in the emulator with the livepatch core
// attached. This file is its composition root and its clock: it builds the parts (module area,
// host calls, the kernel port the core sees, fentry redirection, the hypercalls), runs the machine
// in virtual time while transitions proceed, and offers the user's verbs (modprobe, rmmod, the
// sysfs and procfs files) by handing them to the part that does each:
//   moduleArea.ts      the module area and the host's code page
//   modprobe.ts        modprobe/rmmod (load_module, the module states and notifiers, init/exit)
//   moduleParamFiles.ts  module parameters (/sys/module/<name>/parameters)
//   patchRegistration.ts klp_enable_patch's hypercall, module objects bound and unbound
//   procFiles.ts       /proc/cmdline and /proc/meminfo
//   guestSwitches.ts   the guest's own switches on the timeline
//   guestKernelPort.ts the core's view of the guest kernel (KernelPort)
// Offsets come from the kernel's layout description (emulator/kernel/): the task layout for the
// port, the fixture's host interface for everything the host writes.

import { ElfFile } from '../../elf/elfFile';
import { Machine, STOP_EXIT, STOP_HOST, STOP_LIMIT, type RunResult } from '../../emulator/machine';
import { loadPvh } from '../../emulator/loader/pvh';
import type { CallStackTruth } from '../../emulator/truth/callStacks';
import { fixtureHostInterface, type FixtureHostInterface } from '../../emulator/kernel/fixtureLayout';
import { kernelLayoutOf } from '../../emulator/kernel/layoutOf';
import { KlpCore } from '../core/klpCore';
import { DEFAULT_EXPERIMENTS, kernelBehaviour } from '../kernelBehaviour';
import type { KlpPatch } from '../model/patch';
import { Kallsyms } from '../module/kallsyms';
import { TimelineRecorder } from '../report/timelineRecorder';
import { FrameUnwinder } from '../unwind/frameUnwinder';
import { KernelImage } from '../unwind/kernelImage';
import { MachineGuestView } from '../observe/machineGuestView';
import { OrcUnwinder } from '../unwind/orcUnwinder';
import { ReliableStackTrace } from '../unwind/reliableStackTrace';
import { FentryRedirect } from './fentryRedirect';
import { GuestAccess, hex } from './guestAccess';
import { GuestCaller } from './guestCall';
import { GuestKernelPort } from './guestKernelPort';
import { watchGuestSwitches } from './guestSwitches';
import { HostCalls } from './hostCalls';
import { LabError } from './labError';
import { unsupportedCombination, type LabOptions } from './labOptions';
import type { LoadedPatchModule } from './loadedPatchModule';
import { ModuleArea } from './moduleArea';
import { ModuleParamFiles } from './moduleParamFiles';
import { GuestModprobe } from './modprobe';
import { PatchRegistration } from './patchRegistration';
import { readProcFile } from './procFiles';

// The lab's API as its callers import it.
export { LabError } from './labError';
export { unsupportedCombination, type LabOptions, type LabUnwinder } from './labOptions';
export { MODULE_STATE_COMING, MODULE_STATE_GOING, MODULE_STATE_LIVE, MODULE_STATE_UNFORMED, type LoadedPatchModule } from './loadedPatchModule';

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
  /** The fixture kernel's host interface (structures the host writes, hypercall numbers). */
  readonly host: FixtureHostInterface;
  readonly area: ModuleArea;
  readonly params: ModuleParamFiles;
  readonly registration: PatchRegistration;
  private readonly modprobeParts: GuestModprobe;
  private lastRun: RunResult | null = null;
  private consoleLine: number[] = [];
  private hypercallDepth = 0;

  constructor(readonly imageBytes: Uint8Array, readonly imageName: string, readonly options: LabOptions = {}) {
    this.elf = ElfFile.parse(imageBytes, imageName);
    this.image = KernelImage.fromElf(this.elf);
    this.kallsyms = new Kallsyms(this.elf);
    const kernelLayout = kernelLayoutOf(this.elf);
    const host = fixtureHostInterface(this.elf);
    if (kernelLayout === null || kernelLayout.taskKind === null || host === null) {
      throw new LabError(`${imageName}: the image does not export the fixture kernel's task layout and host interface (see fixtures/kernel/asm-offsets.c)`);
    }
    this.host = host;
    const kernel = options.kernel ?? '6.1';
    const refused = unsupportedCombination(kernel, options.unwinder, options.immediate);
    if (refused) throw new LabError(refused);
    const experiments = { ...DEFAULT_EXPERIMENTS, ...options.experiments };
    // The unwinders' reliability rules are 6.1's for every later release modelled.
    const unwindVersion = kernel === '4.12' ? '4.12' : '6.1';
    this.machine = new Machine({ onConsole: (b) => this.onConsoleByte(b), timerJitter: options.timerJitter });
    loadPvh(this.machine, imageBytes, imageName, options.cmdline ?? '');
    this.truth = options.truth ? this.machine.enableTruth(kernelLayout.threadSize) : null;
    this.view = new MachineGuestView(this.machine, this.image, kernelLayout);
    this.access = new GuestAccess(this.machine, this.view);

    if (host.modules === null) throw new LabError(`${imageName}: the kernel image does not export MODULES_VADDR and MODULES_END`);
    this.area = new ModuleArea(this.access, host.modules.start, host.modules.end);
    this.image.text.add({ ...this.area.hostCode, name: '[klp-lab trampolines]' });

    this.hostCalls = new HostCalls(this.machine, this.access, this.image, host);
    this.caller = new GuestCaller(this.machine, this.access, this.area.sentinel);
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
    this.port = new GuestKernelPort(this.access, this.view, kernelLayout, host, this.hostCalls, reliable, {
      reliableStacktrace: experiments.reliableStacktrace,
      kthreadPatchPoints: experiments.kthreadPatchPoints,
      updateAfterSignal: behaviour.updateAfterSignal,
    });
    const fentryAt = this.image.symbol('__fentry__');
    if (fentryAt === undefined) throw new LabError(`${imageName}: the kernel image does not export __fentry__`);
    this.fentry = new FentryRedirect(this.machine, this.access, this.elf, fentryAt, this.area.trampoline, () => {
      const current = this.port.currentTaskAddress();
      return this.port.patchState({ address: current, pid: 0, comm: '', kind: 'kthread' });
    });
    this.modprobeParts = new GuestModprobe(this);
    this.params = new ModuleParamFiles(this.access, () => this.core.log);
    this.registration = new PatchRegistration({
      access: this.access, view: this.view, image: this.image, kallsyms: this.kallsyms, caller: this.caller, host,
      kernel, immediate: options.immediate === true, modules: this.modprobeParts.modules, core: () => this.core,
    });
    this.core = new KlpCore(this.port, this.fentry, {
      kernel: options.kernel,
      log: options.log,
      isObjectLoaded: (name) => name === null || this.modules.get(name)?.klpAlive === true,
      initObjectLoaded: (obj) => this.registration.initObjectLoaded(obj),
      freeObjectLoaded: (obj) => this.registration.freeObjectLoaded(obj),
    });
    this.core.transition.listeners.push(this.recorder);
    this.hostCalls.onHypercallNr(host.hypercalls.enablePatch, (arg) => this.inHypercall(() => this.registration.enablePatch(arg)));
    if (host.hypercalls.getPrevState !== undefined) this.hostCalls.onHypercallNr(host.hypercalls.getPrevState, (id) => this.registration.prevStateAddress(id));
    // 6.4's __klp_sched_try_switch: current checks its own stack at cond_resched().
    if (host.hypercalls.schedTrySwitch !== undefined) {
      this.hostCalls.onHypercallNr(host.hypercalls.schedTrySwitch, () => this.inHypercall(() => {
        const address = this.port.currentTaskAddress();
        const task = this.port.findTask(address);
        if (task) this.core.transition.schedTrySwitch({ address, pid: task.pid, comm: task.name, kind: task.kind });
        return 0;
      }));
    }
    watchGuestSwitches(this);
  }

  /** The loaded modules, by name. */
  get modules(): Map<string, LoadedPatchModule> {
    return this.modprobeParts.modules;
  }

  /** The patch each module registered (its klp_patch), by module name. */
  get patchesByModule(): Map<string, KlpPatch> {
    return this.registration.patchesByModule;
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

  /**
   * modprobe MODULE [param=value ...] (see modprobe.ts). Returns 0 or the -errno the load fails
   * with; `params` may be replaced by `maxNs`.
   */
  modprobe(objectPath: string, params: readonly string[] | number = [], maxNs = 5_000_000_000): number {
    if (typeof params === 'number') {
      maxNs = params;
      params = [];
    }
    return this.modprobeParts.modprobe(objectPath, params, maxNs);
  }

  /** rmmod MODULE (see modprobe.ts): 0 or -errno (-ENOENT, -EAGAIN in use, -EBUSY no exit). */
  rmmod(name: string, maxNs = 5_000_000_000): number {
    return this.modprobeParts.rmmod(name, maxNs);
  }

  /** /sys/module/<name>/refcnt: the reference livepatch holds on a patch module (canRemoveModule). */
  moduleRefcount(name: string): number {
    return this.modprobeParts.refcount(name);
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

  /** /sys/module/<name>/parameters/<param>, read: the value as the kernel prints it, or undefined. */
  readParam(moduleName: string, param: string): string | undefined {
    return this.params.read(this.modules.get(moduleName), param);
  }

  /** Writing /sys/module/<name>/parameters/<param>: 0, -ENOENT (no such file) or -EINVAL. */
  writeParam(moduleName: string, param: string, text: string): number {
    return this.params.write(this.modules.get(moduleName), param, text);
  }

  /**
   * Runs `fn` in the khostcall kthread, inside a hypercall, as the kernel runs a module
   * notifier or a sysfs store in the writer's context: every other task is switched out, and
   * guest callbacks it makes run there. Waits at most `maxNs` of virtual time for it.
   */
  inKthread<T>(fn: () => T, maxNs = 5_000_000_000): T {
    this.area.installHostCode();
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
    return readProcFile(this, file, maxNs);
  }

  /** Writing the kernel.ftrace_enabled sysctl: 0 or -EBUSY. */
  setFtraceEnabled(enabled: boolean): number {
    return this.fentry.setFtraceEnabled(enabled);
  }

  /** The patch registered by a module. */
  patch(moduleName: string): KlpPatch | undefined {
    return this.patchesByModule.get(moduleName);
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
