// `klp-lab livepatch script FILE IMAGE [--modules DIR]... [--unwinder fp|orc] [--dmesg]`: runs a
// scenario script, written as the livepatch selftests are (functions.sh's helpers built in, or
// the bare tool lines they wrap: modprobe, rmmod, echo to sysfs, cat, grep, sysctl), against
// IMAGE booted in serve mode. The script's output goes to stdout; --dmesg prints the kernel log
// at the end. The exit status is the script's (check_result failures exit 1, as in the kernel).

import * as fs from 'fs';
import * as path from 'path';
import type { CommandModule } from 'yargs';
import { LabError } from '../../../livepatch/guest/livepatchLab';
import { ScenarioError, runScenario } from '../../../livepatch/script/scriptRunner';
import { selftestModulesDir } from '../../../livepatch/selftest/selftests';
import { BootError } from '../../../emulator/loader/pvh';
import { UserError } from '../../userError';

interface ScriptArgs {
  file: string;
  image: string;
  modules?: string[];
  unwinder: string;
  dmesg?: boolean;
}

export const livepatchScriptCommand: CommandModule<object, ScriptArgs> = {
  command: 'script <file> <image>',
  describe: 'run a scenario script (the selftests\' shell lines: modprobe, echo > /sys/..., rmmod, cat /proc/cmdline, check_result ...) on IMAGE',
  builder: (y) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'the scenario script' })
      .positional('image', { type: 'string', demandOption: true, describe: 'fixture kernel ELF (fixtures/kernel/kernel.elf)' })
      .option('modules', { type: 'string', array: true, describe: "directories modprobe searches for MODULE.o (default: the script's directory, then fixtures/livepatch/selftests, fixtures/livepatch)" })
      .option('unwinder', { type: 'string', choices: ['fp', 'orc'], default: 'fp', describe: 'reliable unwinder of the stack checks (orc needs kernel-nofp.elf)' })
      .option('dmesg', { type: 'boolean', describe: 'print the whole kernel log (with timestamps) at the end' })
      .epilog(
        'Script lines: the harness of the selftests (start_test, check_result, load_mod, load_lp, load_lp_nowait, ' +
        'load_failing_mod, unload_mod, unload_lp, disable_lp, set_pre_patch_ret, set_ftrace_enabled, check_sysfs_rights, ' +
        'check_sysfs_value, loop_until, log, die, skip), the tools (modprobe, rmmod, insmod, sysctl), and shell: ' +
        'echo [> FILE], cat, grep, sleep, test/[[ ]], if/then/else/fi, &&, ||, variables, "$(...)", exit. ' +
        'Files: /proc/cmdline, /proc/meminfo, /sys/kernel/livepatch/..., /sys/module/<mod>/{refcnt,parameters/<p>}, /dev/kmsg.',
      ),
  handler: (args) => {
    let source: string;
    try {
      source = fs.readFileSync(args.file, 'utf8');
    } catch {
      throw new UserError(`${args.file}: No such file`);
    }
    if (!fs.existsSync(args.image)) throw new UserError(`${args.image}: No such file`);
    for (const d of args.modules ?? []) if (!fs.existsSync(d)) throw new UserError(`--modules ${d}: No such directory`);
    const moduleDirs = args.modules?.length
      ? args.modules
      : [path.dirname(path.resolve(args.file)), selftestModulesDir(), path.dirname(selftestModulesDir())];
    try {
      const r = runScenario({
        source,
        name: args.file,
        image: args.image,
        moduleDirs,
        unwinder: args.unwinder as 'fp' | 'orc',
        output: { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) },
      });
      if (args.dmesg) process.stdout.write(r.lab.core.log.format());
      process.exitCode = r.status;
    } catch (e) {
      if (e instanceof ScenarioError || e instanceof LabError || e instanceof BootError) throw new UserError(e.message);
      throw e;
    }
  },
};
