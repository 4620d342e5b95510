// Every way a task leaves a 6.1 transition, on the fixture kernel in the emulator, each run
// watched by the consistency checker on the emulator's ground truth: the stack check, a
// kthread's patch point, the return to user mode, the idle loop, fork, the signals step, force,
// reversal, and the ORC unwinder. stackedAndUnsafe.test.ts has stacked patches, 4.12 and the
// runs that break the model.

import { LivepatchLab } from '../../../livepatch/guest/livepatchLab';
import { KERNEL_ORC, kernelBytes as bytes, messages, patchModule, row, run } from './labRuns';

describe('6.1 switching paths', () => {
  test('stack check: a kthread asleep under the old function is refused at every attempt; 6.1 has no kthread patch point', () => {
    const r = run('klp_chain_a2');
    const t = r.lab.recorder.timelines[0];
    expect(r.completed).toBe(true);
    const chainA = row(t, 'kworker/chain-a')!;
    expect(chainA.blocked[0].reason).toBe('sleeping on chain_a2');
    // It sleeps under chain_a2 at every attempt and never switches: the transition ends when
    // it has exited (its work done), not at a patch point.
    expect(chainA.switchedAt).toBeUndefined();
    expect([...t.tasks.values()].some((x) => x.switchedBy === 'kthread-patch-point')).toBe(false);
    expect(r.lab.port.tasks().some((x) => x.comm === 'kworker/chain-a')).toBe(false);
    expect([...t.tasks.values()].filter((x) => x.switchedBy === 'stack-check').length).toBeGreaterThan(5);
    expect(r.violations).toEqual([]);
    expect(r.checker!.checker.checks).toBeGreaterThan(0);
  }, 60_000);

  test('the seed\'s kthread patch points (an experiment): the same kthread switches at its loop\'s point', () => {
    const r = run('klp_chain_a2', { experiments: { kthreadPatchPoints: true } });
    const t = r.lab.recorder.timelines[0];
    expect(r.completed).toBe(true);
    expect(row(t, 'kworker/chain-a')).toMatchObject({ switchedBy: 'kthread-patch-point' });
    expect(row(t, 'kworker/chain-a')!.blocked[0].reason).toBe('sleeping on chain_a2');
    expect(r.violations).toEqual([]);
  }, 60_000);

  test('return to user mode: a user task asleep in the patched system call switches on its way out', () => {
    const r = run('klp_syscalls');
    const t = r.lab.recorder.timelines[0];
    expect(r.completed).toBe(true);
    const sleeper = row(t, 'usleeper')!;
    expect(sleeper.blocked[0].reason).toBe('sleeping on __x64_sys_sleep');
    expect(sleeper.switchedBy).toBe('exit-to-user');
    const m = r.lab.modules.get('klp_syscalls')!.module;
    expect(r.lab.access.u64(m.symbols.get('klp_syscalls_sleep_calls')!.address)).toBeGreaterThan(0);
    expect(r.violations).toEqual([]);
  }, 60_000);

  test('idle loop: the idle task, always inside the old do_idle, switches in its loop', () => {
    const r = run('klp_idle');
    const t = r.lab.recorder.timelines[0];
    expect(r.completed).toBe(true);
    expect(row(t, 'swapper/0')).toMatchObject({ kind: 'idle', switchedBy: 'idle-loop' });
    expect(r.lab.fentry.redirections).toBeGreaterThan(0);
    expect(r.violations).toEqual([]);
  }, 60_000);

  test('signals: after 15 failed attempts the sleeping kthread is woken, but naps again in nap_long and stays blocked', () => {
    const r = run('klp_nap', { maxWait: 18e9 });
    const t = r.lab.recorder.timelines[0];
    expect(r.completed).toBe(false);
    expect(r.signalled).toBe(true);
    expect(messages(r)).toContain('livepatch: signaling remaining tasks');
    const napper = row(t, 'knapper')!;
    expect(napper.signalledAt.length).toBe(1);
    // Woken at the 16th attempt, it goes round its loop into nap_long again (its 20 s are not
    // up), so the 17th attempt finds it there too: 6.1's wakeup alone does not switch it.
    expect(napper.blocked.length).toBeGreaterThanOrEqual(17);
    expect(napper.blocked.every((b) => b.reason === 'sleeping on nap_long')).toBe(true);
    expect(napper.switchedAt).toBeUndefined();
    expect(r.violations).toEqual([]);
  }, 120_000);

  test('signals with the seed\'s kthread patch points: the woken kthread switches at its point', () => {
    const r = run('klp_nap', { experiments: { kthreadPatchPoints: true } });
    const napper = row(r.lab.recorder.timelines[0], 'knapper')!;
    expect(r.completed).toBe(true);
    expect(napper.blocked.length).toBe(16);
    expect(napper.switchedBy).toBe('kthread-patch-point');
    expect(napper.switchedAt! - r.lab.recorder.timelines[0].startedAt).toBeLessThan(16e9);
    expect(r.violations).toEqual([]);
  }, 120_000);

  test('force: the blocked kthread is switched unchecked; the patch module stays pinned after a forced unpatch', () => {
    const r = run('klp_nap', { forceAfter: 3e9 });
    const t = r.lab.recorder.timelines[0];
    expect(r.forced).toBe(true);
    expect(r.completed).toBe(true);
    expect(messages(r)).toContain('livepatch: forcing remaining tasks to the patched state');
    expect(row(t, 'knapper')!.switchedBy).toBe('force');
    expect(r.signalled).toBe(false);
    expect(t.completedAt! - t.startedAt).toBeLessThan(5e9);
  }, 120_000);

  test('reverse: disabling during the transition reverses it, and it completes unpatched', () => {
    const r = run('klp_nap', { disableAt: 2.5e9 });
    expect(r.disabled).toBe(true);
    expect(r.completed).toBe(true);
    const m = messages(r);
    expect(m).toContain("livepatch: 'klp_nap': reversing transition from patching to unpatching");
    expect(m).toContain("livepatch: 'klp_nap': starting unpatching transition");
    expect(m.at(-1)).toBe("livepatch: 'klp_nap': unpatching complete");
    // knapper never left the old nap_long, so it is "switched" back without ever running new code.
    expect(r.violations).toEqual([]);
    expect(r.lab.core.patches).toEqual([]);
  }, 120_000);

  test('fork: tasks created during a transition inherit their parent\'s flag and state', () => {
    // Patch during phase 1, while the user task hello sleeps in sleep(3): it holds the old
    // __x64_sys_sleep, so the transition stays open while init creates the phase-2 tasks.
    const lab = new LivepatchLab(bytes, 'kernel.elf', { cmdline: 'scale=2 nap=20000' });
    const interruptible = lab.image.symbol('TASK_STATE_INTERRUPTIBLE');
    const helloSleeps = () => {
      if (!lab.consoleText.includes('hello: write(1, bad pointer')) return false;
      lab.view.refresh();
      return lab.view.tasks().some((t) => t.name === 'hello' && t.state === interruptible && !t.running);
    };
    expect(lab.runUntil(50e6, helloSleeps, 1000)).toBe(true);
    expect(lab.port.tasks().some((t) => t.comm === 'kcpuhog')).toBe(false);
    expect(lab.modprobe(patchModule('klp_syscalls'))).toBe(0);
    expect(lab.inTransition).toBe(true);
    const flagged = new Set(lab.recorder.timelines[0].rows().filter((x) => x.flaggedAt !== undefined).map((x) => x.comm));
    lab.runUntil(lab.now + 5e6, () => lab.port.tasks().some((t) => t.comm === 'ufaulter'));
    const children = lab.port.tasks().filter((t) => ['kcpuhog', 'kworker/chain-b', 'usleeper'].includes(t.comm));
    expect(children.length).toBe(3);
    const init = lab.port.tasks().find((t) => t.comm === 'init')!;
    for (const child of children) {
      expect(flagged.has(child.comm)).toBe(false); // never seen by klp_start_transition
      expect(lab.port.patchState(child)).toBe(lab.port.patchState(init));
      expect(lab.port.patchPending(child)).toBe(false);
    }
    expect(lab.port.patchState(init)).toBe(1); // init had switched by a stack check first
  }, 60_000);

  test('ORC: the same transition with the ORC reliable unwinder on the no-frame-pointer build', () => {
    const r = run('klp_chain_a2', { image: KERNEL_ORC, unwinder: 'orc' });
    expect(r.completed).toBe(true);
    expect(row(r.lab.recorder.timelines[0], 'kworker/chain-a')!.blocked[0].reason).toBe('sleeping on chain_a2');
    expect(r.violations).toEqual([]);
  }, 60_000);
});
