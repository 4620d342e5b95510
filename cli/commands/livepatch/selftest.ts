// `klp-lab livepatch selftest [NAME...] [--image IMAGE] [--unwinder fp|orc] [--list]`: runs the
// reproduced livepatch selftests of Linux 6.1 (test-livepatch, test-callbacks, test-shadow-vars,
// test-state, test-ftrace, test-sysfs) on the fixture kernel and prints what the kernel's
// harness prints: "TEST: name ... ok", or "not ok" with the diff of the kernel log against the
// expected block of the 6.1 script. Exit status 1 when a test fails.
//
// `klp-lab livepatch selftest [NAME...] --linux VMLINUX [--list]`: the kernel's own scripts and
// test_klp_* modules, unmodified, inside Debian's real 6.1 kernel (livepatch/selftest/linuxSelftests.ts):
// the harness's lines as the guest prints them, then "N of M ok". Exit status 1 when a test is not
// ok or the run did not finish.

import * as fs from 'fs';
import type { CommandModule } from 'yargs';
import { LabError } from '../../../livepatch/guest/livepatchLab';
import { ScenarioError } from '../../../livepatch/script/scriptRunner';
import { SELFTESTS, findSelftest, runSelftest, type Selftest } from '../../../livepatch/selftest/selftests';
import {
  LinuxSelftestError, chooseLinuxSelftests, linuxSelftestScripts, runLinuxSelftests,
} from '../../../livepatch/selftest/linuxSelftests';
import { LinuxBootError } from '../../../livepatch/linux/bootedSnapshot';
import { NotDebianKernelError, debianRelease } from '../../../livepatch/linux/debianKernel';
import { PackageError } from '../../../livepatch/linux/debianPackages';
import { BootError } from '../../../emulator/loader/pvh';
import { UserError } from '../../userError';

interface SelftestArgs {
  names?: string[];
  image?: string;
  unwinder?: string;
  linux?: string;
  list?: boolean;
}

export const livepatchSelftestCommand: CommandModule<object, SelftestArgs> = {
  command: 'selftest [names..]',
  describe: "run Linux 6.1's livepatch selftests (test-livepatch, test-callbacks, ...) on the fixture kernel, checked line for line, or unmodified inside real Linux (--linux)",
  builder: (y) =>
    y
      .positional('names', { type: 'string', array: true, describe: 'selftests to run (default: all): test-livepatch, test-callbacks, test-shadow-vars, test-state, test-ftrace, test-sysfs' })
      .option('image', { type: 'string', describe: 'fixture kernel ELF (default fixtures/kernel/kernel.elf)' })
      .option('unwinder', { type: 'string', choices: ['fp', 'orc'], describe: 'reliable unwinder of the stack checks (default fp; orc needs kernel-nofp.elf)' })
      .option('linux', { type: 'string', describe: "Debian 6.1 cloud vmlinux: run the kernel's own scripts and test_klp_* modules inside it" })
      .option('list', { type: 'boolean', describe: 'list the selftests and exit' }),
  handler: (args) => {
    if (args.linux !== undefined) { linuxSelftests(args.linux, args); return; }
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
          unwinder: (args.unwinder ?? 'fp') as 'fp' | 'orc',
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

function linuxSelftests(vmlinux: string, args: SelftestArgs): void {
  if (args.image !== undefined) throw new UserError('--image names a fixture kernel: with --linux the kernel is VMLINUX');
  if (args.unwinder !== undefined) throw new UserError('--unwinder chooses the fixture lab\'s unwinder: real Linux uses its own (ORC)');
  if (!fs.existsSync(vmlinux)) throw new UserError(`${vmlinux}: No such file`);
  try {
    debianRelease(vmlinux); // a clear error before any download or build
    const available = linuxSelftestScripts(vmlinux);
    if (args.list) {
      for (const s of available) {
        const about = findSelftest(s)?.about;
        process.stdout.write(`${s.replace(/\.sh$/, '').padEnd(18)}${about ?? ''}\n`.replace(/ +\n$/, '\n'));
      }
      return;
    }
    const scripts = chooseLinuxSelftests(args.names ?? [], available);
    const progress = process.stderr.isTTY === true;
    let shown = false;
    const run = runLinuxSelftests(vmlinux, {
      scripts,
      onLine: (line) => {
        if (shown) { process.stderr.write('\r\x1b[K'); shown = false; }
        if (line !== 'init: scenario selftests done') process.stdout.write(`${line}\n`);
      },
      onProgress: progress ? (p) => {
        const mips = p.seconds > 0 ? ` at ${(p.instructions / p.seconds / 1e6).toFixed(0)} MIPS` : '';
        process.stderr.write(`\r\x1b[Kselftests: ${p.script || 'starting'}, ${(p.instructions / 1e9).toFixed(2)} G instructions${mips}`);
        shown = true;
      } : undefined,
    });
    if (shown) process.stderr.write('\r\x1b[K');
    const ok = run.results.filter((r) => r.verdict === 'ok').length;
    const failedScripts = [...run.exitStatus].filter(([, status]) => status !== 0).map(([s]) => s);
    process.stdout.write(`selftests: ${ok} of ${run.results.length} ok\n`);
    if (!run.finished) throw new UserError(`the guest stopped before the selftests finished (${run.stop})`);
    if (ok !== run.results.length || run.results.length === 0 || failedScripts.length > 0) process.exitCode = 1;
  } catch (e) {
    if (e instanceof NotDebianKernelError || e instanceof LinuxSelftestError || e instanceof PackageError
      || e instanceof LinuxBootError || e instanceof BootError) throw new UserError(e.message);
    throw e;
  }
}
