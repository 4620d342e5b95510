// `klp-lab livepatch study IMAGE PATCH.o --runs N [--seed S] [--kernel ...] [--unwinder fp|orc|unsound]
// [--immediate] [--json FILE] [--html FILE] [--shard i/n|auto] [--jobs N]`: the same patch in N
// runs, each at a seeded random instant with seeded interrupt timing, every run watched by the
// consistency checker; and `klp-lab livepatch merge FILE...` for the shards of one study.
// When IMAGE is real Linux, PATCH.ko is a module built for it: every run is restored from the
// booted scenario's snapshot and patched at a time of the window after it (realLinux.ts).

import * as fs from 'fs';
import type { CommandModule } from 'yargs';
import { LabError } from '../../../livepatch/guest/livepatchLab';
import { formatStudy, mergeStudies, parseStudyJson, shardRuns, studyJson, type LivepatchStudyResult } from '../../../livepatch/study/livepatchStudy';
import { livepatchStudyHtml } from '../../../livepatch/study/studyHtml';
import { runLivepatchStudy, setUpWith, startStudyWorkers } from '../../../livepatch/study/parallelStudy';
import { jobsOf, shardOf, studyFailure } from '../studyOptions';
import { UserError } from '../../userError';
import { studyTierDefaults } from '../../../emulator/jit/jitDefault';
import { checkCommon, experimentsOf, kernelOf, parseVirtualTime, readLabSnapshot, unwinderOf, withCommonOptions, writeOutput, type CommonLivepatchArgs } from './options';
import { LIVEPATCH_STATUS_VIOLATION } from './run';
import { isRealLinuxImage, refuseFixtureOptions, studyRealLinux } from './realLinux';
import { formatRealCost } from '../../../livepatch/linux/realStudy';

interface StudyArgs extends CommonLivepatchArgs {
  runs: number;
  seed?: number;
  from?: string;
  to?: string;
  'force-after'?: number;
  'max-wait'?: number;
  json?: string;
  shard?: string;
  shards?: number;
  jobs?: number;
  html?: string;
  progress?: boolean;
  snapshot?: string;
  'boot-once'?: boolean;
}

/** A shorter workload than the single run's: every run executes all of it. */
const STUDY_CMDLINE = 'scale=2 nap=20000';

export const livepatchStudyCommand: CommandModule<object, StudyArgs> = {
  command: 'study <image> <patch>',
  describe: 'apply PATCH.o in many seeded runs and count completions, times, signals, forces and consistency violations',
  builder: (y) =>
    withCommonOptions(y)
      .option('cmdline', { type: 'string', default: STUDY_CMDLINE, describe: 'the kernel command line' })
      .option('runs', { type: 'number', default: 100, describe: 'runs in the whole study (all shards)' })
      .option('seed', { type: 'number', describe: 'study seed (default: from the clock, printed)' })
      .option('from', { type: 'string', describe: 'patch times are drawn from [--from, --to) of virtual time (default 8ms; real Linux: 0, after the snapshot)' })
      .option('to', { type: 'string', describe: 'end of the patch-time window (default 20ms; real Linux: 200ms after the snapshot)' })
      .option('force-after', { type: 'number', describe: 'force transitions still running this many virtual seconds after they start' })
      .option('max-wait', { type: 'number', describe: 'virtual seconds to wait for each transition (default 30; real Linux: 3)' })
      .option('json', { type: 'string', describe: 'write the result as JSON (runs, completed, violations, seed, per-run outcomes)' })
      .option('shard', { type: 'string', describe: 'i/n: run only the runs k with k % n == i (merge the JSON files with klp-lab livepatch merge); auto: i and n from a Slurm job array or a Kubernetes Indexed Job' })
      .option('shards', { type: 'number', describe: 'with --shard auto in a Kubernetes Indexed Job: the number of shards (the Job\'s completions)' })
      .option('jobs', { type: 'number', describe: 'runs at a time, each on its own worker thread (default: the number of CPUs); the results do not depend on it' })
      .option('html', { type: 'string', describe: 'write a self-contained HTML report to this file' })
      .option('progress', { type: 'boolean', default: true, describe: 'show progress on stderr' })
      .option('boot-once', { type: 'boolean', describe: 'boot once to --from (jitter from the study seed) and start every run from that machine, as with --snapshot' })
      .option('snapshot', { type: 'string', describe: 'start every run from this lab snapshot (klp-lab livepatch --snapshot-save) instead of booting; each run\'s jitter is drawn from its seed after the snapshot' }),
  handler: async (args) => {
    checkCommon(args);
    if (!Number.isInteger(args.runs) || args.runs < 1) throw new UserError('--runs takes a positive integer');
    const shard = shardOf(args.shard, args.shards);
    const jobs = jobsOf(args.jobs);
    const real = isRealLinuxImage(args.image);
    const from = parseVirtualTime(args.from ?? (real ? '0' : '8ms'), '--from');
    const to = parseVirtualTime(args.to ?? (real ? '200ms' : '20ms'), '--to');
    if (!(to > from)) throw new UserError('--to must be later than --from');
    const maxWait = args['max-wait'] ?? (real ? 3 : 30);
    if (!(maxWait > 0)) throw new UserError('--max-wait takes a positive number of virtual seconds');
    if (real) {
      refuseFixtureOptions(args);
      if (args.snapshot !== undefined || args['boot-once']) throw new UserError('--snapshot, --boot-once: real Linux runs always start from the booted scenario\'s own cached snapshot');
      const seed = args.seed ?? Date.now() % 1_000_000;
      process.stderr.write(`livepatch study: seed ${seed} (--seed ${seed} repeats it)\n`);
      const forceAfter = args['force-after'] !== undefined ? args['force-after'] * 1e9 : undefined;
      const replay = ['klp-lab', 'livepatch', args.image, args.patch, '--jitter', String(args.jitter), '--max-wait', String(maxWait)];
      if (args['force-after'] !== undefined) replay.push('--force-after', String(args['force-after']));
      try {
        await studyRealLinux({
          image: args.image, patch: args.patch, runs: args.runs, seed, window: [from, to], jitter: args.jitter, forceAfter, maxWait: maxWait * 1e9,
          shard, json: args.json, html: args.html, progress: args.progress === true && process.stderr.isTTY, replay, jobs,
        });
      } catch (e) {
        throw studyFailure(e);
      }
      return;
    }
    if (args['boot-once'] && args.snapshot !== undefined) throw new UserError('--boot-once and --snapshot exclude each other');
    // Before any worker starts: they inherit the environment it is set through.
    studyTierDefaults();
    // The workers load their modules while this thread reads the inputs (and boots, with --boot-once).
    const early = startStudyWorkers({ kind: 'livepatch' }, shardRuns({ runs: args.runs, shard }).length, jobs);
    const snapshot = setUpWith(early, () => (args.snapshot !== undefined ? readLabSnapshot(args.snapshot) : undefined));
    const seed = args.seed ?? Date.now() % 1_000_000;
    process.stderr.write(`livepatch study: seed ${seed} (--seed ${seed} repeats it)\n`);
    let result: LivepatchStudyResult;
    try {
      result = await runLivepatchStudy({
        image: args.image,
        patch: args.patch,
        runs: args.runs,
        seed,
        kernel: kernelOf(args),
        unwinder: unwinderOf(args),
        immediate: args.immediate === true,
        experiments: experimentsOf(args),
        cmdline: args.cmdline,
        window: [from, to],
        jitterNs: args.jitter,
        forceAfter: args['force-after'] !== undefined ? args['force-after'] * 1e9 : undefined,
        maxWait: maxWait * 1e9,
        shard,
        snapshot,
        bootOnce: args['boot-once'] === true,
        onProgress: args.progress && process.stderr.isTTY
          ? (done, total, o) => process.stderr.write(`\r  run ${done}/${total}${o.violations ? ', violation found' : ''}   `)
          : undefined,
      }, jobs, early);
    } catch (e) {
      if (e instanceof LabError) throw new UserError(e.message);
      throw studyFailure(e);
    }
    if (args.progress && process.stderr.isTTY) process.stderr.write('\n');
    process.stdout.write(formatStudy(result));
    if (args.json) writeOutput(args.json, studyJson(result));
    if (args.html) writeOutput(args.html, livepatchStudyHtml(result, replayBase(result)));
    if (result.violations > 0) process.exitCode = LIVEPATCH_STATUS_VIOLATION;
  },
};

/** `klp-lab livepatch` with the options that fix a run's behaviour (the report adds --at and --seed). */
function replayBase(r: LivepatchStudyResult): string[] {
  const words = ['klp-lab', 'livepatch', r.image, r.patch, '--kernel', r.kernel, '--unwinder', r.unwinder];
  if (r.immediate) words.push('--immediate');
  words.push('--cmdline', r.cmdline, '--jitter', String(r.jitterNs));
  if (r.forceAfter !== null && r.forceAfter !== undefined) words.push('--force-after', String(r.forceAfter / 1e9));
  return words;
}

export const livepatchMergeCommand: CommandModule<object, { files: string[]; json?: string; html?: string }> = {
  command: 'merge <files..>',
  describe: 'merge the JSON results of the shards of one study (each shard exactly once)',
  builder: (y) =>
    y
      .positional('files', { type: 'string', array: true, demandOption: true, describe: 'JSON files written by livepatch study --json' })
      .option('json', { type: 'string', describe: 'write the merged result as JSON' })
      .option('html', { type: 'string', describe: 'write a self-contained HTML report of the merged study' }),
  handler: (args) => {
    const parts = args.files.map((f) => {
      let text: string;
      try { text = fs.readFileSync(f, 'utf8'); } catch { throw new UserError(`${f}: No such file`); }
      try { return parseStudyJson(text, f); } catch (e) { throw new UserError((e as Error).message); }
    });
    let merged: LivepatchStudyResult;
    try { merged = mergeStudies(parts, args.files); } catch (e) { throw new UserError((e as Error).message); }
    process.stdout.write(formatStudy(merged) + formatRealCost(merged));
    if (args.json) writeOutput(args.json, studyJson(merged));
    if (args.html) writeOutput(args.html, livepatchStudyHtml(merged, replayBase(merged)));
    if (merged.violations > 0) process.exitCode = LIVEPATCH_STATUS_VIOLATION;
  },
};
