// The selftests' harness (tools/testing/selftests/livepatch/functions.sh, Linux 6.1) as
// commands of the scenario shell, and the module tools behind it: modprobe, rmmod, sysctl.
// Every action logs what functions.sh logs to /dev/kmsg ("% modprobe ...", "% echo 0 > ...",
// "% rmmod ..."), and waits as it waits, polling every 0.1 s of virtual time up to 600 times:
// load_lp until the patch's transition reads 0, disable_lp until its sysfs directory is gone,
// unload_mod until the module's refcnt is 0. The bare tool lines (`modprobe M`, `rmmod M`,
// `echo 0 > /sys/kernel/livepatch/M/enabled`, `echo V > /sys/module/M/parameters/P`) do the
// same as the helper that wraps them, so a scenario can be written either way.

import * as fs from 'fs';
import * as path from 'path';
import { ElfFile } from '../../elf/elfFile';
import type { LivepatchLab } from '../guest/livepatchLab';
import { modinfo } from '../module/moduleParams';
import { checkResult } from './checkResult';
import { strerror } from './errno';
import { ScriptError, ScriptExit, type Shell } from './interpreter';
import { normalize } from './labFiles';

export const MAX_RETRIES = 600;
export const RETRY_INTERVAL_S = 0.1;
/** Virtual time a shell command takes around a module load or a sysfs write (the tools' own). */
export const SETTLE_NS = 10_000_000;

/** What the harness shares with the runner: the lab, where modules are, the log mark. */
export interface HarnessContext {
  lab: LivepatchLab;
  /** Directories searched for MODULE.o (modprobe's module path). */
  moduleDirs: string[];
  /** A line for the kernel log (/dev/kmsg). */
  kmsg(text: string): void;
  /** Index of the kernel log entry where the current test started (start_test). */
  testStart: number;
  /** Called with each test's name and verdict (check_result). */
  onResult?(name: string, ok: boolean, diff: string): void;
  currentTest?: string;
}

export function registerHarness(shell: Shell, h: HarnessContext): void {
  const { lab } = h;
  const c = shell.commands;
  const settle = () => lab.runFor(SETTLE_NS);

  const die = (msg: string): never => {
    h.kmsg(`ERROR: ${msg}`);
    shell.err(`ERROR: ${msg}\n`);
    throw new ScriptExit(1);
  };
  const skip = (msg: string): never => {
    h.kmsg(`SKIP: ${msg}`);
    shell.err(`SKIP: ${msg}\n`);
    throw new ScriptExit(4);
  };

  /** loop_until: the condition, then 0.1 s of virtual time, up to MAX_RETRIES more times. */
  const loopUntil = (cond: () => boolean): boolean => {
    for (let i = 0; ; i++) {
      if (cond()) return true;
      if (i === MAX_RETRIES) return false;
      lab.runFor(RETRY_INTERVAL_S * 1e9);
    }
  };

  const findModule = (name: string): string => {
    for (const dir of h.moduleDirs) {
      for (const file of [`${name}.o`, `${name}.ko`, `${name.replace(/_/g, '-')}.o`]) {
        const p = path.join(dir, file);
        if (fs.existsSync(p)) return p;
      }
    }
    throw new ScriptError(shell.line, `modprobe: FATAL: Module ${name} not found in directory ${h.moduleDirs.join(':') || '(none)'}`);
  };

  /** modinfo's livepatch: Y; a module without .modinfo that calls klp_enable_patch counts too. */
  const isLivepatchModule = (name: string): boolean => {
    const obj = ElfFile.read(findModule(name));
    const info = modinfo(obj.section('.modinfo')?.data);
    if (info.has('livepatch')) return info.get('livepatch') === 'Y';
    return obj.symbols().some((sym) => sym.name === 'klp_enable_patch' && sym.shndx === 0);
  };

  /** modprobe itself: "" on success, else its error text. */
  const modprobe = (name: string, params: string[]): string => {
    const file = findModule(name);
    if (lab.modules.has(name)) return '';
    const err = lab.modprobe(file, params);
    settle();
    if (err === 0) return '';
    const why = err === -2 ? 'Unknown symbol in module, or unknown parameter (see dmesg)' : strerror(err);
    return `modprobe: ERROR: could not insert '${name}': ${why}`;
  };

  const logModprobe = (name: string, params: string[]) => h.kmsg(`% modprobe ${[name, ...params].join(' ')}`);

  const waitModule = (name: string) => loopUntil(() => shell.files.exists(`/sys/module/${name}`)) || die(`failed to load module ${name}`);
  const waitLivepatch = (name: string) => loopUntil(() => shell.files.exists(`/sys/kernel/livepatch/${name}`)) || die(`failed to load module ${name} (sysfs)`);
  const transitionIs = (name: string, v: string) => {
    const r = shell.files.read(`/sys/kernel/livepatch/${name}/transition`);
    return !('error' in r) && r.text === `${v}\n`;
  };
  const waitTransitionDone = (name: string) => loopUntil(() => transitionIs(name, '0')) || die('failed to complete transition');

  const loadMod = (args: string[], kind: 'mod' | 'lp' | 'lp_nowait') => {
    const [name, ...params] = args;
    if (!name) throw new ScriptError(shell.line, 'a module name is needed');
    findModule(name);
    if (kind === 'mod' && isLivepatchModule(name)) die(`use load_lp() to load the livepatch module ${name}`);
    if (kind !== 'mod' && !isLivepatchModule(name)) die(`module ${name} is not a livepatch`);
    logModprobe(name, params);
    const ret = modprobe(name, params);
    if (ret) die(ret);
    waitModule(name);
    if (kind !== 'mod') waitLivepatch(name);
    if (kind === 'lp') waitTransitionDone(name);
    return 0;
  };

  const unloadMod = (name: string | undefined, viaHelper: boolean): number => {
    if (!name) throw new ScriptError(shell.line, 'a module name is needed');
    const refcntZero = () => {
      const r = shell.files.read(`/sys/module/${name}/refcnt`);
      return !('error' in r) && r.text === '0\n';
    };
    // unload_mod waits for the reference to go; a bare rmmod only while a transition that
    // may drop it is still running (as a script would sleep around it), then tries.
    const settled = () => refcntZero() || (!viaHelper && !lab.inTransition);
    if (!loopUntil(settled) && viaHelper) die(`failed to unload module ${name} (refcnt)`);
    h.kmsg(`% rmmod ${name}`);
    const err = lab.modules.has(name) ? lab.rmmod(name) : -2;
    settle();
    if (err) {
      const text = err === -2 ? `rmmod: ERROR: Module ${name} is not currently loaded` : err === -11 ? `rmmod: ERROR: Module ${name} is in use` : `rmmod: ERROR: could not remove module ${name}: ${strerror(err)}`;
      if (viaHelper) die(text);
      shell.err(text + '\n');
      return 1;
    }
    if (!loopUntil(() => !shell.files.exists(`/sys/module/${name}`)) && viaHelper) die(`failed to unload module ${name} (/sys/module)`);
    return 0;
  };

  /** echo VALUE > a sysfs file, logged as the harness logs it, with the harness's wait. */
  const sysfsEcho = (value: string, file: string, viaHelper: boolean): number => {
    const p = normalize(file);
    h.kmsg(`% echo ${value} > ${p}`);
    const err = shell.files.write(p, value + '\n');
    settle();
    if (err) {
      shell.err(`bash: echo: write error: ${strerror(err)}\n`);
      return 1;
    }
    const m = /^\/sys\/kernel\/livepatch\/([^/]+)\/enabled$/.exec(p);
    if (m && value === '0') {
      if (!loopUntil(() => !shell.files.exists(`/sys/kernel/livepatch/${m[1]}`)) && viaHelper) die(`failed to disable livepatch ${m[1]}`);
    }
    const q = /^\/sys\/module\/[^/]+\/parameters\/[^/]+$/.exec(p);
    if (q) {
      const readsBack = () => {
        const r = shell.files.read(p);
        return !('error' in r) && r.text === `${value}\n`;
      };
      if (!loopUntil(readsBack) && viaHelper) die(`failed to set parameter ${p}`);
    }
    return 0;
  };

  // -- functions.sh --------------------------------------------------------------------------
  c.set('setup_config', () => 0); // dynamic debug for kernel/livepatch (without klp_try_switch_task) is the runner's default
  c.set('is_root', () => 0);
  c.set('log', (args) => {
    h.kmsg(args.join(' '));
    return 0;
  });
  c.set('die', (args) => die(args.join(' ')));
  c.set('skip', (args) => skip(args.join(' ')));
  c.set('loop_until', (args) => {
    const cmd = args.join(' ');
    const line = shell.line;
    return loopUntil(() => shell.evalText(cmd, line) === 0) ? 0 : 1;
  });
  c.set('load_mod', (args) => loadMod(args, 'mod'));
  c.set('load_lp', (args) => loadMod(args, 'lp'));
  c.set('load_lp_nowait', (args) => loadMod(args, 'lp_nowait'));
  c.set('load_failing_mod', (args) => {
    const [name, ...params] = args;
    if (!name) throw new ScriptError(shell.line, 'a module name is needed');
    logModprobe(name, params);
    const ret = modprobe(name, params);
    if (!ret) die(`${name} unexpectedly loaded`);
    h.kmsg(ret);
    return 0;
  });
  c.set('unload_mod', (args) => unloadMod(args[0], true));
  c.set('unload_lp', (args) => unloadMod(args[0], true));
  c.set('disable_lp', (args) => {
    if (!args[0]) throw new ScriptError(shell.line, 'a module name is needed');
    return sysfsEcho('0', `/sys/kernel/livepatch/${args[0]}/enabled`, true);
  });
  c.set('set_pre_patch_ret', (args) => {
    if (args.length < 2) throw new ScriptError(shell.line, 'set_pre_patch_ret MODULE VALUE');
    return sysfsEcho(args[1], `/sys/module/${args[0]}/parameters/pre_patch_ret`, true);
  });
  c.set('set_ftrace_enabled', (args) => {
    let canFail = false;
    if (args[0] === '--fail') {
      canFail = true;
      args = args.slice(1);
    }
    const v = args[0];
    if (v !== '0' && v !== '1') throw new ScriptError(shell.line, 'set_ftrace_enabled [--fail] 0|1');
    const err = lab.setFtraceEnabled(v === '1');
    if (err) {
      if (canFail) {
        h.kmsg(`livepatch: sysctl: setting key "kernel.ftrace_enabled": ${strerror(err)}`);
        return 0;
      }
      skip(`failed to set kernel.ftrace_enabled = ${v}`);
    }
    h.kmsg(`livepatch: kernel.ftrace_enabled = ${v}`);
    return 0;
  });
  c.set('start_test', (args) => {
    const name = args.join(' ');
    h.testStart = lab.core.log.entries.length;
    h.currentTest = name;
    shell.out(`TEST: ${name} ... `);
    h.kmsg(`===== TEST: ${name} =====`);
    return 0;
  });
  c.set('check_result', (args) => {
    const outcome = checkResult(args.join(' '), lab.core.log.entries.slice(h.testStart).map((e) => e.text));
    h.onResult?.(h.currentTest ?? '', outcome.ok, outcome.diff);
    if (outcome.ok) {
      shell.out('ok\n');
      return 0;
    }
    shell.out(`not ok\n\n${outcome.diff}\n\n`);
    return die('livepatch kselftest(s) failed');
  });
  c.set('check_sysfs_rights', (args) => {
    const [mod, rel, expected] = args;
    const p = normalize(`/sys/kernel/livepatch/${mod}/${rel ?? ''}`);
    const rights = shell.files.mode(p) ?? '';
    if (rights !== expected) die(`Unexpected access rights of ${p}: ${expected} vs. ${rights}`);
    return 0;
  });
  c.set('check_sysfs_value', (args) => {
    const [mod, rel, expected] = args;
    const p = normalize(`/sys/kernel/livepatch/${mod}/${rel ?? ''}`);
    const r = shell.files.read(p);
    const value = 'error' in r ? '' : r.text.replace(/\n+$/, '');
    if (value !== expected) die(`Unexpected value in ${p}: ${expected} vs. ${value}`);
    return 0;
  });

  // -- the tools ------------------------------------------------------------------------------
  c.set('modprobe', (args) => {
    const opts = args.filter((a) => a.startsWith('-'));
    const [name, ...params] = args.filter((a) => !a.startsWith('-'));
    if (!name) throw new ScriptError(shell.line, 'modprobe: a module name is needed');
    if (opts.some((o) => o === '-r' || o === '--remove')) return unloadMod(name, false);
    if (opts.some((o) => o === '-n' || o === '--dry-run')) {
      findModule(name);
      return 0;
    }
    logModprobe(name, params);
    const ret = modprobe(name, params);
    if (ret) {
      h.kmsg(ret);
      shell.err(ret + '\n');
      return 1;
    }
    if (lab.patch(name) && !lab.patch(name)!.freed) {
      // load_lp: the patch's sysfs directory exists; its transition is waited for.
      loopUntil(() => !shell.files.exists(`/sys/kernel/livepatch/${name}`) || transitionIs(name, '0'));
    }
    return 0;
  });
  c.set('insmod', (args) => shell.commands.get('modprobe')!([path.basename(args[0] ?? '').replace(/\.k?o$/, ''), ...args.slice(1)], shell));
  c.set('rmmod', (args) => unloadMod(args.filter((a) => !a.startsWith('-'))[0], false));
  c.set('sysctl', (args) => {
    const quiet = args.includes('-q');
    const valuesOnly = args.includes('--values') || args.includes('-n');
    const setting = args.find((a) => !a.startsWith('-'));
    if (!setting) throw new ScriptError(shell.line, 'sysctl: a key is needed');
    const [key, value] = setting.split('=');
    if (key !== 'kernel.ftrace_enabled') throw new ScriptError(shell.line, `sysctl: cannot stat /proc/sys/${key.replace(/\./g, '/')}: No such file or directory`);
    if (value === undefined) {
      const v = lab.fentry.ftraceEnabled ? '1' : '0';
      shell.out(valuesOnly ? `${v}\n` : `${key} = ${v}\n`);
      return 0;
    }
    if (value !== '0' && value !== '1') {
      shell.err(`sysctl: setting key "${key}": Invalid argument\n`);
      return 1;
    }
    const err = lab.setFtraceEnabled(value === '1');
    if (err) {
      shell.err(`sysctl: setting key "${key}": ${strerror(err)}\n`);
      return 1;
    }
    if (!quiet) shell.out(`${key} = ${value}\n`);
    return 0;
  });

  // echo VALUE > /sys/...: the sysfs writes the harness makes, logged and waited for. Other
  // echo lines are the shell's own.
  shell.sysfsEcho = (value: string, file: string) => sysfsEcho(value, file, false);
}
