// `klp-lab livepatch selftest [NAME...] [--image IMAGE] [--unwinder fp|orc] [--list]`: runs the
// reproduced livepatch selftests of Linux 6.1 (test-livepatch, test-callbacks, test-shadow-vars,
// test-state, test-ftrace, test-sysfs) on the fixture kernel and prints what the kernel's
// harness prints: "TEST: name ... ok", or "not ok" with the diff of the kernel log against the
// expected block of the 6.1 script. Exit status 1 when a test fails.

import * as fs from 'fs';
import type { CommandModule } from 'yargs';
import { LabError } from '../../../livepatch/guest/livepatchLab';
import { ScenarioError } from '../../../livepatch/script/scriptRunner';
import { SELFTESTS, findSelftest, runSelftest, type Selftest } from '../../../livepatch/selftest/selftests';
import { BootError } from '../../../emulator/loader/pvh';
import { UserError } from '../../userError';

interface SelftestArgs {
  names?: string[];
  image?: string;
  unwinder: string;
  list?: boolean;
}

export const livepatchSelftestCommand: CommandModule<object, SelftestArgs> = {
  command: 'selftest [names..]',
  describe: "run Linux 6.1's livepatch selftests (test-livepatch, test-callbacks, ...) on the fixture kernel, checked line for line",
  builder: (y) =>
    y
      .positional('names', { type: 'string', array: true, describe: 'selftests to run (default: all): test-livepatch, test-callbacks, test-shadow-vars, test-state, test-ftrace, test-sysfs' })
      .option('image', { type: 'string', describe: 'fixture kernel ELF (default fixtures/kernel/kernel.elf)' })
      .option('unwinder', { type: 'string', choices: ['fp', 'orc'], default: 'fp', describe: 'reliable unwinder of the stack checks (orc needs kernel-nofp.elf)' })
      .option('list', { type: 'boolean', describe: 'list the selftests and exit' }),
  handler: (args) => {
    if (args.list) {
      for (const t of SELFTESTS) process.stdout.write(`${t.name.padEnd(18)}${t.about}\n`);
      return;
    }
    const chosen: Selftest[] = [];
    for (const n of args.names ?? []) {
      const t = findSelftest(n);
      if (!t) throw new UserError(`no selftest named '${n}' (klp-lab livepatch selftest --list)`);
      if (!chosen.includes(t)) chosen.push(t);
    }
    if (args.image !== undefined && !fs.existsSync(args.image)) throw new UserError(`${args.image}: No such file`);
    let failed = 0;
    for (const t of chosen.length ? chosen : SELFTESTS) {
      process.stdout.write(`# ${t.name}.sh\n`);
      try {
        const r = runSelftest(t, {
          image: args.image,
          unwinder: args.unwinder as 'fp' | 'orc',
          output: { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) },
        });
        if (r.status !== 0) failed++;
      } catch (e) {
        if (e instanceof ScenarioError || e instanceof LabError || e instanceof BootError) throw new UserError(e.message);
        throw e;
      }
    }
    if (failed) process.exitCode = 1;
  },
};
