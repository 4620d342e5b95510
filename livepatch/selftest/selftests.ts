// The livepatch selftests of Linux 6.1 (tools/testing/selftests/livepatch/) reproduced on the
// fixture kernel: each is a scenario script in scripts/ with the kernel script's steps and its
// expected kernel logs, run by livepatch/script against the test modules of
// fixtures/livepatch/selftests (lib/livepatch/'s modules rewritten for the fixture kernel).

import * as fs from 'fs';
import * as path from 'path';
import type { LabUnwinder } from '../guest/livepatchLab';
import type { ScriptOutput } from '../script/interpreter';
import { runScenario, type ScenarioResult } from '../script/scriptRunner';

export interface Selftest {
  /** The kernel script's name without ".sh". */
  name: string;
  /** What it checks, for --list. */
  about: string;
}

/** In the order of the kernel's Makefile (TEST_PROGS). */
export const SELFTESTS: readonly Selftest[] = [
  { name: 'test-callbacks', about: 'callbacks of vmlinux and module objects, module notifiers, a failing pre_patch, a stalled transition, atomic replace' },
  { name: 'test-livepatch', about: 'function patching, stacked patches, atomic replace (/proc/cmdline, /proc/meminfo)' },
  { name: 'test-shadow-vars', about: 'the shadow variable API' },
  { name: 'test-state', about: 'system states carried over by cumulative patches, an incompatible version refused' },
  { name: 'test-ftrace', about: 'the kernel.ftrace_enabled sysctl and livepatch' },
  { name: 'test-sysfs', about: 'modes and values of /sys/kernel/livepatch/<patch>/ and <object>/patched' },
];

/** The repository's root (where fixtures/ is), from the source tree or from dist/. */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'fixtures'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`internal: no repository root above ${__dirname}`);
    dir = up;
  }
}

export function scriptsDir(): string {
  return path.join(repoRoot(), 'livepatch', 'selftest', 'scripts');
}

/** fixtures/livepatch/selftests: where the test modules are. */
export function selftestModulesDir(): string {
  return path.join(repoRoot(), 'fixtures', 'livepatch', 'selftests');
}

export function defaultImage(): string {
  return path.join(repoRoot(), 'fixtures', 'kernel', 'kernel.elf');
}

/** A selftest by name: "test-state", "state" or "test-state.sh"; undefined if unknown. */
export function findSelftest(name: string): Selftest | undefined {
  const n = name.replace(/\.sh$/, '').replace(/^(test-)?/, 'test-');
  return SELFTESTS.find((t) => t.name === n);
}

export interface SelftestRunOptions {
  image?: string;
  unwinder?: LabUnwinder;
  output: ScriptOutput;
}

export function runSelftest(t: Selftest, o: SelftestRunOptions): ScenarioResult {
  const file = path.join(scriptsDir(), `${t.name}.sh`);
  return runScenario({
    source: fs.readFileSync(file, 'utf8'),
    name: `${t.name}.sh`,
    image: o.image ?? defaultImage(),
    moduleDirs: [selftestModulesDir()],
    output: o.output,
    unwinder: o.unwinder,
  });
}
