/**
 * The machine and its host API (unicorn-like): physical memory, CPU, devices at QEMU's pc/q35 ports,
 * the decoded-block cache and the run loop; registers and guest memory by virtual and physical address;
 * hooks; stop/pause between instructions. Nothing the guest does throws out of run(): faults become
 * guest exceptions, a triple fault or an unsupported mode stops the machine with a reason.
 *
 * Virtual time: 1 retired instruction = 1 ns (a 1 GHz machine). TSC, PIT and HLT all use it, so a run is
 * deterministic and QEMU's timer-driven programs keep their shape.
 */
import { Cpu, STOP_NONE, STOP_LIMIT, STOP_HOST, STOP_EXIT, STOP_TRIPLE, STOP_HALTED, ATTR_P, ATTR_S, ATTR_L, ATTR_DB, ATTR_G } from './cpu/cpu';
import { PhysicalMemory } from './memory/physicalMemory';
import { BlockCache, Block } from './decode/blockCache';
import { compileBlock } from './exec/threadedBlock';
import { bindForm, runInsn } from './exec/table';
import { translateBlock, translateTrace, compiledSpan } from './jit/translateBlock';
import { selectTrace, traceSpan } from './jit/traceSelect';
import { countedExecutions, matchingTrace } from './jit/sharedCode';
import { initialExecCount } from './jit/repBlocks';
import { WasmRuntime } from './jit/wasm/wasmTier';
import { jitDefault, wasmThresholdDefault } from './jit/jitDefault';
import { IoBus } from './devices/ioBus';
import { Uart16550 } from './devices/uart16550';
import { Pic8259 } from './devices/pic8259';
import { Pit8254 } from './devices/pit8254';
import { TimerJitter } from './devices/timerJitter';
import { DebugExit } from './devices/debugExit';
import { SystemControlPortB } from './devices/systemControlPortB';
import { CmosRtc } from './devices/cmosRtc';
import { I8042 } from './devices/i8042';
import { ResetControl } from './devices/resetControl';
import { InterruptController, TripleFault, EV_FAULT, EV_EXTERNAL, EV_TRAP } from './interrupts/delivery';
import { GuestFault, EXCEPTION_NAMES } from './interrupts/guestFault';
import { UnsupportedPagingMode, ACCESS_READ, ACCESS_WRITE } from './memory/pageWalk';
import { HookRegistry, HOOK_CODE, HOOK_MEM_READ, HOOK_MEM_WRITE, HOOK_INTR, HOOK_IO, HookEntry } from './hooks/registry';
import { IF, TF } from './cpu/flags';
import type { Insn } from './decode/insn';
import { CS, SS, DS, ES, FS, GS } from './cpu/modes';
import { RegisterId, readRegister, writeRegister } from './registerIds';
import { CallStackTruth } from './truth/callStacks';
import { CpuContext, saveContext, restoreContext } from './cpu/context';
import { saveMachineSnapshot, restoreMachineSnapshot, type OpenedSnapshot, type SnapshotImage, type SnapshotInfo, type SnapshotExpectation } from './snapshot/machineSnapshot';

export { STOP_NONE, STOP_LIMIT, STOP_HOST, STOP_EXIT, STOP_TRIPLE, STOP_HALTED };
/** The guest asked for a reset (i8042 pulse, 0xCF9, port 0x92): the run ends, as QEMU's -no-reboot. */
export const STOP_RESET = 6;
/** HLT with no timer armed while host input may still arrive (see `Machine.inputMayArrive`). */
export const STOP_IDLE = 7;

export interface MachineOptions {
  /** RAM size in bytes (default 128 MiB, like `qemu -m 128`). */
  memory?: number;
  /** Console sink (default: collect into `console`). */
  onConsole?: (byte: number) => void;
  /** Longest block in instructions (1 = one instruction per block, for the configuration matrix). */
  maxBlock?: number;
  /**
   * Executions after which a block is compiled to one JS function (0 = never; default 20000: on real
   * Linux's boot, translating blocks that are only warm costs more than it saves; see emulator/jit/README.md).
   */
  compileThreshold?: number;
  /**
   * Instructions a page written more than twice since it first held code must stay unwritten before
   * its blocks are compiled again (default 50 M; see REWRITTEN_PAGE).
   */
  rewriteQuiet?: number;
  /**
   * Executions after which a 64-bit block is translated to WebAssembly (emulator/jit/wasm; 0 = never;
   * default jit/jitDefault.ts WASM_THRESHOLD, or the environment's KLP_LAB_WASM_THRESHOLD).
   */
  wasmThreshold?: number;
  /**
   * Executions after which a block in the WebAssembly tier is translated to JS after all, when all
   * its instructions are inline in wasm (0 = never; default WASM_PROMOTE_THRESHOLD; a block that
   * calls handlers goes at compileThreshold). The JS translator's code is faster for the hottest
   * loops, but each function costs V8 milliseconds of compiling: see emulator/jit/README.md.
   */
  wasmPromoteThreshold?: number;
  /**
   * Translate hot blocks to JS (emulator/jit; default true unless the process default was turned off
   * by `--no-jit`, jit/jitDefault.ts). false runs every instruction through the interpreter, the
   * reference the JIT is tested against.
   */
  jit?: boolean;
  /** Seeded timer-interrupt latency: each PIT interrupt arrives up to `maxNs` late (default none). */
  timerJitter?: { seed: number; maxNs: number };
  /** The CMOS clock at virtual time 0, seconds since 1970 UTC (QEMU `-rtc base=`; default 2024-01-01). */
  rtcBase?: number;
}

/**
 * Longest block the JIT compiles; longer hot blocks stay interpreted. V8 optimizes a compiled block's
 * function as one unit with every handler inlined: on real Linux's boot a 256-instruction block
 * (unrolled init code) cost about 200 ms of optimizing each, more than it ever ran.
 */
const MAX_TRANSLATED_INSNS = 64;
/**
 * Code writes to a page after which its blocks are compiled only once the page has been quiet for
 * REWRITE_QUIET instructions: real Linux patches its text in bursts while it boots (jump labels,
 * static calls, alternatives: up to 150 writes to one page), then leaves it alone; data beside code
 * keeps being written and stays interpreted.
 */
const REWRITTEN_PAGE = 2;
/**
 * MachineOptions.wasmPromoteThreshold's default. On real Linux's boot, 100,000 took 9.6 s where
 * 20,000 (the JS translator's own threshold) took 10.9 s. A fixture-kernel study's warm run took
 * 39.0 ms at 100,000 and 35.9 ms at 20,000, and 34.5 ms without the tier, so `livepatch study`
 * runs without it (jit/jitDefault.ts studyTierDefaults; emulator/jit/README.md).
 */
export const WASM_PROMOTE_THRESHOLD = 100_000;
const REWRITE_QUIET = 50e6;

/** QEMU's default `-rtc base` for klp-lab runs: 2024-01-01T00:00:00Z. */
export const DEFAULT_RTC_BASE = Date.UTC(2024, 0, 1) / 1000;

/** Told of every block the run loop enters, before its first instruction (emulator/trace's writer). */
export interface BlockObserver {
  enterBlock(b: Block): void;
}

export interface RunResult {
  reason: number;
  /** Retired instructions in this call. */
  instructions: number;
  exitStatus: number;
  message: string;
}

export class Machine {
  readonly mem: PhysicalMemory;
  readonly cpu: Cpu;
  readonly cache: BlockCache;
  readonly io = new IoBus();
  readonly uart: Uart16550;
  readonly pic = new Pic8259();
  readonly pit: Pit8254;
  readonly portB: SystemControlPortB;
  readonly rtc: CmosRtc;
  readonly i8042 = new I8042();
  readonly resetControl: ResetControl;
  /** Earliest virtual time at which a device has an event (PIT, UART, RTC). */
  eventAt = Infinity;
  /** Set by the host when input may still arrive on the console (a terminal): a HLT with nothing
   * armed then stops the run with STOP_IDLE instead of STOP_HALTED, so the host can wait for input. */
  inputMayArrive: () => boolean = () => false;
  readonly intr: InterruptController;
  readonly debugExit: DebugExit;
  /** Seeded latency of timer interrupts (off unless MachineOptions.timerJitter is given). */
  readonly timerJitter: TimerJitter;
  /** The run loop's own state between run() calls (a snapshot component). */
  readonly runLoop = {
    saveState: (): { resumeAt: number } => ({ resumeAt: this.resumeAt }),
    // Loaded after the devices (components.ts order): their next events are gathered again here.
    loadState: (s: { resumeAt: number }): void => { this.resumeAt = s.resumeAt; this.eventsChanged(); },
  };
  readonly hooks = new HookRegistry();
  truth: CallStackTruth | null = null;
  /** Console bytes written by the guest (when no onConsole sink was given). */
  readonly consoleBytes: number[] = [];
  maxBlock: number;
  compileThreshold: number;
  /** Executions after which a 64-bit block is translated to WebAssembly (MachineOptions.wasmThreshold). */
  wasmThreshold: number;
  /** Executions after which a block in the WebAssembly tier goes to the JS translator (MachineOptions.wasmPromoteThreshold). */
  wasmPromoteThreshold: number;
  rewriteQuiet: number;
  /** Hot blocks are translated (MachineOptions.jit). */
  readonly jit: boolean;
  stopMessage = '';
  /** Set by the trace writer; null costs one check per block entered. */
  blockObserver: BlockObserver | null = null;
  /** Address at which a code hook asked to stop: the hook is not re-run when resuming there. */
  private resumeAt = NaN;
  private hookGen = 0;

  constructor(opts: MachineOptions = {}) {
    this.mem = new PhysicalMemory(opts.memory ?? 128 * 1024 * 1024);
    const cpu = new Cpu(this.mem);
    this.cpu = cpu;
    this.maxBlock = opts.maxBlock ?? 256;
    this.compileThreshold = opts.compileThreshold ?? 20000;
    this.rewriteQuiet = opts.rewriteQuiet ?? REWRITE_QUIET;
    this.jit = opts.jit ?? jitDefault();
    this.wasmThreshold = opts.wasmThreshold ?? (this.jit ? wasmThresholdDefault() : 0);
    this.wasmPromoteThreshold = opts.wasmPromoteThreshold ?? WASM_PROMOTE_THRESHOLD;
    this.cache = new BlockCache(this.mem, bindForm);
    this.cache.clock = this.cpu;
    this.cache.onNewCodePage = (pg) => cpu.mmu.tlb.revokeWrites(pg);
    this.cache.onInvalidate = () => { cpu.exit = true; this.wasmRuntime?.forget(); };
    cpu.io = this.io;
    this.intr = new InterruptController(cpu);
    cpu.intr = this.intr;
    const sink = opts.onConsole ?? ((b: number) => { this.consoleBytes.push(b); });
    this.uart = new Uart16550(0x3f8, sink, () => cpu.icount);
    this.uart.irq = (level) => this.pic.setIrq(4, level);
    this.uart.onReprogram = () => this.eventsChanged();
    this.io.register(0x3f8, 8, this.uart);
    this.io.register(0x20, 2, this.pic);
    this.io.register(0xa0, 2, this.pic);
    this.io.register(0x4d0, 2, this.pic); // ELCR
    this.pit = new Pit8254(() => cpu.icount);
    this.pit.irq0 = () => this.pic.pulse(0);
    this.pit.onReprogram = () => this.eventsChanged();
    const jitter = new TimerJitter(opts.timerJitter?.seed ?? 0, opts.timerJitter?.maxNs ?? 0);
    this.timerJitter = jitter;
    this.pit.jitter = () => jitter.sample();
    this.io.register(0x40, 4, this.pit);
    this.portB = new SystemControlPortB(this.pit);
    this.io.register(0x61, 1, this.portB);
    const ram = this.mem.size;
    this.rtc = new CmosRtc(opts.rtcBase ?? DEFAULT_RTC_BASE, { belowFourG: ram, aboveFourG: 0, cpus: 1 }, () => cpu.icount);
    this.rtc.irq = (level) => this.pic.setIrq(8, level);
    this.rtc.onReprogram = () => this.eventsChanged();
    this.io.register(0x70, 2, this.rtc);
    this.i8042.irq = (irq, level) => this.pic.setIrq(irq, level);
    this.i8042.onReset = () => this.requestReset('keyboard controller reset pulse');
    this.io.register(0x60, 1, this.i8042);
    this.io.register(0x64, 1, this.i8042);
    this.resetControl = new ResetControl((source) => this.requestReset(source));
    this.io.register(0xcf9, 1, this.resetControl);
    this.io.register(0x92, 1, this.resetControl);
    this.debugExit = new DebugExit((status) => {
      cpu.exitStatus = status; cpu.stopReason = STOP_EXIT; cpu.exit = true;
    });
    this.io.register(0xf4, 4, this.debugExit);
    // The POST diagnostic port: writes are a short delay for old drivers.
    const zero = { read: () => 0, write: () => {} };
    this.io.register(0x80, 1, zero);
    this.hooks.onChange = () => this.hooksChanged();
  }

  private eventsChanged(): void {
    const u = this.uart.nextEvent, r = this.rtc?.nextEvent ?? Infinity;
    let t = this.pit.next;
    if (u < t) t = u;
    if (r < t) t = r;
    this.eventAt = t;
    this.cpu.exit = true;
  }

  /** Run every device event due at `now`. */
  private runEvents(now: number): void {
    if (now >= this.pit.next) this.pit.tick(now);
    if (now >= this.uart.nextEvent) this.uart.onEvent(now);
    if (now >= this.rtc.nextEvent) this.rtc.onEvent(now);
    this.eventsChanged();
  }

  /**
   * Let `ns` of virtual time pass with the CPU idle (as across a HLT), running the device events due
   * on the way; interrupts are left pending in the PIC. For tests and hosts that drive devices directly.
   */
  advanceIdle(ns: number): void {
    const c = this.cpu, end = c.icount + ns;
    for (let guard = 0; this.eventAt <= end && guard < 1_000_000; guard++) {
      const t = Math.max(this.eventAt, c.icount);
      c.idleNs += t - c.icount; c.icount = t;
      this.runEvents(t);
    }
    c.idleNs += end - c.icount; c.icount = end;
  }

  /** A device asked for a reset: end the run (QEMU -no-reboot). */
  requestReset(source: string): void {
    const c = this.cpu;
    if (c.stopReason === STOP_NONE) { c.stopReason = STOP_RESET; this.stopMessage = `guest reset (${source})`; }
    c.exit = true;
  }

  /** Every device's state as a JSON-able object (for machine snapshots). */
  saveDevices(): object {
    return {
      pic: this.pic.saveState(), pit: this.pit.saveState(), portB: this.portB.saveState(), uart: this.uart.saveState(),
      rtc: this.rtc.saveState(), i8042: this.i8042.saveState(), resetControl: this.resetControl.saveState(),
    };
  }

  loadDevices(s: any): void {
    this.pic.loadState(s.pic); this.pit.loadState(s.pit); this.portB.loadState(s.portB); this.uart.loadState(s.uart);
    this.rtc.loadState(s.rtc); this.i8042.loadState(s.i8042); this.resetControl.loadState(s.resetControl);
    this.eventsChanged();
  }

  get consoleText(): string { return Buffer.from(this.consoleBytes).toString('latin1'); }

  // ---- running ---------------------------------------------------------------------------------------
  /**
   * Run until `maxInsns` more instructions retire, virtual time reaches `untilTime` (ns; idle
   * time skipped by HLT counts here, not in `maxInsns`), the guest exits, or stop() is called.
   * Both limits end the run with STOP_LIMIT.
   */
  run(maxInsns = Infinity, untilTime = Infinity): RunResult {
    const c = this.cpu;
    const start = c.icount - c.idleNs;
    const limit = start + maxInsns;
    c.stopReason = STOP_NONE;
    this.stopMessage = '';
    // The hook skipped on resuming is the one that stopped the last run, at that address only:
    // if the host moved %rip meanwhile (a guest call), no hook may be skipped later.
    if (c.rip !== this.resumeAt) this.resumeAt = NaN;
    const pic = this.pic, cache = this.cache, mmu = c.mmu;
    const codeHooks = this.hooks.code;
    const cpuArg = [c];
    const observer = this.blockObserver;
    let prev: Block | null = null;
    let idleEvents = 0;
    const compileAt = this.jit && this.compileThreshold > 0 ? this.compileThreshold : -1;
    const wasmAt = this.jit && this.wasmThreshold > 0 ? this.wasmThreshold : -1;
    if (this.wasmRuntime !== null) this.setPromotion(this.wasmRuntime);
    for (;;) {
      if (c.stopReason !== STOP_NONE) break;
      const retired = c.icount - c.idleNs;
      if (retired >= limit || c.icount >= untilTime) { c.stopReason = STOP_LIMIT; break; }
      if (c.icount >= this.eventAt) this.runEvents(c.icount);
      try {
        if ((c.flags.bits & IF) !== 0 && c.icount > c.shadowUntil && pic.hasInterrupt()) {
          c.halted = false;
          // The instruction a run resumes at without its hooks (resumeAt) did not run: when the
          // handler returns to it, its hooks run again, as a gdb breakpoint that an interrupt
          // preempted while being stepped over hits again.
          this.resumeAt = NaN;
          const vector = pic.acknowledge();
          this.intr.raise(new GuestFault(vector), EV_EXTERNAL);
          prev = null;
          idleEvents = 0;
          continue;
        }
        if (c.halted) {
          if ((c.flags.bits & IF) !== 0 && this.eventAt === Infinity && this.inputMayArrive()) {
            c.stopReason = STOP_IDLE;
            this.stopMessage = 'HLT waiting for console input';
            break;
          }
          if ((c.flags.bits & IF) === 0 || this.eventAt === Infinity) {
            c.stopReason = STOP_HALTED;
            this.stopMessage = (c.flags.bits & IF) === 0 ? 'HLT with interrupts disabled' : 'HLT with no timer armed';
            break;
          }
          // Advance virtual time to the next timer event. If many timer events pass without any
          // interrupt being taken (IRQ 0 masked in the PIC), nothing can ever wake the CPU.
          if (++idleEvents > 10000) {
            c.stopReason = STOP_HALTED;
            this.stopMessage = 'HLT: 10000 timer events passed without an interrupt being delivered (IRQ masked?)';
            break;
          }
          const skip = Math.max(0, (this.eventAt < untilTime ? this.eventAt : untilTime) - c.icount);
          c.icount += skip; c.idleNs += skip;
          continue;
        }
        // Find the block at RIP: first through the previous block's successor links (chaining).
        let b: Block | null = null;
        const rip = c.rip;
        if (prev !== null) {
          if (prev.linkVa0 === rip && prev.linkEpoch0 === mmu.epoch && prev.linkCpl0 === c.cpl) b = prev.linkBlock0;
          else if (prev.linkVa1 === rip && prev.linkEpoch1 === mmu.epoch && prev.linkCpl1 === c.cpl) b = prev.linkBlock1;
          if (b !== null && (!b.valid || b.bits !== c.bits)) b = null;
        }
        if (b === null) {
          // A fetch fault belongs to the instruction at RIP, not to the one that jumped here: the
          // fault handler rewinds RIP to insnStart (an IRET to user mode must not be re-run at CPL 3).
          c.insnStart = rip;
          const phys = mmu.translateExec(rip);
          b = cache.lookup(phys, c.bits) ?? null;
          if (b === null || !b.valid) b = this.buildBlock(phys);
          if (prev !== null) {
            if (prev.linkNext === 0) { prev.linkVa0 = rip; prev.linkBlock0 = b; prev.linkEpoch0 = mmu.epoch; prev.linkCpl0 = c.cpl; prev.linkNext = 1; }
            else { prev.linkVa1 = rip; prev.linkBlock1 = b; prev.linkEpoch1 = mmu.epoch; prev.linkCpl1 = c.cpl; prev.linkNext = 0; }
          }
        }
        prev = b;
        if (observer !== null) observer.enterBlock(b);
        const runLimit = untilTime === Infinity ? limit : Math.min(limit, untilTime - c.idleNs);
        if (codeHooks.length > 0 && this.blockHooked(b)) { this.stepHooked(b, runLimit); continue; }
        // Inside an STI / MOV SS shadow: run one instruction, then look at interrupts again.
        const shadow = c.shadowUntil >= c.icount;
        // RFLAGS.TF: single-step, #DB (trap) after each instruction.
        if ((c.flags.bits & TF) !== 0) { this.singleStep(b.insns[0]); prev = null; continue; }
        // Run this block and the blocks chained after it until something needs the outer loop: a
        // handler set c.exit (mode/flag/device/SMC/host events), the next timer event or the
        // instruction limit is reached, or the successor is not linked yet.
        const limitIcount = runLimit + c.idleNs;
        const endIcount = this.eventAt < limitIcount ? this.eventAt : limitIcount;
        // With code hooks installed, chaining continues into blocks no hook covers (checked below).
        const chain = !shadow;
        let blk: Block = b;
        c.exit = false;
        c.repUntil = endIcount;
        // Translated code chains blocks itself only when nothing watches block entries (with code
        // hooks installed: when none covers the trace, decided at each call below).
        c.jitLoop = chain && observer === null && codeHooks.length === 0;
        // Blocks of the WebAssembly tier chain only to blocks the run loop entered under the current
        // hooks (their jump cache is emptied when hooks change: hooksChanged), so hooks do not stop it.
        c.wasmChain = chain && observer === null;
        for (;;) {
          const insns = blk.insns;
          // Stop exactly at the next timer event, as QEMU's icount budget does, so interrupts arrive
          // at the same instruction boundary.
          let n = insns.length;
          if (endIcount - c.icount < n) n = endIcount - c.icount;
          if (shadow) n = 1;
          if (n === insns.length) {
            let f = blk.compiled;
            // A block in the WebAssembly tier goes on counting towards the JS translator's threshold.
            if (f !== null && f === blk.wasmFn && ++blk.execCount === blk.wasmPromoteAt) f = this.promote(blk);
            if (f !== null) {
              if (codeHooks.length > 0) c.jitLoop = chain && observer === null && !blk.spanHooked;
              // Through Reflect.apply, this call site collects no target of its own: a direct f(c)
              // saw one translated block after another and deoptimized the run loop each time.
              Reflect.apply(f, undefined, cpuArg); n = 0;
            } else if (++blk.execCount === compileAt) {
              blk.compiled = this.compile(blk);
              blk.hookGen = -1; // its span changed (blockHooked)
            } else if (blk.execCount === wasmAt && blk.bits === 64) {
              this.wasmTier().request(blk);
            } else if (blk.execCount === wasmAt * 2 && this.wasmRuntime !== null) {
              // Still interpreted at twice the threshold: its batch has waited long enough.
              this.wasmRuntime.flush();
            }
          }
          for (let i = 0; i < n; i++) {
            const d = insns[i];
            c.insnStart = c.rip;
            c.rip += d.len;
            runInsn(c, d);
            c.icount++;
            if (c.exit) break;
          }
          if (c.exit || !chain || c.icount >= endIcount) break;
          const next = c.rip;
          let nb: Block | null = null;
          if (blk.linkVa0 === next && blk.linkEpoch0 === mmu.epoch && blk.linkCpl0 === c.cpl) nb = blk.linkBlock0;
          else if (blk.linkVa1 === next && blk.linkEpoch1 === mmu.epoch && blk.linkCpl1 === c.cpl) nb = blk.linkBlock1;
          if (nb === null || !nb.valid || nb.bits !== c.bits) break;
          if (codeHooks.length > 0 && this.blockHooked(nb)) break;
          blk = nb;
          if (observer !== null) observer.enterBlock(blk);
        }
        prev = blk;
      } catch (e) {
        prev = null;
        if (!this.handleThrow(e)) break;
      }
    }
    return { reason: c.stopReason, instructions: c.icount - c.idleNs - start, exitStatus: c.exitStatus, message: this.stopMessage };
  }

  /** Execute one instruction with TF set, then deliver the single-step #DB trap (DR6.BS). */
  private singleStep(d: Insn): void {
    const c = this.cpu;
    c.insnStart = c.rip;
    c.rip += d.len;
    c.repUntil = c.icount + 1; // a REP string instruction traps after each iteration
    d.fn(c, d);
    c.icount++;
    c.dr[6] = 0xffff4ff0; // BS
    this.intr.raise(new GuestFault(1), EV_TRAP);
  }

  /** Returns false when the machine must stop. */
  private handleThrow(e: unknown): boolean {
    const c = this.cpu;
    try {
      if (e instanceof GuestFault) {
        c.rip = c.insnStart;
        this.intr.raise(e, EV_FAULT);
        return true;
      }
      throw e;
    } catch (e2) {
      if (e2 instanceof TripleFault) {
        c.stopReason = STOP_TRIPLE; this.stopMessage = `triple fault: ${e2.reason}`; return false;
      }
      if (e2 instanceof UnsupportedPagingMode) {
        c.stopReason = STOP_TRIPLE; this.stopMessage = `unsupported: ${e2.message}`; return false;
      }
      if (e2 instanceof GuestFault) {
        c.stopReason = STOP_TRIPLE; this.stopMessage = `triple fault: ${e2}`; return false;
      }
      throw e2;
    }
  }

  /**
   * The compiled form of a hot block: a translated trace from it (64-bit, jit/traceSelect.ts) or the
   * call-threaded block (32-bit), shared across machines. Called with RIP at the block.
   */
  private compile(b: Block): ((c: Cpu) => void) | null {
    // Code on pages that keep being written (data beside code, boot-time patching) would be
    // translated again and again: it stays interpreted while its page is being written, and tries
    // again after another threshold of executions (carried keeps the executions counted right).
    const cache = this.cache;
    for (const pg of b.pages) {
      if (cache.invalidations[pg] > REWRITTEN_PAGE && this.cpu.icount - cache.invalidatedAt[pg] < this.rewriteQuiet) {
        b.execCount -= this.compileThreshold; b.carried -= this.compileThreshold;
        return null;
      }
    }
    // Long straight-line blocks (init code, unrolled loops) cost more to compile than they win.
    if (b.insns.length > MAX_TRANSLATED_INSNS) return null;
    const s = b.shared;
    if (b.bits !== 64) {
      if (s !== null && s.compiled !== null) return s.compiled as (c: Cpu) => void;
      const f = compileBlock(b);
      if (s !== null) s.compiled = f;
      return f;
    }
    const c = this.cpu;
    const wasm = this.wasmRuntime;
    const { segs } = selectTrace(b, c.rip, c.mmu.epoch, c.cpl, wasm !== null ? (x) => wasm.credit(x) : undefined);
    if (segs.length === 1) {
      if (s !== null && s.compiled !== null) return s.compiled as (c: Cpu) => void;
      const f = translateBlock(b.insns);
      if (s !== null) s.compiled = f;
      return f;
    }
    if (s !== null) {
      const t = matchingTrace(s, this.mem.u8, b.phys);
      if (t !== null) return t.fn as (c: Cpu) => void;
    }
    const f = translateTrace(segs);
    if (s !== null) {
      const { lo, hi } = traceSpan(segs);
      s.trace = { pageOffset: b.phys & 0xfff, lo, bytes: this.mem.u8.slice(b.phys + lo, b.phys + hi), fn: f };
    }
    return f;
  }

  /** The WebAssembly tier's runtime (jit/wasm/wasmTier.ts), made on first use. */
  private wasmRuntime: WasmRuntime | null = null;
  /**
   * A statistic: block executions that WebAssembly code ran without the run loop (chained entries,
   * loops' iterations; emulator/jit/wasm/wasmChain.ts).
   */
  wasmCountedExecutions(): number { return this.wasmRuntime?.countedExecutions() ?? 0; }

  /** When blocks of the WebAssembly tier go to the JS translator (WasmRuntime.compileAt, promoteAt). */
  private setPromotion(r: WasmRuntime): void {
    const js = this.jit && this.compileThreshold > 0;
    r.compileAt = js ? this.compileThreshold : -1;
    r.promoteAt = js && this.wasmPromoteThreshold > 0 ? Math.max(this.wasmPromoteThreshold, this.compileThreshold) : -1;
  }

  private wasmTier(): WasmRuntime {
    if (this.wasmRuntime === null) {
      this.wasmRuntime = new WasmRuntime(this.cpu);
      this.setPromotion(this.wasmRuntime);
    }
    return this.wasmRuntime;
  }

  /** A WebAssembly-tier block reached the JS translator's threshold: its JS form, or the wasm one if there is none. */
  private promote(b: Block): (c: Cpu) => void {
    const f = this.compile(b);
    b.hookGen = -1;
    if (f === null) return b.wasmFn!;
    b.compiled = f;
    this.wasmRuntime?.unlink(this.cpu.rip);
    return f;
  }

  private readonly blockBytes = new Uint8Array(4096 + 15);

  private buildBlock(phys: number): Block {
    const c = this.cpu;
    const va = c.rip;
    const pageLeft = 4096 - (phys & 0xfff);
    // One buffer for every build: a study builds about a thousand blocks per run, and a fresh page-sized
    // array each time was a good part of its garbage (the decoder and the shared table copy what they keep).
    const bytes = this.blockBytes.subarray(0, pageLeft + 15);
    const src = this.mem.u8.subarray(phys, Math.min(this.mem.size, phys + pageLeft));
    bytes.set(src);
    if (src.length < pageLeft) bytes.fill(0, src.length, pageLeft);
    let nextPhys = -1;
    let have = pageLeft;
    try {
      nextPhys = c.mmu.translateExec(va + pageLeft);
      if (nextPhys + 15 <= this.mem.size) { bytes.set(this.mem.u8.subarray(nextPhys, nextPhys + 15), pageLeft); have += 15; }
    } catch (e) {
      if (!(e instanceof GuestFault)) throw e;
      nextPhys = -1;
    }
    const b = this.cache.build(va, phys, c.bits, have === bytes.length ? bytes : bytes.subarray(0, have), nextPhys, this.maxBlock);
    if (this.jit && this.compileThreshold > 0) {
      b.execCount = initialExecCount(b.insns, this.compileThreshold);
      if (b.shared !== null) {
        // Executions of released machines count too (below the threshold: its crossing compiles).
        const carried = countedExecutions(b.shared);
        if (carried > b.execCount) b.execCount = Math.min(carried, this.compileThreshold - 1);
        // Code another machine of this process compiled runs compiled at once (nothing to compile again).
        const t = b.bits === 64 ? matchingTrace(b.shared, this.mem.u8, phys) : null;
        if (t !== null) b.compiled = t.fn as (c: Cpu) => void;
        else if (b.shared.compiled !== null) b.compiled = b.shared.compiled as (c: Cpu) => void;
        // Code the WebAssembly tier translated for another machine (or earlier bytes) runs there at once.
        else if (this.wasmThreshold > 0 && b.bits === 64 && b.shared.wasm !== null) this.wasmTier().attachShared(b);
      }
      b.carried = b.execCount;
    }
    // The first instruction is cut short by an inaccessible next page: the fetch faults there. The
    // block must not stay cached (it would decode differently once the page is mapped).
    if (b.insns.length > 0 && b.insns[0].end === 3 && nextPhys < 0 && pageLeft < 15) {
      this.cache.invalidatePage(phys >>> 12);
      c.mmu.translateExec(va + pageLeft);
    }
    return b;
  }

  private blockHooked(b: Block): boolean {
    if (b.hookGen !== this.hookGen || b.hookVa !== this.cpu.rip) {
      let len = 0;
      for (const d of b.insns) len += d.len;
      const rip = this.cpu.rip;
      b.hooked = this.hooks.codeOverlaps(rip, rip + len - 1);
      // A translated trace runs its later blocks and loops without the run loop: it may do so only
      // when no hook covers any of its code (jit/translateBlock.ts compiledSpan).
      const span = b.compiled !== null ? compiledSpan.get(b.compiled) : undefined;
      b.spanHooked = b.hooked || (span !== undefined && this.hooks.codeOverlaps(rip + span.lo, rip + span.hi - 1));
      b.hookGen = this.hookGen;
      b.hookVa = rip;
    }
    return b.hooked;
  }

  /** Run a hooked block one instruction at a time, calling code hooks before each instruction. */
  private stepHooked(b: Block, limit: number): void {
    const c = this.cpu;
    c.exit = false;
    const insns = b.insns;
    for (let i = 0; i < insns.length; i++) {
      const d = insns[i];
      if (c.icount - c.idleNs >= limit || c.icount >= this.eventAt) return;
      if (c.rip !== this.resumeAt) {
        const at = c.rip;
        this.hooks.runCode(at);
        if (c.stopReason !== STOP_NONE) { this.resumeAt = c.rip; return; }
        // The hooks changed what the run loop must look at again (the hook set, code, modes). They ran
        // for this instruction: unless they moved RIP, coming back here must not run them again (a hook
        // that adds a hook would otherwise run for ever).
        if (!b.valid || c.exit) { if (c.rip === at) this.resumeAt = at; return; }
      }
      this.resumeAt = NaN;
      c.insnStart = c.rip;
      c.rip += d.len;
      c.repUntil = c.icount + 1; // one REP iteration per step, so hooks see each one
      d.fn(c, d);
      c.icount++;
      if (c.exit || c.stopReason !== STOP_NONE) return;
    }
  }

  /**
   * The host is done with this machine: its RAM goes to the next machine of the same size made in
   * this thread (a study's next run), and its blocks' execution counts to the blocks that machine
   * builds from the same code. Nothing may use this machine afterwards.
   */
  release(): void {
    this.wasmRuntime?.creditAll();
    this.cache.passOnExecCounts();
    this.mem.release();
  }

  /** Stop the run loop after the current instruction (callable from hooks and device callbacks). */
  stop(message = 'stopped by host'): void {
    if (this.cpu.stopReason === STOP_NONE) { this.cpu.stopReason = STOP_HOST; this.stopMessage = message; }
    this.cpu.exit = true;
  }

  // ---- hooks -------------------------------------------------------------------------------------------
  hookAdd(type: number, fn: HookEntry['fn'], begin = 1, end = 0): number { return this.hooks.add(type, fn, begin, end); }
  hookDel(id: number): boolean { return this.hooks.del(id); }

  private hooksChanged(): void {
    this.hookGen++;
    const h = this.hooks;
    const mmu = this.cpu.mmu;
    if (h.mem.length > 0) {
      mmu.memHook = (va, size, write, lo, hi) => h.runMem(va, size, write, lo, hi);
      mmu.flush();
    } else mmu.memHook = null;
    this.intr.hook = h.intr.length > 0 ? (v, ec, k) => h.runIntr(v, ec, k) : null;
    this.io.hook = h.io.length > 0 ? (p, s, w, v) => h.runIo(p, s, w, v) : null;
    // The jump cache holds blocks entered under the old hooks (wasmChain.ts).
    this.wasmRuntime?.forget();
    this.cpu.exit = true;
  }

  // ---- ground truth ----------------------------------------------------------------------------------
  /** Turn call-stack ground truth on (instrumented call/ret handlers replace the plain ones). */
  enableTruth(stackSize = 16384): CallStackTruth {
    if (this.truth === null) {
      this.truth = new CallStackTruth(this.cpu, stackSize);
      this.cpu.truth = this.truth;
      this.intr.onFrame = (v, sp, cpl) => this.truth!.onInterrupt(v, sp, cpl);
      this.intr.onIret = (sp) => this.truth!.onIret(sp);
      this.cache.decoder.truth = true;
      this.cache.clear();
    }
    return this.truth;
  }

  // ---- context -------------------------------------------------------------------------------------------
  /** Snapshot of every CPU register (not memory, devices or time), for contextRestore. */
  contextSave(): CpuContext { return saveContext(this.cpu); }
  contextRestore(ctx: CpuContext): void { restoreContext(this.cpu, ctx); }

  // ---- snapshots (emulator/snapshot/) ---------------------------------------------------------------
  /** The whole machine as snapshot-file bytes (call between run() calls). */
  saveSnapshot(image?: SnapshotImage): Uint8Array { return saveMachineSnapshot(this, image); }
  /** Load a snapshot (SnapshotError if refused: then nothing was changed); hooks stay as they are. */
  restoreSnapshot(snapshot: Uint8Array | OpenedSnapshot, expect?: SnapshotExpectation): SnapshotInfo {
    return restoreMachineSnapshot(this, snapshot, expect);
  }

  // ---- registers and memory ------------------------------------------------------------------------
  regRead(id: RegisterId): bigint { return readRegister(this.cpu, id); }
  regWrite(id: RegisterId, value: bigint): void { writeRegister(this.cpu, id, value); }

  /** Write guest physical memory (invalidates decoded code there). */
  physWrite(pa: number, data: Uint8Array): void { this.mem.writeBytes(pa, data); }
  physRead(pa: number, len: number): Uint8Array { return this.mem.readBytes(pa, len); }

  /** Translate a virtual address with the current paging state (supervisor read); throws GuestFault. */
  virtToPhys(va: number, write = false): number {
    return this.cpu.mmu.translate(va, write ? ACCESS_WRITE : ACCESS_READ, false);
  }
  /** Read guest virtual memory (supervisor access); returns null if some page is not mapped. */
  virtRead(va: number, len: number): Uint8Array | null {
    const out = new Uint8Array(len);
    try {
      for (let i = 0; i < len; i++) out[i] = this.mem.read8(this.virtToPhys(va + i));
    } catch (e) { if (e instanceof GuestFault) return null; throw e; }
    return out;
  }
  /** Write guest virtual memory (supervisor, ignores write protection like a debugger); false if unmapped. */
  virtWrite(va: number, data: Uint8Array): boolean {
    const pas: number[] = [];
    try { for (let i = 0; i < data.length; i++) pas.push(this.virtToPhys(va + i)); }
    catch (e) { if (e instanceof GuestFault) return false; throw e; }
    for (let i = 0; i < data.length; i++) this.mem.write8(pas[i], data[i]);
    return true;
  }

  /** Retired instructions so far. */
  get instructions(): number { return this.cpu.icount - this.cpu.idleNs; }

  describeStop(r: RunResult): string {
    switch (r.reason) {
      case STOP_EXIT: return `guest exit status ${r.exitStatus}`;
      case STOP_LIMIT: return 'instruction limit reached';
      case STOP_TRIPLE: return r.message;
      case STOP_HALTED: return r.message;
      case STOP_HOST: return r.message;
      case STOP_RESET: return r.message;
      case STOP_IDLE: return r.message;
      default: return 'running';
    }
  }

  // ---- start states ---------------------------------------------------------------------------------
  /** 32-bit protected mode, paging off, flat segments (the PVH entry state). */
  resetProtected32(entry: number): void {
    const c = this.cpu;
    c.efer = 0; c.cr0 = 0x11; c.cr4 = 0; c.cr3 = 0;
    const code = ATTR_P | ATTR_S | ATTR_DB | ATTR_G | 0xb, data = ATTR_P | ATTR_S | ATTR_DB | ATTR_G | 0x3;
    c.setFlatSegment(CS, 0x10, code);
    for (const s of [SS, DS, ES, FS, GS]) c.setFlatSegment(s, 0x18, data);
    for (let s = 0; s < 6; s++) c.segBase[s] = 0;
    c.trSel = 0; c.trBase = 0; c.trLimit = 0x67;
    c.flags.set(0x2);
    c.setCpl(0);
    c.mmu.flush();
    c.updateMode();
    c.rip = entry >>> 0;
  }

  /** 64-bit long mode at CPL 0 with the given page tables (CR3) and flat segments. */
  resetLong64(entry: number, cr3: number): void {
    const c = this.cpu;
    c.cr0 = 0x80050033; c.cr4 = 0x20 | 0x200 | 0x400; c.efer = 0x500 | 0x800 | 0x1; c.cr3 = cr3;
    const code = ATTR_P | ATTR_S | ATTR_L | ATTR_G | 0xb, data = ATTR_P | ATTR_S | ATTR_DB | ATTR_G | 0x3;
    c.setFlatSegment(CS, 0x10, code);
    for (const s of [SS, DS, ES]) c.setFlatSegment(s, 0x18, data);
    c.setFlatSegment(FS, 0, 0); c.setFlatSegment(GS, 0, 0);
    c.flags.set(0x2);
    c.setCpl(0);
    c.mmu.flush();
    c.updateMode();
    c.rip = entry;
  }
}

export { HOOK_CODE, HOOK_MEM_READ, HOOK_MEM_WRITE, HOOK_INTR, HOOK_IO, EXCEPTION_NAMES };
