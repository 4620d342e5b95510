// The tasks of a parallel study, as a worker thread (studyWorker.ts) or the main thread runs them
// (see workerPool.ts): made once from the study's read-only inputs (WorkerInit), then given one
// task at a time, each answered with its result or why it failed.
// - 'livepatch': a task is one run k of the livepatch study; the reply is its RunOutcome.
// - 'unwind': a task is a range of ascending stop points; the reply is their verdicts. The
//   runner keeps one guest and runs it only forward, since the pool hands out ranges in order.
// - 'real-livepatch': a task is one run k of a real-kernel livepatch study, restored from the
//   booted snapshot that the main thread unpacked into shared memory; the reply is its outcome.
//
// Each kind loads only the modules it needs (a `require` when the runner is made, not at the top of
// this file): a worker thread loads its modules itself, and every one it skips is start-up time saved.
/* eslint-disable @typescript-eslint/no-var-requires */

import type { DecodedSnapshot } from '../../emulator/snapshot/snapshotFormat';
import type { LinuxImage } from '../linux/linuxGuest';
import type { RealLab } from '../linux/realPatchRun';
import type { RealStudyOptions } from '../linux/realStudy';
import type { StackInspector } from '../unwind/stackInspector';
import type { StoppedGuest } from '../observe/stoppedGuest';
import type { WorkloadGuests } from '../observe/linuxWorkload';
import type { StudySettings } from './livepatchStudy';
import type { StudyOptions } from './unwindStudy';
import { LabError } from '../guest/labError';
import { BootError } from '../../emulator/loader/pvh';
import { ElfError } from '../../elf/elfFile';
import { SnapshotError } from '../../emulator/snapshot/snapshotError';
import { adoptExecCounts, carryExecCounts } from '../../emulator/jit/sharedCode';

/** What the runners are made from (the worker's workerData). */
export interface WorkerInit {
  kind: 'livepatch' | 'unwind' | 'real-livepatch';
  settings: unknown;
  /** The image's bytes (the fixture kernel's studies, real Linux's unwind study). */
  image?: SharedArrayBuffer;
  /** Real Linux's livepatch study: the booted snapshot, unpacked once, its bytes in shared memory. */
  snapshot?: DecodedSnapshot;
  /** The study's execution counts of guest code, which every thread adds to (emulator/jit/sharedCode.ts). */
  execCounts?: SharedArrayBuffer;
  /** Whether they carry over between machines (not when the study's threads fill every core). */
  carryCounts?: boolean;
}

/**
 * What a worker started before the study's inputs are ready can do meanwhile (workerPool.ts
 * EarlyWorkers): every kind loads its modules, and a real-kernel livepatch worker parses the
 * vmlinux while the main thread sets the lab up. (A fixture unwind worker that also ran the guest to
 * its end meanwhile, to have its emulator warm, made the 100k-point study slower: 2.67 against 2.54 s.)
 */
export type EarlyInit =
  | { kind: 'real-livepatch'; vmlinux: string }
  | { kind: 'livepatch' }
  | { kind: 'unwind' };

/** What an early worker made, for its runner: the parsed vmlinux (real-kernel livepatch). */
export interface Prepared {
  vmlinux: string;
  image: LinuxImage;
}

/** Does what an early worker can do before its inputs come. */
export function prepareEarly(early: EarlyInit): Prepared | undefined {
  switch (early.kind) {
    case 'real-livepatch': {
      const { LinuxImage: Image } = require('../linux/linuxGuest') as typeof import('../linux/linuxGuest');
      require('../linux/realStudy');
      return { vmlinux: early.vmlinux, image: new Image(early.vmlinux) };
    }
    case 'livepatch':
      require('./livepatchStudy');
      return undefined;
    case 'unwind':
      require('./unwindStudy');
      require('../unwind/stackInspector');
      require('../observe/stoppedGuest');
      return undefined;
  }
}

/** A task's result, or why it failed (one line; `userError` when the study's inputs are at fault). */
export type WorkerReply = { task: number; result: unknown } | { task: number; error: string; userError: boolean };

/** What an unwind-study worker is started with (besides the image bytes). */
export interface UnwindWorkerSettings {
  image: string;
  options: Omit<StudyOptions, 'progress'>;
  maxInsns: number;
  /** real Linux: the workload's booted snapshot, which each worker restores (image = the vmlinux) */
  linuxSnapshot?: string;
}

/** What a real-kernel livepatch worker is started with (besides the unpacked snapshot). */
export interface RealLivepatchWorkerSettings {
  /** The lab without its parsed image and opened snapshot, which each worker makes for itself. */
  lab: Omit<RealLab, 'image' | 'snapshot'>;
  options: Omit<RealStudyOptions, 'onProgress'>;
}

/** Runs one task's payload; the runner keeps what it made between tasks. */
export type TaskRunner = (payload: unknown) => unknown;

interface Runner {
  run: TaskRunner;
  /** Errors that come from the study's inputs (files, images, modules), not from klp-lab itself. */
  isInputError: (e: unknown) => boolean;
}

/** The input errors every kind can meet: the image, the patch module, the snapshot. */
function isCommonInputError(e: unknown): boolean {
  return e instanceof LabError || e instanceof BootError || e instanceof ElfError || e instanceof SnapshotError;
}

function livepatchRunner(settings: StudySettings, bytes: Uint8Array): Runner {
  const { runOne } = require('./livepatchStudy') as typeof import('./livepatchStudy');
  return { run: (payload) => runOne(settings, payload as number, bytes), isInputError: isCommonInputError };
}

function unwindRunner(settings: UnwindWorkerSettings, bytes: Uint8Array): Runner {
  const { emptyStudy, takeStopPoints } = require('./unwindStudy') as typeof import('./unwindStudy');
  const { StackInspector: Inspector } = require('../unwind/stackInspector') as typeof import('../unwind/stackInspector');
  const { GuestSetupError, StoppedGuest: Guest } = require('../observe/stoppedGuest') as typeof import('../observe/stoppedGuest');
  let guest: StoppedGuest | null = null;
  let inspector: StackInspector | null = null;
  let linux: WorkloadGuests | null = null;
  const run: TaskRunner = (payload) => {
    const points = payload as number[];
    // A fresh guest when none is running yet or the range starts behind it (never, in order).
    if (guest === null || inspector === null || (points.length > 0 && points[0] < guest.at)) {
      if (settings.linuxSnapshot !== undefined) {
        const { WorkloadGuests: Workload } = require('../observe/linuxWorkload') as typeof import('../observe/linuxWorkload');
        linux ??= new Workload(settings.image, settings.linuxSnapshot);
      }
      guest = linux !== null ? linux.restore() : new Guest(bytes, settings.image);
      inspector = new Inspector(guest.view, guest.image, settings.options.unwinders, settings.options.version);
    }
    const part = emptyStudy(settings.image, settings.options, settings.maxInsns, {});
    takeStopPoints(guest, inspector, part, points);
    return part;
  };
  return { run, isInputError: (e) => isCommonInputError(e) || e instanceof GuestSetupError };
}

function realLivepatchRunner(settings: RealLivepatchWorkerSettings, snapshot: DecodedSnapshot, prepared?: Prepared): Runner {
  const { OpenedSnapshot } = require('../../emulator/snapshot/machineSnapshot') as typeof import('../../emulator/snapshot/machineSnapshot');
  const { LinuxImage } = require('../linux/linuxGuest') as typeof import('../linux/linuxGuest');
  const { RealLabError } = require('../linux/realPatchRun') as typeof import('../linux/realPatchRun');
  const { runRealOne } = require('../linux/realStudy') as typeof import('../linux/realStudy');
  // The image is parsed in this thread (its BTF and symbols are objects of this thread), early when
  // the worker started before its inputs came; the snapshot's bytes are the shared ones, which
  // restoring only reads.
  const image = prepared?.vmlinux === settings.lab.vmlinux ? prepared.image : new LinuxImage(settings.lab.vmlinux);
  const lab: RealLab = { ...settings.lab, image, snapshot: OpenedSnapshot.ofDecoded(snapshot) };
  return {
    run: (payload) => runRealOne(lab, settings.options, payload as number),
    isInputError: (e) => isCommonInputError(e) || e instanceof RealLabError,
  };
}

/**
 * The runner of a study's tasks, made from its inputs. Its answer to a task never throws: a failure
 * is the reply's one-line error.
 */
export function taskRunner(init: WorkerInit, prepared?: Prepared): (task: number, payload: unknown) => WorkerReply {
  if (init.execCounts !== undefined) adoptExecCounts(init.execCounts);
  if (init.carryCounts !== undefined) carryExecCounts(init.carryCounts);
  let runner: Runner;
  switch (init.kind) {
    case 'livepatch':
      // A view, not a copy: every thread reads the same shared bytes (the machines copy what they load).
      runner = livepatchRunner(init.settings as StudySettings, new Uint8Array(init.image!));
      break;
    case 'unwind':
      runner = unwindRunner(init.settings as UnwindWorkerSettings, new Uint8Array(init.image!));
      break;
    case 'real-livepatch':
      runner = realLivepatchRunner(init.settings as RealLivepatchWorkerSettings, init.snapshot!, prepared);
      break;
  }
  return (task, payload) => {
    try {
      return { task, result: runner.run(payload) };
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      return { task, error: message.split('\n')[0], userError: runner.isInputError(e) };
    }
  };
}
