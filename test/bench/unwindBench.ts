// Unwinder throughput: frames per second of the reliable walk (stack_trace_save_tsk_reliable)
// with the frame-pointer and the ORC unwinder, over synthetic sleeping tasks 30 frames deep,
// and over the running kthread stopped in a prologue (ORC from CPU registers).

import * as fs from 'fs';
import * as path from 'path';
import { StoppedGuest } from '../../livepatch/observe/stoppedGuest';
import { linuxKernel } from '../../livepatch/linux/debianKernel';
import { labInitramfs } from '../../livepatch/linux/labInitramfs';
import { WorkloadGuests, workloadSnapshot } from '../../livepatch/observe/linuxWorkload';
import { stopPoints } from '../../livepatch/study/unwindStudy';
import { StackInspector } from '../../livepatch/unwind/stackInspector';
import { FrameUnwinder } from '../../livepatch/unwind/frameUnwinder';
import { OrcUnwinder } from '../../livepatch/unwind/orcUnwinder';
import { ReliableStackTrace } from '../../livepatch/unwind/reliableStackTrace';
import type { Unwinder } from '../../livepatch/unwind/unwinder';
import { deepKthread, runningKthread, userInSyscall } from '../livepatch/unwind/scenarios';
import { SyntheticGuest, standardKernel } from '../livepatch/unwind/syntheticGuest';

function measure(label: string, u: Unwinder, g: SyntheticGuest, k: ReturnType<typeof standardKernel>, regsFor: (i: number) => Float64Array | null): void {
  const r = new ReliableStackTrace(u, k.image.text);
  const tasks = g.taskList;
  let frames = 0;
  let walks = 0;
  // warm up, then run for about a second
  for (let i = 0; i < 2000; i++) r.save(tasks[i % tasks.length], regsFor(i % tasks.length));
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < 1e9) {
    for (let i = 0; i < 1000; i++) {
      const t = i % tasks.length;
      const n = r.save(tasks[t], regsFor(t));
      if (n < 0) throw new Error(`${label}: unexpected refusal (${r.reason})`);
      frames += n;
      walks++;
    }
    elapsed = Number(process.hrtime.bigint() - start);
  }
  const perSec = (frames / elapsed) * 1e9;
  console.log(`${label.padEnd(46)} ${(perSec / 1e6).toFixed(2)} M frames/s  (${((walks / elapsed) * 1e9 / 1e3).toFixed(0)} k walks/s, ${(frames / walks).toFixed(1)} frames/walk)`);
}

export function run(): void {
  const k = standardKernel();
  const g = new SyntheticGuest();
  for (let i = 0; i < 12; i++) deepKthread(g, k, 26, `deep${i}`);
  for (let i = 0; i < 4; i++) userInSyscall(g, k, `user${i}`);
  measure('fp  reliable walk, sleeping tasks', new FrameUnwinder(g, k.image.text), g, k, () => null);
  measure('orc reliable walk, sleeping tasks', new OrcUnwinder(g, k.image.text, k.image.orc, k.image.retFromFork), g, k, () => null);
  const g2 = new SyntheticGuest();
  const s = runningKthread(g2, k, 5);
  measure('orc reliable walk, running task from registers', new OrcUnwinder(g2, k.image.text, k.image.orc, k.image.retFromFork), g2, k, () => s.regs);
  fixtureKernel('kernel.elf', 'fp');
  fixtureKernel('kernel-nofp.elf', 'orc');
  realLinuxStudy();
}

/** The fixture kernel stopped mid-workload: every task, memory read through the guest's page tables. */
function fixtureKernel(image: string, which: 'fp' | 'orc'): void {
  const file = path.resolve(__dirname, '..', '..', '..', 'fixtures', 'kernel', image);
  const alt = path.resolve(__dirname, '..', '..', 'fixtures', 'kernel', image);
  const where = fs.existsSync(file) ? file : alt;
  if (!fs.existsSync(where)) return;
  const g = new StoppedGuest(new Uint8Array(fs.readFileSync(where)), image);
  if (!g.runTo(1_419_139)) {
    console.log(`${image}: ${g.stopText()}; skipped`);
    return;
  }
  const img = g.image;
  const u = which === 'fp' ? new FrameUnwinder(g.view, img.text) : new OrcUnwinder(g.view, img.text, img.orc, img.retFromFork);
  const r = new ReliableStackTrace(u, img.text);
  const tasks = g.view.tasks();
  const regs = g.view.cpuRegs();
  let frames = 0;
  let walks = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < 1e9) {
    for (const t of tasks) {
      r.save(t, t.running ? regs : null);
      frames += r.len;
      walks++;
    }
    elapsed = Number(process.hrtime.bigint() - start);
  }
  console.log(`${`${which.padEnd(3)} fixture ${image}, ${tasks.length} tasks (guest page walk)`.padEnd(46)} ${((frames / elapsed) * 1e3).toFixed(2)} M frames/s  (${((walks / elapsed) * 1e6).toFixed(0)} k walks/s)`);
}

/**
 * Real Linux (its workload snapshot, built on first use): stop points per hour of `klp-lab unwind study
 * VMLINUX` in one thread, and the share of each stop point the guest's own instructions take
 * (the peer in the same run: the emulator running the same guest between the stop points).
 */
export function realLinuxStudy(): void {
  const vmlinux = linuxKernel().vmlinux;
  const guests = new WorkloadGuests(vmlinux, workloadSnapshot(vmlinux, labInitramfs(vmlinux).path).file);
  const t0 = process.hrtime.bigint();
  const g = guests.restore();
  const restoreMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const insp = new StackInspector(g.view, g.image, ['orc']);
  const points = stopPoints(200, 1, 200_000_000, [0, 1], guests.instructions);
  let runNs = 0, unwindNs = 0, stacks = 0;
  for (const at of points) {
    const a = process.hrtime.bigint();
    if (!g.runTo(at)) break;
    const b = process.hrtime.bigint();
    for (const t of g.view.tasks()) { insp.unwindTask(t, g.truth); stacks++; }
    unwindNs += Number(process.hrtime.bigint() - b);
    runNs += Number(b - a);
  }
  const perHour = (points.length / ((runNs + unwindNs) / 1e9)) * 3600;
  console.log(`real Linux unwind study (orc, ${points.length} stop points in 2e8 instructions, ${(stacks / points.length).toFixed(0)} tasks each): ` +
    `${Math.round(perHour)} stop points/hour; unwinding ${(unwindNs / (runNs + unwindNs) * 100).toFixed(0)}% of the time, the guest's own instructions ${(runNs / (runNs + unwindNs) * 100).toFixed(0)}%; restore ${restoreMs.toFixed(0)} ms`);
}
