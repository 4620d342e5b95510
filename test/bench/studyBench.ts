// Studies on worker threads: the wall time of the same study with --jobs 1 and with --jobs N
// (N = 2, and the number of CPUs when that is more), run through the built command line as a
// user runs it, and their ratio (target on a 2-core machine: --jobs 2 at most 0.6 of --jobs 1).
// The load average is printed with the figures: other work on the machine skews the ratio; the
// CPU seconds (user + system) show what the threads cost beyond the one-thread study.
// KLP_BENCH_STUDY_RUNS and KLP_BENCH_STUDY_SAMPLES change the study sizes.

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO_ROOT } from '../helpers/fixtures';

const CLI = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');

const TIME = '/usr/bin/time';

/** Wall seconds of one study, and its CPU seconds (user + system) when GNU time is there. */
function measure(args: string[]): { wall: number; cpu: number | null } {
  const haveTime = fs.existsSync(TIME);
  const command = haveTime ? [TIME, '-f', 'cpu %U %S', process.execPath] : [process.execPath];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(command[0], [...command.slice(1), CLI, ...args, '--no-progress'], { cwd: REPO_ROOT, encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`klp-lab ${args.join(' ')} failed: ${r.stderr.trim()}`);
  const m = /^cpu ([\d.]+) ([\d.]+)$/m.exec(r.stderr);
  return { wall, cpu: m ? Number(m[1]) + Number(m[2]) : null };
}

function compare(label: string, args: string[]): void {
  const cpus = os.availableParallelism();
  const jobs = [...new Set([1, 2, cpus])];
  const load = os.loadavg()[0].toFixed(2);
  const times = jobs.map((j) => measure([...args, '--jobs', String(j)]));
  const parts = jobs.map((j, i) => `--jobs ${j} ${times[i].wall.toFixed(2)} s` + (j > 1 ? ` (${(times[i].wall / times[0].wall).toFixed(2)}x)` : '') +
    (times[i].cpu !== null ? ` [cpu ${times[i].cpu!.toFixed(2)} s]` : ''));
  console.log(`${label}: ${parts.join(', ')}; ${cpus} CPUs, load average ${load} before, ${os.loadavg()[0].toFixed(2)} after`);
}

export function run(): void {
  const runs = Number(process.env.KLP_BENCH_STUDY_RUNS ?? 16);
  const samples = Number(process.env.KLP_BENCH_STUDY_SAMPLES ?? 20000);
  compare(`livepatch study (klp_chain_a2, ${runs} runs)`,
    ['livepatch', 'study', 'fixtures/kernel/kernel.elf', 'fixtures/livepatch/klp_chain_a2.o', '--runs', String(runs), '--seed', '1']);
  compare(`unwind study (${samples} samples, fp and ORC)`,
    ['unwind', 'study', 'fixtures/kernel/kernel.elf', '--samples', String(samples), '--seed', '1', '--unwinder', 'all']);
}
