// The Kubernetes side of the cluster files, without a cluster: the pod command of the Indexed Job
// (indexed-job-shard.sh, with the JOB_COMPLETION_INDEX each pod gets) and the merge script, run
// here for every index, must give the study run in one process; and the manifests agree with
// each other (shard count, scripts that exist and can run).

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO_ROOT } from '../helpers/fixtures';

const CLI = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');
const CLUSTER = path.join(REPO_ROOT, 'livepatch', 'study', 'cluster');
const KLP_LAB = `${process.execPath} ${CLI}`;

let work: string;
beforeAll(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-study-cluster-')); });
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function sh(script: string, args: string[], env: NodeJS.ProcessEnv) {
  const r = spawnSync(path.join(CLUSTER, script), args, { cwd: REPO_ROOT, env: { ...process.env, KLP_LAB, ...env }, encoding: 'utf8', timeout: 240_000 });
  return { out: r.stdout, err: r.stderr, status: r.status };
}

test('an unwind study run by the Indexed Job\'s pod command, index by index, merges into the one-process study', () => {
  const out = path.join(work, 'results');
  const study = ['unwind', 'study', 'fixtures/kernel/kernel.elf', '--samples', '40', '--seed', '8', '--max-insns', '3000000'];
  for (const index of ['0', '1', '2']) {
    const r = sh('indexed-job-shard.sh', [out, ...study], { SHARDS: '3', JOB_COMPLETION_INDEX: index });
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
  }
  expect(sh('merge.sbatch', [out, 'unwind'], {}).status).toBe(0);
  const whole = path.join(work, 'whole.json');
  expect(spawnSync(process.execPath, [CLI, ...study, '--jobs', '1', '--no-progress', '--json', whole], { cwd: REPO_ROOT }).status).toBe(0);
  const merged = JSON.parse(fs.readFileSync(path.join(out, 'study.json'), 'utf8'));
  const one = JSON.parse(fs.readFileSync(whole, 'utf8'));
  // Shards interleave the stop points, so only the examples' order may differ.
  for (const u of Object.keys(one.unwinders)) {
    merged.unwinders[u].examples = merged.unwinders[u].examples.length;
    one.unwinders[u].examples = one.unwinders[u].examples.length;
  }
  expect(merged).toEqual(one);
  expect(fs.existsSync(path.join(out, 'study.html'))).toBe(true);
}, 240_000);

test('the pod command refuses a study without a seed, and a missing index', () => {
  const r = sh('indexed-job-shard.sh', [work, 'unwind', 'study', 'fixtures/kernel/kernel.elf'], { SHARDS: '2', JOB_COMPLETION_INDEX: '0' });
  expect(r.status).toBe(2);
  expect(r.err).toContain('give the study a --seed');
  expect(sh('indexed-job-shard.sh', [work, 'unwind', 'study', 'x', '--seed', '1'], { SHARDS: '2', JOB_COMPLETION_INDEX: '' }).status).toBe(2);
});

test('the manifests agree: completions = SHARDS, and the commands they run are executable scripts here', () => {
  const job = fs.readFileSync(path.join(CLUSTER, 'study-job.yaml'), 'utf8');
  const merge = fs.readFileSync(path.join(CLUSTER, 'study-merge-job.yaml'), 'utf8');
  expect(job).toMatch(/completionMode: Indexed/);
  const completions = /\n\s+completions: (\d+)/.exec(job)![1];
  expect(/- name: SHARDS\n\s+value: "(\d+)"/.exec(job)![1]).toBe(completions);
  for (const text of [job, merge]) {
    for (const m of text.matchAll(/command: \["\/opt\/klp-lab\/([^"]+)"\]/g)) {
      expect(fs.statSync(path.join(REPO_ROOT, m[1])).mode & 0o111).not.toBe(0);
    }
  }
  const outdirs = [job, merge].map((t) => /args: \["([^"]+)"/.exec(t)![1]);
  expect(outdirs[1]).toBe(outdirs[0]);
});
