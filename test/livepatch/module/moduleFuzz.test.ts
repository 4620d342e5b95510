// Corrupted patch modules (truncated, bytes flipped, section headers hit), seeded: each one is
// either loaded (and its transition run), refused by the module loader with the kernel's
// errno, or a one-line user error (a bad ELF file, or a module whose code crashed the guest,
// named with the oops and its RIP). Never an internal error.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { seededRandom } from '../../../emulator/seededRandom';
import { ElfError } from '../../../elf/elfFile';
import { LabError, LivepatchLab } from '../../../livepatch/guest/livepatchLab';
import { restoreLabSnapshot, saveLabSnapshot } from '../../../livepatch/guest/labSnapshot';
import { kernelBytes, patchModule } from '../guest/labRuns';

const CMDLINE = 'scale=2 nap=20000';
let bootedAt12ms: Uint8Array | undefined;
/**
 * A lab at 12 ms of virtual time, where each module below is loaded: booted once, then restored
 * from that boot's snapshot (the same machine state, as the study's runs start; a boot costs as
 * much as the rest of one copy's run).
 */
function labAt12ms(): LivepatchLab {
  const lab = new LivepatchLab(kernelBytes, 'kernel.elf', { cmdline: CMDLINE });
  if (bootedAt12ms === undefined) {
    lab.runUntil(12e6);
    bootedAt12ms = saveLabSnapshot(lab);
  } else {
    restoreLabSnapshot(lab, bootedAt12ms);
  }
  expect(lab.now).toBe(12e6);
  return lab;
}

/** A corrupted copy of `original`: kind 0 truncates, 1 flips bytes, 2 hits the section headers. */
function corrupt(original: Buffer, kind: number, random: () => number): Buffer {
  const b = Buffer.from(original);
  if (kind === 0) return b.subarray(0, Math.floor(random() * b.length));
  if (kind === 1) {
    const n = 1 + Math.floor(random() * 16);
    for (let i = 0; i < n; i++) b[Math.floor(random() * b.length)] = Math.floor(random() * 256);
    return b;
  }
  const shoff = Number(b.readBigUInt64LE(0x28));
  const shnum = b.readUInt16LE(0x3c);
  const n = 1 + Math.floor(random() * 8);
  for (let i = 0; i < n; i++) {
    const at = shoff + Math.floor(random() * shnum * 64);
    if (at < b.length) b[at] = Math.floor(random() * 256);
  }
  return b;
}

test.each([
  ['klp_oops', /^klp_oops: init crashed the guest: kernel page fault at 10, ip ffffffff[0-9a-f]+, error 0, task 2 \(RIP livepatch_oops_read\+0x[0-9a-f]+\/0x[0-9a-f]+ \[klp_oops\]\)$/],
  ['klp_oops_callback', /^klp_oops_callback: a callback crashed the guest: kernel page fault at 18, .*\(RIP livepatch_pre_patch\+0x[0-9a-f]+\/0x[0-9a-f]+ \[klp_oops_callback\]\)$/],
])('%s: a module whose code oopses is a one-line user error naming the module and the oops', (name, message) => {
  const lab = labAt12ms();
  let error: unknown;
  try {
    lab.modprobe(patchModule(name));
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(LabError);
  expect((error as Error).message).toMatch(message);
}, 60_000);

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-module-fuzz-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test.each([11])('seed %i: 30 corrupted copies of klp_chain_a2.o, 0 internal errors', (seed) => {
  const original = fs.readFileSync(patchModule('klp_chain_a2'));
  const random = seededRandom(seed);
  const outcomes = { loaded: 0, refused: 0, userErrors: 0 };
  for (let i = 0; i < 30; i++) {
    const file = path.join(dir, `klp_fuzz_${seed}_${i}.o`);
    fs.writeFileSync(file, corrupt(original, i % 3, random));
    const lab = labAt12ms();
    try {
      const rc = lab.modprobe(file);
      if (rc === 0) {
        outcomes.loaded++;
        if (lab.inTransition) lab.waitForTransition(2e9);
      } else {
        expect(rc).toBeLessThan(0);
        outcomes.refused++;
      }
    } catch (e) {
      if (!(e instanceof LabError || e instanceof ElfError)) throw new Error(`copy ${i} (seed ${seed}): internal error: ${(e as Error).stack}`);
      expect((e as Error).message.split('\n')).toHaveLength(1);
      if (/crashed the guest/.test((e as Error).message)) {
        expect((e as Error).message).toMatch(new RegExp(`^klp_fuzz_${seed}_${i}: .*\\(RIP `));
      }
      outcomes.userErrors++;
    }
  }
  expect(outcomes.loaded + outcomes.refused + outcomes.userErrors).toBe(30);
  expect(outcomes.userErrors).toBeGreaterThan(10);
}, 300_000);
