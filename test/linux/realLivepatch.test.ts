// Live patching real Linux 6.1 in klp-lab: the kernel's own module loader and livepatch core patch
// the booted `livepatch` scenario (restored from its cached snapshot), klp-lab watches every task's
// patch_state and TIF_PATCH_PENDING as the kernel writes them and judges the transition on ground
// truth. Each of klp-lab's four patch modules completes with no violation and its new code runs in
// the guest; forcing the sleeper's patch while the kthread sleeps in the old function is the
// violation the kernel's documentation warns about; a small study's shards merge into the
// one-process study. Needs Debian's packages (fetched by name; a failed download fails the test).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { linuxKernel } from '../../livepatch/linux/debianKernel';
import { labPatchModules } from '../../livepatch/linux/linuxModules';
import { debianRelease } from '../../livepatch/linux/debianKernel';
import { prepareRealLab, runRealPatch, type RealLab, type RealPatchRunResult } from '../../livepatch/linux/realPatchRun';
import { runRealStudy } from '../../livepatch/linux/realStudy';
import { mergeStudies, type LivepatchStudyResult } from '../../livepatch/study/livepatchStudy';

const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli', 'main.js');
const SLOW = 60 * 60_000;

const kernel = linuxKernel();
const modules = labPatchModules(debianRelease(kernel.vmlinux).abi);
const labs = new Map<string, RealLab>();
function lab(name: string): RealLab {
  if (!labs.has(name)) labs.set(name, prepareRealLab(kernel.vmlinux, path.join(modules, `${name}.ko`)));
  return labs.get(name)!;
}

function expectCleanRun(r: RealPatchRunResult, name: string): void {
  expect(r.loadResult).toBe(0);
  expect(r.kernelLog.map((l) => l.text).join('\n')).toContain(`livepatch: '${name}': patching complete`);
  expect(r.completed).toBe(true);
  expect(r.violations).toEqual([]);
  expect(r.checks).toBeGreaterThan(0);
  expect(r.calls).toBeGreaterThan(0);
  const patching = r.timelines.find((t) => t.direction === 'patching')!;
  // Every task the kernel flagged switched, as the kernel's own state says.
  const rows = patching.rows();
  expect(rows.length).toBeGreaterThan(10);
  expect(rows.filter((t) => t.flaggedAt !== undefined && t.switchedAt === undefined)).toEqual([]);
}

describe('klp-lab livepatch on real Linux: the four patch modules', () => {
  test('klp_lab_cmdline (cmdline_proc_show, as the kernel\'s sample): complete at the first pass, no violation', () => {
    const r = runRealPatch(lab('klp_lab_cmdline'), { patchAt: 5e6, maxWait: 3e9, settle: 300e6, jitter: { seed: 1, maxNs: 200000 } });
    expectCleanRun(r, 'klp_lab_cmdline');
    expect(r.attempts).toBe(1);
  }, SLOW);

  test('klp_lab_hog (a CPU-bound kthread\'s function): no violation, the hog runs the new code', () => {
    const r = runRealPatch(lab('klp_lab_hog'), { patchAt: 7e6, maxWait: 3e9, settle: 50e6, jitter: { seed: 2, maxNs: 200000 } });
    expectCleanRun(r, 'klp_lab_hog');
    expect(r.switches.find((s) => s.comm === 'klp_hog')).toBeDefined();
  }, SLOW);

  test('klp_lab_wait (user tasks asleep under read(2)): they block the first pass and switch on their way to user mode', () => {
    const r = runRealPatch(lab('klp_lab_wait'), { patchAt: 3e6, maxWait: 4e9, settle: 10e6, jitter: { seed: 3, maxNs: 200000 } });
    expectCleanRun(r, 'klp_lab_wait');
    const patching = r.timelines.find((t) => t.direction === 'patching')!;
    const readers = patching.rows().filter((t) => t.comm === 'cat' && t.blocked.some((b) => b.reason === 'sleeping on klp_lab_wait_read'));
    expect(readers.length).toBeGreaterThan(0);
    expect(readers.every((t) => t.switchedBy === 'exit-to-user')).toBe(true);
  }, SLOW);
});

describe('the force control on real Linux', () => {
  test('klp_lab_sleeper stalls on the kthread asleep in the old function; forcing it is a violation (exit 3)', () => {
    const r = spawnSync(process.execPath, [CLI, 'livepatch', kernel.vmlinux, path.join(modules, 'klp_lab_sleeper.ko'),
      '--at', '2ms', '--force-after', '1.2', '--max-wait', '4', '--seed', '4'], { encoding: 'utf8', timeout: SLOW, maxBuffer: 64 << 20 });
    expect(r.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
    expect(r.stdout).toMatch(/\d+ +klp_sleeper +kthread +[\d.]+ ms +force/);
    expect(r.stdout).toMatch(/sleeping on klp_lab_sleep_in/);
    expect(r.stdout).toContain('livepatch: forcing remaining tasks to the patched state');
    expect(r.stdout).toMatch(/'klp_lab_sleeper' completed while klp_sleeper:\d+ still held old klp_lab_sleep_in/);
    expect(r.stdout).toMatch(/parameters\/calls\): [1-9]/);
    expect(r.status).toBe(3);
  }, SLOW);
});

describe('bad arguments on real Linux are one-line errors', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, 'livepatch', kernel.vmlinux, ...args], { encoding: 'utf8', timeout: SLOW });
  test.each([
    [['no-such.ko'], /^klp-lab: no-such\.ko: No such file\n$/],
    [[path.join(modules, 'klp_lab_cmdline.c')], /a kernel module's file name ends in \.ko\n$/],
    [[path.join(modules, 'klp_lab_cmdline.ko'), '--kernel', '4.12'], /--kernel: real Linux runs its own livepatch core \(6\.1\)\n$/],
  ])('%j', (args, message) => {
    const r = cli(...args);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  }, SLOW);
});

describe('the real-kernel study', () => {
  test('shards merge into the one-process study; no violation', () => {
    const l = lab('klp_lab_cmdline');
    const opts = { runs: 3, seed: 7, window: [0, 20e6] as [number, number], jitterNs: 200000, maxWait: 2e9 };
    const whole = runRealStudy(l, { ...opts, shard: [0, 1] });
    const parts = [runRealStudy(l, { ...opts, shard: [0, 2] }), runRealStudy(l, { ...opts, shard: [1, 2] })];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-real-study-'));
    try {
      const merged = mergeStudies(parts);
      const strip = (s: LivepatchStudyResult) => ({ ...s, hostSeconds: 0, perRun: s.perRun.map((x) => ({ ...x, hostSeconds: 0 })) });
      expect(strip(merged)).toEqual(strip(whole));
      expect(whole.ran).toBe(3);
      expect(whole.completed).toBe(3);
      expect(whole.violations).toBe(0);
      expect(whole.perRun.every((x) => (x as { instructions?: number }).instructions! > 0)).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, SLOW);
});
