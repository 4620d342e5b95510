// Corruptions of a sleeping kthread's frame-pointer chain, each with the unwinder error the
// kernel's update_stack_state() rules produce.

import type { UnwindErrorCause } from '../../../livepatch/unwind/unwinder';
import type { Scenario } from './scenarios';
import type { SyntheticGuest, SyntheticKernel } from './syntheticGuest';

type Mutate = (g: SyntheticGuest, s: Scenario, other: Scenario) => void;

/** The saved-rbp slot of the n-th frame above __schedule's (0 = __schedule's own frame). */
export function frameSlot(g: SyntheticGuest, s: Scenario, n: number): number {
  let bp = g.readWord(s.task.threadSp + 40)!;
  for (let i = 0; i < n; i++) bp = g.readWord(bp)!;
  return bp;
}

export function helpersFor(_k: SyntheticKernel): { cases: [string, Mutate, UnwindErrorCause][] } {
  return {
    cases: [
      ['saved rbp is garbage (non-canonical)', (g, s) => g.mem.write(frameSlot(g, s, 1), 4.7e18), 'fp-bad-frame-pointer'],
      ['saved rbp is a user address', (g, s) => g.mem.write(frameSlot(g, s, 1), 0x7ffff000), 'fp-bad-frame-pointer'],
      ['saved rbp points into another task\'s stack', (g, s, o) => g.mem.write(frameSlot(g, s, 1), frameSlot(g, o, 1)), 'fp-bad-frame-pointer'],
      ['saved rbp points to itself (a loop)', (g, s) => g.mem.write(frameSlot(g, s, 1), frameSlot(g, s, 1)), 'fp-frame-goes-down'],
      ['two frames point at each other (a cycle)', (g, s) => g.mem.write(frameSlot(g, s, 2), frameSlot(g, s, 1)), 'fp-frame-goes-down'],
      ['saved rbp points down the stack', (g, s) => g.mem.write(frameSlot(g, s, 2), frameSlot(g, s, 0)), 'fp-frame-goes-down'],
      ['saved rbp overlaps the previous frame', (g, s) => g.mem.write(frameSlot(g, s, 1), frameSlot(g, s, 1) + 8), 'fp-frame-goes-down'],
      ['encoded pt_regs pointer past the stack top', (g, s) => g.mem.write(frameSlot(g, s, 1), s.task.stackEnd - 64 + 1), 'fp-bad-frame-pointer'],
    ],
  };
}
