// The live-patching lab started from a snapshot of its machine: a run saved at the patch time and a
// run restored from that snapshot print the same kernel log, timelines and consistency verdicts; the
// study from a snapshot is reproducible by its seed; unusable snapshots are one-line LabErrors.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { LabError } from '../../../livepatch/guest/livepatchLab';
import { bootLabSnapshot, runPatch, type PatchRunOptions, type PatchRunResult } from '../../../livepatch/run/patchRun';
import { runStudy } from '../../../livepatch/study/livepatchStudy';
import { Machine } from '../../../emulator/machine';
import { loadPvh } from '../../../emulator/loader/pvh';
import { FIXTURES } from '../../helpers/fixtures';

const KERNEL = path.join(FIXTURES, 'kernel', 'kernel.elf');
const NOFP = path.join(FIXTURES, 'kernel', 'kernel-nofp.elf');
const CHAIN = path.join(FIXTURES, 'livepatch', 'klp_chain_a2.o');
const CMDLINE = 'scale=2 nap=20000';

const base: PatchRunOptions = {
  image: KERNEL, patch: CHAIN, cmdline: CMDLINE, patchAt: 9_000_000, maxWait: 30e9, settle: 5e6,
  timerJitter: { seed: 4, maxNs: 200_000 }, log: { debug: true },
};

function outcome(r: PatchRunResult) {
  return {
    log: r.lab.core.log.format(),
    timelines: r.lab.recorder.timelines.map((t) => t.format()),
    violations: r.violations,
    checks: r.checker?.checker.checks,
    redirections: r.lab.fentry.redirections,
    completed: r.completed, timeToComplete: r.timeToComplete, attempts: r.attempts,
    now: r.lab.now, exitStatus: r.lab.exitStatus,
  };
}

let snapshot: Uint8Array = new Uint8Array(0);
let saved: ReturnType<typeof outcome>;

beforeAll(() => {
  saved = outcome(runPatch({ ...base, saveSnapshot: (b) => { snapshot = b; } }));
}, 120_000);

test('a run restored from the snapshot saved at the patch time goes on exactly as the saving run', () => {
  expect(snapshot.length).toBeGreaterThan(0);
  expect(saved.completed).toBe(true);
  expect(saved.checks).toBeGreaterThan(0);
  const restored = outcome(runPatch({ ...base, snapshot: { bytes: snapshot, name: 'lab.snap' } }));
  expect(restored).toEqual(saved);
}, 120_000);

test('unusable lab snapshots: one-line LabErrors', () => {
  const fails = (opts: Partial<PatchRunOptions>, why: RegExp) => {
    let err: unknown = null;
    try { runPatch({ ...base, ...opts }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(LabError);
    expect((err as Error).message).toMatch(why);
    expect((err as Error).message).not.toMatch(/\n/);
  };
  const snap = { bytes: snapshot, name: 'lab.snap' };
  fails({ snapshot: snap, cmdline: 'scale=3' }, /lab\.snap: taken with the command line "scale=2 nap=20000", not "scale=3"/);
  fails({ snapshot: snap, patchAt: 5_000_000 }, /lab\.snap: taken at 9\.000 ms of virtual time, after the patch time/);
  fails({ snapshot: snap, image: NOFP }, /lab\.snap: the snapshot is of another image/);
  fails({ snapshot: { bytes: snapshot.subarray(0, 100), name: 'cut.snap' } }, /cut\.snap: snapshot checksum mismatch/);
  // A plain machine's snapshot has no ground truth for the consistency checker.
  const bytes = fs.readFileSync(KERNEL);
  const m = new Machine();
  loadPvh(m, bytes, 'kernel.elf', CMDLINE);
  m.run(Infinity, 2_000_000);
  const plain = m.saveSnapshot({ name: 'kernel.elf', sha256: crypto.createHash('sha256').update(bytes).digest('hex'), cmdline: CMDLINE });
  fails({ snapshot: { bytes: plain, name: 'plain.snap' } }, /plain\.snap: has no ground truth/);
}, 60_000);

test('a study from a snapshot: every run completes, and the same seed gives the same runs', () => {
  const opts = {
    image: KERNEL, patch: CHAIN, runs: 2, seed: 11, kernel: '6.1' as const, unwinder: 'fp' as const, immediate: false,
    cmdline: CMDLINE, window: [9e6, 16e6] as [number, number], jitterNs: 200_000, maxWait: 30e9, shard: [0, 1] as [number, number],
    snapshot: { bytes: snapshot, name: 'lab.snap' },
  };
  const a = runStudy(opts);
  const b = runStudy(opts);
  expect(a.completed).toBe(2);
  expect(a.violations).toBe(0);
  expect(b.perRun).toEqual(a.perRun);
  // Each run has its own patch time (and its own jitter after the snapshot).
  expect(new Set(a.perRun.map((r) => r.patchAt)).size).toBe(2);
  expect(() => runStudy({ ...opts, window: [1e6, 2e6] })).toThrow(/after the patch time/);
}, 180_000);

test('boot once: the lab booted to the window start is the one a run saves there; its study runs complete', () => {
  const studySeed = 21;
  const bytes = fs.readFileSync(KERNEL);
  const booted = bootLabSnapshot({ image: KERNEL, cmdline: CMDLINE, timerJitter: { seed: studySeed, maxNs: 200_000 } }, 9_000_000, bytes);
  expect(Buffer.from(booted).equals(Buffer.from(snapshotAt(9_000_000, studySeed)))).toBe(true);
  const r = runStudy({
    image: KERNEL, patch: CHAIN, runs: 1, seed: studySeed, kernel: '6.1', unwinder: 'fp', immediate: false, cmdline: CMDLINE,
    window: [9e6, 16e6], jitterNs: 200_000, maxWait: 30e9, shard: [0, 1], bootOnce: true,
  });
  expect(r.completed).toBe(1);
  expect(r.violations).toBe(0);
}, 180_000);

/** The snapshot a run with this jitter seed saves at its patch time. */
function snapshotAt(patchAt: number, seed: number): Uint8Array {
  if (patchAt === base.patchAt && seed === base.timerJitter!.seed) return snapshot;
  let bytes: Uint8Array = new Uint8Array(0);
  runPatch({ ...base, patchAt, timerJitter: { seed, maxNs: 200_000 }, maxWait: 1, saveSnapshot: (b) => { bytes = b; } });
  return bytes;
}
