// `klp-lab run IMAGE.elf [--max-insns N] [--trace [FILE]] [--seed S] [--gdb PORT [--wait]]`: boot a PVH image the
// way `qemu-system-x86_64 -kernel` does, console on stdout, exit with the guest's isa-debug-exit status.
// `--trace` prints every instruction to stderr; `--trace FILE` writes a binary trace (emulator/trace/)
// that `klp-lab trace FILE` filters and prints later. `--snapshot-save T FILE` saves the whole machine
// at virtual time T and runs on; `--snapshot-restore FILE` starts from such a snapshot (runSnapshot.ts).
//
// Exit statuses: the guest's (v << 1) | 1 when it writes v to port 0xF4 (always odd, as with QEMU);
// otherwise even values of klp-lab's own: 2 = instruction limit reached, 4 = triple fault (or an
// unsupported mode), 6 = HLT that can never wake (interrupts off or no timer), 1 = bad image/arguments.
// On 2, 4 and 6 a short report (RIP and its instruction, registers, last exceptions, unimplemented
// instructions) goes to stderr.

import * as crypto from 'crypto';
import * as fs from 'fs';
import type { CommandModule } from 'yargs';
import { Machine, STOP_EXIT, STOP_LIMIT, STOP_TRIPLE, STOP_HALTED, HOOK_CODE, type RunResult } from '../../emulator/machine';
import { loadPvh, BootError } from '../../emulator/loader/pvh';
import { formatReport, disassembleAt } from '../../emulator/report';
import { UserError } from '../userError';
import { runUnderGdb } from '../../emulator/gdb/runUnderGdb';
import { MonitorCommands } from '../../emulator/gdb/monitorCommands';
import { TraceWriter, TraceWriteError } from '../../emulator/trace/traceWriter';
import { traceTaskSource } from '../../emulator/trace/traceTasks';
import { attachKernelMonitor } from '../../livepatch/gdbMonitor';
import { ElfFile } from '../../elf/elfFile';
import { parseSnapshotSave, imageOf, machineFromSnapshot, runSavingSnapshot } from './runSnapshot';

export const RUN_STATUS_LIMIT = 2, RUN_STATUS_TRIPLE = 4, RUN_STATUS_HALTED = 6;

interface RunArgs {
  image?: string; 'max-insns': number; trace?: string | boolean; seed: number; gdb?: number; wait?: boolean;
  'snapshot-save'?: string[]; 'snapshot-restore'?: string;
}

/** Start a binary trace of the run into `file` (current task from the image's current_task, if any). */
function startTrace(m: Machine, bytes: Uint8Array, image: string, elf: ElfFile, file: string): TraceWriter {
  try {
    return TraceWriter.start(m, file, {
      imageName: image,
      imageDigest: crypto.createHash('sha256').update(bytes).digest(),
      ...(traceTaskSource(elf, m) ?? {}),
    });
  } catch (e) {
    if (e instanceof TraceWriteError) throw new UserError(e.message);
    throw e;
  }
}

function finishTrace(w: TraceWriter, why: string): void {
  try {
    const s = w.finish(why);
    process.stderr.write(`klp-lab: trace of ${s.instructions} instructions written to ${s.file} (${s.bytes} bytes)\n`);
  } catch (e) {
    if (e instanceof TraceWriteError) throw new UserError(e.message);
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
      .option('snapshot-save', { type: 'string', array: true, nargs: 2, describe: 'T FILE: save the whole machine to FILE at virtual time T (instructions, or 12ms, 1.5s) and run on' })
      .option('snapshot-restore', { type: 'string', describe: 'start from a snapshot FILE instead of booting IMAGE' }),
  handler: (args) => {
    const restoreFile = args['snapshot-restore'];
    const snapshotSave = parseSnapshotSave(args['snapshot-save']);
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
    const out: number[] = [];
    const flush = (): void => { if (out.length > 0) { process.stdout.write(Buffer.from(out)); out.length = 0; } };
    const onConsole = (b: number): void => { out.push(b); if (b === 10 || out.length >= 4096) flush(); };
    const imageInfo = args.image !== undefined && (restoreFile !== undefined || snapshotSave !== null) ? imageOf(bytes, image) : null;
    let m: Machine;
    let loaded: { elf: ElfFile } | null = null;
    if (restoreFile !== undefined) {
      m = machineFromSnapshot(restoreFile, imageInfo, onConsole);
      if (args.image !== undefined) loaded = { elf: ElfFile.parse(bytes, image) };
    } else {
      m = new Machine({ onConsole });
      try { loaded = loadPvh(m, bytes, image); } catch (e) {
        if (e instanceof BootError) throw new UserError(e.message);
        throw e;
      }
    }
    const traceFile = typeof args.trace === 'string' && args.trace !== '' ? args.trace : null;
    if (args.trace === true || args.trace === '') {
      m.hookAdd(HOOK_CODE, (a: number) => {
        process.stderr.write(`${BigInt.asUintN(64, BigInt(a)).toString(16).padStart(16, '0')}  ${disassembleAt(m, a)}\n`);
      });
    }
    if (args.gdb !== undefined) {
      if (!Number.isInteger(args.gdb) || args.gdb < 0 || args.gdb > 65535) throw new UserError('--gdb takes a TCP port from 0 to 65535');
      // A fixture kernel gets `monitor unwind` and `monitor lp-state` (and ground truth for the unwind verdicts).
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
        throw e instanceof TraceWriteError ? new UserError(e.message) : e;
      });
    }
    if (args.wait) throw new UserError('--wait goes with --gdb');
    const writer = traceFile !== null ? startTrace(m, bytes, image, loaded!.elf, traceFile) : null;
    let r: RunResult;
    let saved = true;
    try {
      if (snapshotSave !== null) ({ r, saved } = runSavingSnapshot(m, args['max-insns'], snapshotSave, imageInfo));
      else r = m.run(args['max-insns']);
    } catch (e) {
      // No half-written trace: the temporary file goes, FILE is left as it was.
      writer?.abort();
      throw e instanceof TraceWriteError ? new UserError(e.message) : e;
    }
    flush();
    if (writer !== null) finishTrace(writer, m.describeStop(r));
    if (!saved) throw new UserError(`--snapshot-save: the run ended at ${m.cpu.icount} ns of virtual time (${m.describeStop(r)}), before ${snapshotSave!.at}: no snapshot written`);
    switch (r.reason) {
      case STOP_EXIT: process.exitCode = r.exitStatus & 0xff; return;
      case STOP_LIMIT: process.stderr.write(formatReport(m, r, args.seed)); process.exitCode = RUN_STATUS_LIMIT; return;
      case STOP_TRIPLE: process.stderr.write(formatReport(m, r, args.seed)); process.exitCode = RUN_STATUS_TRIPLE; return;
      case STOP_HALTED: process.stderr.write(formatReport(m, r, args.seed)); process.exitCode = RUN_STATUS_HALTED; return;
      default: process.stderr.write(formatReport(m, r, args.seed)); process.exitCode = RUN_STATUS_TRIPLE;
    }
  },
};
