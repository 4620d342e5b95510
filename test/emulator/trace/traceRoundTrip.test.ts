// The binary trace read back is exactly what ran: every retired instruction (address and count) and
// every exception and interrupt delivery, compared with hooks that watch each instruction in a second,
// deterministic run of the same image. Also the task attribution and the syscall events, against the
// kernel's own counters.
import * as fs from 'fs';
import * as path from 'path';
import { FIXTURES } from '../../helpers/fixtures';
import type { Machine } from '../../../emulator/machine';
import type { ElfFile } from '../../../elf/elfFile';
import type { TraceEvent, TraceInsn } from '../../../emulator/trace/traceReader';
import { KERNEL, tempDir, tracedRun, referenceRun, readTrace, firstDifference } from './traceRun';

jest.setTimeout(120_000);

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function flatInsns(items: ReturnType<typeof readTrace>['items']): number[] {
  const out: number[] = [];
  for (const it of items) if (it.kind === 'insn') out.push(it.icount, it.va);
  return out;
}

function deliveries(items: ReturnType<typeof readTrace>['items']): TraceEvent[] {
  return items.filter((it): it is TraceEvent => it.kind === 'event' && it.vector >= 0);
}

describe.each([
  ['kernel/kernel.elf', 2_000_000, {}],
  ['kernel/kernel.elf, one instruction per block, never compiled', 300_000, { maxBlock: 1, compileThreshold: 0 }],
  ['boot/exceptions.elf', 1e8, {}],
  ['boot/pagefault.elf', 1e8, {}],
  ['boot/ring3.elf', 1e8, {}],
] as const)('%s', (name, insns, opts) => {
  const image = path.join(FIXTURES, name.split(',')[0]);
  test('every retired instruction and every delivery, in order', () => {
    const file = path.join(dir, `${path.basename(image)}-${insns}.trace`);
    const run = tracedRun(image, insns, file, opts);
    const ref = referenceRun(image, insns, opts);
    const { items, trace } = readTrace(file);
    const got = flatInsns(items);
    const at = firstDifference(got, ref.insns);
    expect({ at, trace: got.slice(at, at + 6), reference: ref.insns.slice(at, at + 6) })
      .toEqual({ at: -1, trace: [], reference: [] });
    expect(got.length / 2).toBe(run.m.instructions);
    expect(trace.validate().instructions).toBe(run.summary.instructions);
    const evs = deliveries(items).map((e) => ({ icount: e.icount, vector: e.vector, errorCode: e.errorCode, rip: e.va, cr2: e.cr2 }));
    expect(evs).toEqual(ref.deliveries);
  });
});

test('exceptions.elf: the exceptions the image raises are events, at the faulting instruction', () => {
  const file = path.join(dir, 'exceptions-events.trace');
  tracedRun(path.join(FIXTURES, 'boot', 'exceptions.elf'), 1e8, file);
  const { items } = readTrace(file);
  const vectors = deliveries(items).filter((e) => e.name === 'exception').map((e) => e.vector);
  // fixtures/README.md: #DE (twice), #BP, #UD, #GP, #PF raised in ring 0, handled and resumed
  expect(vectors.filter((v) => v === 0).length).toBe(2);
  for (const v of [3, 6, 13, 14]) expect(vectors).toContain(v);
  // A fault is reported at the instruction that faulted: it is the next instruction in the trace's
  // order to be named, and it does not count as retired there.
  const de = deliveries(items).find((e) => e.vector === 0)!;
  const before = items.filter((it): it is TraceInsn => it.kind === 'insn' && it.icount === de.icount - 1)[0];
  expect(before).toBeDefined();
  const div = items.find((it): it is TraceInsn => it.kind === 'insn' && it.va === de.va && it.icount < de.icount);
  expect(div).toBeUndefined();
});

/** Per pid, the kernel's own count of syscalls (task_struct.nr_syscalls), walked from init_task. */
function kernelSyscallCounts(m: Machine, elf: ElfFile): Map<number, number> {
  const sym = new Map(elf.symbols().map((s) => [s.name, Number(BigInt.asIntN(64, s.value))]));
  const rd = (a: number, n: number): Buffer => Buffer.from(m.virtRead(a, n)!);
  const counts = new Map<number, number>();
  const head = sym.get('init_task')! + sym.get('TASK_tasks')!;
  let task = sym.get('init_task')!;
  for (let i = 0; i < 256; i++) {
    counts.set(rd(task + sym.get('TASK_pid')!, 4).readInt32LE(0), Number(rd(task + sym.get('TASK_nr_syscalls')!, 8).readBigUInt64LE(0)));
    const next = Number(rd(task + sym.get('TASK_tasks')! + sym.get('LIST_next')!, 8).readBigInt64LE(0));
    if (next === head) break;
    task = next - sym.get('TASK_tasks')!;
  }
  return counts;
}

test('kernel.elf, stopped while the user tasks run: syscall events per task are the kernel\'s own nr_syscalls', () => {
  // Reaped tasks leave the task list, so compare the tasks still on it (pids are never reused).
  const file = path.join(dir, 'kernel-syscalls.trace');
  const run = tracedRun(KERNEL, 3_200_000, file);
  const { items } = readTrace(file);
  const perPid = new Map<number, number>();
  for (const it of items) if (it.kind === 'event' && it.name === 'syscall') perPid.set(it.task!.pid!, (perPid.get(it.task!.pid!) ?? 0) + 1);
  const kernel = kernelSyscallCounts(run.m, run.elf);
  expect([...kernel.values()].filter((n) => n > 0).length).toBeGreaterThanOrEqual(3);
  for (const [pid, n] of kernel) expect({ pid, syscalls: perPid.get(pid) ?? 0 }).toEqual({ pid, syscalls: n });
});

test('kernel.elf, whole run: it ends as the guest ends; chain_a* runs only in kworker/chain-a', () => {
  const file = path.join(dir, 'kernel-whole.trace');
  const run = tracedRun(KERNEL, 1e10, file);
  expect(run.m.describeStop(run.result)).toBe('guest exit status 1');
  const { items, trace } = readTrace(file);
  expect(trace.validate().endReason).toBe('guest exit status 1');
  expect(items.filter((it) => it.kind === 'event' && it.name === 'sysret').length).toBeGreaterThan(10);
  // Task attribution: the chain_a functions belong to kworker/chain-a alone.
  const sym = new Map(run.elf.symbols().map((s) => [s.name, { at: Number(BigInt.asIntN(64, s.value)), size: s.size }]));
  const inChain = (va: number) => ['chain_a1', 'chain_a2', 'chain_a3', 'chain_a4'].some((n) => va >= sym.get(n)!.at && va < sym.get(n)!.at + sym.get(n)!.size);
  const owners = new Set<string>();
  let chainInsns = 0;
  for (const it of items) if (it.kind === 'insn' && inChain(it.va)) { owners.add(`${it.task?.pid} ${it.task?.comm}`); chainInsns++; }
  expect(chainInsns).toBeGreaterThan(500);
  expect([...owners]).toEqual(['5 kworker/chain-a']);
});

test('a traced run with a code hook everywhere (the one-instruction-at-a-time path) gives the same trace', () => {
  const plain = path.join(dir, 'plain.trace'), hooked = path.join(dir, 'hooked.trace');
  tracedRun(KERNEL, 400_000, plain);
  tracedRun(KERNEL, 400_000, hooked, { withCodeHook: true });
  const a = flatInsns(readTrace(plain).items), b = flatInsns(readTrace(hooked).items);
  expect(firstDifference(a, b)).toBe(-1);
  expect(a.length).toBe(800_000);
});
