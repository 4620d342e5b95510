// Snapshots of the fixture kernel: a machine restored from a snapshot runs on exactly as the one
// that saved it (console, registers, memory, virtual time, exit status), with and without seeded
// timer jitter and ground truth, and whatever the restoring machine held before.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Machine, STOP_EXIT, STOP_LIMIT, type MachineOptions } from '../../../emulator/machine';
import { loadPvh } from '../../../emulator/loader/pvh';
import { readSnapshotInfo } from '../../../emulator/snapshot/machineSnapshot';
import { SNAPSHOT_COMPONENTS } from '../../../emulator/snapshot/components';
import { FIXTURES } from '../../helpers/fixtures';

const KERNEL = path.join(FIXTURES, 'kernel', 'kernel.elf');
const bytes = fs.readFileSync(KERNEL);
const image = { name: 'kernel.elf', sha256: crypto.createHash('sha256').update(bytes).digest('hex'), cmdline: '' };

function booted(opts: MachineOptions = {}): Machine {
  const m = new Machine(opts);
  loadPvh(m, bytes, 'kernel.elf');
  return m;
}

/** Everything observable that must agree after the same run() calls. */
function observe(m: Machine, consoleFrom: number) {
  return {
    console: Buffer.from(m.consoleBytes.slice(consoleFrom)).toString('latin1'),
    context: m.contextSave(),
    flagRecord: m.cpu.flags.saveState(),
    icount: m.cpu.icount,
    idleNs: m.cpu.idleNs,
    instructions: m.instructions,
    memory: crypto.createHash('sha256').update(m.mem.u8).digest('hex'),
    pit: m.pit.saveState(),
    pic: m.pic.saveState(),
    delivered: m.intr.delivered,
  };
}

function roundTrip(opts: MachineOptions, t: number, t2: number): void {
  const a = booted(opts);
  expect(a.run(Infinity, t).reason).toBe(STOP_LIMIT);
  expect(a.cpu.icount).toBe(t);
  const snap = a.saveSnapshot(image);
  const before = a.consoleBytes.length;
  const b = new Machine();
  const info = b.restoreSnapshot(snap, { sha256: image.sha256 });
  expect(info.virtualTime).toBe(t);
  expect(info.instructions).toBe(a.instructions);
  // Both run the same run() calls from here: to t2, then to the guest's exit.
  expect(a.run(Infinity, t2).reason).toBe(STOP_LIMIT);
  expect(b.run(Infinity, t2).reason).toBe(STOP_LIMIT);
  expect(observe(b, 0)).toEqual(observe(a, before));
  const ra = a.run(), rb = b.run();
  expect(ra.reason).toBe(STOP_EXIT);
  expect(rb).toEqual(ra);
  expect(observe(b, 0)).toEqual(observe(a, before));
  expect(b.consoleText).toContain('all checks passed');
}

test('kernel.elf: saved at 12 ms, restored in a fresh machine, runs on identically to 30 ms and to its exit', () => {
  roundTrip({}, 12_000_000, 30_000_000);
}, 60000);

test('with seeded timer jitter the restored machine draws the same delays', () => {
  roundTrip({ timerJitter: { seed: 7, maxNs: 200_000 } }, 9_000_000, 25_000_000);
}, 60000);

test('the jitter generator is state: a machine booted with another seed and restored runs as the saved one', () => {
  const a = booted({ timerJitter: { seed: 3, maxNs: 300_000 } });
  a.run(Infinity, 10_000_000);
  const snap = a.saveSnapshot(image);
  const b = booted({ timerJitter: { seed: 99, maxNs: 50 } });
  b.run(Infinity, 20_000_000); // another history: its memory, devices and time must all be replaced
  b.restoreSnapshot(snap);
  const from = a.consoleBytes.length, bFrom = b.consoleBytes.length;
  a.run(Infinity, 40_000_000); b.run(Infinity, 40_000_000);
  expect(observe(b, bFrom)).toEqual(observe(a, from));
}, 60000);

test('a restored machine saves the same bytes as the one it was restored from', () => {
  const a = booted({ timerJitter: { seed: 1, maxNs: 100_000 } });
  a.run(Infinity, 15_000_000);
  const snap = a.saveSnapshot(image);
  const b = new Machine();
  b.restoreSnapshot(snap);
  expect(Buffer.from(b.saveSnapshot(image)).equals(Buffer.from(snap))).toBe(true);
}, 60000);

test('the snapshot names every registered component and records the image and machine', () => {
  const a = booted();
  a.run(Infinity, 1_000_000);
  const info = readSnapshotInfo(a.saveSnapshot(image));
  expect(info.components).toEqual(SNAPSHOT_COMPONENTS.filter((c) => !c.optional).map((c) => c.name));
  expect(info.image).toEqual({ name: 'kernel.elf', sha256: image.sha256 });
  expect(info.memory).toBe(a.mem.size);
  expect(info.truth).toBe(false);
  // Mostly-empty RAM is stored as its non-zero pages only.
  expect(a.saveSnapshot(image).length).toBeLessThan(a.mem.size / 100);
});

test('ground truth is saved when on: the restored machine knows the frames active at the snapshot', () => {
  const a = booted();
  const ta = a.enableTruth(16384);
  a.run(Infinity, 14_000_000);
  const snap = a.saveSnapshot(image);
  expect(readSnapshotInfo(snap).truth).toBe(true);
  const b = new Machine();
  const tb = b.enableTruth(16384);
  expect(b.restoreSnapshot(snap).truth).toBe(true);
  expect(tb.saveState()).toEqual(ta.saveState());
  expect(ta.stacks.size).toBeGreaterThan(1);
  a.run(Infinity, 20_000_000); b.run(Infinity, 20_000_000);
  expect(tb.saveState()).toEqual(ta.saveState());
  expect(observe(b, 0).context).toEqual(observe(a, 0).context);
  // A machine with truth on restored from a snapshot without it starts with no frames.
  const c = booted();
  c.run(Infinity, 14_000_000);
  const d = booted();
  d.enableTruth(16384);
  d.run(Infinity, 5_000_000);
  expect(d.restoreSnapshot(c.saveSnapshot(image)).truth).toBe(false);
  expect(d.truth!.stacks.size).toBe(0);
}, 60000);
