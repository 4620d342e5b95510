// objtool over a whole module tree: every module of Debian's Linux 6.1 cloud kernel package
// (fetched by package name, ORC sections stripped with objcopy, cached under .klp-tmp/),
// klp-lab in one process (`klp-lab objtool --jobs N ... DIR`) against Linux 6.1's objtool run
// once per file (`xargs -P N -n 1`, as a build runs it), both on N = this machine's CPUs.
//
// Each round works on fresh copies of the stripped tree (the copying is not timed); the two
// tools alternate, so a change in machine load hits both alike. Printed: wall time of each
// run, CPU time (user + system of the whole process tree, from GNU time when present), the
// median ratio ours/C, and whether the two printed the same lines. Benchmarks print; they
// never pass or fail on time. Run: npm run bench -- objtoolTree

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO_ROOT } from '../helpers/fixtures';
import { allModules, debianModuleTree, linuxObjtoolOrFetch, stripOrcInto } from '../objtool/debianModules';

const ARGS = ['--orc', '--uaccess', '--sls', '--module'];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const GNU_TIME = '/usr/bin/time';

interface Timed {
  ms: number;
  cpuMs: number;
  stderr: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[s.length >> 1] : NaN;
}

/** Runs a command under GNU time (when present) and returns wall ms, CPU ms and its stderr without time's line. */
function timed(cmd: string, args: string[], cwd: string, input?: string): Timed {
  const useTime = fs.existsSync(GNU_TIME);
  const t0 = process.hrtime.bigint();
  const r = useTime
    ? spawnSync(GNU_TIME, ['-f', 'TIME %U %S', cmd, ...args], { cwd, input, encoding: 'utf8', maxBuffer: 1 << 28 })
    : spawnSync(cmd, args, { cwd, input, encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error) throw r.error;
  let stderr = r.stderr;
  let cpuMs = NaN;
  if (useTime) {
    const lines = stderr.split('\n');
    const i = lines.map((l) => l.startsWith('TIME ')).lastIndexOf(true);
    if (i >= 0) {
      const [, u, s] = lines[i].split(' ');
      cpuMs = (Number(u) + Number(s)) * 1000;
      lines.splice(i, 1);
      stderr = lines.join('\n');
    }
  }
  return { ms, cpuMs, stderr };
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toFixed(0).padStart(7) : '      -';
}

export function run(): void {
  const jobs = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const cli = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');
  const real = linuxObjtoolOrFetch();
  const { pkg, kernelDir } = debianModuleTree();
  const modules = allModules(kernelDir);
  const stripped = path.join(REPO_ROOT, '.klp-tmp', 'bench', `${pkg}-stripped`);
  if (!fs.existsSync(stripped)) {
    const temp = `${stripped}.${process.pid}.tmp`;
    stripOrcInto(kernelDir, modules, temp);
    fs.renameSync(temp, stripped);
  }
  const bytes = modules.reduce((n, m) => n + fs.statSync(path.join(stripped, m)).size, 0);
  console.log(`${pkg}: ${modules.length} modules, ${(bytes / 1048576).toFixed(1)} MiB (ORC stripped); objtool ${ARGS.join(' ')}; ${jobs} jobs each`);
  console.log(`node ${process.version}; load average before: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} on ${os.cpus().length} CPUs`);

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'objtool-tree-bench-'));
  const list = modules.map((m) => `./${m}`).join('\0');
  const ours: Timed[] = [];
  const theirs: Timed[] = [];
  let same = true;
  try {
    console.log('round   C wall   C CPU   ours wall   ours CPU   ratio (wall)');
    for (let i = 0; i < ROUNDS; i++) {
      const a = path.join(work, `c${i}`);
      const b = path.join(work, `k${i}`);
      fs.cpSync(stripped, a, { recursive: true });
      fs.cpSync(stripped, b, { recursive: true });
      // Alternate which goes first.
      const runC = (): Timed => timed('xargs', ['-0', '-P', String(jobs), '-n', '1', real, ...ARGS], a, list);
      const runOurs = (): Timed => timed(process.execPath, [cli, 'objtool', '--jobs', String(jobs), ...ARGS, '.'], b);
      let c: Timed;
      let k: Timed;
      if (i % 2 === 0) {
        c = runC();
        k = runOurs();
      } else {
        k = runOurs();
        c = runC();
      }
      theirs.push(c);
      ours.push(k);
      // xargs -P interleaves the C tool's lines; compare them as sets of lines.
      const sorted = (s: string): string => s.split('\n').filter((l) => l).sort().join('\n');
      if (sorted(c.stderr) !== sorted(k.stderr)) same = false;
      console.log(`${String(i + 1).padStart(5)} ${fmt(c.ms)} ${fmt(c.cpuMs)} ${fmt(k.ms).padStart(11)} ${fmt(k.cpuMs).padStart(10)}   ${(k.ms / c.ms).toFixed(2)}x`);
      fs.rmSync(a, { recursive: true, force: true });
      fs.rmSync(b, { recursive: true, force: true });
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const cw = median(theirs.map((t) => t.ms));
  const kw = median(ours.map((t) => t.ms));
  const cc = median(theirs.map((t) => t.cpuMs));
  const kc = median(ours.map((t) => t.cpuMs));
  console.log(`median: Linux 6.1 objtool ${cw.toFixed(0)} ms wall, ${cc.toFixed(0)} ms CPU; klp-lab ${kw.toFixed(0)} ms wall, ${kc.toFixed(0)} ms CPU`);
  console.log(`ratio ours/C: wall ${(kw / cw).toFixed(2)}x (target at most 1.00x, moonshot 0.50x), CPU ${(kc / cc).toFixed(2)}x`);
  console.log(`same warning lines as the C tool: ${same ? 'yes' : 'NO'}`);
  console.log(`load average after: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
}

if (require.main === module) run();
