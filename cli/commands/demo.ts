// `klp-lab demo` (what `npm start` runs): a short tour on the committed fixtures. It boots the
// fixture kernel in klp-lab's emulator, loads a live patch while its tasks run, and shows the
// kernel's livepatch log, each task's way through the transition, and what the consistency
// checker saw on the emulator's ground truth.

import * as path from 'path';
import type { CommandModule } from 'yargs';
import { runPatch } from '../../livepatch/run/patchRun';
import { timelineSvg } from '../../livepatch/report/timelineSvg';
import { formatViolation } from '../../livepatch/consistency/consistencyChecker';
import { writeOutput } from './livepatch/options';

const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'fixtures');

interface DemoArgs {
  chart?: string;
}

export const demoCommand: CommandModule<object, DemoArgs> = {
  command: 'demo',
  describe: 'boot the fixture kernel, live-patch it while it runs, show the transition (what `npm start` runs)',
  builder: (y) => y.option('chart', { type: 'string', describe: 'also write the transition timeline as an SVG chart to this file' }),
  handler: (args) => {
    const say = (line = '') => process.stdout.write(line + '\n');
    const kernel = path.join(FIXTURES, 'kernel', 'kernel.elf');
    const patchModule = path.join(FIXTURES, 'livepatch', 'klp_chain_a2.o');
    const rel = (p: string) => path.relative(process.cwd(), p);
    say('klp-lab: a laboratory for kernel live patching on x86_64');
    say();
    say(`1. Booting ${rel(kernel)} in klp-lab's emulator (PVH entry, as qemu -kernel does), with ground truth on:`);
    say('   the emulator records every call, return and interrupt frame on every kernel stack.');
    const started = Date.now();
    const r = runPatch({
      image: kernel,
      patch: patchModule,
      cmdline: 'scale=10 nap=1500',
      patchAt: 30e6,
      log: { debug: true, debugTrySwitch: true },
    });
    const lab = r.lab;
    for (const line of lab.consoleText.split('\n').slice(0, 6)) say(`   | ${line}`);
    say();
    say(`2. At ${(r.loadedAt / 1e6).toFixed(1)} ms of virtual time, with the kernel's threads deep in their call chains:`);
    say(`   modprobe ${rel(patchModule)}, which replaces chain_a2() (kworker/chain-a sleeps under it).`);
    say(`   init_module returned ${r.loadResult}.`);
    say();
    say('3. The kernel log (livepatch messages, with the klp_try_switch_task debug lines on):');
    for (const line of lab.core.log.format().trimEnd().split('\n')) say(`   ${line}`);
    say();
    say('4. Each task through the transition (a stack check, the kernel exit or the idle loop; 6.1 has no kthread patch point):');
    for (const t of lab.recorder.timelines) for (const line of t.format().trimEnd().split('\n')) say(`   ${line}`);
    say();
    const checks = r.checker?.checker.checks ?? 0;
    say(`5. The consistency checker watched ${checks} calls into old and new code against each task's true stack:`);
    if (r.violations.length === 0) say('   no task ever ran the new chain_a2 with the old one still active, or the reverse.');
    else for (const v of r.violations.slice(0, 5)) say(`   VIOLATION ${formatViolation(v)}`);
    lab.runToExit(20e9);
    const m = lab.modules.get('klp_chain_a2');
    const calls = m ? lab.access.u64(m.module.symbols.get('klp_chain_a2_calls')!.address) : 0;
    say(`   Calls redirected to the new chain_a2 by the ftrace handler: ${lab.fentry.redirections} (the module counted ${calls}).`);
    const chain = lab.consoleText.split('\n').find((l) => l.includes('kworker/chain-a'));
    if (chain) say(`   The kernel's own report, unchanged by the patch: ${chain.trim()}`);
    say(`   The guest ${lab.exitStatus !== undefined ? `exited with status ${lab.exitStatus}` : `stopped: ${lab.describeStop()}`} after ` +
      `${(lab.now / 1e6).toFixed(0)} ms of virtual time (${((Date.now() - started) / 1000).toFixed(1)} s on this machine).`);
    if (args.chart && lab.recorder.timelines.length) {
      writeOutput(args.chart, timelineSvg(lab.recorder.timelines[0]));
      say(`   Timeline chart written to ${args.chart}.`);
    }
    say();
    say('Next:');
    say('  klp-lab livepatch fixtures/kernel/kernel.elf fixtures/livepatch/klp_nap.o --kthread-patch-points   # signals, then the seed\'s patch point');
    say('  klp-lab livepatch study fixtures/kernel/kernel.elf fixtures/livepatch/klp_hog.o --unwinder unsound --runs 40');
    say('                                                        # an unwinder that ignores pt_regs: the checker finds violations');
    say('  klp-lab unwind study fixtures/kernel/kernel.elf --samples 1000; klp-lab objtool --stackval FILE.o; klp-lab --help');
  },
};
