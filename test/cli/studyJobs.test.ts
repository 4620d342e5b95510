// Studies on several worker threads, through the built command line (npm test builds dist/ first):
// --jobs N gives the same study as --jobs 1 (JSON and printed figures, host time aside), Ctrl-C
// stops the workers and writes nothing, a failure in a worker is one line, and merge refuses
// shard sets that are not one whole study.

import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO_ROOT } from '../helpers/fixtures';

const CLI = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');
const KERNEL = 'fixtures/kernel/kernel.elf';
const CHAIN = 'fixtures/livepatch/klp_chain_a2.o';

function klp(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 240_000 });
  return { out: r.stdout, err: r.stderr, status: r.status };
}

let work: string;
beforeAll(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-study-jobs-')); });
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const withoutHostTime = (text: string) => text.split('\n').filter((l) => !l.includes('host time')).join('\n');
const readStudy = (file: string) => {
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  expect(typeof r.hostSeconds).toBe('number');
  delete r.hostSeconds;
  return r;
};

test('livepatch study: --jobs 3 prints and writes the same study as --jobs 1', () => {
  const common = ['livepatch', 'study', KERNEL, CHAIN, '--runs', '5', '--seed', '21', '--no-progress'];
  const one = klp(...common, '--jobs', '1', '--json', path.join(work, 'lp1.json'));
  const three = klp(...common, '--jobs', '3', '--json', path.join(work, 'lp3.json'));
  expect(one.status).toBe(0);
  expect(three.status).toBe(0);
  expect(one.out).toContain('transitions completed: 5/5');
  expect(withoutHostTime(three.out)).toBe(withoutHostTime(one.out));
  const a = readStudy(path.join(work, 'lp1.json'));
  expect(a.perRun.map((x: { run: number }) => x.run)).toEqual([0, 1, 2, 3, 4]);
  expect(readStudy(path.join(work, 'lp3.json'))).toEqual(a);
}, 240_000);

test('unwind study: --jobs 3 prints and writes the same study as --jobs 1, also when the guest ends before the last stop points', () => {
  // The fixture kernel exits after about 7.6 million instructions: the later stop points are never reached.
  const common = ['unwind', 'study', KERNEL, '--samples', '300', '--seed', '4', '--unwinder', 'all', '--max-insns', '10000000', '--no-progress'];
  const one = klp(...common, '--jobs', '1', '--json', path.join(work, 'uw1.json'));
  const three = klp(...common, '--jobs', '3', '--json', path.join(work, 'uw3.json'));
  expect(one.status).toBe(0);
  expect(three.status).toBe(0);
  const taken = Number(/^(\d+) stop points taken/m.exec(one.out)![1]);
  expect(taken).toBeGreaterThan(150);
  expect(taken).toBeLessThan(300);
  expect(three.out).toBe(one.out);
  expect(fs.readFileSync(path.join(work, 'uw3.json'), 'utf8')).toBe(fs.readFileSync(path.join(work, 'uw1.json'), 'utf8'));
}, 240_000);

test('Ctrl-C stops every worker and leaves no output file', async () => {
  const dir = fs.mkdtempSync(path.join(work, 'sigint-'));
  const json = path.join(dir, 'study.json');
  const child = spawn(process.execPath, [CLI, 'livepatch', 'study', KERNEL, CHAIN, '--runs', '200', '--seed', '1', '--jobs', '2', '--json', json], { cwd: REPO_ROOT });
  let err = '';
  child.stderr.on('data', (d) => { err += String(d); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // The seed line comes before the workers start; give them time to be busy.
  while (!err.includes('livepatch study: seed')) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 2000));
  child.kill('SIGINT');
  expect(await exited).toBe(130);
  expect(err.trimEnd().split('\n').at(-1)).toBe('klp-lab: interrupted; no output written');
  expect(fs.readdirSync(dir)).toEqual([]);
}, 120_000);

test.each([
  ['fixtures/livepatch/nope.o', 'klp-lab: fixtures/livepatch/nope.o: No such file'],
  ['fixtures/livepatch/Makefile', 'klp-lab: fixtures/livepatch/Makefile: not an ELF file (bad magic)'],
])('a failure inside a worker (%s) is the one line of --jobs 1', (patch, message) => {
  for (const jobs of ['2', '1']) {
    const r = klp('livepatch', 'study', KERNEL, patch, '--runs', '2', '--seed', '1', '--jobs', jobs);
    expect(r.status).toBe(1);
    expect(r.err.trimEnd().split('\n')).toEqual(['livepatch study: seed 1 (--seed 1 repeats it)', message]);
  }
}, 60_000);

test.each([
  [['livepatch', 'study', KERNEL, CHAIN, '--jobs', '0'], /^klp-lab: --jobs takes a positive whole number$/],
  [['unwind', 'study', KERNEL, '--shard', 'auto'], /^klp-lab: --shard auto needs a Slurm job array/],
  [['livepatch', 'study', KERNEL, CHAIN, '--shard', 'auto', '--shards', '0'], /^klp-lab: --shards takes a positive whole number$/],
])('%j is a one-line error', (args, message) => {
  const r = klp(...args);
  expect(r.status).toBe(1);
  expect(r.err.trim().split('\n').filter((l) => !l.startsWith('livepatch study: seed'))).toEqual([expect.stringMatching(message)]);
}, 60_000);

test('merge names missing and duplicated shards and refuses shards of another study', () => {
  const shard = (i: number, seed: number) => {
    const file = path.join(work, `m${seed}-${i}.json`);
    const r = klp('livepatch', 'study', KERNEL, CHAIN, '--runs', '3', '--seed', String(seed), '--shard', `${i}/3`, '--jobs', '1', '--no-progress', '--json', file);
    expect(r.status).toBe(0);
    return file;
  };
  const [s0, s1, s2] = [shard(0, 5), shard(1, 5), shard(2, 5)];
  const other = shard(2, 6);
  const merge = (...files: string[]) => klp('livepatch', 'merge', ...files);
  expect(merge(s0, s1, s2).status).toBe(0);
  expect(merge(s0, s2).err.trim()).toBe('klp-lab: cannot merge: shard 1 of 3 missing');
  expect(merge(s0, s1, s1).err.trim()).toBe(`klp-lab: cannot merge: shard 1/3 given 2 times (${s1}, ${s1}); shard 2 of 3 missing`);
  expect(merge(s0, s1, other).err.trim()).toBe(`klp-lab: ${other} is not a shard of the same study as ${s0}: seed 6 vs 5`);
}, 240_000);
