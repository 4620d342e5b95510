// A study on a real Slurm cluster: a private single-node cluster (munged, slurmctld, slurmd from
// Debian's packages) runs the shipped sbatch script as a job array (`--shard auto` in each task),
// the shipped merge script joins the shards, and the merged study must equal the same study run
// in one process. The daemons are stopped afterwards, also when the test fails. Without root or
// the packages the test fails: it never skips.

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT } from '../helpers/fixtures';
import { slurmMissing, startSlurm, type SlurmCluster } from './studySlurmCluster';

const CLI = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');
const CLUSTER = path.join(REPO_ROOT, 'livepatch', 'study', 'cluster');
const KERNEL = path.join(REPO_ROOT, 'fixtures', 'kernel', 'kernel.elf');
const CHAIN = path.join(REPO_ROOT, 'fixtures', 'livepatch', 'klp_chain_a2.o');

let cluster: SlurmCluster | null = null;

beforeAll(async () => {
  const missing = slurmMissing();
  if (missing !== null) throw new Error(`cannot run the Slurm study test: ${missing}`);
  cluster = await startSlurm();
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

/** The study without its host-time and shard fields. */
function comparable(file: string): Record<string, unknown> {
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  delete r.hostSeconds;
  return r;
}

test('a livepatch study as a Slurm job array (sbatch --array --wait) merges into the study run in one process', () => {
  expect(cluster).not.toBeNull();
  const c = cluster!;
  const out = path.join(c.dir, 'study');
  const study = ['livepatch', 'study', KERNEL, CHAIN, '--runs', '6', '--seed', '11'];
  const env = { KLP_LAB: `${process.execPath} ${CLI}` };
  c.run('sbatch', ['--array=0-2', '--wait', `--output=${c.dir}/log/task-%a.out`, path.join(CLUSTER, 'study.sbatch'), out, ...study], env);
  expect(fs.readdirSync(out).sort()).toEqual(['shard-0.json', 'shard-1.json', 'shard-2.json']);
  const shard1 = JSON.parse(fs.readFileSync(path.join(out, 'shard-1.json'), 'utf8'));
  expect(shard1.shard).toEqual([1, 3]);
  expect(shard1.perRun.map((x: { run: number }) => x.run)).toEqual([1, 4]);
  c.run('sbatch', ['--wait', `--output=${c.dir}/log/merge.out`, path.join(CLUSTER, 'merge.sbatch'), out, 'livepatch'], env);
  expect(fs.readFileSync(path.join(c.dir, 'log', 'merge.out'), 'utf8')).toContain('transitions completed: 6/6');
  expect(fs.readFileSync(path.join(out, 'study.html'), 'utf8')).toContain('<table id="runs">');

  const whole = path.join(c.dir, 'whole.json');
  const r = spawnSync(process.execPath, [CLI, ...study, '--jobs', '1', '--no-progress', '--json', whole], { encoding: 'utf8', timeout: 240_000 });
  expect(r.status).toBe(0);
  expect(comparable(path.join(out, 'study.json'))).toEqual(comparable(whole));
}, 300_000);
