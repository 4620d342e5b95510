// Filters over a trace of the fixture kernel: an address range (a function), a task by pid or comm,
// events only; each checked against the unfiltered trace.
import * as fs from 'fs';
import * as path from 'path';
import { ElfFile } from '../../../elf/elfFile';
import { traceFilter, addressBelow } from '../../../emulator/trace/traceFilter';
import type { TraceItem } from '../../../emulator/trace/traceReader';
import { KERNEL, tempDir, tracedRun, readTrace } from './traceRun';

jest.setTimeout(60_000);

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const file = path.join(dir, 'kernel.trace');
tracedRun(KERNEL, 3_000_000, file);
const { items } = readTrace(file);
const elf = ElfFile.parse(fs.readFileSync(KERNEL), KERNEL);
const sym = (n: string) => {
  const s = elf.symbols().find((x) => x.name === n)!;
  return { at: Number(BigInt.asIntN(64, s.value)), size: s.size };
};

test('unsigned address order: user space below the kernel', () => {
  expect(addressBelow(0x400000, -0x7f000000)).toBe(true);
  expect(addressBelow(-0x7f000000, 0x400000)).toBe(false);
  expect(addressBelow(-0x7f000001, -0x7f000000)).toBe(true);
  expect(addressBelow(5, 5)).toBe(false);
});

test('an address range keeps exactly the instructions and events inside it', () => {
  const f = sym('chain_a4');
  const keep = items.filter(traceFilter({ from: f.at, to: f.at + f.size }));
  const inside = (va: number) => va >= f.at && va < f.at + f.size;
  expect(keep.length).toBeGreaterThanOrEqual(10);
  expect(keep.every((it) => inside(it.va))).toBe(true);
  expect(keep).toEqual(items.filter((it) => inside(it.va)));
  // chain_a4 starts with its call __fentry__ and sleeps in msleep: its first instruction is in the range
  expect(keep.filter((it) => it.va === f.at).length).toBeGreaterThan(0);
  // An open range from an address: everything at or above it (the kernel half, here).
  const kernelHalf = items.filter(traceFilter({ from: -0x80000000 }));
  expect(kernelHalf.length).toBe(items.filter((it) => it.va < 0 && it.va >= -0x80000000).length);
});

test('a task, by pid or by comm: only the lines while it is current', () => {
  const byPid = items.filter(traceFilter({ task: { pid: 5 } }));
  const byName = items.filter(traceFilter({ task: { name: 'kworker/chain-a' } }));
  expect(byPid.length).toBeGreaterThan(100);
  expect(byName).toEqual(byPid);
  expect(byPid.every((it) => it.task!.pid === 5 && it.task!.comm === 'kworker/chain-a')).toBe(true);
  // Every line with a task belongs to exactly one task's filter.
  const pids = new Set(items.map((it) => it.task?.pid).filter((p): p is number => p !== null && p !== undefined));
  expect(pids.size).toBeGreaterThan(8);
  let total = 0;
  for (const pid of pids) total += items.filter(traceFilter({ task: { pid } })).length;
  expect(total).toBe(items.filter((it) => it.task !== null).length);
  expect(items.filter(traceFilter({ task: { name: 'no such task' } }))).toEqual([]);
});

test('events only, combined with a task: exceptions, interrupts and syscalls of that task', () => {
  const evs = items.filter(traceFilter({ eventsOnly: true }));
  expect(evs.every((it: TraceItem) => it.kind === 'event')).toBe(true);
  expect(evs.length).toBe(items.filter((it) => it.kind === 'event').length);
  const names = new Set(evs.map((e) => (e.kind === 'event' ? e.name : '')));
  for (const n of ['exception', 'interrupt', 'syscall', 'sysret', 'iret']) expect(names).toContain(n);
  const hello = items.filter(traceFilter({ eventsOnly: true, task: { name: 'hello' } }));
  expect(hello.length).toBeGreaterThan(5);
  expect(hello.every((e) => e.kind === 'event' && e.task!.comm === 'hello')).toBe(true);
});
