// `klp-lab livepatch study IMAGE PATCH.o --runs N [--seed S] [--kernel ...] [--unwinder fp|orc|unsound]
// [--immediate] [--json FILE] [--shard i/n]`: the same patch in N runs, each at a seeded random
// instant with seeded interrupt timing, every run watched by the consistency checker; and
// `klp-lab livepatch merge FILE...` for shards.

import * as fs from 'fs';
import type { CommandModule } from 'yargs';
import { LabError } from '../../../livepatch/guest/livepatchLab';
import { formatStudy, mergeStudies, parseStudyJson, runStudy, studyJson, type LivepatchStudyResult } from '../../../livepatch/study/livepatchStudy';
import { UserError } from '../../userError';
import { checkCommon, experimentsOf, kernelOf, parseVirtualTime, unwinderOf, withCommonOptions, writeOutput, type CommonLivepatchArgs } from './options';
import { LIVEPATCH_STATUS_VIOLATION } from './run';

interface StudyArgs extends CommonLivepatchArgs {
  runs: number;
  seed?: number;
  from: string;
  to: string;
  'force-after'?: number;
  'max-wait': number;
  json?: string;
  shard?: string;
  progress?: boolean;
}

/** A shorter workload than the single run's: every run executes all of it. */
const STUDY_CMDLINE = 'scale=2 nap=20000';

function parseShard(s: string | undefined): [number, number] {
  if (s === undefined) return [0, 1];
  const m = /^(\d+)\/(\d+)$/.exec(s);
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) throw new UserError('--shard takes i/n with 0 <= i < n (e.g. 0/4)');
  return [Number(m[1]), Number(m[2])];
}

export const livepatchStudyCommand: CommandModule<object, StudyArgs> = {
  command: 'study <image> <patch>',
  describe: 'apply PATCH.o in many seeded runs and count completions, times, signals, forces and consistency violations',
  builder: (y) =>
    withCommonOptions(y)
      .option('cmdline', { type: 'string', default: STUDY_CMDLINE, describe: 'the kernel command line' })
      .option('runs', { type: 'number', default: 100, describe: 'runs in the whole study (all shards)' })
      .option('seed', { type: 'number', describe: 'study seed (default: from the clock, printed)' })
      .option('from', { type: 'string', default: '8ms', describe: 'patch times are drawn from [--from, --to) of virtual time' })
      .option('to', { type: 'string', default: '20ms', describe: 'end of the patch-time window' })
      .option('force-after', { type: 'number', describe: 'force transitions still running this many virtual seconds after they start' })
      .option('max-wait', { type: 'number', default: 30, describe: 'virtual seconds to wait for each transition' })
      .option('json', { type: 'string', describe: 'write the result as JSON (runs, completed, violations, seed, per-run outcomes)' })
      .option('shard', { type: 'string', describe: 'i/n: run only the runs k with k % n == i (merge the JSON files with klp-lab livepatch merge)' })
      .option('progress', { type: 'boolean', default: true, describe: 'show progress on stderr' }),
  handler: (args) => {
    checkCommon(args);
    if (!Number.isInteger(args.runs) || args.runs < 1) throw new UserError('--runs takes a positive integer');
    const shard = parseShard(args.shard);
    const from = parseVirtualTime(args.from, '--from');
    const to = parseVirtualTime(args.to, '--to');
    if (!(to > from)) throw new UserError('--to must be later than --from');
    const seed = args.seed ?? Date.now() % 1_000_000;
    process.stderr.write(`livepatch study: seed ${seed} (--seed ${seed} repeats it)\n`);
    let result: LivepatchStudyResult;
    try {
      result = runStudy({
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
        maxWait: args['max-wait'] * 1e9,
        shard,
        onProgress: args.progress && process.stderr.isTTY
          ? (done, total, o) => process.stderr.write(`\r  run ${done}/${total}${o.violations ? ', violation found' : ''}   `)
          : undefined,
      });
    } catch (e) {
      if (e instanceof LabError) throw new UserError(e.message);
      throw e;
    }
    if (args.progress && process.stderr.isTTY) process.stderr.write('\n');
    process.stdout.write(formatStudy(result));
    if (args.json) writeOutput(args.json, studyJson(result));
    if (result.violations > 0) process.exitCode = LIVEPATCH_STATUS_VIOLATION;
  },
};

export const livepatchMergeCommand: CommandModule<object, { files: string[]; json?: string }> = {
  command: 'merge <files..>',
  describe: 'merge the JSON results of study shards (or of studies with the same settings)',
  builder: (y) =>
    y
      .positional('files', { type: 'string', array: true, demandOption: true, describe: 'JSON files written by livepatch study --json' })
      .option('json', { type: 'string', describe: 'write the merged result as JSON' }),
  handler: (args) => {
    const parts = args.files.map((f) => {
      let text: string;
      try { text = fs.readFileSync(f, 'utf8'); } catch { throw new UserError(`${f}: No such file`); }
      try { return parseStudyJson(text, f); } catch (e) { throw new UserError((e as Error).message); }
    });
    let merged: LivepatchStudyResult;
    try { merged = mergeStudies(parts); } catch (e) { throw new UserError((e as Error).message); }
    process.stdout.write(formatStudy(merged));
    if (args.json) writeOutput(args.json, studyJson(merged));
    if (merged.violations > 0) process.exitCode = LIVEPATCH_STATUS_VIOLATION;
  },
};
