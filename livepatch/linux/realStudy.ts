// The live-patching study on real Linux: the same patch module in many runs, each restored from
// the one booted snapshot (no reboot: a run costs only its own instructions), patched at a seeded
// random instant of the window after the snapshot with its own seeded timer jitter, and watched
// by the consistency checker. Its result is the fixture study's (livepatch/study/livepatchStudy.ts:
// same run plan, shards, merge, JSON and HTML), with each run's instruction count and host time.
import { outcomeOf, runPlan, shardRuns, studyResult, type LivepatchStudyOptions, type LivepatchStudyResult, type RunOutcome } from '../study/livepatchStudy';
import { runRealPatch, type RealLab } from './realPatchRun';

/**
 * The fixture study's run settings (LivepatchStudyOptions); the window is in ns of virtual time after
 * the booted snapshot. The rest of the fixture's options (kernel model, unwinder, boot) are the real
 * kernel's own.
 */
export type RealStudyOptions = Pick<LivepatchStudyOptions, 'runs' | 'seed' | 'window' | 'jitterNs' | 'forceAfter' | 'maxWait' | 'shard' | 'onProgress'>;

/** A run's outcome with what it cost. */
export interface RealRunOutcome extends RunOutcome {
  /** Instructions the run retired after the snapshot (its whole cost in guest work). */
  instructions: number;
  hostSeconds: number;
  /** The patch's call counter in the guest at the end (null: none). */
  calls: number | null;
}

/** Settle after each run's transition: enough for the checker to see the next calls. */
const STUDY_SETTLE = 2e6;

export function runRealOne(lab: RealLab, opts: RealStudyOptions, k: number): RealRunOutcome {
  const { seed, patchAt } = runPlan(opts.seed, k, opts.window);
  const r = runRealPatch(lab, {
    patchAt, forceAfter: opts.forceAfter, maxWait: opts.maxWait, settle: STUDY_SETTLE,
    jitter: opts.jitterNs > 0 ? { seed, maxNs: opts.jitterNs } : undefined,
  });
  return outcomeOf(k, { seed, patchAt }, r, { instructions: r.instructions, hostSeconds: Math.round(r.hostSeconds * 1000) / 1000, calls: r.calls });
}

/** This shard's runs, one after the other, from the lab's snapshot (on worker threads: parallelStudy.ts). */
export function runRealStudy(lab: RealLab, opts: RealStudyOptions): LivepatchStudyResult {
  const started = Date.now();
  const mine = shardRuns(opts);
  const perRun: RunOutcome[] = [];
  for (const k of mine) {
    const outcome = runRealOne(lab, opts, k);
    perRun.push(outcome);
    opts.onProgress?.(perRun.length, mine.length, outcome);
  }
  return realStudyResult(lab, opts, perRun, (Date.now() - started) / 1000);
}

/** The study's result from its runs' outcomes (in run order): the fixture study's, real Linux's settings. */
export function realStudyResult(lab: RealLab, opts: RealStudyOptions, perRun: RunOutcome[], hostSeconds: number): LivepatchStudyResult {
  return studyResult({
    image: lab.vmlinux, patch: lab.patch, runs: opts.runs, seed: opts.seed, kernel: '6.1', unwinder: 'orc', immediate: false,
    cmdline: lab.cmdline, window: opts.window, jitterNs: opts.jitterNs, forceAfter: opts.forceAfter, maxWait: opts.maxWait, shard: opts.shard,
  }, perRun, hostSeconds);
}

/**
 * The cost lines of a real-kernel study (runs that carry their instruction counts): each run's host
 * seconds on its thread, and the runs per hour of the study's host time (with --jobs N, N runs at a
 * time; merged shards: the shards' times added).
 */
export function formatRealCost(r: LivepatchStudyResult): string {
  const runs = r.perRun as Partial<RealRunOutcome>[];
  const ins = runs.map((x) => x.instructions).filter((x): x is number => typeof x === 'number').sort((a, b) => a - b);
  const host = runs.map((x) => x.hostSeconds).filter((x): x is number => typeof x === 'number');
  if (ins.length === 0) return '';
  const median = ins[Math.floor((ins.length - 1) / 2)];
  const hostTotal = host.reduce((a, x) => a + x, 0);
  const withCalls = runs.filter((x) => typeof x.calls === 'number' && x.calls > 0).length;
  return `  per run (from the booted snapshot): median ${(median / 1e6).toFixed(1)} M instructions, max ${(ins[ins.length - 1] / 1e6).toFixed(1)} M; ` +
    `${(hostTotal / host.length).toFixed(1)} host s per run, ${(3600 * runs.length / Math.max(r.hostSeconds, 1e-9)).toFixed(0)} runs/hour\n` +
    `  runs whose new code ran in the guest (calls > 0): ${withCalls}/${runs.length}\n`;
}
