// `klp-lab livepatch study VMLINUX PATCH.ko --jobs 2` on real Linux 6.1: two worker threads restore
// the same booted snapshot (unpacked once by the main thread, shared) and give the study of
// `--jobs 1`, every printed figure and the JSON, apart from the host-time fields; Ctrl-C stops the
// workers and writes nothing, as in the fixture studies; a lab that cannot be set up is one line.
// Through the built command line (npm test builds dist/ first). Needs Debian's packages (fetched
// by name; a failed download fails the test).
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { debianRelease, linuxKernel } from '../../livepatch/linux/debianKernel';
import { labPatchModules } from '../../livepatch/linux/linuxModules';

const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli', 'main.js');
const SLOW = 30 * 60_000;

let work: string;
beforeAll(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-real-jobs-')); });
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** The printed study without host time: the `host time` line, and the per-run host seconds and runs per hour. */
const withoutHostTime = (text: string) =>
  text.split('\n').filter((l) => !l.includes('host time')).map((l) => l.replace(/; [\d.]+ host s per run, \d+ runs\/hour$/, '')).join('\n');

/** The JSON study without its host-time fields (the study's and each run's). */
function readStudy(file: string) {
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  expect(typeof r.hostSeconds).toBe('number');
  delete r.hostSeconds;
  for (const run of r.perRun) {
    expect(typeof run.hostSeconds).toBe('number');
    delete run.hostSeconds;
  }
  return r;
}

const kernel = linuxKernel();
const hog = path.join(labPatchModules(debianRelease(kernel.vmlinux).abi), 'klp_lab_hog.ko');

test('real Linux: livepatch study --jobs 2 gives the study of --jobs 1 (klp_lab_hog, 3 runs)', () => {
  const study = (jobs: string) => {
    const json = path.join(work, `hog-jobs${jobs}.json`);
    const r = spawnSync(process.execPath, [CLI, 'livepatch', 'study', kernel.vmlinux, hog, '--runs', '3', '--seed', '7', '--to', '50ms', '--jitter', '200000', '--no-progress', '--jobs', jobs, '--json', json],
      { encoding: 'utf8', timeout: SLOW });
    expect(r.stderr).not.toContain('klp-lab:');
    expect(r.status).toBe(0);
    return { out: r.stdout, json: readStudy(json) };
  };
  const one = study('1');
  const two = study('2');
  expect(one.out).toContain('transitions completed: 3/3');
  expect(one.json.perRun.map((x: { run: number }) => x.run)).toEqual([0, 1, 2]);
  // The runs differ from each other (patch times, instructions), so a worker answering for the wrong run shows.
  expect(new Set(one.json.perRun.map((x: { instructions: number }) => x.instructions)).size).toBe(3);
  expect(withoutHostTime(two.out)).toBe(withoutHostTime(one.out));
  expect(two.json).toEqual(one.json);
}, SLOW);

test('real Linux: Ctrl-C during a --jobs 2 study stops the workers and leaves no output file', async () => {
  const dir = fs.mkdtempSync(path.join(work, 'sigint-'));
  const json = path.join(dir, 'study.json');
  const child = spawn(process.execPath, [CLI, 'livepatch', 'study', kernel.vmlinux, hog, '--runs', '40', '--seed', '1', '--jobs', '2', '--json', json]);
  let err = '';
  child.stderr.on('data', (d) => { err += String(d); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // The lab is set up (initramfs, snapshot) before this line; then the workers start their runs.
  while (!err.includes('from the booted snapshot, 2 at a time')) {
    if (child.exitCode !== null) throw new Error(`the study ended before its runs started: ${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 3000));
  child.kill('SIGINT');
  expect(await exited).toBe(130);
  expect(err.trimEnd().split('\n').at(-1)).toBe('klp-lab: interrupted; no output written');
  expect(fs.readdirSync(dir)).toEqual([]);
}, SLOW);

test('real Linux: a study whose lab cannot be set up ends with one line, its early workers stopped', () => {
  // The workers start (and parse the vmlinux) before the lab is set up; the set-up fails at once.
  const r = spawnSync(process.execPath, [CLI, 'livepatch', 'study', kernel.vmlinux, path.join(work, 'no-such.ko'), '--runs', '4', '--jobs', '2'],
    { encoding: 'utf8', timeout: 120_000 });
  expect(r.error).toBeUndefined();
  expect(r.status).toBe(1);
  expect(r.stderr.trimEnd().split('\n').at(-1)).toBe(`klp-lab: ${path.join(work, 'no-such.ko')}: No such file`);
}, SLOW);
