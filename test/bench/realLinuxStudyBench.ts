// Runs per hour of a live-patching study on real Linux (issue 13, item 7): klp_lab_cmdline.ko
// patched into Debian's 6.1 kernel, each run restored from the booted scenario's snapshot. The
// peer is the boot that a run without the snapshot would repeat: the run's instructions are
// printed against the boot's, measured in the same process (the snapshot records them).
import * as path from 'path';
import { debianRelease, linuxKernel } from '../../livepatch/linux/debianKernel';
import { labPatchModules } from '../../livepatch/linux/linuxModules';
import { prepareRealLab } from '../../livepatch/linux/realPatchRun';
import { formatRealCost, runRealStudy, type RealRunOutcome } from '../../livepatch/linux/realStudy';

const RUNS = 4;

export function run(): void {
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
}
