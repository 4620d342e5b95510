// The kernel's verdicts on synthetic stacks: each case is a stack laid out as the guest's code
// would leave it, and the assertions are what arch_stack_walk_reliable() returns for it.

import { EINVAL } from '../../../livepatch/unwind/reliableStackTrace';
import { helpersFor } from './verdictCases';
import { deepKthread, preemptedKthread, runningKthread, sleepingKthread, userInSyscall } from './scenarios';
import { KERNEL_CS, SyntheticGuest, USER_CS, makeRegsSnapshot, standardKernel } from './syntheticGuest';
import { reliable, sym, walk } from './helpers';

const k = standardKernel();

describe.each(['fp', 'orc'] as const)('%s unwinder, 6.1 reliable walk', (which) => {
  test('sleeping kthread: every function to ret_from_fork, reliable', () => {
    const g = new SyntheticGuest();
    const s = sleepingKthread(g, k);
    const v = reliable(which, g, k, s.task);
    expect(v.reason).toBeNull();
    expect(v.ret).toBe(s.truth.length);
    expect(sym(k, v.entries)).toEqual(sym(k, s.truth));
  });

  test('user task in a syscall: reliable, ends at the user pt_regs', () => {
    const g = new SyntheticGuest();
    const s = userInSyscall(g, k);
    const v = reliable(which, g, k, s.task);
    expect(v.reason).toBeNull();
    expect(sym(k, v.entries)).toEqual(sym(k, s.truth));
  });

  test('interrupt after the frame is set up: FP refuses the kernel regs, ORC walks through them', () => {
    const g = new SyntheticGuest();
    const s = preemptedKthread(g, k, 9);
    const v = reliable(which, g, k, s.task);
    if (which === 'fp') {
      expect(v.ret).toBe(-EINVAL);
      expect(v.reason).toBe('kernel-regs');
    } else {
      expect(v.reason).toBeNull();
      expect(sym(k, v.entries)).toEqual(sym(k, s.truth));
    }
  });

  test.each([5, 6])('interrupt in a prologue (helper+%i): FP unreliable, ORC reliable and complete', (at) => {
    const g = new SyntheticGuest();
    const s = preemptedKthread(g, k, at);
    const v = reliable(which, g, k, s.task);
    if (which === 'fp') {
      expect(v.reason).toBe('kernel-regs');
      // and the frame-pointer walk past the regs would indeed have missed worker+0x40
      const w = walk('fp', g, k, s.task);
      const ips = w.frames.map((f) => f.ip);
      expect(ips).toContain(k.a('helper', at));
      expect(ips).not.toContain(k.a('worker', 0x40));
      expect(ips).toContain(k.a('kthread_main', 0x30));
    } else {
      expect(v.reason).toBeNull();
      expect(sym(k, v.entries)).toEqual(sym(k, s.truth));
    }
  });

  test('running task stopped in a prologue: FP refuses kernel regs, ORC is reliable', () => {
    const g = new SyntheticGuest();
    const s = runningKthread(g, k, 5);
    const v = reliable(which, g, k, s.task, s.regs);
    if (which === 'fp') expect(v.reason).toBe('kernel-regs');
    else {
      expect(v.reason).toBeNull();
      expect(sym(k, v.entries)).toEqual(sym(k, s.truth));
    }
  });

  test('running task in user mode: reliably empty', () => {
    const g = new SyntheticGuest();
    const s = userInSyscall(g, k);
    s.task.running = true;
    const regs = makeRegsSnapshot({ ip: 0x401000, sp: 0x7fff0000, bp: 0, cs: USER_CS });
    const v = reliable(which, g, k, s.task, regs);
    expect(v.ret).toBe(0);
    expect(v.reason).toBeNull();
  });

  test('99 entries are reliable, 100 overflow livepatch\'s buffer', () => {
    const g = new SyntheticGuest();
    const ok = deepKthread(g, k, 95);
    expect(ok.truth.length).toBe(99);
    const v = reliable(which, g, k, ok.task);
    expect(v.reason).toBeNull();
    expect(v.ret).toBe(99);
    const g2 = new SyntheticGuest();
    const over = deepKthread(g2, k, 96);
    const v2 = reliable(which, g2, k, over.task);
    expect(v2.ret).toBe(-EINVAL);
    expect(v2.reason).toBe('too-many-entries');
  });

  test('a return address outside kernel text is refused', () => {
    const g = new SyntheticGuest();
    const s = sleepingKthread(g, k);
    // the return address in worker's frame (into kthread_main) now points into "generated code"
    const workerFrame = g.readWord(g.readWord(s.task.threadSp + 40)! )!; // schedule's frame
    const slot = g.readWord(workerFrame)! + 8; // worker frame's return address
    g.mem.write(slot, -0x3f000000); // 0xffffffffc1000000: module area, not kernel text
    const v = reliable(which, g, k, s.task);
    expect(v.ret).toBe(-EINVAL);
    if (which === 'fp') expect(v.reason).toBe('not-kernel-text');
    else expect(['not-kernel-text', 'unwind-error']).toContain(v.reason);
  });

  test('a task without a stack (zombie) is reliably empty', () => {
    const g = new SyntheticGuest();
    const s = sleepingKthread(g, k);
    s.task.hasStack = false;
    expect(reliable(which, g, k, s.task)).toMatchObject({ ret: 0, reason: null });
    expect(reliable(which, g, k, s.task, null, '4.12')).toMatchObject({ ret: -EINVAL, reason: 'no-stack' });
  });
});

describe('corrupt frame-pointer chains (FP unwinder)', () => {
  const corrupt = helpersFor(k);
  test.each(corrupt.cases)('%s', (_name, mutate, expected) => {
    const g = new SyntheticGuest();
    const s = sleepingKthread(g, k);
    const other = sleepingKthread(g, k, 'other');
    mutate(g, s, other);
    const v = reliable('fp', g, k, s.task);
    expect(v.ret).toBe(-EINVAL);
    expect(v.reason).toBe('unwind-error');
    expect(v.cause).toBe(expected);
    // the display walk terminates too
    const w = walk('fp', g, k, s.task);
    expect(w.error).toBe(true);
    expect(w.frames.length).toBeLessThan(20);
  });

  test('a kthread whose chain ends early (saved rbp 0 below the last frame) is unreliable', () => {
    const g = new SyntheticGuest();
    const s = sleepingKthread(g, k);
    // worker's frame says "no caller frame": the walk cannot reach the final frame
    const schedFrame = g.readWord(s.task.threadSp + 40)!;
    const workerFrame = g.readWord(g.readWord(schedFrame)!)!;
    g.mem.write(workerFrame, 0);
    const v = reliable('fp', g, k, s.task);
    expect(v.reason).toBe('unwind-error');
    expect(v.cause).toBe('fp-bad-frame-pointer');
  });

  test('last frame one word lower with a duplicated return address (GCC realign) still ends the walk', () => {
    const g = new SyntheticGuest();
    const task = g.addTask('realigned', 'kthread');
    const b = g.builder(task);
    b.ptRegs({ ip: 0, cs: KERNEL_CS, sp: 0, bp: 0 });
    b.call(k.a('ret_from_fork', 0x20));
    b.push(k.a('ret_from_fork', 0x20)); // pushq -0x8(%r10): the duplicate
    b.enter();
    b.callFp(k.a('kthread_main', 0x30));
    b.switchOut(k.a('__schedule', 0x100));
    const v = reliable('fp', g, k, task);
    expect(v.reason).toBeNull();
    expect(sym(k, v.entries)).toEqual(sym(k, [k.a('__schedule', 0x100), k.a('kthread_main', 0x30), k.a('ret_from_fork', 0x20)]));
    // when the word is not a duplicate of the return address, the frame is not a last frame
    g.mem.write(task.stackEnd - 168 - 16, k.a('kthread_main', 0x10));
    expect(reliable('fp', g, k, task).reason).toBe('unwind-error');
  });
});

describe('4.12 rules', () => {
  test('sleeping kthread and user task are reliable; kernel regs are refused even with ORC', () => {
    const g = new SyntheticGuest();
    const a = sleepingKthread(g, k);
    const u = userInSyscall(g, k);
    const p = preemptedKthread(g, k, 9);
    for (const which of ['fp', 'orc'] as const) {
      expect(sym(k, reliable(which, g, k, a.task, null, '4.12').entries)).toEqual(sym(k, a.truth));
      expect(sym(k, reliable(which, g, k, u.task, null, '4.12').entries)).toEqual(sym(k, u.truth));
      expect(reliable(which, g, k, p.task, null, '4.12').reason).toBe('kernel-regs');
    }
  });

  test('4.12 holds 100 entries, refuses 101', () => {
    const g = new SyntheticGuest();
    const s100 = deepKthread(g, k, 96);
    expect(s100.truth.length).toBe(100);
    expect(reliable('fp', g, k, s100.task, null, '4.12').ret).toBe(100);
    const s101 = deepKthread(g, k, 97);
    expect(reliable('fp', g, k, s101.task, null, '4.12').reason).toBe('too-many-entries');
  });
});
