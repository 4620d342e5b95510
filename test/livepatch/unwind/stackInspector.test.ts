// Every task of a stopped guest, both unwinders, judged against the ground truth.

import { truthTrace } from '../../../livepatch/unwind/groundTruth';
import { StackInspector } from '../../../livepatch/unwind/stackInspector';
import { formatTaskUnwind } from '../../../livepatch/unwind/traceFormat';
import { classify } from '../../../livepatch/unwind/verdict';
import { callWithoutFrame, preemptedKthread, runningKthread, sleepingKthread, userInSyscall } from './scenarios';
import { SyntheticGuest, standardKernel } from './syntheticGuest';

const k = standardKernel();

function guestWithEverything() {
  const g = new SyntheticGuest();
  const s = {
    sleeping: sleepingKthread(g, k),
    user: userInSyscall(g, k),
    preempted: preemptedKthread(g, k, 5),
    noframe: callWithoutFrame(g, k),
    running: runningKthread(g, k, 9),
  };
  return { g, s };
}

describe('ground truth of the synthetic stacks', () => {
  test('truthTrace gives the scenario truth for sleeping, user, preempted and running tasks', () => {
    const { g, s } = guestWithEverything();
    for (const sc of Object.values(s)) {
      expect(truthTrace(g.truth, g, sc.task, sc.regs).map((e) => e.addr)).toEqual(sc.truth);
    }
  });
});

describe('StackInspector', () => {
  const { g, s } = guestWithEverything();
  const results = new StackInspector(g, k.image).unwindAll(g.truth);
  const byName = new Map(results.map((r) => [r.task.name, r]));
  const verdict = (task: string, u: 'fp' | 'orc') => byName.get(task)!.runs.find((r) => r.unwinder === u)!.verdict;

  test('one result per task, both unwinders', () => {
    expect(results.map((r) => r.task.name)).toEqual(Object.values(s).map((x) => x.task.name));
    for (const r of results) expect(r.runs.map((x) => x.unwinder)).toEqual(['fp', 'orc']);
  });

  test('verdict classes', () => {
    expect(verdict('kworker', 'fp')).toBe('correct_reliable');
    expect(verdict('kworker', 'orc')).toBe('correct_reliable');
    expect(verdict('user', 'fp')).toBe('correct_reliable');
    expect(verdict('user', 'orc')).toBe('correct_reliable');
    // FP refuses the interrupt frame; its plain walk misses worker: the refusal was right
    expect(verdict('cpuhog', 'fp')).toBe('wrong_refused');
    expect(verdict('cpuhog', 'orc')).toBe('correct_reliable');
    // a call before the frame is set up: FP claims reliable and misses worker (objtool's
    // "call without frame pointer save/setup" predicts it); ORC knows leaf_nofp's frame
    expect(verdict('noframe', 'fp')).toBe('wrong_reliable');
    expect(verdict('noframe', 'orc')).toBe('correct_reliable');
    // running task stopped with its frame set up: FP refuses kernel regs although its walk is right
    expect(verdict('running', 'fp')).toBe('refused');
    expect(verdict('running', 'orc')).toBe('correct_reliable');
  });

  test('the text shows truth and each unwinder side by side', () => {
    const text = formatTaskUnwind(byName.get('cpuhog')!, k.image.kallsyms);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^pid \d+ cpuhog \[kthread\] asleep, thread.sp 0xffff/);
    expect(lines[1]).toMatch(/ground truth +\| fp: unreliable: kernel-regs at 0xffffffff81\w+ \[wrong_refused\] +\| orc: reliable, 8 entries \[correct_reliable\]/);
    expect(lines[2]).toMatch(/^  __schedule\+0x100\/0x200 +\| __schedule\+0x100\/0x200 +\| __schedule\+0x100\/0x200$/);
    expect(text).toContain('(helper+0x5/0x60 regs)');
  });
});

test('classify', () => {
  expect(classify(true, [1, 2], [1, 2], [1, 2])).toBe('correct_reliable');
  expect(classify(true, [1], [1, 2], [1, 2])).toBe('wrong_reliable');
  expect(classify(false, [1], [1, 2], [1, 2])).toBe('refused');
  expect(classify(false, [1], [1, 3], [1, 2])).toBe('wrong_refused');
});

describe('the studies\' lean walk (no frame objects)', () => {
  test('gives the same ips, error, cause, truncation, truth addresses and verdicts as the full walk', () => {
    const { g } = guestWithEverything();
    const insp = new StackInspector(g, k.image);
    let compared = 0;
    for (const t of g.tasks()) {
      const full = insp.unwindTask(t, g.truth, true);
      const lean = insp.unwindTask(t, g.truth, false);
      expect(lean.truth).toEqual(full.truth);
      expect(full.truth).toEqual(truthTrace(g.truth, g, t, full.regs).map((e) => e.addr));
      lean.runs.forEach((r, i) => {
        const f = full.runs[i];
        expect([r.walkIps, r.walk.error, r.walk.cause, r.walk.truncated, r.verdict, r.entries]).toEqual([f.walkIps, f.walk.error, f.walk.cause, f.walk.truncated, f.verdict, f.entries]);
        expect(r.walk.frames).toEqual([]);
        compared++;
      });
    }
    expect(compared).toBe(10);
  });
});
