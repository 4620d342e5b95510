// Watching real Linux 6.1's own livepatch core make a transition, and judging it on ground truth.
//
// kernel/livepatch/transition.c (6.1) is the only writer of task->patch_state and
// TIF_PATCH_PENDING: klp_init_transition (every task to the initial state), klp_start_transition
// (flags the tasks not yet in the target state), klp_try_complete_transition and
// klp_transition_work_fn (the stack-check passes, through klp_check_and_switch_task; offline idle
// tasks directly), klp_update_patch_state (a task switching itself: from exit_to_user_mode_prepare
// on the way to user mode, from do_idle, and for every task from klp_force_transition),
// klp_reverse_transition (clears every flag), klp_copy_process (a child inherits its parent's
// state) and klp_complete_transition (every task back to KLP_UNDEFINED). Code hooks at those
// functions' entries and returns read every task's state from guest memory and record each
// change as the kernel made it, with where the task was (its true stack), into the same
// TransitionTimeline the fixture lab fills.
//
// The consistency checker learns the two sides of a transition from the klp_patch the kernel
// transitions (klp_transition_patch: every klp_func's old_func/old_size and new_func/new_size,
// as klp_init_object_loaded resolved them), hooks the first instruction after the `call
// __fentry__` of every one of those functions (a call ftrace redirects never runs the old body),
// and hands the running task's true stack to the ConsistencyChecker at each entry; when the
// kernel completes a transition, every task's true stack is checked once more.
import { HOOK_CODE } from '../../emulator/hooks/registry';
import { RDI, RSP } from '../../emulator/cpu/registers';
import type { Machine } from '../../emulator/machine';
import { ConsistencyChecker, type CodeRange, type TransitionSides } from '../consistency/consistencyChecker';
import { KLP_PATCHED, KLP_UNDEFINED, directionName, type PatchState } from '../patchState';
import { TransitionTimeline, type SwitchPath } from '../report/timeline';
import type { LinuxGuest, LinuxTask } from './linuxGuest';

/** One task's switch as the kernel made it. */
export interface TaskSwitch {
  time: number;
  patch: string;
  pid: number;
  comm: string;
  by: SwitchPath;
  /** The innermost frames of its true stack at that moment, symbolized. */
  where: string;
}

/** Who called klp_update_patch_state, as a switch path (kernel/entry/common.c, kernel/sched/idle.c, transition.c). */
const UPDATE_CALLERS: [RegExp, SwitchPath][] = [
  [/^(exit_to_user_mode|syscall_exit_to_user_mode|irqentry_exit_to_user_mode)/, 'exit-to-user'],
  [/^do_idle/, 'idle-loop'],
  [/^klp_force_transition/, 'force'],
];

export class TransitionWatch {
  readonly timelines: TransitionTimeline[] = [];
  readonly switches: TaskSwitch[] = [];
  readonly checker = new ConsistencyChecker();
  private readonly known = new Map<number, { state: number; pending: boolean }>();
  private readonly returnHooks = new Map<number, Array<{ sp: number; fn: () => void }>>();
  private readonly bodyHooks = new Set<number>();
  /** Names for the patched functions' code (vmlinux symbols do not cover modules). */
  private readonly codeNames: CodeRange[] = [];
  private readonly machine: Machine;
  private passOpen = false;

  constructor(private readonly guest: LinuxGuest) {
    const m = guest.machine;
    this.machine = m;
    const img = guest.image;
    const entry = (name: string, fn: () => void) => m.hookAdd(HOOK_CODE, fn, img.need(name), img.need(name));
    const onReturn = (fn: () => void) => this.afterReturn(fn);
    for (const s of ['klp_init_transition', 'klp_reverse_transition', 'klp_copy_process']) entry(s, () => onReturn(() => this.scan('stack-check')));
    entry('klp_start_transition', () => this.starting());
    for (const s of ['klp_try_complete_transition', 'klp_transition_work_fn']) {
      entry(s, () => this.attempt());
    }
    entry('klp_update_patch_state', () => this.updating());
    entry('klp_complete_transition', () => this.completing());
    entry('klp_force_transition', () => onReturn(() => this.scan('force')));
  }

  /** The transition in progress (started, not completed), if any. */
  get current(): TransitionTimeline | undefined {
    const t = this.timelines.at(-1);
    return t && t.completedAt === undefined ? t : undefined;
  }

  get violations() { return this.checker.violations; }

  private get now(): number { return this.machine.cpu.icount; }

  /** Runs `fn` when the function whose first instruction is executing returns. */
  private afterReturn(fn: () => void): void {
    const m = this.machine;
    const sp = m.cpu.regs.addr(RSP);
    const ret = this.guest.ptr(sp);
    if (ret === null) return;
    let waiting = this.returnHooks.get(ret);
    if (waiting === undefined) {
      waiting = [];
      const list = waiting;
      this.returnHooks.set(ret, list);
      m.hookAdd(HOOK_CODE, () => {
        const now = m.cpu.regs.addr(RSP);
        for (let i = list.length - 1; i >= 0; i--) {
          if (list[i].sp + 8 === now) { const w = list.splice(i, 1)[0]; w.fn(); }
        }
      }, ret, ret);
    }
    waiting.push({ sp, fn });
  }

  /**
   * A stack-check pass starts. klp_transition_work_fn calls klp_try_complete_transition: one pass,
   * counted once; and an entry hook runs again when an interrupt arrives just before the
   * instruction it watches, so a pass counts only while none is open.
   */
  private attempt(): void {
    if (this.passOpen) return;
    this.passOpen = true;
    this.current?.attempts.push(this.now);
    this.afterReturn(() => { this.passOpen = false; this.scan('stack-check'); });
  }

  private readGlobal(name: string): number | null { return this.guest.ptr(this.guest.image.need(name)); }

  /** klp_start_transition: a new timeline, the checker's sides; flagged tasks once it returns. */
  private starting(): void {
    const patchAt = this.readGlobal('klp_transition_patch');
    const targetWord = this.guest.uint(this.guest.image.need('klp_target_state'), 4);
    if (patchAt === null || targetWord === null) return;
    const target = (targetWord | 0) as PatchState;
    const patch = this.guest.patch(patchAt);
    // The same entry seen again (an interrupt arrived just before it): one transition.
    const open = this.current;
    if (open && open.patch === patch.name && open.direction === directionName(target)) return;
    const timeline = new TransitionTimeline(patch.name, directionName(target), this.now);
    this.timelines.push(timeline);
    const sides = this.sidesOf(patch.name, patch.funcs, target);
    this.checker.watch(sides);
    for (const r of [...sides.replaced, ...sides.replacing]) { this.codeNames.push(r); this.hookBody(r); }
    this.afterReturn(() => {
      for (const t of this.guest.tasks()) {
        if (t.pending) timeline.flagged(t.pid, t.comm, t.kind, this.now);
        this.known.set(t.address, { state: t.patchState, pending: t.pending });
      }
    });
  }

  private sidesOf(patch: string, funcs: ReturnType<LinuxGuest['patch']>['funcs'], target: PatchState): TransitionSides {
    const old: CodeRange[] = [], own: CodeRange[] = [];
    for (const f of funcs) {
      if (f.nop || f.oldFunc === 0 || f.newFunc === 0) continue;
      old.push({ start: f.oldFunc, end: f.oldFunc + Math.max(f.oldSize, 1), name: `old ${f.oldName}` });
      own.push({ start: f.newFunc, end: f.newFunc + Math.max(f.newSize, 1), name: `new ${f.oldName}` });
    }
    return target === KLP_PATCHED ? { patch, replaced: old, replacing: own } : { patch, replaced: own, replacing: old };
  }

  /** A code hook where the function's body starts, after its 5-byte `call __fentry__` (or its nop). */
  private hookBody(r: CodeRange): void {
    const b = this.machine.virtRead(r.start, 5);
    const fentry = b !== null && (b[0] === 0xe8 || (b[0] === 0x0f && b[1] === 0x1f && b[2] === 0x44));
    const body = fentry ? r.start + 5 : r.start;
    if (this.bodyHooks.has(body)) return;
    this.bodyHooks.add(body);
    this.machine.hookAdd(HOOK_CODE, () => {
      this.checker.observe(this.now, () => this.guest.currentName(), this.guest.trueStack(null));
    }, body, body);
  }

  /** klp_update_patch_state(task): the task switches now if its flag is set; the caller says why. */
  private updating(): void {
    const m = this.machine;
    const task = this.guest.task(m.cpu.regs.addr(RDI));
    if (task === null || !task.pending) return;
    const caller = this.guest.ptr(m.cpu.regs.addr(RSP));
    const callerName = caller !== null ? this.guest.image.symbolize(caller) ?? '' : '';
    const by = UPDATE_CALLERS.find(([re]) => re.test(callerName))?.[1] ?? 'stack-check';
    this.afterReturn(() => this.scan(by));
  }

  /** klp_complete_transition: the last pass's switches, then every task's true stack checked. */
  private completing(): void {
    this.scan('stack-check');
    const t = this.current;
    if (t === undefined) return;
    t.completedAt = this.now;
    const stacks = this.guest.tasks().map((x) => ({ task: `${x.comm}:${x.pid}`, addresses: this.guest.trueStack(x) }));
    this.checker.observeCompletion(this.now, t.patch, stacks);
    this.afterReturn(() => this.known.clear());
  }

  /** A fake signal (the kernel's notice line): every task still flagged gets one. */
  signalled(): void {
    const t = this.current;
    if (!t) return;
    for (const x of this.guest.tasks()) if (x.pending) t.task(x.pid, x.comm, x.kind).signalledAt.push(this.now);
  }

  /** A task the kernel's debug line says it could not switch, and why. */
  blocked(comm: string, pid: number, reason: string): void {
    const t = this.current;
    if (!t) return;
    const kind = t.tasks.get(pid)?.kind ?? this.guest.tasks().find((x) => x.pid === pid)?.kind ?? 'kthread';
    t.blockedAt(pid, comm, kind, this.now, reason);
  }

  /** Every task's state against the last known one: each switch to the target state recorded. */
  scan(by: SwitchPath): void {
    const t = this.current;
    for (const x of this.guest.tasks()) {
      const before = this.known.get(x.address);
      this.known.set(x.address, { state: x.patchState, pending: x.pending });
      if (t === undefined || x.patchState === KLP_UNDEFINED) continue;
      const target = t.direction === 'patching' ? KLP_PATCHED : 1 - KLP_PATCHED;
      const switched = x.patchState === target && !x.pending && before !== undefined && (before.pending || before.state !== target);
      const forked = before === undefined && x.patchState === target;
      if (!switched && !forked) continue;
      const path: SwitchPath = forked ? 'fork' : by;
      t.switched(x.pid, x.comm, x.kind, this.now, path);
      const stack = this.guest.trueStack(x);
      this.switches.push({ time: this.now, patch: t.patch, pid: x.pid, comm: x.comm, by: path, where: this.where(stack) });
      if (path !== 'force' && path !== 'fork') this.checker.observeSwitch(this.now, t.patch, `${x.comm}:${x.pid}`, stack);
    }
  }

  /** The innermost frames of a stack, by name, skipping the scheduler's and the livepatch core's own. */
  private where(stack: number[]): string {
    const names: string[] = [];
    for (const a of stack) {
      const range = this.codeNames.find((r) => a >= r.start && a < r.end);
      const name = range ? `${range.name}+0x${(a - range.start).toString(16)}`
        : this.guest.image.symbolize(a) ?? this.guest.moduleSymbol(a) ?? `0x${BigInt.asUintN(64, BigInt(a)).toString(16)}`;
      if (/^(__schedule|schedule|__switch_to|klp_|__traceiter|_raw_spin|queued_)/.test(name) && names.length === 0) continue;
      names.push(name);
      if (names.length === 3) break;
    }
    return names.join(' < ') || '(no kernel frames)';
  }

  /** Whether any transition is still running. */
  get inTransition(): boolean { return this.current !== undefined; }

  /** The current task's state as last seen (tests). */
  stateOf(task: LinuxTask): { state: number; pending: boolean } | undefined { return this.known.get(task.address); }
}
