// Transitions on the fixture kernel beyond the single 6.1 patch (switchingPaths.test.ts has
// those): stacked patches, the 4.12 behaviour, and the two ways to break the consistency model
// that the checker must catch (4.12's immediate patches, an unwinder that ignores pt_regs).

import { LabConsistencyChecker } from '../../../livepatch/consistency/labChecker';
import { formatViolation } from '../../../livepatch/consistency/consistencyChecker';
import { LivepatchLab } from '../../../livepatch/guest/livepatchLab';
import type { PatchRunOptions, PatchRunResult } from '../../../livepatch/run/patchRun';
import { runPlan } from '../../../livepatch/study/livepatchStudy';
import { kernelBytes as bytes, messages, patchModule, row, run } from './labRuns';

describe('stacked patches', () => {
  test('a second patch of nap_long checks the first patch\'s version, and wins once complete', () => {
    // With the seed's kthread patch points, so that the signals step ends the first transition.
    const lab = new LivepatchLab(bytes, 'kernel.elf', { cmdline: 'scale=2 nap=40000', truth: true, experiments: { kthreadPatchPoints: true } });
    const checker = new LabConsistencyChecker(lab);
    lab.runUntil(10e6);
    expect(lab.modprobe(patchModule('klp_nap'))).toBe(0);
    expect(lab.waitForTransition(20e9)).toBe(true);
    lab.runFor(3e6); // knapper, woken by the signals step, naps on in klp_nap's nap_long
    expect(lab.modprobe(patchModule('klp_nap_v2'))).toBe(0);
    const second = lab.recorder.timelines[1];
    // Were the original nap_long checked, knapper (inside the first patch's copy) would pass.
    expect(row(second, 'knapper')!.blocked[0]?.reason).toBe('sleeping on nap_long');
    expect(lab.waitForTransition(20e9)).toBe(true);
    expect(row(second, 'knapper')!.signalledAt.length).toBe(1);
    const calls = (mod: string, sym: string) => lab.access.u64(lab.modules.get(mod)!.module.symbols.get(sym)!.address);
    expect(calls('klp_nap', 'klp_nap_calls')).toBe(1);
    expect(calls('klp_nap_v2', 'klp_nap_v2_calls')).toBe(1);
    expect(checker.violations).toEqual([]);
  }, 120_000);
});

describe('4.12 behaviour', () => {
  test('no signals step: after 16 failed attempts the kthread is still blocked; a reversal ends it; the 4.12 messages', () => {
    const r = run('klp_nap', { kernel: '4.12', disableAt: 16.5e9 });
    const m = messages(r);
    const [patching, unpatching] = r.lab.recorder.timelines;
    expect(patching.completedAt).toBeUndefined();
    const napper = row(patching, 'knapper')!;
    expect(napper.blocked.length).toBe(17);
    expect(napper.signalledAt).toEqual([]);
    expect(m).not.toContain('livepatch: signaling remaining tasks');
    expect(m.slice(0, 2)).toEqual(["livepatch: enabling patch 'klp_nap'", "livepatch: 'klp_nap': patching..."]);
    expect(unpatching.direction).toBe('unpatching');
    expect(r.completed).toBe(true);
    expect(m.at(-1)).toBe("livepatch: 'klp_nap': unpatching complete");
    expect(r.violations).toEqual([]);
  }, 120_000);
});

describe('the hazard that removed immediate in 4.16 (commit d0807da78e11)', () => {
  test('two immediate patches, then a normal one: knapper, asleep in the first immediate version, is switched inside it', () => {
    const lab = new LivepatchLab(bytes, 'kernel.elf', { kernel: '4.12', cmdline: 'scale=2 nap=20000', truth: true });
    const checker = new LabConsistencyChecker(lab);
    lab.runUntil(3e6); // before knapper's first nap: it will nap in klp_nap_imm1's nap_long
    expect(lab.modprobe(patchModule('klp_nap_imm1'))).toBe(0);
    lab.runUntil(100e6);
    const calls = (mod: string, sym: string) => lab.access.u64(lab.modules.get(mod)!.module.symbols.get(sym)!.address);
    expect(calls('klp_nap_imm1', 'klp_nap_imm1_calls')).toBe(1);
    expect(lab.modprobe(patchModule('klp_nap_imm2'))).toBe(0);
    // The normal patch's stack check looks for klp_nap_imm2's nap_long only.
    expect(lab.modprobe(patchModule('klp_nap_v2'))).toBe(0);
    expect(lab.waitForTransition(5e9)).toBe(true);
    const switchedInside = checker.violations.filter((v) => v.kind === 'switched-inside');
    expect(switchedInside).toHaveLength(1);
    expect(formatViolation(switchedInside[0])).toMatch(/'klp_nap_v2' switched knapper:\d+ while it held nap_long of an older patch$/);
  }, 120_000);

  test('the same patches with a consistent history: no task is switched inside old code', () => {
    const lab = new LivepatchLab(bytes, 'kernel.elf', { kernel: '4.12', cmdline: 'scale=2 nap=20000', truth: true });
    const checker = new LabConsistencyChecker(lab);
    lab.runUntil(100e6);
    expect(lab.modprobe(patchModule('klp_nap_v2'))).toBe(0);
    lab.runFor(3e9);
    expect(checker.violations.filter((v) => v.kind === 'switched-inside')).toEqual([]);
  }, 120_000);
});

describe('the checker catches what breaks the consistency model', () => {
  // Seeded runs until one meets kcpuhog preempted inside hog_inner when the patch arrives (about
  // one run in seven): the same search as `klp-lab livepatch study --unwinder unsound`, and as
  // deterministic, but not tied to one build of the kernel. The search tries first the candidate
  // that met it on the committed kernel.elf (k = 16: each miss costs a whole run, 2-4 s), then the
  // others in order, so a rebuilt kernel still finds its own.
  const base: Partial<PatchRunOptions> = { cmdline: 'scale=2 nap=20000' };
  const candidate = (k: number): Partial<PatchRunOptions> => {
    const { seed, patchAt } = runPlan(2, k, [8e6, 20e6]);
    return { ...base, patchAt, timerJitter: { seed, maxNs: 200000 } };
  };
  const CANDIDATES = 40, FIRST_CANDIDATE = 16;
  let bad: Partial<PatchRunOptions> | undefined;
  let unsound: PatchRunResult | undefined;

  test('an unwinder that ignores pt_regs lets kcpuhog switch inside old hog_inner: it then runs new hog_mix', () => {
    const order = [FIRST_CANDIDATE, ...Array.from({ length: CANDIDATES }, (_, k) => k).filter((k) => k !== FIRST_CANDIDATE)];
    for (const k of order) {
      if (bad) break;
      const r = run('klp_hog', { ...candidate(k), unwinder: 'unsound' });
      if (r.violations.length > 0) { bad = candidate(k); unsound = r; }
    }
    expect(unsound).toBeDefined();
    // The transition may complete at once (every stack "reliable"): the completion check then
    // reports the old hog_inner left behind first, and the mixed call follows.
    const mixed = unsound!.violations.find((v) => v.kind === 'mixed');
    expect(mixed).toMatchObject({ running: 'new hog_mix', stillActive: 'old hog_inner' });
    expect(mixed!.task).toMatch(/^kcpuhog:\d+$/);
  }, 240_000);

  test('the frame-pointer unwinder refuses that stack (kernel-mode pt_regs): no violation', () => {
    expect(bad).toBeDefined();
    const r = run('klp_hog', bad);
    const t = r.lab.recorder.timelines[0];
    expect(row(t, 'kcpuhog')!.blocked[0].reason).toBe('unreliable');
    expect(r.completed).toBe(true);
    expect(r.violations).toEqual([]);
  }, 60_000);

  test('4.12 immediate: every task takes the new code at once, with old frames still active', () => {
    const r = run('klp_hog', { ...base, patchAt: 9e6, kernel: '4.12', immediate: true });
    expect(r.completed).toBe(true);
    expect(r.violations.length).toBeGreaterThan(0);
    expect(r.violations.some((v) => /^kcpuhog:/.test(v.task))).toBe(true);
  }, 60_000);
});
