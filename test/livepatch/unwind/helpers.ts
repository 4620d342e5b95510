// Runs the kernel's reliable walk (or a display walk) with one unwinder over a synthetic guest.

import { FrameUnwinder } from '../../../livepatch/unwind/frameUnwinder';
import { OrcUnwinder } from '../../../livepatch/unwind/orcUnwinder';
import type { RegsSnapshot } from '../../../livepatch/unwind/ptRegs';
import { ReliableStackTrace, type ReliableVersion } from '../../../livepatch/unwind/reliableStackTrace';
import { walkStack } from '../../../livepatch/unwind/stackWalk';
import type { Unwinder } from '../../../livepatch/unwind/unwinder';
import type { GuestTask } from '../../../livepatch/unwind/guestView';
import type { SyntheticGuest, SyntheticKernel } from './syntheticGuest';

export type Which = 'fp' | 'orc';

export function makeUnwinder(which: Which, g: SyntheticGuest, k: SyntheticKernel, version: ReliableVersion = '6.1'): Unwinder {
  const img = k.image;
  return which === 'fp' ? new FrameUnwinder(g, img.text, version) : new OrcUnwinder(g, img.text, img.orc, img.retFromFork);
}

export interface Verdict {
  ret: number;
  entries: number[];
  reason: string | null;
  cause: string | null;
}

export function reliable(
  which: Which,
  g: SyntheticGuest,
  k: SyntheticKernel,
  task: GuestTask,
  regs: RegsSnapshot | null = null,
  version: ReliableVersion = '6.1',
): Verdict {
  const r = new ReliableStackTrace(makeUnwinder(which, g, k, version), k.image.text, version);
  const ret = r.save(task, regs);
  return { ret, entries: r.entries(), reason: r.reason, cause: r.cause };
}

export function walk(which: Which, g: SyntheticGuest, k: SyntheticKernel, task: GuestTask, regs: RegsSnapshot | null = null) {
  return walkStack(makeUnwinder(which, g, k), k.image.text, task, regs);
}

/** Symbolized entries, for readable failure messages. */
export function sym(k: SyntheticKernel, addrs: number[]): string[] {
  return addrs.map((a) => k.image.kallsyms.backtrace(a));
}
