// The kernels' own ways of switching tasks, on the fixture kernel in the emulator: 6.1 (no
// kthread patch points), 6.4 (cond_resched()), the seed's experiments (no reliable stack
// traces, kthread patch points), 4.12's refusals, and the fixture kernel's Linux-like waits
// (msleep uninterruptible, an interrupted sleep system call restarted).

import { LabError, LivepatchLab } from '../../../livepatch/guest/livepatchLab';
import { kernelBytes as bytes, messages, patchModule, row, run } from './labRuns';

const switchPaths = (r: ReturnType<typeof run>) => new Set([...r.lab.recorder.timelines[0].tasks.values()].map((x) => x.switchedBy));

describe('how kthreads switch in each kernel', () => {
  test('6.1: the preempted CPU-bound kthread never switches by itself; 6.4: it switches at cond_resched()', () => {
    const r61 = run('klp_hog');
    const hog61 = row(r61.lab.recorder.timelines[0], 'kcpuhog')!;
    expect(hog61.blocked[0].reason).toBe('unreliable');
    expect(hog61.switchedAt).toBeUndefined();
    expect(switchPaths(r61).has('kthread-patch-point')).toBe(false);
    expect(switchPaths(r61).has('cond-resched')).toBe(false);
    expect(r61.lab.access.i32(r61.lab.image.symbol('klp_update_after_signal')!)).toBe(0);
    expect(r61.lab.access.i32(r61.lab.image.symbol('klp_kthread_patch_points')!)).toBe(0);

    const r64 = run('klp_hog', { kernel: '6.4' });
    const hog64 = row(r64.lab.recorder.timelines[0], 'kcpuhog')!;
    expect(r64.completed).toBe(true);
    expect(hog64.switchedBy).toBe('cond-resched');
    expect(hog64.switchedAt! - r64.lab.recorder.timelines[0].startedAt).toBeLessThan(50e6);
    expect(r64.lab.fentry.redirections).toBeGreaterThan(0); // it then ran the new hog_inner
    expect(r64.violations).toEqual([]);
    // klp_cond_resched_disable when the transition completed.
    expect(r64.lab.access.i32(r64.lab.image.symbol('klp_sched_try_switch_key')!)).toBe(0);
  }, 120_000);

  test('--no-reliable-stacktrace: 6.1 warns and switches no task by a stack check; with kthread patch points it completes', () => {
    const none = run('klp_hog', { experiments: { reliableStacktrace: false }, maxWait: 3e9 });
    expect(messages(none)).toEqual(expect.arrayContaining([
      "livepatch: This architecture doesn't have support for the livepatch consistency model.",
      'livepatch: The livepatch transition may never complete.',
    ]));
    expect(none.completed).toBe(false);
    expect(switchPaths(none).has('stack-check')).toBe(false);
    expect(row(none.lab.recorder.timelines[0], 'khostcall')!.switchedAt).toBeUndefined();

    // knapper, asleep 20 s in nap_long, reaches its patch point once the signals step wakes it.
    const both = run('klp_hog', { experiments: { reliableStacktrace: false, kthreadPatchPoints: true }, maxWait: 20e9 });
    expect(both.completed).toBe(true);
    expect(row(both.lab.recorder.timelines[0], 'knapper')!.signalledAt.length).toBe(1);
    expect(switchPaths(both).has('stack-check')).toBe(false);
    expect(row(both.lab.recorder.timelines[0], 'khostcall')!.switchedBy).toBe('kthread-patch-point');
    expect(both.violations).toEqual([]);
  }, 120_000);

  test('4.12 without reliable stack traces refuses a non-immediate patch (-ENOSYS), as klp_register_patch did', () => {
    const r = run('klp_hog', { kernel: '4.12', cmdline: 'scale=2', experiments: { reliableStacktrace: false } });
    expect(r.loadResult).toBe(-38);
    expect(messages(r)).toContain("livepatch: This architecture doesn't have support for the livepatch consistency model.");
    const immediate = run('klp_hog', { kernel: '4.12', cmdline: 'scale=2', immediate: true, experiments: { reliableStacktrace: false } });
    expect(immediate.loadResult).toBe(0);
    // 4.12's exit_to_usermode_loop order: klp_update_patch_state after do_signal.
    expect(immediate.lab.access.i32(immediate.lab.image.symbol('klp_update_after_signal')!)).toBe(1);
  }, 120_000);
});

describe('4.12 refuses what its struct klp_patch and its kernel did not have', () => {
  test.each([
    ['test_klp_callbacks_demo', /^test_klp_callbacks_demo: klp_object\.callbacks came in Linux 4\.15: --kernel 4\.12 does not have it$/],
    ['test_klp_shadow_vars', /^test_klp_shadow_vars: shadow variables \(klp_shadow_\w+\) came in Linux 4\.13: --kernel 4\.12 does not have it$/],
    ['test_klp_atomic_replace replace=1', /^test_klp_atomic_replace: atomic replace \(klp_patch\.replace\) came in Linux 5\.1: --kernel 4\.12 does not have it$/],
  ])('%s', (words, message) => {
    const [name, ...params] = words.split(' ');
    const lab = new LivepatchLab(bytes, 'kernel.elf', { kernel: '4.12', cmdline: 'selftest' });
    lab.runUntil(5e6);
    let error: unknown;
    try {
      lab.modprobe(patchModule(`selftests/${name}`), params);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LabError);
    expect((error as Error).message).toMatch(message);
  }, 60_000);
});

describe('function sizes as kallsyms gives them', () => {
  test('old_size and new_size reach the next symbol, padding included', () => {
    const lab = new LivepatchLab(bytes, 'kernel.elf', { cmdline: 'scale=2' });
    lab.runUntil(12e6);
    expect(lab.modprobe(patchModule('klp_hog'))).toBe(0);
    const patch = lab.patch('klp_hog')!;
    const elfSize = (name: string) => lab.elf.symbols().find((s) => s.name === name)!.size;
    let padded = 0;
    for (const f of patch.funcs()) {
      const k = lab.image.kallsyms.lookup(f.oldFunc)!;
      expect(k.offset).toBe(0);
      expect(f.oldSize).toBe(k.size);
      expect(f.oldSize).toBeGreaterThanOrEqual(elfSize(f.oldName));
      if (f.oldSize > elfSize(f.oldName)) padded++;
      expect(f.newSize).toBeGreaterThan(0);
    }
    expect(padded).toBeGreaterThan(0); // -falign-functions padding counts
  }, 60_000);
});

describe('waits and signals as Linux has them', () => {
  test('msleep sleeps uninterruptibly: the signals step cannot wake khostcall', () => {
    const lab = new LivepatchLab(bytes, 'kernel.elf', { cmdline: 'scale=2' });
    const running = lab.image.symbol('TASK_STATE_RUNNING');
    const asleep = () => {
      lab.view.refresh();
      const t = lab.view.tasks().find((x) => x.name === 'khostcall');
      return t !== undefined && !t.running && t.state !== running;
    };
    expect(lab.runUntil(20e6, asleep, 1000)).toBe(true);
    const khostcall = lab.view.tasks().find((t) => t.name === 'khostcall')!;
    expect(khostcall.state).toBe(lab.image.symbol('TASK_STATE_UNINTERRUPTIBLE'));
    const before = khostcall.state;
    lab.port.wakeUpInterruptible({ address: khostcall.addr, pid: khostcall.pid, comm: khostcall.name, kind: 'kthread' });
    lab.view.refresh();
    expect(lab.view.tasks().find((t) => t.name === 'khostcall')!.state).toBe(before);
  }, 60_000);

  test('a sleep system call interrupted by the fake signal restarts instead of returning -EINTR', () => {
    const lab = new LivepatchLab(bytes, 'kernel.elf', { cmdline: 'scale=2' });
    const interruptible = lab.image.symbol('TASK_STATE_INTERRUPTIBLE');
    const helloSleeps = () => {
      if (!lab.consoleText.includes('hello: write(1, bad pointer')) return false;
      lab.view.refresh();
      return lab.view.tasks().some((t) => t.name === 'hello' && t.state === interruptible && !t.running);
    };
    expect(lab.runUntil(50e6, helloSleeps, 1000)).toBe(true);
    const hello = lab.port.tasks().find((t) => t.comm === 'hello')!;
    lab.port.setNotifySignal(hello); // klp_send_signals' set_notify_signal()
    lab.runUntil(lab.now + 50e6, () => lab.consoleText.includes('unknown syscall'));
    expect(lab.consoleText).toContain('hello: sched_yield() = 0, sleep(3) = 0, unknown syscall 999 = -38');
  }, 60_000);
});
