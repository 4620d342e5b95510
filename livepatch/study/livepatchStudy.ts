// The live-patching study: the same patch applied in many runs of the fixture kernel, each at a
// seeded random instant and with seeded timer-interrupt jitter, so that every run meets the
// tasks in other places. Each run is watched by the consistency checker; the study counts the
// transitions that completed, how long they took (virtual time), the attempts, signals and
// forces they needed, and the violations. Shards split the runs; their JSON results merge.

import { formatViolation } from '../consistency/consistencyChecker';
import type { LabUnwinder } from '../guest/livepatchLab';
import type { KernelExperiments, KernelVersion } from '../kernelBehaviour';
import { bootLabSnapshot, readImage, runPatch, type PatchRunReport } from '../run/patchRun';
import { seededRandom } from '../../emulator/seededRandom';
import { checkSameStudy, checkShardSet } from './shardSet';

export interface LivepatchStudyOptions {
  image: string;
  patch: string;
  runs: number;
  seed: number;
  kernel: KernelVersion;
  unwinder: LabUnwinder;
  immediate: boolean;
  /** The seed's design options (see KernelExperiments); none when absent. */
  experiments?: KernelExperiments;
  cmdline: string;
  /** Patch times are drawn uniformly from [from, to) ns of virtual time. */
  window: [number, number];
  jitterNs: number;
  /** Force the transition this long (ns) after it starts, if still running (undefined: never). */
  forceAfter?: number;
  maxWait: number;
  /** [i, n]: this process takes runs k with k % n === i. */
  shard: [number, number];
  onProgress?: (done: number, total: number, outcome: RunOutcome) => void;
  /**
   * Start every run from this lab snapshot instead of booting: the runs share the machine's history
   * up to the snapshot's time and draw their own timer jitter from their seed after it.
   */
  snapshot?: { bytes: Uint8Array; name: string };
  /**
   * Boot once, to the window's start with the timer jitter drawn from the study's seed, and start
   * every run from that machine as from `snapshot`.
   */
  bootOnce?: boolean;
}

/** One run, compactly (kept in the JSON so that merged shards give exact percentiles). */
export interface RunOutcome {
  run: number;
  seed: number;
  /** Virtual ns of the modprobe. */
  patchAt: number;
  loadResult: number;
  completed: boolean;
  /** Virtual ns from the start of the transition to its completion. */
  timeToComplete: number | null;
  attempts: number;
  signalled: boolean;
  /** Tasks flagged by the patching transition, and how many of them were signalled. */
  tasksFlagged?: number;
  tasksSignalled?: number;
  forced: boolean;
  violations: number;
  /** The first violation, as one line. */
  firstViolation?: string;
  /** The guest ended before the transition did. */
  guestEnded: boolean;
}

export interface LivepatchStudyResult {
  kind: 'livepatch-study';
  image: string;
  patch: string;
  kernel: KernelVersion;
  unwinder: LabUnwinder;
  immediate: boolean;
  experiments?: KernelExperiments;
  cmdline: string;
  seed: number;
  /** Runs in the whole study (all shards). */
  runs: number;
  shard: [number, number];
  window: [number, number];
  jitterNs: number;
  /** Virtual ns after which transitions were forced (null: never). */
  forceAfter: number | null;
  /** Virtual ns each run waited for its transition. */
  maxWait: number;
  /** Summary of the runs below. */
  ran: number;
  completed: number;
  violations: number;
  runsWithViolations: number;
  signalled: number;
  forced: number;
  loadFailures: number;
  hostSeconds: number;
  perRun: RunOutcome[];
}

/**
 * Run k of a study: its own seed (a fixed function of the study's seed and k, which also
 * seeds its timer jitter) and the patch time drawn from it in `window`.
 */
export function runPlan(studySeed: number, k: number, window: [number, number]): { seed: number; patchAt: number } {
  const seed = Math.floor(seededRandom((studySeed ^ Math.imul(k + 1, 0x9e3779b1)) >>> 0)() * 0x7fffffff);
  const patchAt = Math.floor(window[0] + seededRandom(seed)() * (window[1] - window[0]));
  return { seed, patchAt };
}

/** The runs of the study that this shard takes, ascending. */
export function shardRuns(opts: Pick<LivepatchStudyOptions, 'runs' | 'shard'>): number[] {
  const [i, n] = opts.shard;
  const mine: number[] = [];
  for (let k = i; k < opts.runs; k += n) mine.push(k);
  return mine;
}

/** The settings a run needs, without the progress callback (what workers receive). */
export type StudySettings = Omit<LivepatchStudyOptions, 'onProgress'>;

/**
 * The settings every run gets; with `bootOnce`, the machine booted once to the window's start (timer
 * jitter from the study's seed) becomes the snapshot every run starts from.
 */
export function studySettings(opts: LivepatchStudyOptions, bytes: Uint8Array): StudySettings {
  const { onProgress: _, ...settings } = opts;
  if (opts.bootOnce && !opts.snapshot) {
    settings.snapshot = {
      name: 'the boot-once snapshot',
      bytes: bootLabSnapshot({
        image: opts.image, kernel: opts.kernel, unwinder: opts.unwinder, immediate: opts.immediate, experiments: opts.experiments, cmdline: opts.cmdline,
        timerJitter: opts.jitterNs > 0 ? { seed: opts.seed, maxNs: opts.jitterNs } : undefined, log: { debug: false },
      }, opts.window[0], bytes),
    };
  }
  return settings;
}

/** Run k of the study, on a fresh machine booted from `bytes` (or restored from the settings' snapshot). */
export function runOne(opts: StudySettings, k: number, bytes: Uint8Array): RunOutcome {
  const { seed, patchAt } = runPlan(opts.seed, k, opts.window);
  const snapshot = opts.snapshot;
  const r = runPatch({
    image: opts.image,
    patch: opts.patch,
    kernel: opts.kernel,
    unwinder: opts.unwinder,
    immediate: opts.immediate,
    experiments: opts.experiments,
    cmdline: opts.cmdline,
    patchAt,
    forceAfter: opts.forceAfter,
    maxWait: opts.maxWait,
    settle: 2e6,
    timerJitter: opts.jitterNs > 0 ? { seed, maxNs: opts.jitterNs } : undefined,
    log: { debug: false },
    snapshot,
    reseedJitter: snapshot ? { seed, maxNs: opts.jitterNs } : undefined,
  }, bytes);
  const outcome = outcomeOf(k, { seed, patchAt }, r);
  // The run's lab is not looked at again: the next run's machine takes its RAM.
  r.lab.machine.release();
  return outcome;
}

/**
 * A run's compact outcome from its report (either kernel's run); `extra` (what a real-kernel run
 * adds: its instructions, host time, call count) follows the common fields, the first violation
 * comes last.
 */
export function outcomeOf<Extra extends object = object>(k: number, plan: { seed: number; patchAt: number }, r: PatchRunReport, extra?: Extra): RunOutcome & Extra {
  const outcome = {
    run: k,
    seed: plan.seed,
    patchAt: plan.patchAt,
    loadResult: r.loadResult ?? -1,
    completed: r.completed,
    timeToComplete: r.timeToComplete ?? null,
    attempts: r.attempts,
    signalled: r.signalled,
    tasksFlagged: r.tasksFlagged,
    tasksSignalled: r.tasksSignalled,
    forced: r.forced,
    violations: r.violations.length,
    guestEnded: r.guestEnded,
    ...extra,
  } as RunOutcome & Extra;
  if (r.violations.length > 0) outcome.firstViolation = formatViolation(r.violations[0]);
  return outcome;
}

/** The study's result from its runs' outcomes (in run order). */
export function studyResult(opts: StudySettings, perRun: RunOutcome[], hostSeconds: number): LivepatchStudyResult {
  return summarize({
    kind: 'livepatch-study',
    image: opts.image,
    patch: opts.patch,
    kernel: opts.kernel,
    unwinder: opts.unwinder,
    immediate: opts.immediate,
    experiments: opts.experiments,
    cmdline: opts.cmdline,
    seed: opts.seed,
    runs: opts.runs,
    shard: opts.shard,
    window: opts.window,
    jitterNs: opts.jitterNs,
    forceAfter: opts.forceAfter ?? null,
    maxWait: opts.maxWait,
    hostSeconds,
    perRun,
  });
}

/** Runs the study's runs one after the other in this thread. */
export function runStudy(opts: LivepatchStudyOptions): LivepatchStudyResult {
  const started = Date.now();
  const bytes = readImage(opts.image);
  const mine = shardRuns(opts);
  const settings = studySettings(opts, bytes);
  const perRun: RunOutcome[] = [];
  for (const k of mine) {
    const outcome = runOne(settings, k, bytes);
    perRun.push(outcome);
    opts.onProgress?.(perRun.length, mine.length, outcome);
  }
  return studyResult(opts, perRun, (Date.now() - started) / 1000);
}

type Unsummarized = Omit<LivepatchStudyResult, 'ran' | 'completed' | 'violations' | 'runsWithViolations' | 'signalled' | 'forced' | 'loadFailures'>;

function summarize(r: Unsummarized): LivepatchStudyResult {
  const runs = r.perRun;
  return {
    ...r,
    ran: runs.length,
    completed: runs.filter((x) => x.completed).length,
    violations: runs.reduce((a, x) => a + x.violations, 0),
    runsWithViolations: runs.filter((x) => x.violations > 0).length,
    signalled: runs.filter((x) => x.signalled).length,
    forced: runs.filter((x) => x.forced).length,
    loadFailures: runs.filter((x) => x.loadResult !== 0).length,
  };
}

/**
 * Joins the shards of one study (same image, patch, seed, runs and settings; every shard i of n
 * exactly once) into the whole study. Throws a one-line Error otherwise.
 */
export function mergeStudies(parts: LivepatchStudyResult[], names: string[] = parts.map((_, i) => `result ${i + 1}`)): LivepatchStudyResult {
  checkSameStudy(parts, names, (p) => ({
    image: p.image,
    patch: p.patch,
    kernel: p.kernel,
    unwinder: p.unwinder,
    immediate: p.immediate,
    experiments: p.experiments ?? null,
    cmdline: p.cmdline,
    seed: p.seed,
    runs: p.runs,
    window: p.window,
    jitter: p.jitterNs,
    'force after': p.forceAfter ?? null,
    'max wait': p.maxWait ?? null,
    shards: p.shard[1],
  }));
  checkShardSet(parts.map((p) => p.shard), names);
  return summarize({
    ...parts[0],
    shard: [0, 1],
    hostSeconds: parts.reduce((a, p) => a + p.hostSeconds, 0),
    perRun: parts.flatMap((p) => p.perRun).sort((a, b) => a.run - b.run),
  });
}

/** The p-th percentile (nearest rank) of the values. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** The times to complete (ns) of the runs whose transition completed. */
function timesToComplete(r: LivepatchStudyResult): number[] {
  return r.perRun.filter((x) => x.timeToComplete !== null).map((x) => x.timeToComplete!);
}

/** The JSON written by --json: the summary with the agreed field names, then every run. */
export function studyJson(r: LivepatchStudyResult): string {
  const ttc = timesToComplete(r).map((ns) => ns / 1e6);
  const attempts = r.perRun.map((x) => x.attempts);
  const summary = {
    median_ms: percentile(ttc, 50),
    p99_ms: percentile(ttc, 99),
    attempts_median: percentile(attempts, 50),
    attempts_max: attempts.length ? Math.max(...attempts) : null,
  };
  return JSON.stringify({ ...r, timeToComplete: summary }, null, 1) + '\n';
}

export function parseStudyJson(text: string, name: string): LivepatchStudyResult {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error(`${name}: not JSON`);
  }
  const r = v as LivepatchStudyResult;
  if (!r || r.kind !== 'livepatch-study' || !Array.isArray(r.perRun)) throw new Error(`${name}: not a livepatch study (klp-lab livepatch study --json)`);
  return r;
}

export function formatStudy(r: LivepatchStudyResult): string {
  const ms = (ns: number | null) => (ns === null ? 'n/a' : `${(ns / 1e6).toFixed(1)} ms`);
  const ttc = timesToComplete(r);
  const attempts = r.perRun.map((x) => x.attempts);
  const lines = [
    `livepatch study: ${r.patch} on ${r.image}, kernel ${r.kernel}, unwinder ${r.unwinder}${r.immediate ? ', immediate' : ''}`,
    `  seed ${r.seed}, ${r.ran} of ${r.runs} runs${r.shard[1] > 1 ? ` (shard ${r.shard[0]}/${r.shard[1]})` : ''}, patch times in [${ms(r.window[0])}, ${ms(r.window[1])}), ` +
      `timer jitter up to ${r.jitterNs} ns, cmdline "${r.cmdline}"`,
    `  transitions completed: ${r.completed}/${r.ran}` + (r.loadFailures ? ` (${r.loadFailures} modprobe failures)` : ''),
    `  time to complete (virtual): median ${ms(percentile(ttc, 50))}, p99 ${ms(percentile(ttc, 99))}, max ${ms(ttc.length ? Math.max(...ttc) : null)}`,
    `  try-complete attempts: median ${percentile(attempts, 50) ?? 'n/a'}, max ${attempts.length ? Math.max(...attempts) : 'n/a'}; ` +
      `runs that needed signals: ${r.signalled}, forced: ${r.forced}`,
    `  consistency violations: ${r.violations} in ${r.runsWithViolations} run(s)`,
  ];
  const flagged = r.perRun.reduce((a, x) => a + (x.tasksFlagged ?? 0), 0);
  const signalledTasks = r.perRun.reduce((a, x) => a + (x.tasksSignalled ?? 0), 0);
  if (flagged > 0) lines.splice(5, 0, `  tasks signalled: ${signalledTasks} of ${flagged} flagged (${((100 * signalledTasks) / flagged).toFixed(1)}%)`);
  if (r.experiments && (!r.experiments.reliableStacktrace || r.experiments.kthreadPatchPoints)) {
    lines[0] += `${r.experiments.reliableStacktrace ? '' : ', no reliable stacktrace'}${r.experiments.kthreadPatchPoints ? ', kthread patch points' : ''}`;
  }
  for (const x of r.perRun.filter((y) => y.firstViolation).slice(0, 10)) {
    lines.push(`    run ${x.run} (seed ${x.seed}, patch at ${ms(x.patchAt)}): ${x.firstViolation}`);
  }
  lines.push(`  host time: ${r.hostSeconds.toFixed(1)} s, ${(r.ran / Math.max(r.hostSeconds, 1e-9)).toFixed(2)} runs/s`);
  return lines.join('\n') + '\n';
}
