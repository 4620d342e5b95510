// `klp-lab livepatch IMAGE PATCH.o [--at T] [--kernel 6.1|4.12] [--unwinder fp|orc|unsound]
// [--immediate] [--force-after S] [--disable-at T] [--seed S] [--chart FILE]`: boots the
// fixture kernel, loads the patch module at virtual time T while the kernel's tasks run, and
// prints the kernel's livepatch log, each task's way through the transition and what the
// consistency checker saw on the emulator's ground truth.
//
// Exit status: 0 when every transition completed with no violation; 3 when the checker found
// a violation; 5 when a transition did not complete (the guest ended first, or --max-wait);
// 1 for bad arguments or files.
//
// When IMAGE is real Linux (a Debian 6.1 cloud vmlinux), PATCH.ko is a module built for it and the
// run goes through realLinux.ts: same report, same exit statuses, times after the booted snapshot.

import * as path from 'path';
import type { CommandModule } from 'yargs';
import { LabError } from '../../../livepatch/guest/livepatchLab';
import { runPatch, type PatchRunResult } from '../../../livepatch/run/patchRun';
import { timelineSvg } from '../../../livepatch/report/timelineSvg';
import { formatViolation } from '../../../livepatch/consistency/consistencyChecker';
import { BootError } from '../../../emulator/loader/pvh';
import { UserError } from '../../userError';
import { isRealLinuxImage, refuseFixtureOptions, runRealLinux } from './realLinux';
import { checkCommon, experimentsLabel, experimentsOf, writeOutput, kernelOf, parseVirtualTime, readLabSnapshot, unwinderOf, withCommonOptions, type CommonLivepatchArgs } from './options';

export const LIVEPATCH_STATUS_VIOLATION = 3;
export const LIVEPATCH_STATUS_INCOMPLETE = 5;
/** Real Linux: virtual seconds to wait (its CPU-bound kthread makes every virtual second cost a billion instructions). */
const REAL_MAX_WAIT = 5;
/** Real Linux: run on after the transitions long enough for every workload task to call the patched function again. */
const REAL_SETTLE = 300e6;

interface RunArgs extends CommonLivepatchArgs {
  at: string;
  'force-after'?: number;
  'disable-at'?: string;
  'max-wait'?: number;
  seed: number;
  chart?: string;
  json?: string;
  console?: boolean;
  'debug-switch': boolean;
  snapshot?: string;
  'snapshot-save'?: string;
}

export const livepatchRunCommand: CommandModule<object, RunArgs> = {
  command: '$0 <image> <patch>',
  describe: 'boot IMAGE, load PATCH.o while its tasks run, show the log, the per-task timeline and the consistency check',
  builder: (y) =>
    withCommonOptions(y)
      .option('at', { type: 'string', default: '12ms', describe: 'virtual time of the modprobe: instructions (ns), or with a unit (40ms, 1.5s)' })
      .option('force-after', { type: 'number', describe: 'write 1 to the patch\'s force file this many virtual seconds after the transition starts' })
      .option('disable-at', { type: 'string', describe: 'write 0 to the patch\'s enabled file at this virtual time (reverses a transition in progress)' })
      .option('max-wait', { type: 'number', describe: 'virtual seconds to wait for the transitions (default 60; real Linux: 5)' })
      .option('seed', { type: 'number', default: 1, describe: 'seed of the timer-interrupt jitter (printed)' })
      .option('chart', { type: 'string', describe: 'write the transition timeline as an SVG chart to this file' })
      .option('json', { type: 'string', describe: 'real Linux: write the run (log, timelines, switches, violations, cost) as JSON to this file' })
      .option('console', { type: 'boolean', describe: 'also print the guest\'s serial console' })
      .option('debug-switch', { type: 'boolean', default: true, describe: 'show the klp_try_switch_task debug lines (--no-debug-switch hides them, as the selftests do)' })
      .option('snapshot', { type: 'string', describe: 'start from this lab snapshot instead of booting (same image and --cmdline; its timer jitter goes on as saved)' })
      .option('snapshot-save', { type: 'string', describe: 'save the lab\'s machine to this file at the patch time, just before modprobe' }),
  handler: (args) => {
    checkCommon(args);
    const patchAt = parseVirtualTime(args.at, '--at');
    const disableAt = args['disable-at'] !== undefined ? parseVirtualTime(args['disable-at'], '--disable-at') : undefined;
    if (args['force-after'] !== undefined && !(args['force-after'] >= 0)) throw new UserError('--force-after takes a number of virtual seconds');
    const real = isRealLinuxImage(args.image);
    const maxWait = args['max-wait'] ?? (real ? REAL_MAX_WAIT : 60);
    if (!(maxWait > 0)) throw new UserError('--max-wait takes a positive number of virtual seconds');
    if (real) {
      refuseFixtureOptions(args);
      if (args.snapshot !== undefined || args['snapshot-save'] !== undefined) throw new UserError('--snapshot: real Linux runs start from the booted scenario\'s own cached snapshot');
      runRealLinux({
        image: args.image, patch: args.patch, at: patchAt, disableAt, maxWait: maxWait * 1e9, settle: REAL_SETTLE,
        forceAfter: args['force-after'] !== undefined ? args['force-after'] * 1e9 : undefined,
        seed: args.seed, jitter: args.jitter, chart: args.chart, json: args.json, console: args.console,
      });
      return;
    }
    if (args.json !== undefined) throw new UserError('--json: for real Linux runs (the fixture kernel\'s study writes JSON)');
    const snapshot = args.snapshot !== undefined ? readLabSnapshot(args.snapshot) : undefined;
    const snapshotFile = args['snapshot-save'];
    let r: PatchRunResult;
    try {
      r = runPatch({
        image: args.image,
        patch: args.patch,
        kernel: kernelOf(args),
        unwinder: unwinderOf(args),
        immediate: args.immediate,
        experiments: experimentsOf(args),
        cmdline: args.cmdline,
        patchAt,
        forceAfter: args['force-after'] !== undefined ? args['force-after'] * 1e9 : undefined,
        disableAt,
        maxWait: maxWait * 1e9,
        settle: 10e6,
        timerJitter: args.jitter > 0 ? { seed: args.seed, maxNs: args.jitter } : undefined,
        log: { debug: true, debugTrySwitch: args['debug-switch'] },
        snapshot,
        saveSnapshot: snapshotFile !== undefined ? (bytes) => writeOutput(snapshotFile, bytes) : undefined,
      });
    } catch (e) {
      if (e instanceof LabError || e instanceof BootError) throw new UserError(e.message);
      throw e;
    }
    const say = (line = '') => process.stdout.write(line + '\n');
    const lab = r.lab;
    say(`klp-lab livepatch: ${path.basename(args.image)} + ${path.basename(args.patch)}, kernel ${args.kernel}, unwinder ${args.unwinder}` +
      `${args.immediate ? ', immediate' : ''}${experimentsLabel(experimentsOf(args))}, cmdline "${args.cmdline}", seed ${args.seed}, jitter ${args.jitter} ns`);
    say(`modprobe at ${(r.loadedAt / 1e6).toFixed(3)} ms of virtual time: init_module returned ${r.loadResult}`);
    say();
    say('kernel log:');
    for (const line of lab.core.log.format().trimEnd().split('\n')) if (line) say(`  ${line}`);
    say();
    for (const t of lab.recorder.timelines) {
      for (const line of t.format().trimEnd().split('\n')) say(line);
      say();
    }
    const checks = r.checker?.checker.checks ?? 0;
    if (r.violations.length === 0) {
      say(`consistency (emulator ground truth): ${checks} observations, no task mixed old and new code`);
    } else {
      say(`consistency (emulator ground truth): ${checks} observations, ${r.violations.length} VIOLATION(S):`);
      for (const v of r.violations.slice(0, 20)) say(`  ${formatViolation(v)}`);
      if (r.violations.length > 20) say(`  ... ${r.violations.length - 20} more`);
    }
    say(`calls redirected by the ftrace handler: ${lab.fentry.redirections}`);
    say(lab.exitStatus !== undefined
      ? `the guest exited with status ${lab.exitStatus} at ${(lab.now / 1e6).toFixed(1)} ms`
      : `the guest was still running at ${(lab.now / 1e6).toFixed(1)} ms`);
    if (args.console) {
      say();
      say('guest console:');
      for (const line of lab.consoleText.trimEnd().split('\n')) say(`  | ${line}`);
    }
    if (args.chart && lab.recorder.timelines.length > 0) {
      writeOutput(args.chart, timelineSvg(lab.recorder.timelines[0]));
      say(`timeline chart written to ${args.chart}`);
    }
    if (r.violations.length > 0) process.exitCode = LIVEPATCH_STATUS_VIOLATION;
    else if (r.loadResult === 0 && !r.completed) process.exitCode = LIVEPATCH_STATUS_INCOMPLETE;
  },
};
