// ORC unwinder cases: every sp_reg / bp_reg / type rule, the end of the stack, and each error,
// on stacks laid out to match the ORC rows of the synthetic functions.

import {
  ORC_REG_BP,
  ORC_REG_BP_INDIRECT,
  ORC_REG_DI,
  ORC_REG_DX,
  ORC_REG_R10,
  ORC_REG_R13,
  ORC_REG_SP,
  ORC_REG_SP_INDIRECT,
  UNWIND_HINT_TYPE_REGS_PARTIAL,
} from '../../../objtool/orc/orcTypes';
import { PTREGS_DI, PTREGS_DX, PTREGS_R10, PTREGS_R13 } from '../../../livepatch/unwind/ptRegs';
import { EINVAL } from '../../../livepatch/unwind/reliableStackTrace';
import { STACK_TYPE_IRQ } from '../../../livepatch/unwind/stackInfo';
import { reliable, sym, walk } from './helpers';
import { sleepingKthread } from './scenarios';
import {
  KERNEL_CS,
  type StackBuilder,
  SyntheticGuest,
  type SyntheticKernel,
  type SyntheticTask,
  THREAD_SIZE,
  makeRegsSnapshot,
  standardKernel,
} from './syntheticGuest';

const k = standardKernel({}, [
  { name: 'sp_ind_fn', size: 0x40, shape: 'custom', rows: [[0, { spReg: ORC_REG_SP_INDIRECT, spOffset: 8 }]] },
  { name: 'bp_ind_fn', size: 0x40, shape: 'custom', rows: [[0, { spReg: ORC_REG_BP_INDIRECT, spOffset: 8, bpReg: ORC_REG_BP, bpOffset: 0 }]] },
  { name: 'r10_fn', size: 0x40, shape: 'custom', rows: [[0, { spReg: ORC_REG_R10, spOffset: 0 }]] },
  { name: 'r13_fn', size: 0x40, shape: 'custom', rows: [[0, { spReg: ORC_REG_R13, spOffset: 0 }]] },
  { name: 'di_fn', size: 0x40, shape: 'custom', rows: [[0, { spReg: ORC_REG_DI, spOffset: 0 }]] },
  { name: 'dx_fn', size: 0x40, shape: 'custom', rows: [[0, { spReg: ORC_REG_DX, spOffset: 0 }]] },
  { name: 'bad_type_fn', size: 0x40, shape: 'custom', rows: [[0, { type: 3 }]] },
  { name: 'bad_spreg_fn', size: 0x40, shape: 'custom', rows: [[0, { spReg: 11 }]] },
  { name: 'bad_bpreg_fn', size: 0x40, shape: 'custom', rows: [[0, { bpReg: ORC_REG_SP }]] },
  { name: 'wrong_dir_fn', size: 0x40, shape: 'custom', rows: [[0, { spReg: ORC_REG_SP, spOffset: 0 }]] },
  { name: 'partial_fn', size: 0x40, shape: 'custom', rows: [[0, { spReg: ORC_REG_SP, spOffset: 0, type: UNWIND_HINT_TYPE_REGS_PARTIAL }]] },
  { name: 'gen_fn', size: 0x40, shape: 'generated' },
  { name: 'handle_irq', size: 0x40, shape: 'fp' },
]);

/** kthread_main -> worker -> X (laid out by `frame`) -> schedule -> __schedule, asleep. */
function sleepingThrough(
  g: SyntheticGuest,
  kk: SyntheticKernel,
  x: string,
  frame: (b: StackBuilder, retSlot: number) => void,
): { task: SyntheticTask; truth: number[] } {
  const task = g.addTask('t', 'kthread');
  const b = g.builder(task);
  b.ptRegs({ ip: 0, cs: KERNEL_CS, sp: 0, bp: 0 });
  b.callFp(kk.a('ret_from_fork', 0x20)).locals(2);
  b.callFp(kk.a('kthread_main', 0x30)).locals(2); // worker
  b.call(kk.a('worker', 0x40)); // call X
  frame(b, b.sp);
  b.callFp(kk.a(x, 0x10)); // schedule
  b.callFp(kk.a('schedule', 0x20)); // __schedule
  b.switchOut(kk.a('__schedule', 0x100));
  const truth = [kk.a('__schedule', 0x100), kk.a('schedule', 0x20), kk.a(x, 0x10), kk.a('worker', 0x40), kk.a('kthread_main', 0x30), kk.a('ret_from_fork', 0x20)];
  return { task, truth };
}

describe('ORC sp rules', () => {
  test('SP_INDIRECT: sp = *(sp) + offset', () => {
    const g = new SyntheticGuest();
    const s = sleepingThrough(g, k, 'sp_ind_fn', (b, ret) => b.push(ret));
    const v = reliable('orc', g, k, s.task);
    expect(v.reason).toBeNull();
    expect(sym(k, v.entries)).toEqual(sym(k, s.truth));
  });

  test('BP_INDIRECT with bp from BP: sp = *(bp + offset), bp = *(bp)', () => {
    const g = new SyntheticGuest();
    const s = sleepingThrough(g, k, 'bp_ind_fn', (b, ret) => {
      b.push(ret + 8);
      b.sp -= 0; // the pointer to the caller's sp sits right above the saved rbp
      b.enter(); // [bp] = caller's rbp, [bp+8] = caller's sp
    });
    const v = reliable('orc', g, k, s.task);
    expect(v.reason).toBeNull();
    expect(sym(k, v.entries)).toEqual(sym(k, s.truth));
  });

  test.each([
    ['r10_fn', PTREGS_R10],
    ['r13_fn', PTREGS_R13],
    ['di_fn', PTREGS_DI],
    ['dx_fn', PTREGS_DX],
  ])('%s: sp from a register saved in full pt_regs (interrupted there)', (fn, off) => {
    const g = new SyntheticGuest();
    const task = g.addTask('t', 'kthread');
    const b = g.builder(task);
    b.ptRegs({ ip: 0, cs: KERNEL_CS, sp: 0, bp: 0 });
    b.callFp(k.a('ret_from_fork', 0x20)).locals(2);
    b.callFp(k.a('kthread_main', 0x30)).locals(2);
    b.call(k.a('worker', 0x40));
    const callerSp = b.sp + 8;
    b.locals(3); // the function moved sp; its CFA is only known from the register
    const regs = b.ptRegs({ ip: k.a(fn, 8), cs: KERNEL_CS, sp: b.sp, bp: b.bp });
    g.mem.write(regs + off, callerSp);
    b.encode(regs);
    b.callFp(k.a('asm_sysvec_timer', 0x45));
    b.callFp(k.a('sysvec_timer', 0x40));
    b.callFp(k.a('preempt_schedule_irq', 0x20));
    b.switchOut(k.a('__schedule', 0x100));
    const truth = [
      k.a('__schedule', 0x100), k.a('preempt_schedule_irq', 0x20), k.a('sysvec_timer', 0x40), k.a('asm_sysvec_timer', 0x45),
      k.a(fn, 8), k.a('worker', 0x40), k.a('kthread_main', 0x30), k.a('ret_from_fork', 0x20),
    ];
    const v = reliable('orc', g, k, task);
    expect(v.reason).toBeNull();
    expect(sym(k, v.entries)).toEqual(sym(k, truth));
    // the frame-pointer unwinder refuses the same stack
    expect(reliable('fp', g, k, task).reason).toBe('kernel-regs');
  });

  test('a register rule reached through a call frame (no regs): missing R10 is an error', () => {
    const g = new SyntheticGuest();
    const s = sleepingThrough(g, k, 'r10_fn', () => undefined);
    const v = reliable('orc', g, k, s.task);
    expect(v).toMatchObject({ ret: -EINVAL, reason: 'unwind-error', cause: 'orc-missing-reg' });
  });
});

describe('ORC errors', () => {
  test.each([
    ['bad_type_fn', 'orc-unknown-type'],
    ['bad_spreg_fn', 'orc-unknown-sp-reg'],
    ['bad_bpreg_fn', 'orc-unknown-bp-reg'],
    ['wrong_dir_fn', 'orc-wrong-direction'],
    ['gen_fn', 'orc-undefined-sp'],
  ])('%s -> %s', (fn, cause) => {
    const g = new SyntheticGuest();
    const s = sleepingThrough(g, k, fn, () => undefined);
    const v = reliable('orc', g, k, s.task);
    expect(v).toMatchObject({ ret: -EINVAL, reason: 'unwind-error', cause });
    // the frames before the bad entry had been stored
    expect(sym(k, v.entries)).toEqual(sym(k, s.truth.slice(0, 3)));
    const w = walk('orc', g, k, s.task);
    expect(w.error).toBe(true);
    expect(w.frames.map((f) => f.ip)).toContain(k.a(fn, 0x10));
  });

  test('no ORC entry (text outside the tables): the frame-pointer guess continues, unreliable', () => {
    const kk = standardKernel();
    const mod = -0x3f000000; // 0xffffffffc1000000
    kk.image.text.add({ start: mod, end: mod + 0x1000, name: 'module' });
    const g = new SyntheticGuest();
    const task = g.addTask('t', 'kthread');
    const b = g.builder(task);
    b.ptRegs({ ip: 0, cs: KERNEL_CS, sp: 0, bp: 0 });
    b.callFp(kk.a('ret_from_fork', 0x20));
    b.callFp(kk.a('kthread_main', 0x30)); // module function, frame pointers
    b.callFp(mod + 0x50); // schedule
    b.callFp(kk.a('schedule', 0x20));
    b.switchOut(kk.a('__schedule', 0x100));
    const v = reliable('orc', g, kk, task);
    expect(v).toMatchObject({ ret: -EINVAL, reason: 'unwind-error', cause: 'orc-no-entry' });
    expect(sym(kk, v.entries)).toEqual(sym(kk, [kk.a('__schedule', 0x100), kk.a('schedule', 0x20), mod + 0x50]));
    const w = walk('orc', g, kk, task);
    expect(w.frames.map((f) => f.ip)).toEqual([kk.a('__schedule', 0x100), kk.a('schedule', 0x20), mod + 0x50, kk.a('kthread_main', 0x30), kk.a('ret_from_fork', 0x20)]);
    // the frame-pointer unwinder only needs the address to be kernel text
    expect(reliable('fp', g, kk, task).reason).toBeNull();
  });

  test('no ORC tables at all: every walk is an error', () => {
    const kk = standardKernel({ noOrc: true });
    const g = new SyntheticGuest();
    const s = sleepingKthread(g, kk);
    expect(reliable('orc', g, kk, s.task)).toMatchObject({ ret: -EINVAL, cause: 'orc-not-initialized' });
    expect(reliable('fp', g, kk, s.task).reason).toBeNull();
  });

  test('thread.sp off the stack: ORC errs, the frame-pointer unwinder reports a reliably empty stack (as the kernel does)', () => {
    const g = new SyntheticGuest();
    const s = sleepingKthread(g, k);
    const other = sleepingKthread(g, k, 'other');
    s.task.threadSp = other.task.threadSp; // mapped, but another task's stack
    expect(reliable('orc', g, k, s.task)).toMatchObject({ ret: -EINVAL, cause: 'orc-bad-start-sp' });
    expect(reliable('fp', g, k, s.task)).toMatchObject({ ret: 0, reason: null });
  });

  test('a corrupt saved rbp also breaks ORC on frame-pointer code', () => {
    const g = new SyntheticGuest();
    const s = sleepingKthread(g, k);
    const schedFrame = g.readWord(s.task.threadSp + 40)!;
    g.mem.write(schedFrame, 0x7ffff000);
    expect(reliable('orc', g, k, s.task)).toMatchObject({ ret: -EINVAL, cause: 'orc-bad-stack-access' });
  });
});

describe('ORC starting states', () => {
  test.each(['kthread', 'user'] as const)('a new %s that never ran: ret_from_fork is a signal frame that ends the stack', (kind) => {
    const g = new SyntheticGuest();
    const task = g.addTask('new', kind);
    const b = g.builder(task);
    b.ptRegs({ ip: kind === 'user' ? 0x401000 : 0, cs: kind === 'user' ? 0x33 : KERNEL_CS, sp: 0, bp: 0 });
    b.bp = 0;
    b.switchOut(k.a('ret_from_fork'));
    for (const which of ['fp', 'orc'] as const) {
      const v = reliable(which, g, k, task);
      expect(v.reason).toBeNull();
      expect(sym(k, v.entries)).toEqual(sym(k, [k.a('ret_from_fork')]));
    }
  });

  test('running task stopped on the first instruction of interrupt entry (IRET frame only): regs partial, bp from the previous full regs', () => {
    const g = new SyntheticGuest();
    const task = g.addTask('t', 'kthread');
    const b = g.builder(task);
    b.ptRegs({ ip: 0, cs: KERNEL_CS, sp: 0, bp: 0 });
    b.callFp(k.a('ret_from_fork', 0x20)).locals(2);
    b.callFp(k.a('kthread_main', 0x30)).locals(2);
    b.callFp(k.a('worker', 0x40)).locals(1); // helper, frame set up
    const spAtIrq = b.sp;
    b.push(0x18).push(spAtIrq).push(0x202).push(KERNEL_CS).push(k.a('helper', 9)); // the CPU's IRET frame
    task.running = true;
    const regs = makeRegsSnapshot({ ip: k.a('asm_sysvec_timer'), sp: b.sp, bp: b.bp, cs: KERNEL_CS });
    const v = reliable('orc', g, k, task, regs);
    expect(v.reason).toBeNull();
    expect(sym(k, v.entries)).toEqual(
      sym(k, [k.a('asm_sysvec_timer'), k.a('helper', 9), k.a('worker', 0x40), k.a('kthread_main', 0x30), k.a('ret_from_fork', 0x20)]),
    );
  });

  test('a NULL function pointer call (ip 0): both unwinders recover the caller from *sp', () => {
    const g = new SyntheticGuest();
    const task = g.addTask('t', 'kthread');
    const b = g.builder(task);
    b.ptRegs({ ip: 0, cs: KERNEL_CS, sp: 0, bp: 0 });
    b.callFp(k.a('ret_from_fork', 0x20)).locals(2);
    b.callFp(k.a('kthread_main', 0x30)).locals(2);
    b.call(k.a('worker', 0x40)); // call *%rax with rax = 0
    task.running = true;
    const regs = makeRegsSnapshot({ ip: 0, sp: b.sp, bp: b.bp, cs: KERNEL_CS });
    const want = [k.a('worker', 0x40), k.a('kthread_main', 0x30), k.a('ret_from_fork', 0x20)];
    for (const which of ['fp', 'orc'] as const) {
      const w = walk(which, g, k, task, regs);
      expect(w.error).toBe(false);
      expect(w.frames.slice(1).map((f) => f.ip)).toEqual(want);
    }
  });
});

describe('stacks besides the task stack (running task)', () => {
  /** Running kthread inside handle_irq on the IRQ stack, entered from sysvec_timer. */
  function onIrqStack(g: SyntheticGuest) {
    const task = g.addTask('t', 'kthread');
    const b = g.builder(task);
    b.ptRegs({ ip: 0, cs: KERNEL_CS, sp: 0, bp: 0 });
    b.callFp(k.a('ret_from_fork', 0x20)).locals(2);
    b.callFp(k.a('kthread_main', 0x30)).locals(2);
    b.callFp(k.a('worker', 0x40)).locals(1);
    const spAtIrq = b.sp;
    const regs = b.ptRegs({ ip: k.a('helper', 9), cs: KERNEL_CS, sp: spAtIrq, bp: b.bp });
    b.encode(regs);
    b.callFp(k.a('asm_sysvec_timer', 0x45)).locals(1); // sysvec_timer, then switch to the IRQ stack
    const irqBegin = task.stackEnd + THREAD_SIZE; // the gap between task stacks
    const irqEnd = irqBegin + THREAD_SIZE;
    for (let a = irqBegin; a < irqEnd; a += 8) g.mem.write(a, 0);
    g.mem.write(irqEnd - 8, b.sp); // the previous stack pointer, at the top of the IRQ stack
    const oldSp = b.sp;
    b.sp = irqEnd - 8;
    b.callFp(k.a('sysvec_timer', 0x50)).locals(2); // handle_irq's frame on the IRQ stack
    g.extra.push({ type: STACK_TYPE_IRQ, begin: irqBegin, end: irqEnd, nextSp: oldSp });
    task.running = true;
    const cpu = makeRegsSnapshot({ ip: k.a('handle_irq', 0x20), sp: b.sp, bp: b.bp, cs: KERNEL_CS });
    const truth = [
      k.a('handle_irq', 0x20), k.a('sysvec_timer', 0x50), k.a('asm_sysvec_timer', 0x45), k.a('helper', 9),
      k.a('worker', 0x40), k.a('kthread_main', 0x30), k.a('ret_from_fork', 0x20),
    ];
    return { task, cpu, truth, irqBegin, irqEnd, b };
  }

  test('ORC walks from the IRQ stack to the task stack, reliably', () => {
    const g = new SyntheticGuest();
    const s = onIrqStack(g);
    const v = reliable('orc', g, k, s.task, s.cpu);
    expect(v.reason).toBeNull();
    expect(sym(k, v.entries)).toEqual(sym(k, s.truth));
  });

  test('the frame-pointer walk follows next_sp to the task stack (and the reliable walk refuses the regs)', () => {
    const g = new SyntheticGuest();
    const s = onIrqStack(g);
    const w = walk('fp', g, k, s.task, s.cpu);
    expect(w.error).toBe(false);
    expect(w.frames.map((f) => f.ip)).toEqual([
      k.a('handle_irq', 0x20), k.a('sysvec_timer', 0x50), k.a('asm_sysvec_timer', 0x45), k.a('helper', 9),
      k.a('worker', 0x40), k.a('kthread_main', 0x30), k.a('ret_from_fork', 0x20),
    ]);
    expect(reliable('fp', g, k, s.task, s.cpu).reason).toBe('kernel-regs');
  });

  test('the same stacks for a task that is not running: only the task stack is valid', () => {
    const g = new SyntheticGuest();
    const s = onIrqStack(g);
    s.task.running = false;
    // started from the CPU regs anyway (a stale snapshot): the IRQ stack is not this task's
    const w = walk('orc', g, k, s.task, s.cpu);
    expect(w.frames.length).toBe(1);
  });

  test('coming back to a stack already visited is an error', () => {
    const g = new SyntheticGuest();
    const s = onIrqStack(g);
    // helper's saved rbp now points back into the IRQ stack: find it from sysvec_timer's frame
    let bp = g.readWord(s.b.bp)!; // handle_irq's saved rbp = sysvec_timer's frame (task stack)
    bp = g.readWord(bp)!; // regs|1
    const regs = bp - 1;
    const helperFrame = g.readWord(regs + 32)!;
    g.mem.write(helperFrame, s.irqBegin + 0x100);
    const v = reliable('orc', g, k, s.task, s.cpu);
    expect(v).toMatchObject({ ret: -EINVAL, reason: 'unwind-error', cause: 'orc-bad-stack-access' });
  });
});
