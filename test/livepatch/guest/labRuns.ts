// What the guest livepatch tests share: the fixture kernel, the patch modules by name, one
// patch run on the kernel's short workload, and readers of its timeline and log.

import * as fs from 'fs';
import * as path from 'path';
import { runPatch, type PatchRunOptions, type PatchRunResult } from '../../../livepatch/run/patchRun';
import type { TransitionTimeline } from '../../../livepatch/report/timeline';
import { FIXTURES } from '../../helpers/fixtures';

export const KERNEL = path.join(FIXTURES, 'kernel', 'kernel.elf');
export const KERNEL_ORC = path.join(FIXTURES, 'kernel', 'kernel-nofp.elf');
export const kernelBytes = new Uint8Array(fs.readFileSync(KERNEL));
export const patchModule = (name: string) => path.join(FIXTURES, 'livepatch', `${name}.o`);

/** What the patch run does after modprobe: the runs that differ only in these share their boot. */
const AFTER_MODPROBE = new Set(['patch', 'forceAfter', 'disableAt', 'maxWait', 'settle']);
/** Lab snapshots at the patch time, by everything that shapes the run up to then. */
const bootedLabs = new Map<string, Uint8Array>();

/**
 * One patch of kernel.elf at 12 ms (scale=2, knapper asleep 20 s), unless `opts` says otherwise.
 * Runs with the same image, options and patch time start from the snapshot the first of them saved
 * at modprobe (as a study's runs do; a boot costs 12 ms of virtual time), except seeded timer
 * jitter, whose runs each boot.
 */
export function run(patch: string, opts: Partial<PatchRunOptions> = {}): PatchRunResult {
  const full: PatchRunOptions = { image: KERNEL, patch: patchModule(patch), patchAt: 12e6, cmdline: 'scale=2 nap=20000', settle: 2e6, ...opts };
  const bytes = opts.image ? undefined : kernelBytes;
  if (full.timerJitter || full.snapshot || full.saveSnapshot) return runPatch(full, bytes);
  const key = JSON.stringify(Object.entries(full).filter(([k]) => !AFTER_MODPROBE.has(k)).sort());
  const booted = bootedLabs.get(key);
  if (booted !== undefined) return runPatch({ ...full, snapshot: { bytes: booted, name: `${path.basename(full.image)} at ${full.patchAt} ns` } }, bytes);
  return runPatch({ ...full, saveSnapshot: (b) => bootedLabs.set(key, b) }, bytes);
}

/** A task's row in a transition's timeline, by name. */
export function row(t: TransitionTimeline | undefined, comm: string) {
  return t ? [...t.tasks.values()].find((x) => x.comm === comm) : undefined;
}

export const messages = (r: PatchRunResult) => r.lab.core.log.messages();
