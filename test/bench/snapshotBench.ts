// bench/snapshotBench.ts: what machine snapshots cost and save.
// - kernel.elf (128 MiB RAM) at 12 ms: save and restore time and file size, against booting to the
//   same instant (the peer a snapshot replaces);
// - a 512 MiB machine with 256 MiB of non-zero pages (kernel.elf's bytes repeated, the size of a
//   booted Linux's memory): save, restore and size, against one plain copy of its RAM;
// - the livepatch study on kernel.elf: runs per second booting each run, and starting each run from
//   a snapshot taken at the window's start; and one run booted against the same run restored from
//   the snapshot saved at its patch time.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Machine } from '../../emulator/machine';
import { loadPvh } from '../../emulator/loader/pvh';
import { OpenedSnapshot, readSnapshotInfo } from '../../emulator/snapshot/machineSnapshot';
import { runStudy, type LivepatchStudyOptions } from '../../livepatch/study/livepatchStudy';
import { runPatch } from '../../livepatch/run/patchRun';

function findRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

const ROUNDS = 5;
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function ms<T>(fn: () => T): [T, number] {
  const t0 = process.hrtime.bigint();
  const v = fn();
  return [v, Number(process.hrtime.bigint() - t0) / 1e6];
}

function fixtureKernel(root: string, bytes: Buffer): void {
  const image = { name: 'kernel.elf', sha256: crypto.createHash('sha256').update(bytes).digest('hex') };
  const boots: number[] = [], saves: number[] = [], restores: number[] = [];
  let size = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const [m, boot] = ms(() => { const m = new Machine({ onConsole: () => undefined }); loadPvh(m, bytes, 'kernel.elf'); m.run(Infinity, 12e6); return m; });
    const [snap, save] = ms(() => m.saveSnapshot(image));
    const [, restore] = ms(() => new Machine({ onConsole: () => undefined }).restoreSnapshot(snap));
    boots.push(boot); saves.push(save); restores.push(restore); size = snap.length;
  }
  const b = median(boots), r = median(restores);
  console.log(`kernel.elf, 128 MiB, at 12 ms (median of ${ROUNDS}): boot to 12 ms ${b.toFixed(0)} ms; save ${median(saves).toFixed(1)} ms, ` +
    `restore ${r.toFixed(1)} ms (new Machine included): restore is ${(b / r).toFixed(1)}x faster than booting; file ${(size / 1024).toFixed(1)} KiB`);
}

function bigMachine(bytes: Buffer): void {
  const memory = 512 << 20;
  const m = new Machine({ memory, onConsole: () => undefined });
  loadPvh(m, bytes, 'kernel.elf');
  m.run(Infinity, 12e6);
  // 256 MiB of non-zero pages from 64 MiB up: kernel.elf's bytes repeated, every 8th page left zero.
  const text = bytes.subarray(0, Math.min(bytes.length, 1 << 20));
  for (let p = 0; p < 65536; p++) {
    if (p % 8 === 7) continue;
    const at = (64 << 20) + p * 4096;
    m.mem.u8.set(text.subarray((p * 4096) % (text.length - 4096), (p * 4096) % (text.length - 4096) + 4096), at);
  }
  const saves: number[] = [], restores: number[] = [], copies: number[] = [], opens: number[] = [], bulk: number[] = [];
  let snap: Uint8Array = new Uint8Array(0);
  const target = new Machine({ memory, onConsole: () => undefined });
  for (let i = 0; i < ROUNDS; i++) {
    const [s, save] = ms(() => m.saveSnapshot());
    snap = s;
    const [, restore] = ms(() => target.restoreSnapshot(snap));
    const [, copy] = ms(() => target.mem.u8.set(m.mem.u8));
    const [opened, open] = ms(() => OpenedSnapshot.open(snap));
    const [, fromOpened] = ms(() => target.restoreSnapshot(opened));
    saves.push(save); restores.push(restore); copies.push(copy); opens.push(open); bulk.push(fromOpened);
  }
  let pages = 0;
  for (let p = 0; p < memory / 4096; p++) if (m.mem.u8.subarray(p * 4096, p * 4096 + 4096).some((x) => x !== 0)) pages++;
  const c = median(copies);
  console.log(`512 MiB machine, ${(pages * 4096 / 1048576).toFixed(0)} MiB in non-zero pages (median of ${ROUNDS}): save ${median(saves).toFixed(0)} ms ` +
    `(${(median(saves) / c).toFixed(1)}x one RAM copy of ${c.toFixed(0)} ms), restore ${median(restores).toFixed(0)} ms (${(median(restores) / c).toFixed(1)}x); ` +
    `file ${(snap.length / 1048576).toFixed(1)} MiB (${readSnapshotInfo(snap).components.length} components); opened once (checked, unpacked: ` +
    `${median(opens).toFixed(0)} ms), each further restore ${median(bulk).toFixed(0)} ms (${(median(bulk) / c).toFixed(1)}x)`);
}

function study(root: string): void {
  const image = path.join(root, 'fixtures', 'kernel', 'kernel.elf');
  const patch = path.join(root, 'fixtures', 'livepatch', 'klp_chain_a2.o');
  const cmdline = 'scale=2 nap=20000';
  const runs = 6;
  const base: LivepatchStudyOptions = {
    image, patch, runs, seed: 5, kernel: '6.1', unwinder: 'fp', immediate: false, cmdline,
    window: [8e6, 20e6], jitterNs: 200000, maxWait: 30e9, shard: [0, 1],
  };
  let bytes: Uint8Array = new Uint8Array(0);
  const [, making] = ms(() => runPatch({ image, patch, cmdline, patchAt: 8e6, maxWait: 1, timerJitter: { seed: 5, maxNs: 200000 }, saveSnapshot: (b) => { bytes = b; } }));
  const booting: number[] = [], restoring: number[] = [];
  let completedFromSnapshot = 0;
  for (let i = 0; i < 3; i++) {
    const [a, ta] = ms(() => runStudy(base));
    const [b, tb] = ms(() => runStudy({ ...base, snapshot: { bytes, name: 'snapshot' } }));
    booting.push(runs / (ta / 1000)); restoring.push(runs / (tb / 1000));
    completedFromSnapshot = b.completed;
    if (a.violations + b.violations > 0) console.log('  (violations found: see the study)');
  }
  // The study's runs from a snapshot are other runs (their jitter differs after the snapshot), so their
  // work differs too; the same run booted and restored (jitter not reseeded) shows the saving alone.
  const sameRun = { image, patch, cmdline, patchAt: 15e6, maxWait: 30e9, settle: 2e6, timerJitter: { seed: 9, maxNs: 200000 }, log: { debug: false } };
  const sameBoot: number[] = [], sameRestored: number[] = [];
  let instructions = 0, before = 0;
  for (let i = 0; i < 3; i++) {
    let snap: Uint8Array = new Uint8Array(0);
    const [booted, tb] = ms(() => runPatch({ ...sameRun, saveSnapshot: (x) => { snap = x; } }));
    const [restored, tr] = ms(() => runPatch({ ...sameRun, snapshot: { bytes: snap, name: 'snapshot' } }));
    if (restored.lab.machine.instructions !== booted.lab.machine.instructions) throw new Error('the restored run differs from the booted one');
    instructions = booted.lab.machine.instructions;
    before = readSnapshotInfo(snap).instructions;
    sameBoot.push(tb); sameRestored.push(tr);
  }
  console.log(`one run patched at 15 ms (${(instructions / 1e6).toFixed(1)} M instructions, ${(before / 1e6).toFixed(1)} M of them before the patch time; median of 3): ` +
    `${median(sameBoot).toFixed(0)} ms booted, ${median(sameRestored).toFixed(0)} ms from a snapshot at 15 ms (${(median(sameBoot) / median(sameRestored)).toFixed(2)}x)`);
  const a = median(booting), b = median(restoring);
  console.log(`livepatch study, kernel.elf + klp_chain_a2.o, ${runs} runs, patch window 8-20 ms (median of 3): ${a.toFixed(2)} runs/s booting each run, ` +
    `${b.toFixed(2)} runs/s from a snapshot at 8 ms (${(b / a).toFixed(2)}x; ${completedFromSnapshot}/${runs} completed; making the snapshot took ${making.toFixed(0)} ms)`);
}

export function run(): void {
  const root = findRoot();
  const bytes = fs.readFileSync(path.join(root, 'fixtures', 'kernel', 'kernel.elf'));
  fixtureKernel(root, bytes);
  bigMachine(bytes);
  study(root);
}
