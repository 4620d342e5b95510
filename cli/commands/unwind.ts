// `klp-lab unwind IMAGE --at N`: boots a fixture kernel with ground truth on, stops it after N
// instructions and prints, for every task, the ground truth beside each unwinder's reliable trace
// and verdict. `klp-lab unwind study IMAGE`: the same at many random stop points, counted.
// A real Linux vmlinux runs the lab initramfs's workload scenario instead, from a booted snapshot
// (livepatch/observe/linuxWorkload.ts); its stop points lie after the snapshot.

import * as fs from 'fs';
import { JIT_OPTION, applyJitOption } from '../../emulator/jit/jitDefault';
import type { CommandModule } from 'yargs';
import { formatStudy, mergeStudies, parseStudyJson, studyJson, studySvg, type StudyOptions, type StudyResult } from '../../livepatch/study/unwindStudy';
import { GuestSetupError, StoppedGuest } from '../../livepatch/observe/stoppedGuest';
import { StackInspector, type UnwinderName } from '../../livepatch/unwind/stackInspector';
import { formatTaskUnwind } from '../../livepatch/unwind/traceFormat';
import type { ReliableVersion } from '../../livepatch/unwind/reliableStackTrace';
import { BootError } from '../../emulator/loader/pvh';
import { UserError } from '../userError';
import { writeOutput } from './livepatch/options';
import { jobsOf, shardOf, studyFailure } from './studyOptions';
import { runUnwindStudy, setUpWith, startStudyWorkers } from '../../livepatch/study/parallelStudy';
import { LINUX_STUDY_INSNS, WorkloadGuests, isLinuxImage, workloadSnapshot } from '../../livepatch/observe/linuxWorkload';
import { labInitramfs } from '../../livepatch/linux/labInitramfs';
import { PackageError } from '../../livepatch/linux/debianPackages';
import { ElfFile } from '../../elf/elfFile';
import { ElfError } from '../../elf/elfError';
import { unwindStudyHtml } from '../../livepatch/study/studyHtml';

interface AtArgs {
  image: string;
  at: number;
  unwinder: string;
  kernel: string;
}

interface StudyArgs {
  image: string;
  samples: number;
  seed?: number;
  unwinder: string;
  kernel: string;
  json?: string;
  svg?: string;
  shard?: string;
  shards?: number;
  jobs?: number;
  html?: string;
  progress?: boolean;
  'max-insns'?: number;
}

/** 'auto': the unwinder the image was built for (ORC when it has .orc_unwind tables). */
function unwinders(u: string, g: { image: { orc: unknown } }): UnwinderName[] {
  if (u === 'auto') return g.image.orc !== null ? ['orc'] : ['fp'];
  return u === 'all' ? ['fp', 'orc'] : [u as UnwinderName];
}

/** Real Linux: the image's workload snapshot (booted the first time, then cached), or null for another image. */
function linuxGuests(image: string, progress: boolean): WorkloadGuests | null {
  let elf: ElfFile;
  try {
    elf = ElfFile.read(image);
  } catch (e) {
    if (e instanceof ElfError) throw new UserError(e.message);
    throw new UserError(`${image}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file' : (e as Error).message}`);
  }
  if (!isLinuxImage(elf)) return null;
  try {
    const initramfs = labInitramfs(image).path;
    if (progress) process.stderr.write(`${image}: real Linux; the workload's booted snapshot (the first time a boot of some minutes)\n`);
    const snap = workloadSnapshot(image, initramfs);
    return new WorkloadGuests(image, snap.file);
  } catch (e) {
    if (e instanceof PackageError || e instanceof GuestSetupError || e instanceof ElfError) throw new UserError(e.message.split('\n')[0]);
    throw e;
  }
}

function boot(image: string): StoppedGuest {
  const bytes = new Uint8Array(fs.readFileSync(image));
  try {
    return new StoppedGuest(bytes, image);
  } catch (e) {
    if (e instanceof GuestSetupError) throw new UserError(e.message);
    if (e instanceof BootError) throw new UserError(e.message);
    throw e;
  }
}

const atCommand: CommandModule<object, AtArgs> = {
  command: '$0 <image>',
  describe: 'stop the guest after N instructions and unwind every task',
  builder: (y) =>
    y
      .positional('image', { type: 'string', demandOption: true, describe: 'fixture kernel ELF (PVH), or a Debian 6.1 vmlinux' })
      .option('at', { type: 'number', demandOption: true, describe: 'retired instructions before the stop' })
      .option('unwinder', { choices: ['auto', 'fp', 'orc', 'all'], default: 'auto', describe: "which unwinders (auto: ORC if the image has ORC tables, else frame pointers)" })
      .option('kernel', { type: 'string', choices: ['6.1', '4.12'], default: '6.1', describe: 'reliable stack trace rules of this kernel' }),
  handler: (args) => {
    if (!(args.at >= 0) || !Number.isInteger(args.at)) throw new UserError(`--at must be a whole number of instructions, not ${args.at}`);
    const linux = linuxGuests(args.image, process.stderr.isTTY);
    const g = linux !== null ? linux.restore() : boot(args.image);
    if (args.at < g.at) throw new UserError(`${args.image}: the workload's snapshot is at instruction ${g.at}; --at must not be before it`);
    if (!g.runTo(args.at)) throw new UserError(`${args.image}: the guest did not reach instruction ${args.at}: ${g.stopText()}`);
    const names = unwinders(args.unwinder, g);
    const insp = new StackInspector(g.view, g.image, names, args.kernel as ReliableVersion);
    const out: string[] = [`${args.image}: stopped after ${g.at} instructions (kernel ${args.kernel} rules)`];
    if (g.image.orc === null && names.includes('orc')) out.push('note: the image has no ORC tables, so the ORC unwinder cannot start (orc_init false)');
    for (const t of insp.unwindAll(g.truth)) out.push('', formatTaskUnwind(t, g.image.kallsyms));
    process.stdout.write(out.join('\n') + '\n');
  },
};

const studyCommand: CommandModule<object, StudyArgs> = {
  command: 'study <image>',
  describe: 'unwind every task at many random stop points and count verdicts against the ground truth',
  builder: (y) =>
    y
      .positional('image', { type: 'string', demandOption: true, describe: 'fixture kernel ELF (PVH), or a Debian 6.1 vmlinux' })
      .option('samples', { type: 'number', default: 1000, describe: 'number of stop points' })
      .option('seed', { type: 'number', describe: 'random seed (printed; default: time-based)' })
      .option('unwinder', { choices: ['auto', 'fp', 'orc', 'all'], default: 'auto', describe: 'which unwinders (auto: the one the image was built for)' })
      .option('kernel', { type: 'string', choices: ['6.1', '4.12'], default: '6.1', describe: 'reliable stack trace rules of this kernel' })
      .option('json', { type: 'string', describe: 'write the counts as JSON to this file' })
      .option('svg', { type: 'string', describe: 'write a chart of the verdicts as SVG to this file' })
      .option('shard', { type: 'string', describe: 'i/n: take every n-th sample starting at i; auto: i and n from a Slurm job array or a Kubernetes Indexed Job' })
      .option('shards', { type: 'number', describe: 'with --shard auto in a Kubernetes Indexed Job: the number of shards (the Job\'s completions)' })
      .option('jobs', { type: 'number', describe: 'worker threads (default: the number of CPUs); the results do not depend on it' })
      .option('html', { type: 'string', describe: 'write a self-contained HTML report to this file' })
      .option('progress', { type: 'boolean', default: true, describe: 'show progress on stderr' })
      .option('max-insns', { type: 'number', describe: 'stop points lie in [1, this) (default: the whole run; real Linux: 1e9 instructions after the workload snapshot)' }),
  handler: async (args) => {
    const shard = shardOf(args.shard, args.shards);
    const jobs = jobsOf(args.jobs);
    if (!(args.samples > 0) || !Number.isInteger(args.samples)) throw new UserError('--samples must be a positive whole number');
    const seed = args.seed ?? (Date.now() % 2147483647);
    const showProgress = args.progress === true && process.stderr.isTTY;
    const linux = linuxGuests(args.image, showProgress);
    // A fixture study's workers load their modules while this thread finds the study's length.
    const early = linux === null ? startStudyWorkers({ kind: 'unwind' }, args.samples, jobs) : undefined;
    const probe = setUpWith(early, () => linux ?? boot(args.image));
    const opts: StudyOptions = {
      samples: args.samples,
      seed,
      unwinders: unwinders(args.unwinder, probe),
      version: args.kernel as ReliableVersion,
      shard,
      maxInsns: args['max-insns'],
      progress: args.progress && process.stderr.isTTY ? (done, total) => process.stderr.write(`\rstudy: ${done}/${total} stop points`) : undefined,
    };
    if (linux !== null) {
      opts.origin = linux.instructions;
      opts.maxInsns = args['max-insns'] ?? LINUX_STUDY_INSNS;
      opts.predictions = {};
    }
    let result: StudyResult;
    try {
      result = linux !== null
        ? await runUnwindStudy(() => linux.restore(), linux.bytes, args.image, opts, jobs, linux.snapshotFile)
        : await runUnwindStudy(() => boot(args.image), probe.bytes, args.image, opts, jobs, undefined, early);
    } catch (e) {
      throw studyFailure(e);
    }
    if (args.progress && process.stderr.isTTY) process.stderr.write('\n');
    process.stdout.write(formatStudy(result) + '\n');
    writeOutputs(result, args.json, args.svg, args.html);
  },
};

/** `klp-lab unwind IMAGE` with the study's rules (the report adds --at). */
function replayBase(r: StudyResult): string[] {
  const names = Object.keys(r.unwinders);
  return ['klp-lab', 'unwind', r.image, '--unwinder', names.length > 1 ? 'all' : names[0] ?? 'auto', '--kernel', r.version];
}

function writeOutputs(result: StudyResult, json?: string, svg?: string, html?: string): void {
  if (html) writeOutput(html, unwindStudyHtml(result, replayBase(result)));
  if (json) writeOutput(json, JSON.stringify(studyJson(result), null, 2) + '\n');
  if (svg) writeOutput(svg, studySvg(result));
}

interface MergeArgs {
  files: string[];
  json?: string;
  svg?: string;
  html?: string;
}

const mergeCommand: CommandModule<object, MergeArgs> = {
  command: 'merge <files..>',
  describe: 'merge the JSON results of the shards of one study (each shard exactly once) into one report',
  builder: (y) =>
    y
      .positional('files', { type: 'string', array: true, demandOption: true, describe: 'study JSON files' })
      .option('json', { type: 'string', describe: 'write the merged counts as JSON to this file' })
      .option('svg', { type: 'string', describe: 'write a chart of the merged verdicts as SVG' })
      .option('html', { type: 'string', describe: 'write a self-contained HTML report of the merged study' }),
  handler: (args) => {
    const parts = args.files.map((f) => {
      try {
        return parseStudyJson(fs.readFileSync(f, 'utf8'), f);
      } catch (e) {
        throw new UserError(e instanceof SyntaxError ? `${f}: not JSON (${e.message})` : (e as Error).message);
      }
    });
    let merged: StudyResult;
    try {
      merged = mergeStudies(parts, args.files);
    } catch (e) {
      throw new UserError((e as Error).message);
    }
    process.stdout.write(formatStudy(merged) + '\n');
    writeOutputs(merged, args.json, args.svg, args.html);
  },
};

export const unwindCommand: CommandModule<object, object> = {
  command: 'unwind',
  describe: 'unwind the tasks of a stopped fixture kernel with the frame-pointer and ORC unwinders',
  builder: (y) => y.option('jit', JIT_OPTION).middleware(applyJitOption).command(studyCommand).command(mergeCommand).command(atCommand),
  handler: () => undefined,
};
