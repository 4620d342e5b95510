// The live-patching core attached to the fixture kernel in the emulator: a patch module is
// loaded as modprobe would load it, klp_enable_patch arrives as a hypercall, the stack checks
// use the frame-pointer reliable unwinder on the guest's real stacks, and calls to the old
// function are redirected at its fentry site.

import * as fs from 'fs';
import * as path from 'path';
import { LivepatchLab } from '../../../livepatch/guest/livepatchLab';
import { FIXTURES } from '../../helpers/fixtures';

const KERNEL = path.join(FIXTURES, 'kernel', 'kernel.elf');
const PATCH = path.join(FIXTURES, 'livepatch', 'klp_chain_a2.o');
const CMDLINE = 'scale=6';
const chainLine = (console: string) => console.split('\n').find((l) => l.includes('kworker/chain-a'));

let patched: LivepatchLab;
let unpatched: LivepatchLab;
let modprobeResult: number;

beforeAll(() => {
  const bytes = new Uint8Array(fs.readFileSync(KERNEL));
  unpatched = new LivepatchLab(bytes, 'kernel.elf', { cmdline: CMDLINE });
  unpatched.runToExit(5e9);
  // With the seed's kthread patch points: in 6.1 kworker/chain-a, always asleep under chain_a2,
  // would exit before any check let it switch, and never run the new version.
  patched = new LivepatchLab(bytes, 'kernel.elf', { cmdline: CMDLINE, log: { debug: true, debugTrySwitch: true }, experiments: { kthreadPatchPoints: true } });
  patched.runFor(30e6); // phase 2 is running: kthreads are deep in their call chains
  modprobeResult = patched.modprobe(PATCH);
  patched.runToExit(5e9);
}, 180_000);

test('the patch module loads and enables its patch with the kernel log lines', () => {
  expect(modprobeResult).toBe(0);
  expect(patched.core.log.messages().slice(0, 3)).toEqual([
    "livepatch: enabling patch 'klp_chain_a2'",
    "livepatch: 'klp_chain_a2': initializing patching transition",
    "livepatch: 'klp_chain_a2': starting patching transition",
  ]);
});

test('the first pass finds kworker/chain-a sleeping under chain_a2 and refuses to switch it', () => {
  const first = patched.core.transition.attempts[0];
  const chain = first.results.find((r) => r.task.comm === 'kworker/chain-a');
  expect(chain?.result).toMatchObject({ switched: false, outcome: 'sleeping-on-function', oldName: 'chain_a2' });
  // Tasks that were nowhere near chain_a2 switched on that same pass.
  expect(first.results.filter((r) => r.result.switched).length).toBeGreaterThan(5);
});

test('calls to chain_a2 run the new version, counted by the module, with the same results', () => {
  const m = patched.modules.get('klp_chain_a2')!.module;
  const calls = patched.access.u64(m.symbols.get('klp_chain_a2_calls')!.address);
  expect(calls).toBeGreaterThan(0);
  expect(calls).toBe(patched.fentry.redirections);
  expect(patched.fentry.warnings).toEqual([]);
  expect(patched.exitStatus).toBe(1);
  expect(chainLine(patched.consoleText)).toBeDefined();
  expect(chainLine(patched.consoleText)).toBe(chainLine(unpatched.consoleText));
  expect(patched.consoleText).toContain('init: all checks passed');
});

test('a module that is not ELF is refused with one line', () => {
  expect(() => patched.modprobe(path.join(FIXTURES, 'livepatch', 'Makefile'))).toThrow(/not an ELF file/);
});
