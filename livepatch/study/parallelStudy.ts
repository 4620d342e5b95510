// `--jobs N` for both studies: the same tasks as the one-thread study, run by the worker pool and
// assembled in task order, so that the result equals the one-thread result except host time.

import { readImage } from '../run/patchRun';
import { runStudy as runLivepatchStudyHere, shardRuns, studyResult, studySettings, type LivepatchStudyOptions, type LivepatchStudyResult, type RunOutcome } from './livepatchStudy';
import { EarlyWorkers, runPool, sharedBytes, sharedCopy } from './workerPool';
import type { EarlyInit, RealLivepatchWorkerSettings, UnwindWorkerSettings } from './studyTasks';
import type { RealLab } from '../linux/realPatchRun';
import { realStudyResult, runRealStudy, type RealStudyOptions } from '../linux/realStudy';
import { addStudyPart, emptyStudy, loadObjtoolWarnings, runStudy as runUnwindStudyHere, stopPoints, studyLength, type StudyOptions, type StudyResult } from './unwindStudy';
import type { StoppedGuest } from '../observe/stoppedGuest';

/**
 * The workers of a study of `tasks` tasks on `jobs` threads (none for one thread), started before
 * the study is set up so that they load their modules (and parse the vmlinux, EarlyInit) meanwhile.
 * A fixture study's main thread is one of its threads (it runs tasks too, runPool `runHere`); a
 * real-kernel livepatch study's runs all go to workers.
 */
export function startStudyWorkers(early: EarlyInit, tasks: number, jobs: number): EarlyWorkers | undefined {
  const threads = Math.min(jobs, tasks);
  if (threads <= 1) return undefined;
  return new EarlyWorkers(early.kind === 'real-livepatch' ? threads : threads - 1, early);
}

/** Runs a study's set-up; workers started early are stopped when it fails. */
export function setUpWith<T>(early: EarlyWorkers | undefined, setUp: () => T): T {
  try {
    return setUp();
  } catch (e) {
    early?.stop();
    throw e;
  }
}

/** The livepatch study on `jobs` threads (1: in this thread), with workers started early or not. */
export async function runLivepatchStudy(opts: LivepatchStudyOptions, jobs: number, early?: EarlyWorkers): Promise<LivepatchStudyResult> {
  if (jobs <= 1) {
    early?.stop();
    return runLivepatchStudyHere(opts);
  }
  const started = Date.now();
  const bytes = readImage(opts.image);
  const runs = shardRuns(opts);
  const perRun = await runPool<number, RunOutcome>({
    jobs,
    init: { kind: 'livepatch', settings: studySettings(opts, bytes), image: sharedBytes(bytes) },
    payloads: runs,
    // A run takes a fraction of a second: this thread takes runs too, and starts at once.
    runHere: true,
    early,
    onResult: (done, total, outcome) => opts.onProgress?.(done, total, outcome),
  });
  return studyResult(opts, perRun, (Date.now() - started) / 1000);
}

/**
 * Real Linux's livepatch study on `jobs` threads (1: in this thread). The main thread has the lab
 * ready (initramfs, booted snapshot); its snapshot, unpacked once, goes to the workers in shared
 * memory, so a worker neither reads nor unpacks it again, and N workers hold one copy of its bytes.
 */
export async function runRealLivepatchStudy(lab: RealLab, opts: RealStudyOptions, jobs: number, early?: EarlyWorkers): Promise<LivepatchStudyResult> {
  if (jobs <= 1) {
    early?.stop();
    return runRealStudy(lab, opts);
  }
  const started = Date.now();
  const { image: _image, snapshot, ...labSettings } = lab;
  const { onProgress: _progress, ...options } = opts;
  const settings: RealLivepatchWorkerSettings = { lab: labSettings, options };
  const perRun = await runPool<number, RunOutcome>({
    jobs,
    init: { kind: 'real-livepatch', settings, snapshot: sharedCopy(snapshot.decoded) },
    payloads: shardRuns(opts),
    early,
    onResult: (done, total, outcome) => opts.onProgress?.(done, total, outcome),
  });
  return realStudyResult(lab, opts, perRun, (Date.now() - started) / 1000);
}

/** Stop points in one range when this thread takes ranges too (about 0.1 s of the fixture kernel's). */
const MAX_RANGE_HERE = 1000;

/**
 * The unwind study on `jobs` threads (1: in this thread). The shard's stop points are cut into
 * consecutive ranges, several per worker so that a slow range does not hold the others up; each
 * worker runs its guest forward through the ranges it gets, and the parts add up in order.
 */
export async function runUnwindStudy(boot: () => StoppedGuest, bytes: Uint8Array, image: string, opts: StudyOptions, jobs: number,
  linuxSnapshot?: string, early?: EarlyWorkers): Promise<StudyResult> {
  if (jobs <= 1) {
    early?.stop();
    return runUnwindStudyHere(boot, image, opts);
  }
  const maxInsns = studyLength(boot, opts.maxInsns);
  const points = stopPoints(opts.samples, opts.seed, maxInsns, opts.shard, opts.origin ?? 0);
  // The fixture kernel's study runs ranges in this thread too, whose emulator is warm from finding
  // the study's length: ranges of at most MAX_RANGE_HERE stop points then keep Ctrl-C prompt.
  const here = linuxSnapshot === undefined;
  const rangeCount = Math.min(points.length, Math.max(jobs * 4, here ? Math.ceil(points.length / MAX_RANGE_HERE) : 0));
  const ranges: number[][] = [];
  for (let r = 0; r < rangeCount; r++) {
    ranges.push(points.slice(Math.floor((r * points.length) / rangeCount), Math.floor(((r + 1) * points.length) / rangeCount)));
  }
  const { progress: _, ...options } = opts;
  const settings: UnwindWorkerSettings = { image, options, maxInsns, ...(linuxSnapshot !== undefined ? { linuxSnapshot } : {}) };
  let taken = 0;
  const parts = await runPool<number[], StudyResult>({
    jobs,
    init: { kind: 'unwind', settings, image: sharedBytes(bytes) },
    payloads: ranges,
    runHere: here,
    early,
    onResult: (_done, _total, part) => {
      taken += part.stopPoints;
      opts.progress?.(taken, points.length);
    },
  });
  const result = emptyStudy(image, opts, maxInsns, opts.predictions ?? loadObjtoolWarnings());
  for (const part of parts) addStudyPart(result, part);
  return result;
}
