// The idle task's ground truth on Debian's Linux 6.1 (the unwind study's workload snapshot): it has no
// do_idle/cpu_startup_entry frame, and that is the kernel's own state, not a gap in ground truth.
// rest_init() calls schedule_preempt_disabled() once before it would call cpu_startup_entry(); on
// this workload the CPU never runs out of runnable tasks (klp_hog is CPU-bound), so the idle task is
// never picked again and still sleeps in that first schedule(): the stack slot holds the return
// address of that call, not of the call to cpu_startup_entry. (QEMU agrees: under its gdb stub, a
// breakpoint on cpu_startup_entry is never hit in the whole boot and workload.) Above rest_init the
// chain ends in start_kernel: x86_64_start_kernel and x86_64_start_reservations end in tail calls
// (jmp), and secondary_startup_64 enters x86_64_start_kernel with lretq, so none of them has a frame.
import { ElfFile } from '../../elf/elfFile';
import { labInitramfs } from '../../livepatch/linux/labInitramfs';
import { WorkloadGuests, workloadSnapshot } from '../../livepatch/observe/linuxWorkload';
import { truthTrace } from '../../livepatch/unwind/groundTruth';
import { realLinux } from '../helpers/realLinux';

jest.setTimeout(60 * 60 * 1000);

/** Near calls (E8) and jumps (E9) with a 32-bit displacement in a function's bytes, by target. */
function branches(elf: ElfFile, start: number, end: number): { at: number; opcode: number; target: number }[] {
  const sec = elf.sections.find((s) => Number(BigInt.asIntN(64, s.addr)) <= start && end <= Number(BigInt.asIntN(64, s.addr)) + s.size && s.data.length > 0)!;
  const base = Number(BigInt.asIntN(64, sec.addr));
  const bytes = sec.data.subarray(start - base, end - base);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: { at: number; opcode: number; target: number }[] = [];
  for (let i = 0; i + 5 <= bytes.length; i++) {
    if (bytes[i] === 0xe8 || bytes[i] === 0xe9) out.push({ at: start + i, opcode: bytes[i], target: start + i + 5 + view.getInt32(i + 1, true) });
  }
  return out;
}

test('swapper/0 sleeps in rest_init\'s first schedule(); its chain ends in start_kernel, which tail calls enter', () => {
  const { vmlinux } = realLinux();
  const guests = new WorkloadGuests(vmlinux, workloadSnapshot(vmlinux, labInitramfs(vmlinux).path).file);
  const g = guests.restore();
  const elf = ElfFile.read(vmlinux);
  const sym = (name: string): number => g.image.symbol(name)!;
  const ks = g.image.kallsyms;
  const end = (name: string): number => sym(name) + ks.lookup(sym(name))!.size;

  const idle = g.view.tasks().find((t) => t.pid === 0)!;
  expect([idle.name, idle.running]).toEqual(['swapper/0', false]);
  const trace = truthTrace(g.truth, g.view, idle, null);
  expect(trace.map((e) => ks.lookup(e.addr)?.name)).toEqual(['__schedule', 'schedule', 'schedule_preempt_disabled', 'rest_init', 'arch_call_rest_init', 'start_kernel']);
  // each frame was made by a recorded call instruction just before its return address
  for (const e of trace) expect(e.addr - e.from).toBe(5);

  // rest_init's frame returns from schedule_preempt_disabled(), the call before cpu_startup_entry().
  const calls = branches(elf, sym('rest_init'), end('rest_init')).filter((b) => b.opcode === 0xe8);
  const toSchedule = calls.find((c) => c.target === sym('schedule_preempt_disabled'))!;
  const toIdle = calls.find((c) => c.target === sym('cpu_startup_entry'))!;
  expect(toIdle.at).toBeGreaterThan(toSchedule.at);
  expect(trace[3].addr).toBe(toSchedule.at + 5);
  expect(trace.map((e) => e.addr)).not.toContain(toIdle.at + 5);

  // x86_64_start_kernel jmps to x86_64_start_reservations, which jmps to start_kernel: no frames.
  const tail = (from: string, to: string) => branches(elf, sym(from), end(from)).filter((b) => b.target === sym(to)).map((b) => b.opcode);
  expect(tail('x86_64_start_kernel', 'x86_64_start_reservations')).toEqual([0xe9]);
  expect(tail('x86_64_start_reservations', 'start_kernel')).toEqual([0xe9]);
});
