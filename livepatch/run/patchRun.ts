// One live-patching experiment on the fixture kernel: boot the image in the lab, run it to the
// chosen instant, modprobe the patch module, then let the transition run (with the optional
// force and disable actions of the sysfs controls) while the consistency checker watches the
// ground truth. `klp-lab livepatch`, the demo and the study all run through here.

import * as fs from 'fs';
import * as path from 'path';
import { LabConsistencyChecker } from '../consistency/labChecker';
import type { Violation } from '../consistency/consistencyChecker';
import { LabError, LivepatchLab, type LabUnwinder } from '../guest/livepatchLab';
import { restoreLabSnapshot, saveLabSnapshot } from '../guest/labSnapshot';
import type { KernelExperiments, KernelVersion } from '../kernelBehaviour';
import type { LogOptions } from '../klpLog';

export interface PatchRunOptions {
  image: string;
  patch: string;
  kernel?: KernelVersion;
  unwinder?: LabUnwinder;
  immediate?: boolean;
  /** The seed's design options (see KernelExperiments). */
  experiments?: Partial<KernelExperiments>;
  /** The kernel command line (the fixture kernel reads scale=N, nap=N, stats). */
  cmdline?: string;
  /** Virtual time (ns) at which modprobe runs. */
  patchAt: number;
  /** Write 1 to the patch's force file this long (ns) after the transition started, if still running. */
  forceAfter?: number;
  /** Write 0 to the patch's enabled file at this virtual time (ns): disables, or reverses a transition. */
  disableAt?: number;
  /** Give up waiting for the transitions after this much virtual time (ns) past modprobe. */
  maxWait?: number;
  /** Keep running this long (ns) after the last transition, so the checker sees the aftermath. */
  settle?: number;
  /** Seeded timer-interrupt latency (0 / undefined: none). */
  timerJitter?: { seed: number; maxNs: number };
  /** Run the checker on the emulator's ground truth (default true). */
  check?: boolean;
  log?: Partial<LogOptions>;
  /** Start from this lab snapshot (livepatch/guest/labSnapshot.ts) instead of booting. */
  snapshot?: { bytes: Uint8Array; name: string };
  /** With `snapshot`: draw the timer jitter from this seed from the snapshot on (a study's runs). */
  reseedJitter?: { seed: number; maxNs: number };
  /** Called with the lab's snapshot at the patch time, just before modprobe. */
  saveSnapshot?: (bytes: Uint8Array) => void;
}

/**
 * What one run reports about its patch, on either kernel: the fixture lab's runs (PatchRunResult)
 * and real Linux's (livepatch/linux/realPatchRun.ts) extend it, and a study keeps it per run.
 */
export interface PatchRunReport {
  /** modprobe's result: init_module's return value, or on real Linux the guest modprobe's exit status (null: it never answered). */
  loadResult: number | null;
  /** Virtual ns when modprobe ran (real Linux: after the snapshot). */
  loadedAt: number;
  /** Whether every transition the run started finished. */
  completed: boolean;
  /** Virtual ns from the start of the patching transition to its completion. */
  timeToComplete?: number;
  /** klp_try_complete_transition passes of the patching transition. */
  attempts: number;
  signalled: boolean;
  /** Tasks of the patching transition that were flagged, and those that got a (fake) signal. */
  tasksFlagged: number;
  tasksSignalled: number;
  forced: boolean;
  disabled: boolean;
  violations: Violation[];
  /** Whether the guest exited (or stopped) before the transitions finished. */
  guestEnded: boolean;
}

/** A fixture-kernel run: its report, with the lab and the checker to look into. */
export interface PatchRunResult extends PatchRunReport {
  lab: LivepatchLab;
  checker: LabConsistencyChecker | null;
  /** init_module's return value (the host's modprobe always answers). */
  loadResult: number;
}

const DEFAULT_MAX_WAIT = 60e9;

export function readImage(file: string): Uint8Array {
  try {
    return new Uint8Array(fs.readFileSync(file));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new LabError(`${file}: ${code === 'ENOENT' ? 'No such file' : (e as Error).message}`);
  }
}

/** The lab an experiment runs in (before it runs). */
function labFor(opts: Omit<PatchRunOptions, 'patch' | 'patchAt'>, imageBytes?: Uint8Array): LivepatchLab {
  return new LivepatchLab(imageBytes ?? readImage(opts.image), path.basename(opts.image), {
    kernel: opts.kernel,
    unwinder: opts.unwinder,
    immediate: opts.immediate,
    experiments: opts.experiments,
    cmdline: opts.cmdline,
    truth: opts.check !== false,
    timerJitter: opts.timerJitter,
    log: opts.log,
  });
}

/**
 * Boots the lab an experiment with these options would run in up to virtual time `at` and returns
 * its snapshot: the runs of a study can all start there (PatchRunOptions.snapshot).
 */
export function bootLabSnapshot(opts: Omit<PatchRunOptions, 'patch' | 'patchAt'>, at: number, imageBytes?: Uint8Array): Uint8Array {
  const lab = labFor(opts, imageBytes);
  lab.runUntil(at);
  if (lab.stopped) throw new LabError(`the guest stopped before ${(at / 1e6).toFixed(3)} ms (${lab.describeStop()})`);
  return saveLabSnapshot(lab);
}

/** Runs one experiment; `imageBytes` may be passed to skip re-reading the image. */
export function runPatch(opts: PatchRunOptions, imageBytes?: Uint8Array): PatchRunResult {
  if (!fs.existsSync(opts.patch)) throw new LabError(`${opts.patch}: No such file`);
  const lab = labFor(opts, imageBytes);
  const checker = opts.check !== false ? new LabConsistencyChecker(lab) : null;
  if (opts.snapshot) {
    restoreLabSnapshot(lab, opts.snapshot.bytes, opts.snapshot.name);
    if (lab.now > opts.patchAt) throw new LabError(`${opts.snapshot.name}: taken at ${(lab.now / 1e6).toFixed(3)} ms of virtual time, after the patch time`);
    if (opts.reseedJitter) lab.machine.timerJitter.reseed(opts.reseedJitter.seed, opts.reseedJitter.maxNs);
  }
  lab.runUntil(opts.patchAt);
  if (lab.stopped) throw new LabError(`the guest stopped before the patch time (${lab.describeStop()})`);
  if (opts.saveSnapshot) opts.saveSnapshot(saveLabSnapshot(lab));
  const loadedAt = lab.now;
  const loadResult = lab.modprobe(opts.patch);
  const moduleName = path.basename(opts.patch).replace(/\.(k?o)$/, '').replace(/-/g, '_');
  const deadline = loadedAt + (opts.maxWait ?? DEFAULT_MAX_WAIT);

  let disabled = false;
  let forced = false;
  if (loadResult === 0) {
    const transitionStart = () => lab.recorder.timelines.at(-1)?.startedAt ?? loadedAt;
    for (;;) {
      const pendingDisable = opts.disableAt !== undefined && !disabled ? opts.disableAt : Infinity;
      const pendingForce = opts.forceAfter !== undefined && !forced && lab.inTransition ? transitionStart() + opts.forceAfter : Infinity;
      const until = Math.min(deadline, pendingDisable, pendingForce);
      const transitionDone = () => !lab.inTransition && (opts.disableAt === undefined || disabled);
      lab.runUntil(until, transitionDone);
      if (lab.stopped || transitionDone() || lab.now >= deadline) break;
      if (lab.now >= pendingDisable) {
        lab.writeEnabled(moduleName, false);
        disabled = true;
      } else if (lab.now >= pendingForce) {
        lab.writeForce(moduleName);
        forced = true;
      }
    }
    if (!lab.stopped && opts.settle) lab.runFor(opts.settle);
  }

  const patching = lab.recorder.timelines.find((t) => t.direction === 'patching');
  return {
    lab,
    checker,
    loadResult,
    loadedAt,
    completed: loadResult === 0 && !lab.inTransition,
    timeToComplete: patching?.completedAt !== undefined ? patching.completedAt - patching.startedAt : undefined,
    attempts: patching?.attempts.length ?? 0,
    signalled: lab.recorder.timelines.some((t) => [...t.tasks.values()].some((x) => x.signalledAt.length > 0)),
    tasksFlagged: patching ? [...patching.tasks.values()].filter((x) => x.flaggedAt !== undefined).length : 0,
    tasksSignalled: patching ? [...patching.tasks.values()].filter((x) => x.signalledAt.length > 0).length : 0,
    forced,
    disabled,
    violations: checker ? [...checker.violations] : [],
    guestEnded: lab.stopped && lab.inTransition,
  };
}
