// The options both studies share (livepatch study, unwind study): --jobs, --shard/--shards, and
// how a failure of the parallel study or of the shards becomes the user's one-line error.

import { ShardError, parseShard, type Shard } from '../../livepatch/study/shardSet';
import { StudyPoolError, defaultJobs } from '../../livepatch/study/workerPool';
import { UserError } from '../userError';

/** --jobs N (default: the number of CPUs). */
export function jobsOf(jobs: number | undefined): number {
  if (jobs === undefined) return defaultJobs();
  if (!Number.isInteger(jobs) || jobs < 1) throw new UserError('--jobs takes a positive whole number');
  return jobs;
}

/** --shard i/n | auto, with --shards N. */
export function shardOf(shard: string | undefined, shards: number | undefined): Shard {
  try {
    return parseShard(shard, shards);
  } catch (e) {
    if (e instanceof ShardError) throw new UserError(e.message);
    throw e;
  }
}

/** Worker, interruption and shard failures as one-line errors; anything else unchanged. */
export function studyFailure(e: unknown): unknown {
  if (e instanceof StudyPoolError) return new UserError(e.message, e.status);
  if (e instanceof ShardError) return new UserError(e.message);
  return e;
}
