// The worker pool from the TypeScript sources (as ts-jest runs them): the workers load the
// build's worker entry from dist/, and the unwind study on 2 workers equals the one-thread study.

import * as fs from 'fs';
import * as path from 'path';
import { runUnwindStudy } from '../../livepatch/study/parallelStudy';
import { workerEntryFile } from '../../livepatch/study/workerPool';
import { runStudy, type StudyOptions } from '../../livepatch/study/unwindStudy';
import { StoppedGuest } from '../../livepatch/observe/stoppedGuest';
import { REPO_ROOT } from '../helpers/fixtures';

const IMAGE = path.join(REPO_ROOT, 'fixtures', 'kernel', 'kernel.elf');
const bytes = new Uint8Array(fs.readFileSync(IMAGE));
const boot = () => new StoppedGuest(bytes, 'kernel.elf');

test('under ts-jest the pool starts the worker built in dist/', () => {
  expect(workerEntryFile()).toBe(path.join(REPO_ROOT, 'dist', 'livepatch', 'study', 'studyWorker.js'));
});

test('the unwind study on 2 workers equals the study in this thread', async () => {
  const opts: StudyOptions = { samples: 24, seed: 17, unwinders: ['fp', 'orc'], version: '6.1', shard: [0, 1], maxInsns: 2_000_000 };
  const here = runStudy(boot, 'kernel.elf', opts);
  const onWorkers = await runUnwindStudy(boot, bytes, 'kernel.elf', opts, 2);
  expect(here.stopPoints).toBe(24);
  expect(JSON.stringify(onWorkers)).toBe(JSON.stringify(here));
}, 120_000);
