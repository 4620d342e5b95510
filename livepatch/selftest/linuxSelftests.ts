// Linux 6.1's livepatch selftests, unmodified, inside Debian's real 6.1 kernel: the scripts of
// tools/testing/selftests/livepatch and the test_klp_* modules, built from linux-source-6.1 against
// the kernel's headers (livepatch/linux/linuxModules.ts), in the lab initramfs, whose /init runs
// them for the command-line word scenario=selftests (and selftests=a.sh,b.sh for some of them).
// The machine starts from a booted snapshot of that command line (livepatch/linux/bootedSnapshot.ts)
// and runs until /init says the scenario is done; the harness's verdicts are read from the console.
import * as fs from 'fs';
import { STOP_LIMIT } from '../../emulator/machine';
import { bootedLinux } from '../linux/bootedSnapshot';
import { debianRelease } from '../linux/debianKernel';
import { labInitramfs } from '../linux/labInitramfs';
import { LINUX_CMDLINE, describeStop } from '../linux/linuxBoot';
import { selftestFiles } from '../linux/linuxModules';
import { selftestResults, type SelftestResult } from '../linux/selftestResults';

/** Bad arguments (an unknown script): one line. */
export class LinuxSelftestError extends Error {}

/** The order /init runs them in when none is named (fixtures/linux/lab-init). */
export const LINUX_SELFTEST_ORDER: readonly string[] = [
  'test-livepatch.sh', 'test-callbacks.sh', 'test-shadow-vars.sh', 'test-state.sh', 'test-ftrace.sh', 'test-sysfs.sh',
];

const READY_LINE = 'init: scenario selftests';
const DONE_LINE = 'init: scenario selftests done';
/** Guest run between progress reports: about a second of emulation. */
const CHUNK_INSNS = 50e6;

/** The selftest scripts (test-*.sh) of the kernel's sources for this vmlinux, in /init's order. */
export function linuxSelftestScripts(vmlinux: string): string[] {
  const dir = selftestFiles(debianRelease(vmlinux).abi).scripts;
  const found = fs.readdirSync(dir).filter((f) => /^test-.*\.sh$/.test(f));
  const rank = (s: string): number => { const i = LINUX_SELFTEST_ORDER.indexOf(s); return i < 0 ? LINUX_SELFTEST_ORDER.length : i; };
  return found.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/**
 * The scripts named (as "test-state.sh", "test-state" or "state"), in the order given, each once;
 * every script when none is named. An unknown name throws LinuxSelftestError.
 */
export function chooseLinuxSelftests(names: readonly string[], available: readonly string[]): string[] {
  const chosen: string[] = [];
  for (const n of names) {
    const script = `${n.replace(/\.sh$/, '').replace(/^(test-)?/, 'test-')}.sh`;
    if (!available.includes(script)) {
      throw new LinuxSelftestError(`no selftest named '${n}' in Linux 6.1's livepatch selftests (${available.join(', ')})`);
    }
    if (!chosen.includes(script)) chosen.push(script);
  }
  return chosen.length > 0 ? chosen : [...available];
}

/** The kernel command line that runs these scripts (no selftests= word for /init's default list). */
export function selftestCommandLine(scripts: readonly string[]): string {
  const all = scripts.length === LINUX_SELFTEST_ORDER.length && scripts.every((s, i) => s === LINUX_SELFTEST_ORDER[i]);
  return `${LINUX_CMDLINE} scenario=selftests${all ? '' : ` selftests=${scripts.join(',')}`}`;
}

export interface LinuxSelftestProgress {
  /** The script running ('' while none has started). */
  script: string;
  /** Retired instructions since the ready point. */
  instructions: number;
  seconds: number;
}

export interface LinuxSelftestOptions {
  /** Scripts to run (default every one, in /init's order). */
  scripts?: readonly string[];
  /** Each console line after /init starts the scenario, as it comes. */
  onLine?: (line: string) => void;
  onProgress?: (p: LinuxSelftestProgress) => void;
  /** Most instructions the scripts may take (default 40 G). */
  maxInsns?: number;
}

export interface LinuxSelftestRun {
  scripts: string[];
  release: string;
  results: SelftestResult[];
  /** Each script's exit status, as /init reports it. */
  exitStatus: Map<string, number>;
  /** Whether /init reported the scenario done. */
  finished: boolean;
  /** How the run stopped, when it did not finish. */
  stop: string;
  /** The console after /init's first line. */
  console: string;
  /** Whether the boot came from a cached snapshot. */
  restored: boolean;
  bootInstructions: number;
  /** Retired instructions of the scripts (after the ready point). */
  instructions: number;
  seconds: number;
}

export function runLinuxSelftests(vmlinux: string, o: LinuxSelftestOptions = {}): LinuxSelftestRun {
  const { release } = debianRelease(vmlinux);
  const scripts = [...(o.scripts ?? linuxSelftestScripts(vmlinux))];
  const initramfs = labInitramfs(vmlinux).path;
  const exitStatus = new Map<string, number>();
  let script = '';
  let finished = false;
  const booted = bootedLinux(vmlinux, initramfs, {
    append: selftestCommandLine(scripts),
    readyLine: READY_LINE,
    onLine: (raw) => {
      const line = raw.replace(/\r$/, '');
      o.onLine?.(line);
      const start = /^# (test-[\w-]+\.sh)$/.exec(line);
      if (start !== null) script = start[1];
      const end = /^# (test-[\w-]+\.sh): exit status (\d+)$/.exec(line);
      if (end !== null) exitStatus.set(end[1], Number(end[2]));
      if (line === DONE_LINE) { finished = true; booted.machine.stop('selftests done'); }
    },
  });
  const m = booted.machine;
  const start = m.instructions;
  const limit = start + (o.maxInsns ?? 40e9);
  const t0 = process.hrtime.bigint();
  const seconds = (): number => Number(process.hrtime.bigint() - t0) / 1e9;
  let stop = '';
  for (;;) {
    const left = limit - m.instructions;
    if (left <= 0) { stop = 'instruction limit'; break; }
    const r = m.run(Math.min(CHUNK_INSNS, left));
    o.onProgress?.({ script, instructions: m.instructions - start, seconds: seconds() });
    if (finished) break;
    if (r.reason !== STOP_LIMIT) { stop = describeStop(r); break; }
  }
  const console = Buffer.from(booted.console).toString('latin1');
  return {
    scripts, release, results: selftestResults(console), exitStatus, finished, stop: finished ? '' : stop, console,
    restored: booted.restored, bootInstructions: booted.bootInstructions, instructions: m.instructions - start, seconds: seconds(),
  };
}
