// `klp-lab demo` (what `npm start` runs): a short tour on the committed fixtures. It boots the
// fixture kernel in klp-lab's emulator, loads a live patch while its tasks run, and shows the
// kernel's livepatch log and each task's way through the transition.

import * as fs from 'fs';
import * as path from 'path';
import type { CommandModule } from 'yargs';
import { LivepatchLab } from '../../livepatch/guest/livepatchLab';
import { timelineSvg } from '../../livepatch/report/timelineSvg';

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
    say('klp-lab: a laboratory for kernel live patching on x86_64');
    say();
    say(`1. Booting ${path.relative(process.cwd(), kernel)} in klp-lab's emulator (PVH entry, as qemu -kernel does).`);
    const lab = new LivepatchLab(new Uint8Array(fs.readFileSync(kernel)), 'kernel.elf', {
      cmdline: 'scale=40',
      log: { debug: true, debugTrySwitch: true },
    });
    const started = Date.now();
    lab.runFor(30e6);
    for (const line of lab.consoleText.trimEnd().split('\n').slice(0, 6)) say(`   | ${line}`);
    say(`   ... ${lab.machine.instructions} instructions, ${(lab.now / 1e6).toFixed(1)} ms of virtual time: kthreads are deep in their call chains.`);
    say();
    say(`2. modprobe ${path.relative(process.cwd(), patchModule)}: replaces chain_a2(), which kworker/chain-a sleeps under.`);
    const err = lab.modprobe(patchModule);
    say(`   init_module returned ${err}`);
    lab.waitForTransition(10e9);
    lab.runToExit(20e9);
    say();
    say('3. The kernel log (livepatch messages, with the klp_try_switch_task debug lines on):');
    for (const line of lab.core.log.format().trimEnd().split('\n')) say(`   ${line}`);
    say();
    say('4. Each task through the transition (switched by a stack check, at a patch point, at the kernel exit or in the idle loop):');
    for (const t of lab.recorder.timelines) for (const line of t.format().trimEnd().split('\n')) say(`   ${line}`);
    say();
    const m = lab.modules.get('klp_chain_a2');
    const calls = m ? lab.access.u64(m.module.symbols.get('klp_chain_a2_calls')!.address) : 0;
    say(`5. chain_a2 calls redirected to the new version: ${lab.fentry.redirections} (the module counted ${calls}).`);
    const chain = lab.consoleText.split('\n').find((l) => l.includes('kworker/chain-a'));
    if (chain) say(`   The kernel's own report: ${chain.trim()}`);
    say(`   The guest ${lab.exitStatus !== undefined ? `exited with status ${lab.exitStatus}` : `stopped: ${lab.describeStop()}`} after ` +
      `${(lab.now / 1e6).toFixed(0)} ms of virtual time (${((Date.now() - started) / 1000).toFixed(1)} s on this machine).`);
    if (args.chart && lab.recorder.timelines.length) {
      fs.writeFileSync(args.chart, timelineSvg(lab.recorder.timelines[0]));
      say(`   Timeline chart written to ${args.chart}.`);
    }
    say();
    say('More: klp-lab --help; klp-lab run IMAGE; klp-lab objtool --stackval FILE.o; klp-lab unwind IMAGE --at N; klp-lab readelf -S FILE');
  },
};
