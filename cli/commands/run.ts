// `klp-lab run IMAGE.elf [--append CMDLINE] [--initrd FILE] [-m SIZE] [--rtc-base DATE] [--max-insns N]
// [--trace [FILE]] [--seed S] [--gdb PORT [--wait]]`: boot a PVH image the way `qemu-system-x86_64 -machine pc
// -kernel IMAGE -append CMDLINE -initrd FILE -m SIZE -rtc base=DATE,clock=vm -serial stdio -no-reboot` does,
// console on stdout and stdin (see cli/consoleInput.ts), exit with the guest's isa-debug-exit status.
// `--trace` prints every instruction to stderr; `--trace FILE` writes a binary trace (emulator/trace/)
// that `klp-lab trace FILE` filters and prints later. `--snapshot-save T FILE` saves the whole machine
// at virtual time T and runs on; `--snapshot-restore FILE` starts from such a snapshot (runSnapshot.ts).
//
// Exit statuses: the guest's (v << 1) | 1 when it writes v to port 0xF4 (always odd, as with QEMU);
// otherwise even values of klp-lab's own: 2 = instruction limit reached, 4 = triple fault (or an
// unsupported mode), 6 = HLT that can never wake (interrupts off or no timer), 8 = the guest asked for a
// reset (i8042 0xFE pulse or output port, 0xCF9, port 0x92; QEMU -no-reboot exits 0 there), 0 = C-a x on a
// terminal (as QEMU), 1 = bad image/arguments. A triple fault stays 4 with its report even when the guest
// meant it as a reboot (Linux reboot=t): klp-lab cannot tell a deliberate one from a crash.
// On 2, 4 and 6 a short report (RIP and its instruction, registers, last exceptions, unimplemented
// instructions) goes to stderr; on 8 one line names the reset source.

import * as crypto from 'crypto';
import * as fs from 'fs';
import type { CommandModule } from 'yargs';
import { Machine, STOP_EXIT, STOP_LIMIT, STOP_TRIPLE, STOP_HALTED, STOP_RESET, STOP_IDLE, HOOK_CODE, DEFAULT_RTC_BASE, type RunResult } from '../../emulator/machine';
import { loadPvh, BootError, MAX_LOW_RAM, type PvhImage, type BootOptions } from '../../emulator/loader/pvh';
import { PipeSource, EscapeDecoder, ESCAPE_HELP } from '../consoleInput';
import { UserError } from '../userError';
import { JIT_OPTION, applyJitOption } from '../../emulator/jit/jitDefault';
import { ElfFile } from '../../elf/elfFile';
import type { TraceWriter } from '../../emulator/trace/traceWriter';

// What only some runs need (stop reports, --trace, --gdb, snapshots) is required when they need it:
// a plain run of an image that exits loads about a third of the modules (see the start-up benchmark).
/* eslint-disable @typescript-eslint/no-require-imports */
const report = () => require('../../emulator/report') as typeof import('../../emulator/report');
const snapshots = () => require('./runSnapshot') as typeof import('./runSnapshot');
let traceWriterModule: typeof import('../../emulator/trace/traceWriter') | null = null;
const traceWriting = () => (traceWriterModule ??= require('../../emulator/trace/traceWriter') as typeof import('../../emulator/trace/traceWriter'));
/* eslint-enable @typescript-eslint/no-require-imports */
/** An error from writing a trace file (only possible once a trace was started, which loads its module). */
const isTraceWriteError = (e: unknown): e is Error => traceWriterModule !== null && e instanceof traceWriterModule.TraceWriteError;

export const RUN_STATUS_LIMIT = 2, RUN_STATUS_TRIPLE = 4, RUN_STATUS_HALTED = 6, RUN_STATUS_RESET = 8;
/** Smallest RAM size accepted: the boot map needs low memory, 1 MiB and SeaBIOS's top 128 KiB. */
export const MIN_MEMORY = 2 << 20;

interface RunArgs {
  image?: string; 'max-insns': number; trace?: string | boolean; seed: number; gdb?: number; wait?: boolean;
  append?: string; initrd?: string; memory?: string | number; 'rtc-base'?: string;
  'snapshot-save'?: string[]; 'snapshot-restore'?: string; jit?: boolean;
}

/** `-m` as QEMU reads it: a bare number is MiB; suffixes M and G (also K, T); the result in bytes. */
export function parseMemorySize(v: string | number): number {
  const text = String(v).trim();
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(?:i?[bB])?$/.exec(text);
  if (m === null) throw new UserError(`--memory: bad size '${text}' (a number of MiB, or with suffix M or G)`);
  const unit = { '': 1 << 20, k: 1024, m: 1 << 20, g: 1 << 30, t: 2 ** 40 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const bytes = Math.round(Number(m[1]) * unit);
  if (bytes % (1 << 20) !== 0) throw new UserError(`--memory: ${text} is not a whole number of MiB`);
  if (bytes < MIN_MEMORY) throw new UserError(`--memory: ${text} is too small (at least 2M)`);
  if (bytes >= MAX_LOW_RAM) {
    throw new UserError(`--memory: ${text} is too large: at most ${(MAX_LOW_RAM >> 20) - 1}M (QEMU pc would put RAM above 4 GiB, which klp-lab does not model)`);
  }
  return bytes;
}

/** `-rtc base=`: "utc"/"now" (host time), or an ISO date "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS" (UTC). */
export function parseRtcBase(v: string | undefined): number {
  if (v === undefined) return DEFAULT_RTC_BASE;
  if (v === 'utc' || v === 'now') return Math.floor(Date.now() / 1000);
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}):(\d{2}))?Z?$/.exec(v);
  const ms = m === null ? NaN : Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0));
  if (!Number.isFinite(ms) || ms < 0 || new Date(ms).getUTCDate() !== +m![3]) {
    throw new UserError(`--rtc-base: bad date '${v}' (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS, UTC)`);
  }
  return ms / 1000;
}

function readInput(file: string, what: string): Uint8Array {
  try { return fs.readFileSync(file); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${file}: ${code === 'ENOENT' ? 'No such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message} (${what})`);
  }
}

/** Start a binary trace of the run into `file` (current task from the image's current_task, if any). */
function startTrace(m: Machine, bytes: Uint8Array, image: string, elf: ElfFile, file: string): TraceWriter {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { traceTaskSource } = require('../../emulator/trace/traceTasks') as typeof import('../../emulator/trace/traceTasks');
  try {
    return traceWriting().TraceWriter.start(m, file, {
      imageName: image,
      imageDigest: crypto.createHash('sha256').update(bytes).digest(),
      ...(traceTaskSource(elf, m) ?? {}),
    });
  } catch (e) {
    if (isTraceWriteError(e)) throw new UserError(e.message);
    throw e;
  }
}

function finishTrace(w: TraceWriter, why: string): void {
  try {
    const s = w.finish(why);
    process.stderr.write(`klp-lab: trace of ${s.instructions} instructions written to ${s.file} (${s.bytes} bytes)\n`);
  } catch (e) {
    if (isTraceWriteError(e)) throw new UserError(e.message);
    throw e;
  }
}

export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run [image]',
  describe: 'boot a PVH kernel image in the emulator (serial console on stdout, exit status from isa-debug-exit)',
  builder: (y) =>
    y
      .positional('image', { type: 'string', describe: 'ELF image with a PVH entry note (with --snapshot-restore: optional, checked against the snapshot)' })
      .option('max-insns', { type: 'number', default: 1e10, describe: 'stop after this many retired instructions (exit 2)' })
      .option('trace', { type: 'string', describe: 'print every executed instruction to stderr; --trace FILE: write a binary trace to FILE instead (read it with klp-lab trace)' })
      .option('seed', { type: 'number', default: 1, describe: 'seed for runs that involve chance (printed in reports)' })
      .option('gdb', { type: 'number', describe: 'serve the GDB remote protocol on 127.0.0.1:PORT (0: any free port)' })
      .option('wait', { type: 'boolean', describe: 'with --gdb: do not run until gdb attaches and continues' })
      .option('append', { type: 'string', describe: 'kernel command line (hvm_start_info cmdline), as QEMU -append' })
      .option('initrd', { type: 'string', describe: 'initial ramdisk, handed over as module 0 at the address QEMU uses' })
      .option('memory', { alias: 'm', type: 'string', default: '128M', describe: 'RAM size: MiB, or with suffix M or G (as QEMU -m), below 3.5G' })
      .option('rtc-base', { type: 'string', describe: 'CMOS clock at boot, YYYY-MM-DD[THH:MM:SS] UTC or "utc" (QEMU -rtc base=...,clock=vm); default 2024-01-01' })

      .option('snapshot-save', { type: 'string', array: true, nargs: 2, describe: 'T FILE: save the whole machine to FILE at virtual time T (instructions, or 12ms, 1.5s) and run on' })
      .option('snapshot-restore', { type: 'string', describe: 'start from a snapshot FILE instead of booting IMAGE' })
      .option('jit', JIT_OPTION),
  handler: (args) => {
    applyJitOption(args);
    const restoreFile = args['snapshot-restore'];
    const snapshot = restoreFile !== undefined || args['snapshot-save'] !== undefined ? snapshots() : null;
    const snapshotSave = snapshot !== null ? snapshot.parseSnapshotSave(args['snapshot-save']) : null;
    if (args.image === undefined) {
      if (restoreFile === undefined) throw new UserError('name an IMAGE to boot (or --snapshot-restore FILE)');
      if (args.trace !== undefined || args.gdb !== undefined) throw new UserError('--trace and --gdb after --snapshot-restore need the IMAGE too');
    }
    const image = args.image ?? '';
    let bytes = new Uint8Array(0);
    if (args.image !== undefined) {
      try { bytes = fs.readFileSync(args.image); } catch (e) {
        throw new UserError(`${args.image}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file' : (e as Error).message}`);
      }
    }
    if (!Number.isFinite(args['max-insns']) || args['max-insns'] <= 0) throw new UserError('--max-insns must be a positive number');
    if (snapshotSave !== null && args.gdb !== undefined) throw new UserError('--snapshot-save does not go with --gdb');
    const memory = parseMemorySize(args.memory ?? '128M');
    const rtcBase = parseRtcBase(args['rtc-base']);
    const boot: BootOptions = { cmdline: args.append ?? '' };
    if (args.initrd !== undefined) boot.initrd = { bytes: readInput(args.initrd, 'initrd'), name: args.initrd };
    const out: number[] = [];
    const flush = (): void => { if (out.length > 0) { process.stdout.write(Buffer.from(out)); out.length = 0; } };
    const onConsole = (b: number): void => { out.push(b); if (b === 10 || out.length >= 4096) flush(); };
    const imageInfo = args.image !== undefined && snapshot !== null ? snapshot.imageOf(bytes, image) : null;
    let m: Machine;
    let loaded: { elf: ElfFile } | null = null;
    if (restoreFile !== undefined) {
      m = snapshot!.machineFromSnapshot(restoreFile, imageInfo, onConsole);
      if (args.image !== undefined) loaded = { elf: ElfFile.parse(bytes, image) };
    } else {
      m = new Machine({ memory, rtcBase, onConsole });
      try { loaded = loadPvh(m, bytes, image, boot) as PvhImage; } catch (e) {
        if (e instanceof BootError) throw new UserError(e.message);
        throw e;
      }
    }
    const traceFile = typeof args.trace === 'string' && args.trace !== '' ? args.trace : null;
    if (args.trace === true || args.trace === '') {
      const { disassembleAt } = report();
      m.hookAdd(HOOK_CODE, (a: number) => {
        process.stderr.write(`${BigInt.asUintN(64, BigInt(a)).toString(16).padStart(16, '0')}  ${disassembleAt(m, a)}\n`);
      });
    }
    if (args.gdb !== undefined) {
      if (!Number.isInteger(args.gdb) || args.gdb < 0 || args.gdb > 65535) throw new UserError('--gdb takes a TCP port from 0 to 65535');
      // A fixture kernel gets `monitor unwind` and `monitor lp-state` (and ground truth for the unwind verdicts).
      /* eslint-disable @typescript-eslint/no-require-imports */
      const { MonitorCommands } = require('../../emulator/gdb/monitorCommands') as typeof import('../../emulator/gdb/monitorCommands');
      const { attachKernelMonitor } = require('../../livepatch/gdbMonitor') as typeof import('../../livepatch/gdbMonitor');
      const { runUnderGdb } = require('../../emulator/gdb/runUnderGdb') as typeof import('../../emulator/gdb/runUnderGdb');
      /* eslint-enable @typescript-eslint/no-require-imports */
      const monitor = new MonitorCommands();
      attachKernelMonitor(monitor, m, loaded!.elf);
      const writer = traceFile !== null ? startTrace(m, bytes, image, loaded!.elf, traceFile) : null;
      // Only a gdb session is asynchronous; a plain run stays synchronous (errors throw at once).
      return runUnderGdb(m, bytes, image, { port: args.gdb, wait: args.wait, monitor }).then((g) => {
        flush();
        if (writer !== null) finishTrace(writer, g.message);
        if (g.how === 'exit') process.exitCode = g.exitStatus & 0xff;
        else if (g.how === 'stopped') { process.stderr.write(`klp-lab: ${g.message}\n`); process.exitCode = RUN_STATUS_TRIPLE; }
      }, (e: unknown) => {
        writer?.abort();
        throw isTraceWriteError(e) ? new UserError(e.message) : e;
      });
    }
    if (args.wait) throw new UserError('--wait goes with --gdb');
    const writer = traceFile !== null ? startTrace(m, bytes, image, loaded!.elf, traceFile) : null;
    const finish = (r: RunResult): void => {
      flush();
      if (writer !== null) finishTrace(writer, m.describeStop(r));
      reportStop(m, r, args.seed);
    };
    if (process.stdin.isTTY === true && snapshotSave === null) return runOnTerminal(m, args['max-insns'], flush, writer).then(finish);
    m.uart.inputSource = new PipeSource(0);
    let r: RunResult;
    let saved = true;
    try {
      if (snapshotSave !== null) ({ r, saved } = snapshot!.runSavingSnapshot(m, args['max-insns'], snapshotSave, imageInfo));
      else r = m.run(args['max-insns']);
    } catch (e) {
      // No half-written trace: the temporary file goes, FILE is left as it was.
      writer?.abort();
      throw isTraceWriteError(e) ? new UserError(e.message) : e;
    }
    if (!saved) {
      flush();
      writer?.abort();
      throw new UserError(`--snapshot-save: the run ended at ${m.cpu.icount} ns of virtual time (${m.describeStop(r)}), before ${snapshotSave!.at}: no snapshot written`);
    }
    finish(r);
  },
};

/** Exit status and report for how a run ended. */
function reportStop(m: Machine, r: RunResult, seed: number): void {
  switch (r.reason) {
    case STOP_RESET: process.stderr.write(`klp-lab: ${r.message}\n`); process.exitCode = RUN_STATUS_RESET; return;
    case STOP_EXIT: process.exitCode = r.exitStatus & 0xff; return;
    case STOP_LIMIT: process.stderr.write(report().formatReport(m, r, seed)); process.exitCode = RUN_STATUS_LIMIT; return;
    case STOP_TRIPLE: process.stderr.write(report().formatReport(m, r, seed)); process.exitCode = RUN_STATUS_TRIPLE; return;
    case STOP_HALTED: process.stderr.write(report().formatReport(m, r, seed)); process.exitCode = RUN_STATUS_HALTED; return;
    default: process.stderr.write(report().formatReport(m, r, seed)); process.exitCode = RUN_STATUS_TRIPLE;
  }
}

/** Instructions per slice between looks at the terminal (a few ms of host time). */
const TERMINAL_SLICE = 2_000_000;

/**
 * Run with stdin a terminal: raw mode, C-a escapes, input queued at the virtual time it arrives, the
 * machine run in slices so that keystrokes are seen; a HLT with nothing armed waits for a keystroke.
 * The terminal is restored on every way out (end of run, C-a x, exceptions, process exit).
 */
function runOnTerminal(m: Machine, maxInsns: number, flush: () => void, writer: TraceWriter | null): Promise<RunResult> {
  const stdin = process.stdin;
  let quit = false;
  let wake: (() => void) | null = null;
  const restore = (): void => { try { stdin.setRawMode(false); } catch { /* terminal gone */ } };
  process.once('exit', restore);
  // Signals end the process without 'exit' handlers: restore first, then die of the same signal.
  const onSignal = (sig: NodeJS.Signals): void => { restore(); process.kill(process.pid, sig); };
  for (const sig of ['SIGTERM', 'SIGHUP'] as const) process.once(sig, onSignal);
  const decoder = new EscapeDecoder(() => { quit = true; m.stop('terminated by C-a x'); wake?.(); },
    () => { flush(); process.stderr.write(ESCAPE_HELP); });
  const onData = (d: Buffer): void => {
    const bytes = decoder.feed(d);
    if (bytes.length > 0) { m.uart.queueInput(bytes); m.cpu.exit = true; }
    wake?.();
  };
  stdin.setRawMode(true);
  stdin.on('data', onData);
  stdin.resume();
  m.inputMayArrive = () => true;
  const cleanup = (): void => {
    stdin.off('data', onData); stdin.pause(); restore(); process.off('exit', restore);
    for (const sig of ['SIGTERM', 'SIGHUP'] as const) process.off(sig, onSignal);
  };
  return new Promise<RunResult>((resolve, reject) => {
    const start = m.instructions;
    const step = (): void => {
      try {
        const left = maxInsns - (m.instructions - start);
        const r = m.run(Math.min(left, TERMINAL_SLICE));
        if (quit) { cleanup(); flush(); process.stderr.write('klp-lab: terminated\n'); resolve({ ...r, reason: STOP_EXIT, exitStatus: 0 }); return; }
        if (r.reason === STOP_LIMIT && m.instructions - start < maxInsns) { flush(); setImmediate(step); return; }
        if (r.reason === STOP_IDLE) { flush(); wake = () => { wake = null; setImmediate(step); }; return; }
        cleanup();
        resolve(r);
      } catch (e) {
        cleanup();
        writer?.abort();
        reject(isTraceWriteError(e) ? new UserError(e.message) : e);
      }
    };
    step();
  });
}
