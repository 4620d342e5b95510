// `klp-lab livepatch VMLINUX PATCH.ko` and `klp-lab livepatch study VMLINUX PATCH.ko` when the
// image is real Linux (a Debian 6.1 cloud vmlinux with BTF): the kernel's own module loader and
// livepatch core do the work, from the booted `livepatch` scenario's snapshot; klp-lab reports the
// kernel's livepatch log, each task's switch as the kernel made it, and the consistency verdict
// from ground truth, with the fixture kernel's exit statuses.
import * as path from 'path';
import { ElfFile } from '../../../elf/elfFile';
import { fixtureLayout } from '../../../emulator/kernel/fixtureLayout';
import { formatViolation } from '../../../livepatch/consistency/consistencyChecker';
import { NotDebianKernelError } from '../../../livepatch/linux/debianKernel';
import { LivepatchBootError } from '../../../livepatch/linux/livepatchSnapshot';
import { prepareRealLab, runRealPatch, RealLabError, type RealLab } from '../../../livepatch/linux/realPatchRun';
import { formatRealCost } from '../../../livepatch/linux/realStudy';
import { runRealLivepatchStudy, setUpWith, startStudyWorkers } from '../../../livepatch/study/parallelStudy';
import { timelineSvg } from '../../../livepatch/report/timelineSvg';
import { formatStudy, shardRuns, studyJson } from '../../../livepatch/study/livepatchStudy';
import { livepatchStudyHtml } from '../../../livepatch/study/studyHtml';
import { UserError } from '../../userError';
import { writeOutput } from './options';

export const STATUS_VIOLATION = 3;
export const STATUS_INCOMPLETE = 5;

/** Whether an image is real Linux (BTF, no fixture exports); unreadable files are left to the fixture path's errors. */
export function isRealLinuxImage(file: string): boolean {
  let elf: ElfFile;
  try { elf = ElfFile.read(file); } catch { return false; }
  return elf.section('.BTF') !== undefined && fixtureLayout(elf) === null;
}

/** Options the fixture lab has and real Linux does not (its own livepatch core, its own unwinder). */
export function refuseFixtureOptions(args: { kernel: string; immediate?: boolean; 'reliable-stacktrace': boolean; 'kthread-patch-points': boolean }): void {
  if (args.kernel !== '6.1') throw new UserError('--kernel: real Linux runs its own livepatch core (6.1)');
  if (args.immediate) throw new UserError('--immediate: real Linux 6.1 has no immediate patches');
  if (!args['reliable-stacktrace'] || args['kthread-patch-points']) throw new UserError('the experiments model the fixture kernel; real Linux runs as built');
}

function labOf(vmlinux: string, patch: string): RealLab {
  try {
    return prepareRealLab(vmlinux, patch, () => process.stderr.write('klp-lab livepatch: booting the livepatch scenario once (cached for later runs)...\n'));
  } catch (e) {
    if (e instanceof RealLabError || e instanceof NotDebianKernelError || e instanceof LivepatchBootError) throw new UserError(e.message);
    throw e;
  }
}

export interface RealRunArgs {
  image: string;
  patch: string;
  at: number;
  forceAfter?: number;
  disableAt?: number;
  maxWait: number;
  settle: number;
  seed: number;
  jitter: number;
  chart?: string;
  json?: string;
  console?: boolean;
}

export function runRealLinux(a: RealRunArgs): void {
  const lab = labOf(a.image, a.patch);
  const r = runRealPatch(lab, {
    patchAt: a.at, forceAfter: a.forceAfter, disableAt: a.disableAt, maxWait: a.maxWait, settle: a.settle,
    jitter: a.jitter > 0 ? { seed: a.seed, maxNs: a.jitter } : undefined,
  });
  const say = (line = '') => process.stdout.write(line + '\n');
  const ms = (ns: number) => `${(ns / 1e6).toFixed(3)} ms`;
  say(`klp-lab livepatch: ${path.basename(a.image)} + ${path.basename(a.patch)}, ${lab.image.layout.description} (its own livepatch core and ORC unwinder), ` +
    `snapshot at ${ms(lab.snapshotTime)}, seed ${a.seed}, jitter ${a.jitter} ns`);
  say(`modprobe ${lab.moduleName} typed at ${ms(r.loadedAt)} after the snapshot: ` +
    (r.loadResult === null ? 'no answer' : `exit status ${r.loadResult}`));
  if (r.loadResult === 0 && r.timelines.length === 0) say(`no livepatch transition started: is ${path.basename(a.patch)} a live patch module?`);
  say();
  say('kernel log:');
  for (const l of r.kernelLog) say(`  ${l.text}`);
  say();
  for (const t of r.timelines) {
    for (const line of t.format().trimEnd().split('\n')) say(line);
    say();
  }
  if (r.switches.length > 0) {
    say('where each task was when it switched (time after its transition started):');
    for (const s of r.switches) {
      const t = r.timelines.find((x) => x.patch === s.patch && x.startedAt <= s.time && (x.completedAt ?? Infinity) >= s.time);
      say(`  ${ms(s.time - (t?.startedAt ?? 0)).padStart(12)}  ${`${s.comm}:${s.pid}`.padEnd(22)} ${s.by.padEnd(13)} ${s.where}`);
    }
    say();
  }
  if (r.violations.length === 0) {
    say(`consistency (emulator ground truth): ${r.checks} observations, no task mixed old and new code`);
  } else {
    say(`consistency (emulator ground truth): ${r.checks} observations, ${r.violations.length} VIOLATION(S):`);
    for (const v of r.violations.slice(0, 20)) say(`  ${formatViolation(v)}`);
    if (r.violations.length > 20) say(`  ... ${r.violations.length - 20} more`);
  }
  say(`calls of the new code (the guest's /sys/module/${lab.moduleName}/parameters/calls): ${r.calls ?? 'n/a'}`);
  say(r.guestEnded ? `the guest stopped: ${r.stop}` : `the guest was still running ${ms(r.virtualTime)} after the snapshot`);
  say(`cost: ${(r.instructions / 1e6).toFixed(1)} M instructions after the snapshot, ${r.hostSeconds.toFixed(1)} host s`);
  if (a.console) {
    say();
    say('guest console (after the snapshot):');
    for (const line of r.console.trimEnd().split('\n')) say(`  | ${line.replace(/\r$/, '')}`);
  }
  if (a.chart && r.timelines.length > 0) {
    writeOutput(a.chart, timelineSvg(r.timelines[0]));
    say(`timeline chart written to ${a.chart}`);
  }
  if (a.json) {
    const { console: _c, timelines, ...rest } = r;
    writeOutput(a.json, JSON.stringify({
      kind: 'livepatch-run', image: a.image, patch: a.patch, kernel: lab.image.layout.description, seed: a.seed, jitter: a.jitter,
      ...rest, timelines: timelines.map((t) => ({ patch: t.patch, direction: t.direction, startedAt: t.startedAt, completedAt: t.completedAt ?? null, attempts: t.attempts, tasks: t.rows() })),
    }, null, 1) + '\n');
  }
  if (r.violations.length > 0) process.exitCode = STATUS_VIOLATION;
  else if (r.loadResult === 0 && !r.completed) process.exitCode = STATUS_INCOMPLETE;
}

export interface RealStudyArgs {
  image: string;
  patch: string;
  runs: number;
  seed: number;
  window: [number, number];
  jitter: number;
  forceAfter?: number;
  maxWait: number;
  shard: [number, number];
  json?: string;
  html?: string;
  progress: boolean;
  replay: string[];
  /** Runs at a time, each on its own worker thread restoring the same snapshot. */
  jobs: number;
}

export async function studyRealLinux(a: RealStudyArgs): Promise<void> {
  const runs = shardRuns({ runs: a.runs, shard: a.shard }).length;
  // The workers parse the vmlinux while this thread sets the lab up; they end if that fails.
  const early = startStudyWorkers({ kind: 'real-livepatch', vmlinux: a.image }, runs, a.jobs);
  const lab = setUpWith(early, () => labOf(a.image, a.patch));
  // The lab's set-up (initramfs, snapshot) takes a while: say when the runs themselves start.
  process.stderr.write(`livepatch study: ${runs} run(s) from the booted snapshot, ${Math.max(1, Math.min(a.jobs, runs))} at a time\n`);
  const result = await runRealLivepatchStudy(lab, {
    runs: a.runs, seed: a.seed, window: a.window, jitterNs: a.jitter, forceAfter: a.forceAfter, maxWait: a.maxWait, shard: a.shard,
    onProgress: a.progress ? (done, total, o) => process.stderr.write(`\r  run ${done}/${total}${o.violations ? ', violation found' : ''}   `) : undefined,
  }, a.jobs, early);
  if (a.progress) process.stderr.write('\n');
  process.stdout.write(formatStudy(result) + formatRealCost(result));
  if (a.json) writeOutput(a.json, studyJson(result));
  if (a.html) writeOutput(a.html, livepatchStudyHtml(result, a.replay));
  if (result.violations > 0) process.exitCode = STATUS_VIOLATION;
}
