// A private single-node Slurm cluster for a test: munged with its own key and socket, slurmctld
// and slurmd with a generated slurm.conf, all in a temporary directory, on free ports, in the
// foreground as children of this process so that stop() ends exactly them. Needs root and
// Debian's slurm-wlm and munge (.ci/run installs them).

import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

export interface SlurmCluster {
  dir: string;
  /** The environment for sbatch and friends (SLURM_CONF set). */
  env: NodeJS.ProcessEnv;
  /** Runs a Slurm client command; throws with its output when it fails. */
  run(command: string, args: string[], extraEnv?: NodeJS.ProcessEnv): string;
  /** Stops the daemons this cluster started (waits for each to exit). */
  stop(): Promise<void>;
}

const PROGRAMS = ['munged', 'mungekey', 'slurmctld', 'slurmd', 'sbatch', 'sinfo'];

/** Why this machine cannot run the cluster (null: it can). */
export function slurmMissing(): string | null {
  if (process.getuid?.() !== 0) return 'the Slurm test starts munged, slurmctld and slurmd and must run as root';
  const missing = PROGRAMS.filter((p) => spawnSync('sh', ['-c', `command -v ${p}`]).status !== 0);
  if (missing.length > 0) return `missing ${missing.join(', ')}: install Debian's slurm-wlm and munge (apt-get install slurm-wlm munge, as .ci/run does)`;
  return null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitFor(what: string, ok: () => boolean, logs: string[], timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (ok()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not come up in ${timeoutMs / 1000} s:\n${logs.map((l) => `--- ${l}\n${tail(l)}`).join('\n')}`);
}

export async function startSlurm(): Promise<SlurmCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-slurm-'));
  fs.chmodSync(dir, 0o755); // munged wants every directory above its socket searchable
  for (const d of ['state', 'spool', 'log']) fs.mkdirSync(path.join(dir, d));
  const children: ChildProcess[] = [];
  const daemon = (program: string, args: string[], log: string) => {
    const out = fs.openSync(path.join(dir, 'log', log), 'a');
    const child = spawn(program, args, { cwd: dir, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    children.push(child);
    return child;
  };
  const stop = async () => {
    for (const child of [...children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const key = path.join(dir, 'munge.key');
    const socket = path.join(dir, 'munge.socket');
    const made = spawnSync('mungekey', ['--create', `--keyfile=${key}`], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`mungekey failed: ${made.stderr}`);
    daemon('munged', ['--foreground', '--force', `--socket=${socket}`, `--key-file=${key}`, `--pid-file=${dir}/munged.pid`,
      `--seed-file=${dir}/munged.seed`, `--log-file=${dir}/log/munged.log`], 'munged.out');
    await waitFor('munged', () => fs.existsSync(socket), [`${dir}/log/munged.out`]);

    const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
    const host = os.hostname().split('.')[0];
    const cpus = os.cpus().length;
    const conf = path.join(dir, 'slurm.conf');
    fs.writeFileSync(conf, [
      'ClusterName=klplab',
      `SlurmctldHost=${host}(127.0.0.1)`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${slurmdPort}`,
      'SlurmUser=root',
      'SlurmdUser=root',
      'AuthType=auth/munge',
      `AuthInfo=socket=${socket}`,
      'CredType=cred/munge',
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      'JobCompType=jobcomp/none',
      'MpiDefault=none',
      'SchedulerType=sched/builtin',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_CPU',
      'ReturnToService=2',
      `StateSaveLocation=${dir}/state`,
      `SlurmdSpoolDir=${dir}/spool`,
      `SlurmctldPidFile=${dir}/slurmctld.pid`,
      `SlurmdPidFile=${dir}/slurmd.pid`,
      `SlurmctldLogFile=${dir}/log/slurmctld.log`,
      `SlurmdLogFile=${dir}/log/slurmd.log`,
      `NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} State=UNKNOWN`,
      'PartitionName=study Nodes=ALL Default=YES MaxTime=INFINITE State=UP',
      '',
    ].join('\n'));
    const env = { ...process.env, SLURM_CONF: conf };
    daemon('slurmctld', ['-D', '-f', conf], 'slurmctld.out');
    daemon('slurmd', ['-D', '-f', conf, '-N', host], 'slurmd.out');
    const logs = [`${dir}/log/slurmctld.log`, `${dir}/log/slurmd.log`, `${dir}/log/slurmd.out`];
    await waitFor('the Slurm node', () => {
      const r = spawnSync('sinfo', ['--noheader', '--format=%t'], { env, encoding: 'utf8' });
      return r.status === 0 && r.stdout.trim() === 'idle';
    }, logs);
    const run = (command: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
      const r = spawnSync(command, args, { env: { ...env, ...extraEnv }, cwd: dir, encoding: 'utf8', timeout: 240_000 });
      if (r.status !== 0) {
        throw new Error(`${command} ${args.join(' ')} failed (status ${r.status}):\n${r.stdout}${r.stderr}\n${logs.map((l) => `--- ${l}\n${tail(l)}`).join('\n')}`);
      }
      return r.stdout;
    };
    return { dir, env, run, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
