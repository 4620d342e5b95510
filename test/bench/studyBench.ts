// Studies on worker threads: the wall time of the same study with --jobs 1 and with --jobs N
// (N = 2, and the number of CPUs when that is more), run through the built command line as a
// user runs it, and their ratio (target on a 2-core machine: --jobs 2 at most 0.6 of --jobs 1).
//
// The peer is the machine itself: the same study as two --jobs 1 processes at once, each taking half
// the runs (`--shard 0/2`, `--shard 1/2`). That is what two cores give two independent one-thread
// studies, with nothing shared and each paying its own start-up, so --jobs 2 should come near it;
// its ratio to --jobs 1 says how far two cores can take a study at all on this machine.
//
// The load average is printed with the figures: other work on the machine skews the ratio; the
// CPU seconds (user + system) show what the threads cost beyond the one-thread study, and give the
// floor of --jobs 2 on two cores when no work is done twice (CPU of --jobs 1 over twice its wall time). Each figure is
// the median of KLP_BENCH_STUDY_REPEATS runs (default 3), the order of the variants alternating.
// KLP_BENCH_STUDY_RUNS (default 48,200,1000) and KLP_BENCH_STUDY_SAMPLES (default 20000,100000) set the
// study sizes, comma-separated.

import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO_ROOT } from '../helpers/fixtures';

const CLI = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');

const TIME = '/usr/bin/time';

interface Timing {
  wall: number;
  cpu: number | null;
  /** The study's own seconds, as it prints them (`host time`), without the process's start and set-up. */
  study: number | null;
}

/** One klp-lab process: its wall seconds, and its CPU seconds (user + system) when GNU time is there. */
function start(args: string[]): Promise<Timing> {
  const haveTime = fs.existsSync(TIME);
  const command = haveTime ? [TIME, '-f', 'cpu %U %S', process.execPath] : [process.execPath];
  const t0 = process.hrtime.bigint();
  const child = spawn(command[0], [...command.slice(1), CLI, ...args, '--no-progress'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += String(d); });
  child.stderr.on('data', (d) => { err += String(d); });
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      // 3: the study found violations; it still ran every run.
      if (code !== 0 && code !== 3) { reject(new Error(`klp-lab ${args.join(' ')} failed: ${err.trim()}`)); return; }
      const m = /^cpu ([\d.]+) ([\d.]+)$/m.exec(err);
      const study = /^ {2}host time: ([\d.]+) s/m.exec(out);
      resolve({ wall, cpu: m ? Number(m[1]) + Number(m[2]) : null, study: study ? Number(study[1]) : null });
    });
  });
}

/** Several processes at once: the wall time until the last ends, and their CPU seconds together. */
async function together(argsList: string[][]): Promise<Timing> {
  const t0 = process.hrtime.bigint();
  const each = await Promise.all(argsList.map(start));
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  return { wall, cpu: each.every((t) => t.cpu !== null) ? each.reduce((a, t) => a + t.cpu!, 0) : null, study: null };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

/** A variant's label and how to run it once. */
interface Variant { label: string; run: () => Promise<Timing> }

/**
 * Runs every variant `repeats` times, alternating them so the machine's load drifts over all of them
 * alike, and prints each one's median wall and CPU seconds and its ratio to the first variant's.
 */
export async function compareVariants(label: string, variants: Variant[], repeats: number): Promise<void> {
  const times: Timing[][] = variants.map(() => []);
  const loadBefore = os.loadavg()[0];
  for (let r = 0; r < repeats; r++) {
    for (const [i, v] of variants.entries()) times[i].push(await v.run());
  }
  const wall = times.map((t) => median(t.map((x) => x.wall)));
  const cpu = times.map((t) => (t.every((x) => x.cpu !== null) ? median(t.map((x) => x.cpu!)) : null));
  const study = times.map((t) => (t.every((x) => x.study !== null) ? median(t.map((x) => x.study!)) : null));
  const parts = variants.map((v, i) => `${v.label} ${wall[i].toFixed(2)} s` + (i > 0 ? ` (${(wall[i] / wall[0]).toFixed(2)}x)` : '') +
    (cpu[i] !== null ? ` [cpu ${cpu[i]!.toFixed(2)} s]` : '') +
    (study[i] !== null ? ` [study ${study[i]!.toFixed(1)} s` + (i > 0 && study[0] !== null ? `, ${(study[i]! / study[0]).toFixed(2)}x]` : ']') : ''));
  // The one-thread study already keeps more than one core busy (V8 compiles on background threads);
  // two threads must do that work on the same two cores, so even with nothing done twice --jobs 2
  // cannot go below CPU(--jobs 1) / (2 x wall(--jobs 1)).
  const floor = cpu[0] !== null ? ` --jobs 2 floor with nothing done twice ${(cpu[0] / (2 * wall[0])).toFixed(2)}x;` : '';
  console.log(`${label}, median of ${repeats}: ${parts.join(', ')};${floor} ${os.availableParallelism()} CPUs, load average ${loadBefore.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} after`);
}

/** --jobs 1 and --jobs 2 of one study (a real-kernel study's set-up is the same in both). */
export function jobsVariants(args: string[]): Variant[] {
  return [1, 2].map((j) => ({ label: `--jobs ${j}`, run: () => start([...args, '--jobs', String(j)]) }));
}

/** --jobs 1, --jobs 2 (and the CPUs' count), and the peer: two one-thread halves at once. */
function studyVariants(args: string[]): Variant[] {
  const jobs = [...new Set([1, 2, os.availableParallelism()])];
  return [
    ...jobs.map((j) => ({ label: `--jobs ${j}`, run: () => start([...args, '--jobs', String(j)]) })),
    { label: 'two --jobs 1 halves at once', run: () => together([0, 1].map((i) => [...args, '--jobs', '1', '--shard', `${i}/2`])) },
  ];
}

/** A comma-separated list of sizes from the environment, or the defaults. */
function sizes(name: string, defaults: number[]): number[] {
  const v = process.env[name];
  return v === undefined ? defaults : v.split(',').map(Number);
}

export async function run(): Promise<void> {
  // Small studies, where each thread's start-up and warm-up (about a second of CPU: loading, V8
  // optimizing the emulator and the guest's hot code) weighs, and the sizes studies are run at:
  // 1,000 livepatch runs per configuration and 10^5 stop points.
  const repeats = Number(process.env.KLP_BENCH_STUDY_REPEATS ?? 3);
  for (const runs of sizes('KLP_BENCH_STUDY_RUNS', [48, 200, 1000])) {
    await compareVariants(`livepatch study (klp_chain_a2, ${runs} runs)`,
      studyVariants(['livepatch', 'study', 'fixtures/kernel/kernel.elf', 'fixtures/livepatch/klp_chain_a2.o', '--runs', String(runs), '--seed', '1']), repeats);
  }
  for (const samples of sizes('KLP_BENCH_STUDY_SAMPLES', [20000, 100000])) {
    await compareVariants(`unwind study (${samples} samples, fp and ORC)`,
      studyVariants(['unwind', 'study', 'fixtures/kernel/kernel.elf', '--samples', String(samples), '--seed', '1', '--unwinder', 'all']), repeats);
  }
}
