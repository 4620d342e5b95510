// The worker thread of a parallel study (see workerPool.ts). It boots its own machines from the
// image bytes the pool shares, and answers each task it is given with the task's result:
// - 'livepatch': a task is one run k of the livepatch study; the reply is its RunOutcome.
// - 'unwind': a task is a range of ascending stop points; the reply is their verdicts. The
//   worker keeps one guest and runs it only forward, since the pool hands out ranges in order.
// - 'real-livepatch': a task is one run k of a real-kernel livepatch study, restored from the
//   booted snapshot that the main thread unpacked into shared memory; the reply is its outcome.

import { parentPort, workerData } from 'worker_threads';
import { runOne, type StudySettings } from './livepatchStudy';
import type { WorkerInit, WorkerReply, WorkerRequest } from './workerPool';
import { emptyStudy, takeStopPoints, type StudyOptions } from './unwindStudy';
import { StackInspector } from '../unwind/stackInspector';
import { GuestSetupError, StoppedGuest } from '../observe/stoppedGuest';
import { WorkloadGuests } from '../observe/linuxWorkload';
import { LabError } from '../guest/livepatchLab';
import { BootError } from '../../emulator/loader/pvh';
import { ElfError } from '../../elf/elfFile';
import { OpenedSnapshot } from '../../emulator/snapshot/machineSnapshot';
import { SnapshotError } from '../../emulator/snapshot/snapshotError';
import type { DecodedSnapshot } from '../../emulator/snapshot/snapshotFormat';
import { LinuxImage } from '../linux/linuxGuest';
import { RealLabError, type RealLab } from '../linux/realPatchRun';
import { runRealOne, type RealStudyOptions } from '../linux/realStudy';

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

type TaskRunner = (payload: unknown) => unknown;

/** Errors that come from the study's inputs (files, images, modules), not from klp-lab itself. */
function isInputError(e: unknown): boolean {
  return e instanceof LabError || e instanceof GuestSetupError || e instanceof BootError || e instanceof ElfError ||
    e instanceof RealLabError || e instanceof SnapshotError;
}

function livepatchRunner(settings: StudySettings, bytes: Uint8Array): TaskRunner {
  return (payload) => runOne(settings, payload as number, bytes);
}

function unwindRunner(settings: UnwindWorkerSettings, bytes: Uint8Array): TaskRunner {
  let guest: StoppedGuest | null = null;
  let inspector: StackInspector | null = null;
  let linux: WorkloadGuests | null = null;
  return (payload) => {
    const points = payload as number[];
    // A fresh guest when none is running yet or the range starts behind it (never, in order).
    if (guest === null || inspector === null || (points.length > 0 && points[0] < guest.at)) {
      if (settings.linuxSnapshot !== undefined) linux ??= new WorkloadGuests(settings.image, settings.linuxSnapshot);
      guest = linux !== null ? linux.restore() : new StoppedGuest(bytes, settings.image);
      inspector = new StackInspector(guest.view, guest.image, settings.options.unwinders, settings.options.version);
    }
    const part = emptyStudy(settings.image, settings.options, settings.maxInsns, {});
    takeStopPoints(guest, inspector, part, points);
    return part;
  };
}

function realLivepatchRunner(settings: RealLivepatchWorkerSettings, snapshot: DecodedSnapshot): TaskRunner {
  // The image is parsed here (its BTF and symbols are objects of this thread); the snapshot's bytes
  // are the shared ones, which restoring only reads.
  const lab: RealLab = { ...settings.lab, image: new LinuxImage(settings.lab.vmlinux), snapshot: OpenedSnapshot.ofDecoded(snapshot) };
  return (payload) => runRealOne(lab, settings.options, payload as number);
}

function runnerFor(init: WorkerInit): TaskRunner {
  switch (init.kind) {
    case 'livepatch':
      // A view, not a copy: every worker reads the same shared bytes (the machines copy what they load).
      return livepatchRunner(init.settings as StudySettings, new Uint8Array(init.image!));
    case 'unwind':
      return unwindRunner(init.settings as UnwindWorkerSettings, new Uint8Array(init.image!));
    case 'real-livepatch':
      return realLivepatchRunner(init.settings as RealLivepatchWorkerSettings, init.snapshot!);
  }
}

function start(): void {
  const port = parentPort;
  if (port === null) throw new Error('studyWorker runs only as a worker thread');
  const run = runnerFor(workerData as WorkerInit);
  port.on('message', (m: WorkerRequest) => {
    if ('done' in m) {
      port.close();
      return;
    }
    let reply: WorkerReply;
    try {
      reply = { task: m.task, result: run(m.payload) };
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      reply = { task: m.task, error: message.split('\n')[0], userError: isInputError(e) };
    }
    port.postMessage(reply);
  });
}

start();
