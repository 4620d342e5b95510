// A task asleep in a patch module's new function, on the ORC kernel (kernel-nofp.elf): the lab adds
// each loaded module's text, symbols and ORC tables to the kernel image (load_module's
// unwind_module_init), so the ORC unwinder walks through the module frame and livepatch's stack
// check sees it. Judged against the emulator's ground truth. The same module without its ORC
// tables is the control: its frame has no entry, and the trace is unreliable (orc-no-entry).

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LivepatchLab } from '../../../livepatch/guest/livepatchLab';
import { StackInspector } from '../../../livepatch/unwind/stackInspector';
import { withoutOrc } from '../module/moduleOrcFixtures';
import { KERNEL_ORC, patchModule, row } from './labRuns';

const kernelOrcBytes = new Uint8Array(fs.readFileSync(KERNEL_ORC));

/** knapper asleep in klp_nap's livepatch_nap_long: the patch completes before its first nap (3 ms). */
function knapperInNewFunction(module: string) {
  const lab = new LivepatchLab(kernelOrcBytes, 'kernel-nofp.elf', { cmdline: 'scale=2 nap=20000', unwinder: 'orc', truth: true });
  lab.runUntil(3e6);
  expect(lab.modprobe(module)).toBe(0);
  expect(lab.waitForTransition(1e9)).toBe(true);
  lab.runFor(3e6);
  const knapper = lab.view.tasks().find((t) => t.name === 'knapper')!;
  const unwind = new StackInspector(lab.view, lab.image, ['orc']).unwindTask(knapper, lab.truth);
  return { lab, unwind, newFunc: lab.modules.get('klp_nap')!.module.symbols.get('livepatch_nap_long')!.address };
}

test('ORC unwinds through the new function in the module: reliable, and the ground truth\'s frames', () => {
  const { lab, unwind, newFunc } = knapperInNewFunction(patchModule('klp_nap'));
  const names = unwind.truth!.map((a) => lab.symbolize(a).replace(/\+.*? /, ' ').replace(/\+.*$/, ''));
  expect(names).toEqual(['__schedule', 'schedule_timeout', 'livepatch_nap_long [klp_nap]', 'knapper', 'kthread', 'ret_from_fork']);
  const [orc] = unwind.runs;
  expect([orc.reliable, orc.reason, orc.cause]).toEqual([true, null, null]);
  expect(orc.entries).toEqual(unwind.truth);
  expect(orc.verdict).toBe('correct_reliable');
  // the module frame's return address is in the new function, found by the module's own table
  const inModule = orc.entries[2];
  expect(inModule - newFunc).toBeGreaterThan(0);
  expect(lab.image.orc!.find(inModule)).toBeGreaterThanOrEqual(0);
  expect(lab.image.orc!.hit).not.toBe(lab.image.orc); // the module's table, not the kernel's

  // A second patch of nap_long checks that frame as the first patch's version of nap_long.
  expect(lab.modprobe(patchModule('klp_nap_v2'))).toBe(0);
  expect(row(lab.recorder.timelines[1], 'knapper')!.blocked[0]?.reason).toBe('sleeping on nap_long');
}, 60_000);

test('control: the same module without ORC tables leaves the frame without an entry', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-nap-no-orc-'));
  try {
    const module = path.join(dir, 'klp_nap.o');
    withoutOrc(patchModule('klp_nap'), module);
    const { unwind } = knapperInNewFunction(module);
    const [orc] = unwind.runs;
    expect([orc.reliable, orc.reason, orc.cause]).toEqual([false, 'unwind-error', 'orc-no-entry']);
    expect(orc.verdict).toMatch(/refused$/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
