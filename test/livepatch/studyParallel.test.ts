// The worker pool from the TypeScript sources (as ts-jest runs them): the workers load the
// build's worker entry from dist/; the unwind study on 2 workers, and the livepatch study on this
// thread and a worker, equal the one-thread studies.

import * as fs from 'fs';
import * as path from 'path';
import { runLivepatchStudy as runLivepatchStudyOn, runUnwindStudy } from '../../livepatch/study/parallelStudy';
import { runStudy as runLivepatchStudy, type LivepatchStudyOptions } from '../../livepatch/study/livepatchStudy';
import { carriesCounts, workerEntryFile } from '../../livepatch/study/workerPool';
import { runStudy, type StudyOptions } from '../../livepatch/study/unwindStudy';
import { StoppedGuest } from '../../livepatch/observe/stoppedGuest';
import { REPO_ROOT } from '../helpers/fixtures';

const IMAGE = path.join(REPO_ROOT, 'fixtures', 'kernel', 'kernel.elf');
const bytes = new Uint8Array(fs.readFileSync(IMAGE));
const boot = () => new StoppedGuest(bytes, 'kernel.elf');

test('under ts-jest the pool starts the worker built in dist/', () => {
  expect(workerEntryFile()).toBe(path.join(REPO_ROOT, 'dist', 'livepatch', 'study', 'studyWorker.js'));
});

test('execution counts carry over between runs unless every core has a thread with 100 runs or fewer', () => {
  expect(carriesCounts(1, 48, 2)).toBe(true);
  expect(carriesCounts(2, 48, 2)).toBe(false);
  expect(carriesCounts(2, 200, 2)).toBe(false);
  expect(carriesCounts(2, 201, 2)).toBe(true);
  expect(carriesCounts(2, 1000, 2)).toBe(true);
  expect(carriesCounts(4, 400, 4)).toBe(false);
});

test('the unwind study on 2 workers equals the study in this thread', async () => {
  const opts: StudyOptions = { samples: 24, seed: 17, unwinders: ['fp', 'orc'], version: '6.1', shard: [0, 1], maxInsns: 2_000_000 };
  const here = runStudy(boot, 'kernel.elf', opts);
  const onWorkers = await runUnwindStudy(boot, bytes, 'kernel.elf', opts, 2);
  expect(here.stopPoints).toBe(24);
  expect(JSON.stringify(onWorkers)).toBe(JSON.stringify(here));
}, 120_000);

test('a larger unwind study, cut into more ranges than 4 per thread (this thread takes ranges too), equals the study in this thread', async () => {
  // 9,000 stop points: 9 ranges of at most 1,000, shared by this thread and one worker.
  const opts: StudyOptions = { samples: 9000, seed: 5, unwinders: ['fp'], version: '6.1', shard: [0, 1], maxInsns: 2_000_000 };
  const here = runStudy(boot, 'kernel.elf', opts);
  const onTwo = await runUnwindStudy(boot, bytes, 'kernel.elf', opts, 2);
  expect(here.stopPoints).toBe(9000);
  expect(JSON.stringify(onTwo)).toBe(JSON.stringify(here));
}, 120_000);

test('the livepatch study on 2 threads (this one and a worker) equals the study in this thread', async () => {
  const opts: LivepatchStudyOptions = {
    image: IMAGE, patch: path.join(REPO_ROOT, 'fixtures', 'livepatch', 'klp_chain_a2.o'), runs: 5, seed: 9, kernel: '6.1', unwinder: 'fp', immediate: false,
    cmdline: 'scale=2 nap=20000', window: [8e6, 20e6], jitterNs: 200000, maxWait: 30e9, shard: [0, 1],
  };
  const { hostSeconds: _a, ...here } = runLivepatchStudy(opts);
  const { hostSeconds: _b, ...onTwo } = await runLivepatchStudyOn(opts, 2);
  expect(here.perRun.map((r) => r.run)).toEqual([0, 1, 2, 3, 4]);
  expect(onTwo).toEqual(here);
}, 120_000);
