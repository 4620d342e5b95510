// `klp-lab livepatch` end to end, through the built command line (npm test builds dist/ first):
// a run with its log, timeline and consistency line; the study with its JSON, shards and merge;
// and one-line errors for bad arguments and files.

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO_ROOT } from '../helpers/fixtures';

const CLI = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');
const KERNEL = 'fixtures/kernel/kernel.elf';
const CHAIN = 'fixtures/livepatch/klp_chain_a2.o';
const HOG = 'fixtures/livepatch/klp_hog.o';

function klp(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 240_000 });
  return { out: r.stdout, err: r.stderr, status: r.status };
}

let work: string;
beforeAll(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-livepatch-cli-')); });
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

test('a run prints the kernel log, the per-task timeline and the consistency check, and writes the chart', () => {
  const chart = path.join(work, 'chart.svg');
  const r = klp('livepatch', KERNEL, CHAIN, '--chart', chart);
  expect(r.status).toBe(0);
  expect(r.out).toContain("livepatch: enabling patch 'klp_chain_a2'");
  expect(r.out).toContain('livepatch: klp_try_switch_task: kworker/chain-a:5 is sleeping on function chain_a2');
  expect(r.out).toContain("livepatch: 'klp_chain_a2': patching complete");
  expect(r.out).toMatch(/kworker\/chain-a +kthread +pending +1x \(sleeping on chain_a2\)/);
  expect(r.out).not.toContain('kthread-patch-point');
  expect(r.out).toMatch(/consistency \(emulator ground truth\): [1-9]\d* observations, no task mixed old and new code/);
  expect(fs.readFileSync(chart, 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
}, 240_000);

test('a 4.12 immediate patch while kcpuhog computes: violations are reported and the status is 3', () => {
  const r = klp('livepatch', KERNEL, HOG, '--kernel', '4.12', '--immediate', '--at', '9ms', '--cmdline', 'scale=2 nap=20000', '--no-debug-switch');
  expect(r.status).toBe(3);
  expect(r.out).toMatch(/VIOLATION\(S\):\n {2}[\d.]+ ms: (kcpuhog:\d+ ran new hog_mix of 'klp_hog' with old hog_inner still on its stack|'klp_hog' completed while kcpuhog:\d+ still held old hog_(mix|inner))/);
}, 240_000);

test('study: JSON with the agreed fields; two shards merge into the unsharded study', () => {
  const common = ['livepatch', 'study', KERNEL, CHAIN, '--runs', '4', '--seed', '7', '--no-progress'];
  const whole = path.join(work, 'whole.json');
  const s0 = path.join(work, 's0.json');
  const s1 = path.join(work, 's1.json');
  const merged = path.join(work, 'merged.json');
  const r = klp(...common, '--json', whole);
  expect(r.status).toBe(0);
  expect(r.err).toContain('livepatch study: seed 7');
  expect(r.out).toContain('transitions completed: 4/4');
  expect(r.out).toContain('consistency violations: 0 in 0 run(s)');
  expect(klp(...common, '--shard', '0/2', '--json', s0).status).toBe(0);
  expect(klp(...common, '--shard', '1/2', '--json', s1).status).toBe(0);
  expect(klp('livepatch', 'merge', s0, s1, '--json', merged).status).toBe(0);
  const a = JSON.parse(fs.readFileSync(whole, 'utf8'));
  const m = JSON.parse(fs.readFileSync(merged, 'utf8'));
  for (const key of ['runs', 'completed', 'violations', 'seed']) expect(typeof a[key]).toBe('number');
  expect(a).toMatchObject({ runs: 4, completed: 4, violations: 0, seed: 7 });
  expect(m.perRun).toEqual(a.perRun);
  expect(m).toMatchObject({ runs: 4, completed: 4, violations: 0, seed: 7 });
}, 240_000);

test.each([
  [['livepatch', KERNEL, CHAIN, '--immediate'], /^klp-lab: immediate patches exist only in Linux 4\.12 to 4\.15 \(4\.16 removed them\): --kernel 6\.1 does not have them$/],
  [['livepatch', 'fixtures/kernel/kernel-nofp.elf', CHAIN, '--unwinder', 'orc', '--kernel', '4.12'], /^klp-lab: the ORC unwinder came in Linux 4\.14: --kernel 4\.12 does not have it$/],
  [['livepatch', KERNEL, 'fixtures/livepatch/nope.o'], /^klp-lab: fixtures\/livepatch\/nope\.o: No such file$/],
  [['livepatch', 'nope.elf', CHAIN], /^klp-lab: nope\.elf: No such file$/],
  [['livepatch', KERNEL, CHAIN, '--at', 'soon'], /^klp-lab: --at takes a virtual time/],
  [['livepatch', KERNEL, CHAIN, '--unwinder', 'orc'], /^klp-lab: kernel\.elf has no ORC tables/],
  [['livepatch', 'study', KERNEL, CHAIN, '--shard', '2/2'], /^klp-lab: --shard takes i\/n/],
  [['livepatch', 'merge', 'fixtures/livepatch/Makefile'], /^klp-lab: fixtures\/livepatch\/Makefile: not JSON$/],
  [['livepatch', KERNEL, 'fixtures/livepatch/Makefile'], /^klp-lab: .*not an ELF file/],
])('%j is a one-line error with status 1', (args, message) => {
  const r = klp(...args);
  expect(r.status).toBe(1);
  expect(r.err.trimEnd().split('\n')).toHaveLength(1);
  expect(r.err.trimEnd()).toMatch(message);
}, 60_000);
