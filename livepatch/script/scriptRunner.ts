// Runs a scenario script against the fixture kernel: boots it in serve mode ("selftest" on its
// command line: no workload, it idles while the script loads modules and reads files), with
// the kernel log the selftests see (dynamic debug on for the livepatch core, off for
// klp_try_switch_task, as setup_config sets it; the guest's printk lines in the same log),
// and runs the script's lines with the harness's functions built in.

import * as fs from 'fs';
import * as path from 'path';
import { LivepatchLab, type LabUnwinder } from '../guest/livepatchLab';
import { registerHarness, type HarnessContext } from './harness';
import { ScriptError, Shell, type ScriptOutput } from './interpreter';
import { LabFiles } from './labFiles';

export const SERVE_CMDLINE = 'selftest';
/** Virtual time the kernel gets to boot before the first line runs. */
const BOOT_NS = 20_000_000;

export interface ScenarioOptions {
  /** The script's text and its name (for messages and $0). */
  source: string;
  name: string;
  /** The fixture kernel image. */
  image: string;
  /** Where `modprobe NAME` looks for NAME.o, in order. */
  moduleDirs: string[];
  output: ScriptOutput;
  unwinder?: LabUnwinder;
  /** Extra kernel command-line words (after "selftest"). */
  cmdline?: string;
}

export interface TestVerdict {
  name: string;
  ok: boolean;
  diff: string;
}

export interface ScenarioResult {
  status: number;
  tests: TestVerdict[];
  lab: LivepatchLab;
}

/** A scenario that cannot run: its file and line and the reason, one line. */
export class ScenarioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioError';
  }
}

export function bootServeLab(image: string, unwinder?: LabUnwinder, cmdline = ''): LivepatchLab {
  const bytes = new Uint8Array(fs.readFileSync(image));
  const lab = new LivepatchLab(bytes, path.basename(image), {
    cmdline: [SERVE_CMDLINE, cmdline].filter(Boolean).join(' '),
    kmsg: true,
    unwinder,
    log: { debug: true, debugTrySwitch: false },
  });
  lab.runFor(BOOT_NS);
  if (lab.stopped) throw new ScenarioError(`${image}: the kernel stopped while booting (${lab.describeStop()})`);
  if (!lab.consoleText.includes('selftest mode')) {
    throw new ScenarioError(`${image}: the kernel has no serve mode (its init did not report "selftest mode"): use fixtures/kernel/kernel.elf or kernel-nofp.elf`);
  }
  return lab;
}

export function runScenario(o: ScenarioOptions): ScenarioResult {
  const lab = bootServeLab(o.image, o.unwinder, o.cmdline);
  const tests: TestVerdict[] = [];
  const h: HarnessContext = {
    lab,
    moduleDirs: o.moduleDirs,
    kmsg: (text) => lab.core.log.print('info', text),
    testStart: lab.core.log.entries.length,
    onResult: (name, ok, diff) => tests.push({ name, ok, diff }),
  };
  const files = new LabFiles({ lab, kmsg: h.kmsg });
  const shell = new Shell(files, o.output, (s) => lab.runFor(s * 1e9));
  shell.vars.set('0', o.name);
  registerHarness(shell, h);
  let status: number;
  try {
    status = shell.runScript(o.source);
  } catch (e) {
    if (e instanceof ScriptError) throw new ScenarioError(`${o.name}:${e.line}: ${e.message}`);
    throw e;
  }
  if (lab.stopped) throw new ScenarioError(`${o.name}: the kernel stopped (${lab.describeStop()})`);
  return { status, tests, lab };
}
