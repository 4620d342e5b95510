// klp-lab's ORC unwinder on Debian's Linux 6.1, judged against ground truth: the lab initramfs's
// workload scenario, booted once with truth on and restored from its cached snapshot (the first run
// boots it: minutes). Covers the kernel's .orc_unwind tables, a loaded module's ORC and symbols read
// from guest memory, the IRQ stack and the entry trampoline stack, the stacks' geometry from BTF
// against pahole, a small seeded study, and `monitor unwind`/`lp-state` through the gdb stub's
// monitor command path.
import { spawnSync } from 'child_process';
import { ElfFile } from '../../elf/elfFile';
import { HOOK_CODE } from '../../emulator/machine';
import { MonitorCommands, type MonitorContext } from '../../emulator/gdb/monitorCommands';
import { GuestTasks } from '../../emulator/gdb/guestTasks';
import { attachKernelMonitor } from '../../livepatch/gdbMonitor';
import { labInitramfs } from '../../livepatch/linux/labInitramfs';
import { LinuxStacks } from '../../livepatch/observe/linuxStacks';
import { WorkloadGuests, workloadSnapshot } from '../../livepatch/observe/linuxWorkload';
import type { StoppedGuest } from '../../livepatch/observe/stoppedGuest';
import { mergeStudies, runStudy } from '../../livepatch/study/unwindStudy';
import { StackInspector } from '../../livepatch/unwind/stackInspector';
import { runningStackName } from '../../livepatch/unwind/stackInfo';
import { PTREGS_SP } from '../../livepatch/unwind/ptRegs';
import { realLinux } from '../helpers/realLinux';

jest.setTimeout(60 * 60 * 1000);

let guests: WorkloadGuests;
let vmlinux: string;

beforeAll(() => {
  vmlinux = realLinux().vmlinux;
  const snap = workloadSnapshot(vmlinux, labInitramfs(vmlinux).path);
  guests = new WorkloadGuests(vmlinux, snap.file);
});

/** Top-level members of a struct as pahole prints them: name -> [offset, size]. */
function pahole(struct: string): Map<string, [number, number]> {
  const r = spawnSync('pahole', ['-F', 'btf', '-C', struct, vmlinux], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pahole failed (CI installs dwarves): ${r.stderr || r.error}`);
  const out = new Map<string, [number, number]>();
  for (const line of r.stdout.split('\n')) {
    const m = /^\t[^\t/].*?\**(\w+)(\[\d+\])*(?: __attribute__\(\(.*\)\))?;\s+\/\*\s+(\d+)\s+(\d+)\s+\*\//.exec(line);
    if (m !== null) out.set(m[1], [Number(m[3]), Number(m[4])]);
  }
  return out;
}

/** Runs a restored guest until `fn`'s first instruction is reached with `when` true; the guest stops there. */
function stopAt(g: StoppedGuest, fn: string, when: () => boolean, limit = 2e9): void {
  const at = g.image.symbol(fn);
  expect(at).toBeDefined();
  const id = g.machine.hookAdd(HOOK_CODE, () => { if (when()) g.machine.stop(`at ${fn}`); }, at!, at!);
  const r = g.machine.run(limit);
  g.machine.hookDel(id);
  expect(g.machine.describeStop(r)).toBe(`at ${fn}`);
  g.view.refresh();
  g.modules?.sync(g.view, g.image);
}

test('the IRQ, exception and entry stacks are where BTF and the per-CPU pointers put them', () => {
  const g = guests.restore();
  const geometry = LinuxStacks.fromElf(ElfFile.read(vmlinux), g.layout)!.geometry;
  const cea = pahole('cea_exception_stacks');
  expect(geometry.exceptionStacks.map((s) => [s.offset, s.size])).toEqual(['DF', 'NMI', 'DB', 'MCE', 'VC', 'VC2'].map((n) => cea.get(`${n}_stack`)));
  expect(geometry.irqStackSize).toBe(pahole('irq_stack').get('stack')![1]);
  expect(geometry.entryStackSize).toBe(pahole('entry_stack').get('stack')![1]);
  // The IRQ stack is 16 KiB; the exception stacks lie in the CPU entry area with guard pages
  // between them. Each is mapped at the snapshot but the #VC pair, which Linux maps only in an
  // SEV-ES guest (cea_map_stack(VC) under cc_platform_has(CC_ATTR_GUEST_STATE_ENCRYPT)).
  const stacks = g.view.extraStacks(g.view.tasks().find((t) => t.running)!);
  expect(stacks.map((s) => s.type).sort((a, b) => a - b)).toEqual([2, 4, 5, 6, 7, 8, 9, 10]);
  for (const s of stacks) {
    const mapped = s.type !== 9 && s.type !== 10;
    expect([s.type, g.view.readWord(s.begin) !== undefined, g.view.readWord(s.end - 8) !== undefined]).toEqual([s.type, mapped, mapped]);
  }
  const exceptions = stacks.filter((s) => s.type >= 5).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < exceptions.length; i++) expect(exceptions[i].begin - exceptions[i - 1].end).toBe(4096);
  expect(stacks.find((s) => s.type === 2)!.end - stacks.find((s) => s.type === 2)!.begin).toBe(16384);
});

test('a kthread asleep in a module: its ORC table and symbols come from guest memory', () => {
  const g = guests.restore();
  expect(g.modules!.sync(g.view, g.image)).toContain('klp_lab_workload');
  const insp = new StackInspector(g.view, g.image, ['orc']);
  const sleeper = g.view.tasks().find((t) => t.name === 'klp_sleeper')!;
  const u = insp.unwindTask(sleeper, g.truth);
  const names = u.runs[0].entries.map((a) => g.image.kallsyms.backtrace(a));
  expect(names).toContainEqual(expect.stringMatching(/^sleeper_fn\+0x[0-9a-f]+\/0x[0-9a-f]+ \[klp_lab_workload\]$/));
  expect(names[names.length - 1]).toMatch(/^ret_from_fork\+/);
  expect(u.runs[0].verdict).toBe('correct_reliable');
});

test('the running task on the IRQ stack (the timer\'s handler): ORC crosses back to the task stack as the truth does', () => {
  const g = guests.restore();
  stopAt(g, 'timer_interrupt', () => g.machine.cpu.cpl === 0);
  const running = g.view.tasks().find((t) => t.running)!;
  const regs = g.view.cpuRegs()!;
  expect(runningStackName(g.view, running, regs[PTREGS_SP / 8], false)).toBe('IRQ');
  const u = new StackInspector(g.view, g.image, ['orc']).unwindTask(running, g.truth);
  // the CPU's rip by %pS, the return addresses by %pB
  expect(g.image.kallsyms.symbol(u.truth![0])).toMatch(/^timer_interrupt\+0x0\//);
  const truth = u.truth!.map((a) => g.image.kallsyms.backtrace(a));
  expect(truth).toContainEqual(expect.stringMatching(/^__handle_irq_event_percpu\+/));
  expect(truth).toContainEqual(expect.stringMatching(/^asm_common_interrupt\+/));
  expect(u.runs[0].verdict).toBe('correct_reliable');
  expect(u.runs[0].entries).toEqual(u.truth);
});

test('a page fault from user mode, on the entry trampoline stack: the trace ends at the user boundary', () => {
  // The workload spends little time in user mode, but its exec'd programs fault their pages in.
  const g = guests.restore();
  let entry: { begin: number; end: number } | null = null;
  stopAt(g, 'asm_exc_page_fault', () => {
    g.view.refresh();
    const t = g.view.tasks().find((x) => x.running);
    if (t === undefined) return false;
    entry ??= g.view.extraStacks(t).find((s) => s.type === 4) ?? null;
    const sp = g.machine.cpu.regs.addr(4);
    return entry !== null && sp >= entry.begin && sp < entry.end;
  });
  const running = g.view.tasks().find((t) => t.running)!;
  const regs = g.view.cpuRegs()!;
  expect(runningStackName(g.view, running, regs[PTREGS_SP / 8], false)).toBe('ENTRY_TRAMPOLINE');
  const u = new StackInspector(g.view, g.image, ['orc']).unwindTask(running, g.truth);
  expect(u.truth!.map((a) => g.image.kallsyms.symbol(a))).toEqual([expect.stringMatching(/^asm_exc_page_fault\+0x0\//)]);
  expect(u.runs[0].verdict).toBe('correct_reliable');
});

test('a seeded study from the snapshot: stop points after it, verdicts for every task stack, shards that merge into it', () => {
  const opts = { samples: 40, seed: 61, unwinders: ['orc' as const], version: '6.1' as const, shard: [0, 1] as [number, number], origin: guests.instructions, maxInsns: 20_000_000, predictions: {} };
  const r = runStudy(() => guests.restore(), vmlinux, opts);
  expect(r.stopPoints).toBe(40);
  expect(r.origin).toBe(guests.instructions);
  const c = r.unwinders.orc!;
  const total = c.correct_reliable + c.refused + c.wrong_reliable + c.wrong_refused;
  expect(total).toBe(r.tasksUnwound);
  // Every stop unwinds the whole task list (about a hundred tasks with the workload).
  expect(r.tasksUnwound).toBeGreaterThan(40 * 50);
  expect(c.correct_reliable / total).toBeGreaterThan(0.95);
  expect(Object.keys(c.runningByStack ?? {}).length).toBeGreaterThan(0);
  // The same seed gives the same study, and its two shards merge into it (examples aside).
  expect(runStudy(() => guests.restore(), vmlinux, opts)).toEqual(r);
  const merged = mergeStudies([0, 1].map((i) => runStudy(() => guests.restore(), vmlinux, { ...opts, shard: [i, 2] })));
  const withoutExamples = (x: typeof r) => ({ ...x, unwinders: { orc: { ...x.unwinders.orc!, examples: [] } } });
  expect(withoutExamples(merged)).toEqual(withoutExamples(r));
});

test('monitor unwind and lp-state through the gdb stub\'s monitor commands', () => {
  const g = guests.restore();
  const elf = ElfFile.read(vmlinux);
  const monitor = new MonitorCommands();
  expect(attachKernelMonitor(monitor, g.machine, elf)).toBe(true);
  const tasks = GuestTasks.fromElf(elf)!;
  const list = tasks.list(g.machine)!;
  const current = list.find((t) => t.addr === tasks.currentAddr(g.machine)) ?? null;
  const sleeper = list.find((t) => t.comm === 'klp_sleeper')!;
  const ctx: MonitorContext = { machine: g.machine, tasks: list, selected: sleeper, current };
  const out = monitor.run('unwind', ctx);
  expect(out).toMatch(/^stopped after \d+ instructions \(kernel 6\.1 rules\)\n/);
  expect(out).toMatch(/orc: reliable, \d+ entries \[correct_reliable\]/);
  // columns: ground truth | fp (no frame pointers in this kernel) | orc
  expect(out).toMatch(/^ +sleeper_fn\+0x[0-9a-f]+\/0x[0-9a-f]+ \[klp_lab_workload\] .*\| sleeper_fn\+0x[0-9a-f]+\/0x[0-9a-f]+ \[klp_lab_workload\]$/m);
  const state = monitor.run('lp-state', ctx);
  expect(state).toMatch(/^klp_target_state -1 KLP_UNDEFINED \(no transition in progress\)/);
  expect(state).toMatch(/\* +\d+ +klp_sleeper +kthread +-1 KLP_UNDEFINED +-/);
});
