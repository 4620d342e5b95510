// Shards of a study: --shard i/n and auto (from a Slurm job array's or a Kubernetes Indexed Job's
// environment), and the checks merge makes on a set of shard results.

import { checkSameStudy, checkShardSet, parseShard } from '../../livepatch/study/shardSet';

const slurm = (id: number, min: number, count: number, extra: Record<string, string> = {}) => ({
  SLURM_ARRAY_TASK_ID: String(id),
  SLURM_ARRAY_TASK_MIN: String(min),
  SLURM_ARRAY_TASK_MAX: String(min + count - 1),
  SLURM_ARRAY_TASK_COUNT: String(count),
  SLURM_ARRAY_TASK_STEP: '1',
  ...extra,
});

test('i/n and the whole study', () => {
  expect(parseShard(undefined, undefined, {})).toEqual([0, 1]);
  expect(parseShard('2/5', undefined, {})).toEqual([2, 5]);
  expect(() => parseShard('5/5', undefined, {})).toThrow('--shard takes i/n with 0 <= i < n');
  expect(() => parseShard('1/4', 4, {})).toThrow('--shards goes with --shard auto');
});

test('auto in a Slurm job array: the task id less the array minimum, of the task count', () => {
  expect(parseShard('auto', undefined, slurm(0, 0, 4))).toEqual([0, 4]);
  expect(parseShard('auto', undefined, slurm(13, 10, 4))).toEqual([3, 4]);
  expect(parseShard('auto', 4, slurm(12, 10, 4))).toEqual([2, 4]);
  expect(() => parseShard('auto', 8, slurm(1, 0, 4))).toThrow('--shards 8 but the Slurm array has 4 tasks');
  expect(() => parseShard('auto', undefined, slurm(2, 0, 2, { SLURM_ARRAY_TASK_STEP: '2', SLURM_ARRAY_TASK_MAX: '2' }))).toThrow('one range with step 1');
  expect(() => parseShard('auto', undefined, { SLURM_ARRAY_TASK_ID: '1' })).toThrow('SLURM_ARRAY_TASK_COUNT is not');
  expect(() => parseShard('auto', undefined, slurm(0, 0, 4, { SLURM_ARRAY_TASK_ID: 'x' }))).toThrow('SLURM_ARRAY_TASK_ID is not a whole number');
});

test('auto in a Kubernetes Indexed Job: the completion index, of --shards', () => {
  expect(parseShard('auto', 6, { JOB_COMPLETION_INDEX: '5' })).toEqual([5, 6]);
  expect(() => parseShard('auto', undefined, { JOB_COMPLETION_INDEX: '5' })).toThrow('needs --shards N');
  expect(() => parseShard('auto', 5, { JOB_COMPLETION_INDEX: '5' })).toThrow('JOB_COMPLETION_INDEX 5 is not below --shards 5');
});

test('auto outside a job array is refused', () => {
  expect(() => parseShard('auto', undefined, {})).toThrow('--shard auto needs a Slurm job array');
});

test('a shard set must be every shard once: missing and duplicated shards are named by number', () => {
  expect(() => checkShardSet([[0, 3], [1, 3], [2, 3]], ['a', 'b', 'c'])).not.toThrow();
  expect(() => checkShardSet([[2, 3], [0, 3], [1, 3]], ['a', 'b', 'c'])).not.toThrow();
  expect(() => checkShardSet([[0, 8], [4, 8]], ['a', 'b'])).toThrow('cannot merge: shards 1-3, 5-7 of 8 missing');
  expect(() => checkShardSet([[0, 3], [1, 3], [1, 3]], ['a', 'b', 'c'])).toThrow('cannot merge: shard 1/3 given 2 times (b, c); shard 2 of 3 missing');
});

test('shards of different studies are refused, naming the setting and the files', () => {
  const s = (seed: number, patch = 'p.o') => ({ seed, patch });
  expect(() => checkSameStudy([s(1), s(1)], ['a.json', 'b.json'], (p) => p)).not.toThrow();
  expect(() => checkSameStudy([s(1), s(2)], ['a.json', 'b.json'], (p) => p)).toThrow('b.json is not a shard of the same study as a.json: seed 2 vs 1');
  expect(() => checkSameStudy([s(1), s(1, 'q.o')], ['a.json', 'b.json'], (p) => p)).toThrow('patch q.o vs p.o');
});
