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

/** One patch of kernel.elf at 12 ms (scale=2, knapper asleep 20 s), unless `opts` says otherwise. */
export function run(patch: string, opts: Partial<PatchRunOptions> = {}): PatchRunResult {
  return runPatch({ image: KERNEL, patch: patchModule(patch), patchAt: 12e6, cmdline: 'scale=2 nap=20000', settle: 2e6, ...opts },
    opts.image ? undefined : kernelBytes);
}

/** A task's row in a transition's timeline, by name. */
export function row(t: TransitionTimeline | undefined, comm: string) {
  return t ? [...t.tasks.values()].find((x) => x.comm === comm) : undefined;
}

export const messages = (r: PatchRunResult) => r.lab.core.log.messages();
