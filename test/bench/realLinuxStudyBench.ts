// Runs per hour of a live-patching study on real Linux (issue 13, item 7): klp_lab_cmdline.ko
// patched into Debian's 6.1 kernel, each run restored from the booted scenario's snapshot. The
// peer is the boot that a run without the snapshot would repeat: the run's instructions are
// printed against the boot's, measured in the same process (the snapshot records them).
// Then --jobs 1 against --jobs 2 on a klp_lab_hog.ko study of KLP_BENCH_REAL_JOBS_RUNS runs (default
// 16: with 4, each worker's warm-up on real Linux does not pay back in its two runs), through the
// built command line (wall, CPU, and the study's own time without the lab's set-up;
// KLP_BENCH_REAL_REPEATS repeats, default 1, each figure their median).
import * as os from 'os';
import * as path from 'path';
import { debianRelease, linuxKernel } from '../../livepatch/linux/debianKernel';
import { labPatchModules } from '../../livepatch/linux/linuxModules';
import { prepareRealLab } from '../../livepatch/linux/realPatchRun';
import { formatRealCost, runRealStudy, type RealRunOutcome } from '../../livepatch/linux/realStudy';
import { compareVariants, jobsVariants } from './studyBench';

const RUNS = 4;

export async function run(): Promise<void> {
  const kernel = linuxKernel();
  const patch = path.join(labPatchModules(debianRelease(kernel.vmlinux).abi), 'klp_lab_cmdline.ko');
  const lab = prepareRealLab(kernel.vmlinux, patch, () => process.stdout.write('  (booting the livepatch scenario once for its snapshot)\n'));
  const bootInstructions = lab.snapshot.info.instructions;
  const r = runRealStudy(lab, { runs: RUNS, seed: 13, window: [0, 50e6], jitterNs: 200000, maxWait: 3e9, shard: [0, 1] });
  const runs = r.perRun as RealRunOutcome[];
  const ins = runs.reduce((a, x) => a + x.instructions, 0) / runs.length;
  const host = runs.reduce((a, x) => a + x.hostSeconds, 0) / runs.length;
  process.stdout.write(formatRealCost(r));
  process.stdout.write(`  real-kernel study (klp_lab_cmdline, ${RUNS} runs): ${(3600 / host).toFixed(0)} runs/hour; ` +
    `a run retires ${(ins / 1e6).toFixed(1)} M instructions, ${(ins / bootInstructions).toFixed(3)}x the ${(bootInstructions / 1e9).toFixed(2)} G of the boot it skips; ` +
    `${(ins / host / 1e6).toFixed(1)} MIPS\n`);
  const hog = path.join(labPatchModules(debianRelease(kernel.vmlinux).abi), 'klp_lab_hog.ko');
  prepareRealLab(kernel.vmlinux, hog);
  console.log(`  load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const jobsRuns = process.env.KLP_BENCH_REAL_JOBS_RUNS ?? '16';
  await compareVariants(`  real-kernel study (klp_lab_hog, ${jobsRuns} runs)`,
    jobsVariants(['livepatch', 'study', kernel.vmlinux, hog, '--runs', jobsRuns, '--seed', '13', '--to', '50ms', '--jitter', '200000']),
    Number(process.env.KLP_BENCH_REAL_REPEATS ?? 1));
}
