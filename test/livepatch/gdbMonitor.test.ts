// `monitor unwind` and `monitor lp-state` over a stopped machine, without gdb: the commands as the
// stub runs them (MonitorCommands.run with the stub's context: task list, selected and current task).
import * as fs from 'fs';
import * as path from 'path';
import { ElfFile } from '../../elf/elfFile';
import { Machine, HOOK_CODE } from '../../emulator/machine';
import { loadPvh } from '../../emulator/loader/pvh';
import { MonitorCommands, type MonitorContext } from '../../emulator/gdb/monitorCommands';
import { GuestTasks } from '../../emulator/gdb/guestTasks';
import { attachKernelMonitor } from '../../livepatch/gdbMonitor';
import { FIXTURES } from '../helpers/fixtures';

jest.setTimeout(60_000);

interface Stopped { m: Machine; elf: ElfFile; monitor: MonitorCommands; tasks: GuestTasks; sym: (n: string) => number }

function boot(image: string): Stopped {
  const bytes = fs.readFileSync(path.join(FIXTURES, image));
  const m = new Machine({ onConsole: () => undefined });
  loadPvh(m, bytes, image);
  const elf = ElfFile.parse(bytes, image);
  const monitor = new MonitorCommands();
  expect(attachKernelMonitor(monitor, m, elf)).toBe(true);
  const syms = new Map(elf.symbols().map((s) => [s.name, Number(BigInt.asIntN(64, s.value))]));
  return { m, elf, monitor, tasks: GuestTasks.fromElf(elf)!, sym: (n) => syms.get(n)! };
}

/** Run until the first instruction of `fn` is reached. */
function runTo(g: Stopped, fn: string): void {
  const at = g.sym(fn);
  const id = g.m.hookAdd(HOOK_CODE, () => g.m.stop(`at ${fn}`), at, at);
  const r = g.m.run(1e8);
  g.m.hookDel(id);
  expect(g.m.describeStop(r)).toBe(`at ${fn}`);
}

/** The stub's context: `selectPid` as the gdb-selected thread (Hg), else the running task. */
function context(g: Stopped, selectPid?: number): MonitorContext {
  const list = g.tasks.list(g.m)!;
  const current = list.find((t) => t.addr === g.tasks.currentAddr(g.m)) ?? null;
  const selected = selectPid === undefined ? current : list.find((t) => t.pid === selectPid)!;
  return { machine: g.m, tasks: list, selected, current };
}

/** Column `col` of the side-by-side table (0: ground truth, 1: fp, 2: orc), header first. */
function column(text: string, col: number): string[] {
  return text.split('\n').filter((l) => l.startsWith('  ')).map((l) => (l.split(' | ')[col] ?? '').trim());
}

function names(rows: string[]): string[] {
  return rows.map((r) => r.replace(/^\(/, '').replace(/\+.*$/, ''));
}

describe('kernel.elf (frame pointers, no ORC tables)', () => {
  const g = boot('kernel/kernel.elf');

  test('unwind, stopped on chain_a4\'s first instruction: the running kthread, frame pointers refuse its kernel-mode registers', () => {
    runTo(g, 'chain_a4');
    const out = g.monitor.run('unwind', context(g));
    expect(out).toMatch(/^stopped after \d+ instructions \(kernel 6\.1 rules\)\n/);
    expect(out).toContain('\norc: the image has no ORC tables (orc_init false): frame pointers only\n');
    expect(out).toContain('pid 5 kworker/chain-a [kthread] running\n');
    const truth = column(out, 0), fp = column(out, 1);
    expect(truth[0]).toBe('ground truth');
    expect(names(truth.slice(1, 6))).toEqual(['chain_a4', 'chain_a3', 'chain_a2', 'chain_a1', 'kworker_chain_a']);
    expect(truth[1]).toBe('chain_a4+0x0/0x30'); // the CPU's RIP, not a return address
    expect(fp[0]).toMatch(/^fp: unreliable: kernel-regs at 0xffffffff[0-9a-f]+ \[wrong_refused\]$/);
    // At a function's first instruction %rbp is still the caller's frame: the walk skips chain_a3.
    expect(names(fp.slice(1, 4))).toEqual(['chain_a4', 'chain_a2', 'chain_a1']);
  });

  test('unwind of a task that sleeps inside chain_a4, selected as gdb\'s thread or by pid: reliable, the real callers', () => {
    runTo(g, 'chain_b_sleep');
    const ctx = context(g, 5);
    expect(ctx.current!.pid).not.toBe(5);
    const out = g.monitor.run('unwind', ctx);
    expect(out).toContain('pid 5 kworker/chain-a [kthread] asleep, thread.sp 0x');
    const fp = column(out, 1);
    expect(fp[0]).toMatch(/^fp: reliable, 10 entries \[correct_reliable\]$/);
    expect(names(fp.slice(1))).toEqual(['context_switch', '__schedule', 'msleep', 'chain_a4', 'chain_a3', 'chain_a2', 'chain_a1',
      'kworker_chain_a', 'kthread', 'ret_from_fork']);
    expect(column(out, 0).slice(1)).toEqual(fp.slice(1));
    expect(g.monitor.run('unwind 5', context(g))).toBe(out);
    expect(g.monitor.run('unwind 999', ctx)).toBe('monitor unwind: no task with pid 999\n');
    expect(g.monitor.run('unwind 5 --kernel 4.12', ctx)).toMatch(/^stopped after \d+ instructions \(kernel 4\.12 rules\)/);
  });

  test('lp-state: klp_target_state and every task\'s patch_state and TIF_PATCH_PENDING, as guest memory holds them', () => {
    const ctx = context(g, 5);
    const out = g.monitor.run('lp-state', ctx);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toBe('klp_target_state -1 KLP_UNDEFINED (no transition in progress)');
    const rows = lines.slice(2, -1);
    expect(rows.length).toBe(ctx.tasks.length);
    for (const t of ctx.tasks) {
      const row = rows.find((r) => new RegExp(`^.. +${t.pid}  ${t.comm.replace(/[/]/g, '\\/')} `).test(r));
      expect({ pid: t.pid, row }).toEqual({ pid: t.pid, row: expect.stringMatching(/ -1 KLP_UNDEFINED +-$/) });
    }
    expect(rows.filter((r) => r.startsWith('*'))).toEqual([expect.stringMatching(/^\*  +5  kworker\/chain-a +kthread /)]);
    expect(rows.filter((r) => r[1] === '>').length).toBe(1);
    expect(rows.filter((r) => / kthread /.test(r)).length).toBeGreaterThan(5);

    // What the host's transition engine writes (livepatch/guest/guestKernelPort.ts) shows up.
    const task5 = ctx.tasks.find((t) => t.pid === 5)!.addr;
    const le32 = (v: number) => Uint8Array.of(v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff);
    const saved = { state: g.m.virtRead(task5 + g.sym('TASK_patch_state'), 4)!, flags: g.m.virtRead(task5 + g.sym('TASK_flags'), 8)!, target: g.m.virtRead(g.sym('klp_target_state'), 4)! };
    try {
      g.m.virtWrite(g.sym('klp_target_state'), le32(1));
      g.m.virtWrite(task5 + g.sym('TASK_patch_state'), le32(0));
      const flags = Buffer.from(saved.flags);
      flags.writeBigUInt64LE(flags.readBigUInt64LE(0) | (1n << BigInt(g.sym('TIF_PATCH_PENDING_bit'))));
      g.m.virtWrite(task5 + g.sym('TASK_flags'), flags);
      const after = g.monitor.run('lp-state', ctx).split('\n');
      expect(after[0]).toBe('klp_target_state 1 KLP_PATCHED (patching)');
      expect(after.find((r) => r.startsWith('*'))).toMatch(/ 0 KLP_UNPATCHED +set$/);
    } finally {
      g.m.virtWrite(task5 + g.sym('TASK_patch_state'), saved.state);
      g.m.virtWrite(task5 + g.sym('TASK_flags'), saved.flags);
      g.m.virtWrite(g.sym('klp_target_state'), saved.target);
    }
  });
});

test('kernel-nofp.elf (ORC tables): both unwinders; ORC walks through the running task\'s registers', () => {
  const g = boot('kernel/kernel-nofp.elf');
  runTo(g, 'chain_a4');
  const out = g.monitor.run('unwind', context(g));
  expect(out).not.toContain('no ORC tables');
  const orc = column(out, 2);
  expect(orc[0]).toBe('orc: reliable, 7 entries [correct_reliable]');
  expect(names(orc.slice(1))).toEqual(['chain_a4', 'chain_a3', 'chain_a2', 'chain_a1', 'kworker_chain_a', 'kthread', 'ret_from_fork']);
  expect(column(out, 1)[0]).toMatch(/^fp: unreliable/);
});

test('an image without the task layout gets no livepatch monitor commands', () => {
  const bytes = fs.readFileSync(path.join(FIXTURES, 'boot', 'hello.elf'));
  const m = new Machine({ onConsole: () => undefined });
  loadPvh(m, bytes, 'hello.elf');
  const monitor = new MonitorCommands();
  expect(attachKernelMonitor(monitor, m, ElfFile.parse(bytes, 'hello.elf'))).toBe(false);
  expect(monitor.has('unwind')).toBe(false);
  expect(monitor.has('lp-state')).toBe(false);
  expect(m.truth).toBeNull();
});
