// The transition engine on a fake kernel: every klp_try_switch_task case, every switching path,
// signals, force, reverse, stacked patches, atomic replace and the 4.12 behaviour, with the
// kernel's log lines.

import { KlpCore } from '../../livepatch/core/klpCore';
import { KlpPatch } from '../../livepatch/model/patch';
import { KLP_PATCHED, KLP_UNDEFINED, KLP_UNPATCHED, EBUSY, EINVAL } from '../../livepatch/patchState';
import { klpFtraceHandler } from '../../livepatch/redirect/ftraceHandler';
import { RETRY_PERIOD_NS } from '../../livepatch/transition/transition';
import { FakeKernel } from './fakeKernel';

const OLD = 0x1000; // the original function, 0x100 bytes
const NEW_A = 0x9000; // patch A's version, 0x80 bytes
const NEW_B = 0xa000; // patch B's version, 0x80 bytes

function makePatch(name: string, newFunc: number, opts: { replace?: boolean; states?: Array<{ id: number; version: number }> } = {}): KlpPatch {
  const p = new KlpPatch(name, opts.replace ?? false, opts.states ?? []);
  const f = p.addObject(null).addFunc('cmdline_proc_show', newFunc);
  f.oldFunc = OLD;
  f.oldSize = 0x100;
  f.newSize = 0x80;
  return p;
}

function setup(kernel: '6.1' | '4.12' = '6.1', debugTrySwitch = true) {
  const k = new FakeKernel();
  const core = new KlpCore(k, k, { kernel, log: { debug: true, debugTrySwitch } });
  return { k, core };
}

describe('enabling a patch', () => {
  test('with no task in the old function, completes at once with the 6.1 log', () => {
    const { k, core } = setup();
    const t = k.addTask('bash', 'user', [0x5000]);
    k.addIdle(0);
    const p = makePatch('test_klp_livepatch', NEW_A);
    expect(core.enable(p)).toBe(0);
    expect(core.log.messages()).toEqual([
      "livepatch: enabling patch 'test_klp_livepatch'",
      "livepatch: 'test_klp_livepatch': initializing patching transition",
      "livepatch: 'test_klp_livepatch': starting patching transition",
      "livepatch: 'test_klp_livepatch': completing patching transition",
      "livepatch: 'test_klp_livepatch': patching complete",
    ]);
    expect(t.patchState).toBe(KLP_UNDEFINED);
    expect(p.enabled).toBe(true);
    expect(k.workPending).toBe(false);
    expect(k.registered.size).toBe(1);
  });

  test('a task sleeping in the old function holds the transition (-EADDRINUSE) until it leaves', () => {
    const { k, core } = setup();
    const sleeper = k.addTask('kworker', 'kthread', [0x5000, OLD + 0x20, 0x6000]);
    const p = makePatch('p', NEW_A);
    core.enable(p);
    expect(core.transition.patch).toBe(p);
    expect(sleeper.patchState).toBe(KLP_UNPATCHED);
    expect(sleeper.pending).toBe(true);
    expect(core.log.messages()).toContain('livepatch: klp_try_switch_task: kworker:1 is sleeping on function cmdline_proc_show');
    expect(k.workPending).toBe(true);
    // A second later it is still there: another attempt, still pending.
    expect(k.advance(RETRY_PERIOD_NS)).toBe(true);
    expect(core.transition.patch).toBe(p);
    sleeper.stack = [0x5000, 0x6000];
    k.advance(RETRY_PERIOD_NS);
    expect(core.transition.patch).toBeNull();
    expect(core.log.messages().at(-1)).toBe("livepatch: 'p': patching complete");
    expect(core.transition.attempts.map((a) => a.complete)).toEqual([false, false, true]);
  });

  test('an address one past the end of the old function does not count', () => {
    const { k, core } = setup();
    k.addTask('kworker', 'kthread', [OLD + 0x100]);
    core.enable(makePatch('p', NEW_A));
    expect(core.transition.patch).toBeNull();
  });

  test('a running task is -EBUSY and an unreliable stack -EINVAL', () => {
    const { k, core } = setup();
    const runner = k.addTask('spin', 'user', []);
    runner.running = true;
    k.addTask('odd', 'kthread', 'unreliable');
    core.enable(makePatch('p', NEW_A));
    const msgs = core.log.messages();
    expect(msgs).toContain('livepatch: klp_try_switch_task: spin:1 is running');
    expect(msgs).toContain('livepatch: klp_try_switch_task: odd:2 has an unreliable stack');
    const outcomes = core.transition.attempts[0].results.map((r) => r.result.outcome);
    expect(outcomes).toEqual(['running', 'unreliable']);
  });

  test('the try-switch debug lines are off unless asked for, as in the selftests', () => {
    const { k, core } = setup('6.1', false);
    k.addTask('kworker', 'kthread', [OLD + 4]);
    core.enable(makePatch('p', NEW_A));
    expect(core.log.messages().some((m) => m.includes('klp_try_switch_task'))).toBe(false);
  });

  test('a user task blocked by its stack switches at the return to user mode', () => {
    const { k, core } = setup();
    const user = k.addTask('cat', 'user', [OLD + 8]);
    core.enable(makePatch('p', NEW_A));
    expect(user.pending).toBe(true);
    k.exitToUser(user);
    expect(user.patchState).toBe(KLP_PATCHED);
    expect(user.pending).toBe(false);
    k.advance(RETRY_PERIOD_NS);
    expect(core.transition.patch).toBeNull();
  });

  test('without reliable stacks: warnings at enable, and only the exit path switches tasks', () => {
    const { k, core } = setup();
    k.reliable = false;
    const user = k.addTask('cat', 'user', []);
    core.enable(makePatch('p', NEW_A));
    expect(core.log.messages().slice(0, 2)).toEqual([
      "livepatch: This architecture doesn't have support for the livepatch consistency model.",
      'livepatch: The livepatch transition may never complete.',
    ]);
    expect(core.transition.attempts[0].results[0].result.outcome).toBe('no-reliable-stack');
    k.exitToUser(user);
    k.advance(RETRY_PERIOD_NS);
    expect(core.transition.patch).toBeNull();
  });

  test('idle tasks: an online one is nudged with wake_up_if_idle, an offline one switched at once', () => {
    const { k, core } = setup();
    const idle0 = k.addIdle(0, true);
    const idle1 = k.addIdle(1, false);
    idle0.stack = [OLD + 1];
    core.enable(makePatch('p', NEW_A));
    expect(idle0.wokenUp).toBe(1);
    expect(idle1.patchState).toBe(KLP_PATCHED);
    expect(core.transition.patch).not.toBeNull();
  });

  test('fork: the child inherits the parent flag and state', () => {
    const { k, core } = setup();
    const parent = k.addTask('sh', 'user', [OLD + 1]);
    core.enable(makePatch('p', NEW_A));
    const child = k.addTask('sh', 'user', []);
    core.transition.copyProcess(parent, child);
    expect(child.pending).toBe(true);
    expect(child.patchState).toBe(KLP_UNPATCHED);
  });
});

describe('signals and force', () => {
  test('the 16th failed attempt signals: fake signals to user tasks, kthreads woken', () => {
    const { k, core } = setup();
    const user = k.addTask('cat', 'user', [OLD + 1]);
    const kthread = k.addTask('kworker', 'kthread', [OLD + 2]);
    core.enable(makePatch('p', NEW_A));
    for (let i = 0; i < 14; i++) k.advance(RETRY_PERIOD_NS);
    expect(core.transition.attempts).toHaveLength(15);
    expect(user.notifySignal).toBe(false);
    k.advance(RETRY_PERIOD_NS);
    expect(core.transition.attempts).toHaveLength(16);
    expect(core.log.messages()).toContain('livepatch: signaling remaining tasks');
    expect(user.notifySignal).toBe(true);
    expect(kthread.wokenUp).toBe(1);
    for (let i = 0; i < 15; i++) k.advance(RETRY_PERIOD_NS);
    expect(kthread.wokenUp).toBe(2);
    expect(core.log.messages().filter((m) => m === 'livepatch: signaling remaining tasks')).toHaveLength(1);
  });

  test('force switches every task unchecked, and a forced unpatch pins the module', () => {
    const { k, core } = setup();
    k.addTask('kworker', 'kthread', []);
    const p = makePatch('p', NEW_A);
    core.enable(p);
    const stuck = k.addTask('late', 'kthread', []);
    stuck.patchState = KLP_UNDEFINED;
    k.taskList[0].stack = [NEW_A + 4];
    expect(core.writeEnabled(p, false)).toBe(0);
    expect(core.transition.patch).toBe(p);
    expect(core.writeForce(p, true)).toBe(0);
    expect(core.log.messages()).toContain('livepatch: forcing remaining tasks to the patched state');
    k.advance(RETRY_PERIOD_NS);
    expect(core.transition.patch).toBeNull();
    expect(p.forced).toBe(true);
    expect(core.canRemoveModule(p)).toBe(false);
  });

  test('force on a patch that is not in transition is -EINVAL', () => {
    const { k, core } = setup();
    k.addTask('a', 'user', []);
    const p = makePatch('p', NEW_A);
    core.enable(p);
    expect(core.writeForce(p, true)).toBe(-EINVAL);
  });
});

describe('disable, reverse, remove', () => {
  test('disabling checks the new function, then frees the patch and releases the module', () => {
    const { k, core } = setup();
    const t = k.addTask('kworker', 'kthread', []);
    const p = makePatch('p', NEW_A);
    core.enable(p);
    t.stack = [NEW_A + 0x10];
    expect(core.writeEnabled(p, false)).toBe(0);
    expect(core.transition.attempts.at(-1)!.results[0].result.outcome).toBe('sleeping-on-function');
    expect(core.canRemoveModule(p)).toBe(false);
    t.stack = [];
    k.advance(RETRY_PERIOD_NS);
    expect(core.log.messages().slice(-5)).toEqual([
      "livepatch: 'p': initializing unpatching transition",
      "livepatch: 'p': starting unpatching transition",
      'livepatch: klp_try_switch_task: kworker:1 is sleeping on function cmdline_proc_show',
      "livepatch: 'p': completing unpatching transition",
      "livepatch: 'p': unpatching complete",
    ]);
    expect(k.registered.size).toBe(0);
    expect(core.patches).toHaveLength(0);
    expect(core.canRemoveModule(p)).toBe(true);
  });

  test('writing the current value is -EINVAL; re-enabling a disabled 6.1 patch is impossible', () => {
    const { k, core } = setup();
    k.addTask('a', 'user', []);
    const p = makePatch('p', NEW_A);
    core.enable(p);
    expect(core.writeEnabled(p, true)).toBe(-EINVAL);
    core.writeEnabled(p, false);
    expect(core.writeEnabled(p, true)).toBe(-EINVAL);
  });

  test('reversing a stalled patching transition unpatches, with no callbacks of the reversal', () => {
    const { k, core } = setup();
    const stuck = k.addTask('kworker', 'kthread', [OLD + 3]);
    const moved = k.addTask('cat', 'user', []);
    const calls: string[] = [];
    const p = new KlpPatch('p');
    const obj = p.addObject(null, {
      prePatch: () => (calls.push('pre_patch'), 0),
      postPatch: () => calls.push('post_patch'),
      preUnpatch: () => calls.push('pre_unpatch'),
      postUnpatch: () => calls.push('post_unpatch'),
    });
    Object.assign(obj.addFunc('cmdline_proc_show', NEW_A), { oldFunc: OLD, oldSize: 0x100, newSize: 0x80 });
    core.enable(p);
    expect(moved.patchState).toBe(KLP_PATCHED);
    expect(core.writeEnabled(p, false)).toBe(0);
    expect(core.log.messages().slice(-2)).toEqual([
      "livepatch: 'p': reversing transition from patching to unpatching",
      "livepatch: 'p': starting unpatching transition",
    ]);
    // The task that had switched must now go back; the stuck one is already in the target.
    expect(moved.pending).toBe(true);
    expect(stuck.pending).toBe(false);
    k.advance(RETRY_PERIOD_NS);
    expect(core.transition.patch).toBeNull();
    expect(calls).toEqual(['pre_patch', 'post_unpatch']);
    expect(core.log.messages().at(-1)).toBe("livepatch: 'p': unpatching complete");
  });

  test('a second enable during a transition is -EBUSY', () => {
    const { k, core } = setup();
    k.addTask('kworker', 'kthread', [OLD + 3]);
    core.enable(makePatch('a', NEW_A));
    expect(core.enable(makePatch('b', NEW_B))).toBe(-EBUSY);
  });
});

describe('stacked patches and the ftrace handler', () => {
  test('patching over a patch checks the older patch version, not the original', () => {
    const { k, core } = setup();
    const t = k.addTask('kworker', 'kthread', []);
    core.enable(makePatch('a', NEW_A));
    t.stack = [OLD + 4];
    core.enable(makePatch('b', NEW_B));
    expect(core.transition.patch).toBeNull(); // the original is no longer what runs
    const { k: k2, core: core2 } = setup();
    const t2 = k2.addTask('kworker', 'kthread', []);
    core2.enable(makePatch('a', NEW_A));
    t2.stack = [NEW_A + 4];
    core2.enable(makePatch('b', NEW_B));
    expect(core2.transition.attempts.at(-1)!.results[0].result.outcome).toBe('sleeping-on-function');
  });

  test('the handler picks newest, falls back by patch state during a transition, skips nops', () => {
    const { k, core } = setup();
    const t = k.addTask('kworker', 'kthread', []);
    core.enable(makePatch('a', NEW_A));
    const ops = core.ops.find(OLD)!;
    expect(klpFtraceHandler(ops, () => KLP_UNDEFINED).target).toBe(NEW_A);
    t.stack = [NEW_A + 1];
    core.enable(makePatch('b', NEW_B));
    expect(ops.funcStack.map((f) => f.newFunc)).toEqual([NEW_B, NEW_A]);
    expect(klpFtraceHandler(ops, () => KLP_PATCHED).target).toBe(NEW_B);
    expect(klpFtraceHandler(ops, () => KLP_UNPATCHED).target).toBe(NEW_A);
    const undefinedState = klpFtraceHandler(ops, () => KLP_UNDEFINED);
    expect(undefinedState.warning).toMatch(/KLP_UNDEFINED/);
  });

  test('during the first patch transition an unpatched task runs the original', () => {
    const { k, core } = setup();
    k.addTask('kworker', 'kthread', [OLD + 1]);
    core.enable(makePatch('a', NEW_A));
    const ops = core.ops.find(OLD)!;
    expect(klpFtraceHandler(ops, () => KLP_UNPATCHED).target).toBeUndefined();
    expect(klpFtraceHandler(ops, () => KLP_PATCHED).target).toBe(NEW_A);
  });

  test('a failing ftrace registration cancels the enable with the kernel messages', () => {
    const { k, core } = setup();
    k.addTask('a', 'user', []);
    k.registerError = -EBUSY;
    const p = makePatch('test_klp_livepatch', NEW_A);
    expect(core.enable(p)).toBe(-EBUSY);
    expect(core.log.messages()).toEqual([
      "livepatch: enabling patch 'test_klp_livepatch'",
      "livepatch: 'test_klp_livepatch': initializing patching transition",
      "livepatch: failed to register ftrace handler for function 'cmdline_proc_show' (-16)",
      "livepatch: failed to patch object 'vmlinux'",
      "livepatch: failed to enable patch 'test_klp_livepatch'",
      "livepatch: 'test_klp_livepatch': canceling patching transition, going to unpatch",
      "livepatch: 'test_klp_livepatch': completing unpatching transition",
      "livepatch: 'test_klp_livepatch': unpatching complete",
    ]);
    expect(core.patches).toHaveLength(0);
  });
});

describe('atomic replace and states', () => {
  test('a replace patch adds nops, then retires the patches it replaces', () => {
    const { k, core } = setup();
    k.addTask('a', 'user', []);
    const a = new KlpPatch('a');
    const objA = a.addObject(null);
    Object.assign(objA.addFunc('f1', NEW_A), { oldFunc: OLD, oldSize: 0x100, newSize: 0x80 });
    Object.assign(objA.addFunc('f2', NEW_A + 0x100), { oldFunc: OLD + 0x200, oldSize: 0x100, newSize: 0x80 });
    core.enable(a);
    const r = new KlpPatch('r', true);
    Object.assign(r.addObject(null).addFunc('f1', NEW_B), { oldFunc: OLD, oldSize: 0x100, newSize: 0x80 });
    expect(core.enable(r)).toBe(0);
    expect(a.enabled).toBe(false);
    expect(core.patches).toEqual([r]);
    expect(core.canRemoveModule(a)).toBe(true);
    expect([...r.funcs()].map((f) => f.oldName)).toEqual(['f1']);
    expect(core.ops.find(OLD)!.funcStack.map((f) => f.newFunc)).toEqual([NEW_B]);
    expect(core.ops.find(OLD + 0x200)).toBeUndefined();
  });

  test('a patch with an older version of an installed state is refused', () => {
    const { k, core } = setup();
    k.addTask('a', 'user', []);
    core.enable(makePatch('test_klp_state2', NEW_A, { replace: true, states: [{ id: 1, version: 2 }] }));
    const older = makePatch('test_klp_state', NEW_B, { replace: true, states: [{ id: 1, version: 1 }] });
    expect(core.enable(older)).toBe(-EINVAL);
    expect(core.log.messages().at(-1)).toBe(
      'livepatch: Livepatch patch (test_klp_state) is not compatible with the already installed livepatches.',
    );
  });
});

describe('4.12 behaviour', () => {
  test('4.12 messages, no signals, and stacking rules', () => {
    const { k, core } = setup('4.12');
    const t = k.addTask('kworker', 'kthread', [OLD + 1]);
    const a = makePatch('a', NEW_A);
    expect(core.enable(a)).toBe(0);
    expect(core.log.messages()).toEqual([
      "livepatch: enabling patch 'a'",
      "livepatch: 'a': patching...",
      // 4.12's klp_check_stack words this message itself (kernel/livepatch/transition.c, 4.12).
      'livepatch: klp_check_stack: kworker:1 is sleeping on function cmdline_proc_show',
    ]);
    for (let i = 0; i < 20; i++) k.advance(RETRY_PERIOD_NS);
    expect(core.log.messages()).not.toContain('livepatch: signaling remaining tasks');
    expect(core.writeForce(a, true)).toBe(-EINVAL);
    t.stack = [];
    k.advance(RETRY_PERIOD_NS);
    expect(core.log.messages().at(-1)).toBe("livepatch: 'a': patching complete");
  });

  test('an immediate patch redirects every task at once and pins its module forever', () => {
    const { k, core } = setup('4.12');
    const t = k.addTask('kworker', 'kthread', [OLD + 1]);
    const p = makePatch('imm', NEW_A);
    p.immediate = true;
    core.enable(p);
    expect(core.transition.patch).toBeNull();
    expect(t.patchState).toBe(KLP_UNDEFINED);
    expect(klpFtraceHandler(core.ops.find(OLD)!, () => t.patchState).target).toBe(NEW_A);
    core.writeEnabled(p, false);
    expect(core.canRemoveModule(p)).toBe(false);
  });

  test('an immediate func is never stack-checked', () => {
    const { k, core } = setup('4.12');
    k.addTask('kworker', 'kthread', [OLD + 1]);
    const p = makePatch('p', NEW_A);
    [...p.funcs()][0].immediate = true;
    core.enable(p);
    expect(core.transition.patch).toBeNull();
  });

  test('4.12 refuses a non-immediate patch without reliable stacks', () => {
    const { k, core } = setup('4.12');
    k.reliable = false;
    expect(core.enable(makePatch('p', NEW_A))).toBe(-38);
  });
});
