// The options every livepatch subcommand shares, and their checks.

import * as fs from 'fs';
import type { Argv } from 'yargs';
import { writeFileAtomic } from '../../../elf/atomicWrite';
import { unsupportedCombination, type LabUnwinder } from '../../../livepatch/guest/livepatchLab';
import { KERNEL_VERSIONS, type KernelExperiments, type KernelVersion } from '../../../livepatch/kernelBehaviour';
import { UserError } from '../../userError';

export interface CommonLivepatchArgs {
  image: string;
  patch: string;
  kernel: string;
  unwinder: string;
  immediate?: boolean;
  cmdline: string;
  jitter: number;
  'reliable-stacktrace': boolean;
  'kthread-patch-points': boolean;
}

/** Enough for the kernel's kthreads to be busy at the patch time and for 15 retries (signals). */
export const DEFAULT_CMDLINE = 'scale=4 nap=20000';

export function withCommonOptions<T>(y: Argv<T>) {
  return y
    .positional('image', { type: 'string', demandOption: true, describe: 'fixture kernel ELF (fixtures/kernel/kernel.elf, or kernel-nofp.elf for ORC)' })
    .positional('patch', { type: 'string', demandOption: true, describe: 'patch module: a relocatable object built against fixtures/include/livepatch.h' })
    .option('kernel', { type: 'string', choices: [...KERNEL_VERSIONS], default: '6.1', describe: 'livepatch behaviour of this kernel (6.4: 6.1 plus switching at cond_resched(); 4.12: the 2016 consistency-model series as merged)' })
    .option('unwinder', { type: 'string', choices: ['fp', 'orc', 'unsound'], default: 'fp', describe: 'reliable unwinder of the stack checks (unsound: frame pointers ignoring pt_regs, for experiments)' })
    .option('immediate', { type: 'boolean', describe: '4.12 only: enable the patch as immediate (no consistency model)' })
    .option('reliable-stacktrace', { type: 'boolean', default: true, describe: 'experiment: --no-reliable-stacktrace models an architecture without HAVE_RELIABLE_STACKTRACE (no stack checks; 4.12 refuses non-immediate patches)' })
    .option('kthread-patch-points', { type: 'boolean', default: false, describe: 'experiment (the 2016 seed\'s option 2b, in no release): kthreads switch at a designated point of their loops' })
    .option('cmdline', { type: 'string', default: DEFAULT_CMDLINE, describe: 'the kernel command line (scale=N lengthens the workload, nap=N keeps the knapper kthread asleep N ms)' })
    .option('jitter', { type: 'number', default: 200000, describe: 'timer interrupts arrive up to this many ns late, drawn from the seed (0: never)' });
}

export function kernelOf(args: CommonLivepatchArgs): KernelVersion {
  return args.kernel as KernelVersion;
}

export function experimentsOf(args: CommonLivepatchArgs): KernelExperiments {
  return { reliableStacktrace: args['reliable-stacktrace'] !== false, kthreadPatchPoints: args['kthread-patch-points'] === true };
}

/** How the experiments are named in output lines ('' when none is on). */
export function experimentsLabel(e: KernelExperiments): string {
  return `${e.reliableStacktrace ? '' : ', no reliable stacktrace'}${e.kthreadPatchPoints ? ', kthread patch points' : ''}`;
}

export function unwinderOf(args: CommonLivepatchArgs): LabUnwinder {
  return args.unwinder as LabUnwinder;
}

export function checkCommon(args: CommonLivepatchArgs): void {
  const refused = unsupportedCombination(kernelOf(args), unwinderOf(args), args.immediate);
  if (refused) throw new UserError(refused);
  if (!Number.isFinite(args.jitter) || args.jitter < 0) throw new UserError('--jitter takes a number of nanoseconds, 0 or more');
}

/** A time in virtual nanoseconds (= retired instructions): "40000000", "40ms", "1.5s". */
export function parseVirtualTime(value: string | number, option: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|ms|s)?\s*$/.exec(String(value));
  if (!m) throw new UserError(`${option} takes a virtual time: nanoseconds (instructions), or a number with ns, us, ms or s`);
  const scale = { ns: 1, us: 1e3, ms: 1e6, s: 1e9 }[(m[2] ?? 'ns') as 'ns' | 'us' | 'ms' | 's'];
  return Math.round(Number(m[1]) * scale);
}

/** A lab snapshot file (--snapshot), read whole; a missing file is the user's one-line error. */
export function readLabSnapshot(file: string): { bytes: Uint8Array; name: string } {
  try {
    return { bytes: fs.readFileSync(file), name: file };
  } catch (e) {
    throw new UserError(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file' : (e as Error).message}`);
  }
}

/** Writes an output file (chart, JSON) atomically; a failure is the user's one-line error. */
export function writeOutput(file: string, text: string | Uint8Array): void {
  try {
    writeFileAtomic(file, typeof text === 'string' ? Buffer.from(text) : text);
  } catch (e) {
    throw new UserError(`${file}: ${(e as Error).message}`);
  }
}
