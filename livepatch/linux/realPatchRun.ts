// One live-patching experiment on real Linux: the booted `livepatch` scenario restored from its
// snapshot, the patch module loaded by the kernel's own module loader at a chosen virtual time
// (`L NAME` typed on the console: modprobe), the optional force and disable written to the patch's
// sysfs files the same way, and the kernel's own livepatch core watched (transitionWatch.ts) while
// the consistency checker judges every task on the emulator's ground truth. At the end the patch's
// call counter is read in the guest. `klp-lab livepatch VMLINUX PATCH.ko` and its study run here.
import * as fs from 'fs';
import * as path from 'path';
import { STOP_LIMIT, type Machine } from '../../emulator/machine';
import { OpenedSnapshot } from '../../emulator/snapshot/machineSnapshot';
import type { PatchRunReport } from '../run/patchRun';
import type { TransitionTimeline } from '../report/timeline';
import { PackageError } from './debianPackages';
import { debianRelease } from './debianKernel';
import { labInitramfs } from './labInitramfs';
import { LinuxGuest, LinuxImage } from './linuxGuest';
import { labPatchModules } from './linuxModules';
import { describeStop } from './linuxBoot';
import { LIVEPATCH_CMDLINE, livepatchSnapshot, restoreLivepatchMachine } from './livepatchSnapshot';
import { TransitionWatch, type TaskSwitch } from './transitionWatch';

export class RealLabError extends Error {}

/** A kernel, patch module and booted snapshot, prepared once for any number of runs. */
export interface RealLab {
  vmlinux: string;
  patch: string;
  /** The module's name as the kernel knows it (file name, '-' as '_'). */
  moduleName: string;
  image: LinuxImage;
  snapshot: OpenedSnapshot;
  /** Virtual ns at which the snapshot was taken (the runs' time 0). */
  snapshotTime: number;
  initramfs: string;
  cmdline: string;
}

export function moduleNameOf(patch: string): string {
  return path.basename(patch).replace(/\.ko$/, '').replace(/-/g, '_');
}

/**
 * The lab for PATCH.ko on this kernel: the lab initramfs holding the module (klp-lab's own patch
 * modules are in it already; any other joins them), and its booted snapshot (booted on first use).
 */
export function prepareRealLab(vmlinux: string, patch: string, onBoot?: () => void): RealLab {
  if (!patch.endsWith('.ko')) throw new RealLabError(`${patch}: a kernel module's file name ends in .ko`);
  if (!fs.existsSync(patch)) throw new RealLabError(`${patch}: No such file`);
  const kernel = debianRelease(vmlinux);
  const own = path.join(labPatchModules(kernel.abi), path.basename(patch));
  let extra: string[] = [patch];
  if (fs.existsSync(own)) {
    if (!fs.readFileSync(own).equals(fs.readFileSync(patch))) {
      throw new RealLabError(`${patch}: the lab initramfs has another module named ${path.basename(patch)} (klp-lab's own); rename yours`);
    }
    extra = [];
  }
  let initramfs: string;
  try {
    initramfs = labInitramfs(vmlinux, { extraModules: extra }).path;
  } catch (e) {
    if (e instanceof PackageError) throw new RealLabError(e.message);
    throw e;
  }
  const snap = livepatchSnapshot(vmlinux, initramfs, LIVEPATCH_CMDLINE, onBoot);
  return {
    vmlinux, patch, moduleName: moduleNameOf(patch), image: new LinuxImage(vmlinux),
    snapshot: OpenedSnapshot.open(fs.readFileSync(snap.path)), snapshotTime: snap.virtualTime, initramfs, cmdline: LIVEPATCH_CMDLINE,
  };
}

export interface RealPatchRunOptions {
  /** Virtual ns after the snapshot at which `modprobe` is typed. */
  patchAt: number;
  /** Write 1 to the patch's force file this long (ns) after its transition started, if still running. */
  forceAfter?: number;
  /** Write 0 to the patch's enabled file at this virtual time (ns after the snapshot). */
  disableAt?: number;
  /** Give up waiting for the transitions this long (ns) after the patch time. */
  maxWait: number;
  /** Keep running this long (ns) after the last transition, so the checker sees the aftermath. */
  settle: number;
  /** Seeded timer-interrupt latency from the snapshot on (undefined: none). */
  jitter?: { seed: number; maxNs: number };
}

export interface KernelLogLine { time: number; text: string }

/** A real-kernel run: the fixture run's report, with what the real kernel and its console add. */
export interface RealPatchRunResult extends PatchRunReport {
  /** Observations the consistency checker made. */
  checks: number;
  /** The patch's call counter read in the guest at the end (null: no counter, or no answer). */
  calls: number | null;
  kernelLog: KernelLogLine[];
  console: string;
  timelines: TransitionTimeline[];
  switches: TaskSwitch[];
  /** Virtual ns of the run after the snapshot, and the instructions it retired. */
  virtualTime: number;
  instructions: number;
  hostSeconds: number;
  stop?: string;
}

/** How often the host looks at the run (virtual ns): the commands' timing is this precise. */
const SLICE = 1e6;
/** Bound on waiting for an answer to the final counter query (virtual ns). */
const QUERY_WAIT = 2e9;

const BLOCKED = /klp_try_switch_task: (.+):(\d+) (is running|has an unreliable stack|is sleeping on function (\S+))/;
const ANSWER = /^klp-lab: (modprobe|force|disable|calls) (\S+) (\S+)$/;

/** Runs one experiment from the lab's snapshot. */
export function runRealPatch(lab: RealLab, opts: RealPatchRunOptions): RealPatchRunResult {
  const t0 = process.hrtime.bigint();
  const consoleBytes: number[] = [];
  let line: number[] = [];
  const lines: string[] = [];
  const m: Machine = restoreLivepatchMachine(lab.snapshot, (b) => {
    consoleBytes.push(b);
    if (b === 10) { lines.push(Buffer.from(line).toString('latin1').replace(/\r$/, '')); line = []; } else line.push(b);
  });
  if (opts.jitter) m.timerJitter.reseed(opts.jitter.seed, opts.jitter.maxNs);
  const guest = new LinuxGuest(lab.image, m);
  // The watch's code hooks are installed at the patch time: while any code hook exists the
  // emulator does not chain blocks, and nothing transitions before modprobe.
  let watch: TransitionWatch | undefined;
  const start = m.cpu.icount;
  const retiredAtStart = m.cpu.icount - m.cpu.idleNs;
  const name = lab.moduleName;
  const kernelLog: KernelLogLine[] = [];
  const answers = new Map<string, string>();
  let typedCommands = 0;
  const type = (command: string) => { m.uart.queueInput(Buffer.from(`${command} ${name}\n`, 'latin1'), m.cpu.icount); typedCommands++; };
  const readLines = () => {
    for (const text of lines.splice(0)) {
      const now = m.cpu.icount;
      const a = ANSWER.exec(text);
      if (a && a[2] === name) { answers.set(a[1], a[3]); continue; }
      if (text.includes('livepatch') || text.includes(name)) kernelLog.push({ time: now, text });
      const b = BLOCKED.exec(text);
      if (b) watch?.blocked(b[1], Number(b[2]), b[4] !== undefined ? `sleeping on ${b[4]}` : b[3] === 'is running' ? 'running' : 'unreliable stack');
      if (text.includes('livepatch: signaling remaining tasks')) watch?.signalled();
    }
  };
  let stop: string | undefined;
  const runTo = (until: number): boolean => {
    const r = m.run(Infinity, until);
    readLines();
    if (r.reason !== STOP_LIMIT) { stop = describeStop(r); return false; }
    return true;
  };

  const patchAt = start + opts.patchAt;
  const deadline = patchAt + opts.maxWait;
  const disableAt = opts.disableAt !== undefined ? start + opts.disableAt : undefined;
  let forced = false, disabled = false, loaded = false;
  let running = runTo(patchAt);
  const w = new TransitionWatch(guest);
  watch = w;
  if (running) { type('L'); loaded = true; }
  while (running) {
    const answered = answers.size >= typedCommands;
    const loadFailed = answers.has('modprobe') && answers.get('modprobe') !== '0';
    // modprobe answers after the module's init returned, so its transition (if any) has started.
    const done = answered && !w.inTransition && (loadFailed || disableAt === undefined || disabled);
    if (done || m.cpu.icount >= deadline) break;
    const now = m.cpu.icount;
    if (disableAt !== undefined && !disabled && now >= disableAt) { type('D'); disabled = true; }
    const t = w.current;
    if (opts.forceAfter !== undefined && !forced && t !== undefined && t.direction === 'patching' && now >= t.startedAt + opts.forceAfter) { type('F'); forced = true; }
    running = runTo(Math.min(now + SLICE, deadline));
  }
  if (running && opts.settle > 0) running = runTo(m.cpu.icount + opts.settle);
  if (running) {
    type('C');
    const until = m.cpu.icount + QUERY_WAIT;
    while (running && !answers.has('calls') && m.cpu.icount < until) running = runTo(Math.min(m.cpu.icount + SLICE, until));
  }
  readLines();

  const patching = w.timelines.find((x) => x.direction === 'patching');
  const loadAnswer = answers.get('modprobe');
  const callsAnswer = answers.get('calls');
  const rows = patching ? [...patching.tasks.values()] : [];
  const result: RealPatchRunResult = {
    loadResult: loadAnswer !== undefined ? Number(loadAnswer) : null,
    loadedAt: loaded ? opts.patchAt : -1,
    completed: patching !== undefined && patching.completedAt !== undefined && !w.inTransition,
    timeToComplete: patching?.completedAt !== undefined ? patching.completedAt - patching.startedAt : undefined,
    attempts: patching?.attempts.length ?? 0,
    signalled: w.timelines.some((x) => [...x.tasks.values()].some((y) => y.signalledAt.length > 0)),
    tasksFlagged: rows.filter((x) => x.flaggedAt !== undefined).length,
    tasksSignalled: rows.filter((x) => x.signalledAt.length > 0).length,
    forced,
    disabled,
    violations: [...w.violations],
    checks: w.checker.checks,
    guestEnded: stop !== undefined,
    calls: callsAnswer !== undefined && /^\d+$/.test(callsAnswer) ? Number(callsAnswer) : null,
    kernelLog,
    console: Buffer.from(consoleBytes).toString('latin1'),
    timelines: w.timelines,
    switches: w.switches,
    virtualTime: m.cpu.icount - start,
    instructions: m.cpu.icount - m.cpu.idleNs - retiredAtStart,
    hostSeconds: Number(process.hrtime.bigint() - t0) / 1e9,
    stop,
  };
  // The machine is not looked at again: the next run's (a study's) takes its RAM.
  m.release();
  return result;
}
