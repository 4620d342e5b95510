// objtool speed and memory beside Linux 6.1's objtool on the largest corpus objects.
//
// Two figures per object, each the median of several runs on a fresh copy:
// - process: `node dist/cli/main.js objtool --stackval --orc` as a child process against the
//   C binary, wall time and peak RSS (GNU time's %M when /usr/bin/time exists) — what a build
//   would see, Node start-up and iced-x86's wasm warm-up included;
// - in-process: runObjtool() after a warm-up run, CPU time — the steady-state cost of the
//   port itself.
// The ratio is ours / C. Benchmarks print; they never pass or fail on time.
// Run: npm run build && node dist/bench/objtoolBench.js [objtool-binary]

import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runObjtool } from '../../objtool/objtool';
import { linuxObjtool61 } from '../helpers/linuxObjtool';

const ROOT = findRoot(__dirname);
const OBJ = path.join(ROOT, 'fixtures', 'objtool', 'obj');
const ARGS = ['--stackval', '--orc'];

function findRoot(dir: string): string {
  for (let d = dir; d !== path.dirname(d); d = path.dirname(d)) if (fs.existsSync(path.join(d, 'package.json'))) return d;
  return process.cwd();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

interface ProcRun {
  ms: number;
  /** user + system CPU of the child (GNU time), less disturbed by a loaded machine */
  cpuMs: number;
  kb: number;
}

function haveGnuTime(): boolean {
  return fs.existsSync('/usr/bin/time');
}

/** One child-process run on a fresh copy: wall ms and peak RSS in KiB (0 if unknown). */
function runProcess(cmd: string, args: string[], obj: string, work: string): ProcRun {
  const file = path.join(work, path.basename(obj));
  fs.copyFileSync(obj, file);
  const t0 = process.hrtime.bigint();
  let kb = 0;
  let cpuMs = NaN;
  if (haveGnuTime()) {
    const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', cmd, ...args, path.basename(obj)], { cwd: work, encoding: 'utf8' });
    const lines = (r.stderr || '').trim().split('\n');
    const [u, sy, m] = lines[lines.length - 1].split(' ').map(Number);
    cpuMs = (u + sy) * 1000;
    kb = m || 0;
  } else {
    spawnSync(cmd, [...args, path.basename(obj)], { cwd: work });
  }
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, cpuMs, kb };
}

export function run(): void {
  const real = process.argv.find((a) => a.endsWith('/objtool') && fs.existsSync(a)) ?? linuxObjtool61();
  const cli = path.join(ROOT, 'dist', 'cli', 'main.js');
  const objects = fs.readdirSync(OBJ).filter((f) => f.endsWith('.o'))
    .map((f) => ({ f, size: fs.statSync(path.join(OBJ, f)).size }))
    .sort((a, b) => b.size - a.size)
    .slice(0, 3);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'objtool-bench-'));
  const rounds = 7;
  console.log(`load average: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} on ${os.cpus().length} CPUs`);
  if (!real) console.log('Linux 6.1 objtool not found (set OBJTOOL, or run .ci/run once); ours only');
  for (const { f, size } of objects) {
    const obj = path.join(OBJ, f);
    const insns = Number(execFileSync('sh', ['-c', `objdump -d ${obj} 2>/dev/null | grep -c '^ ' || true`], { encoding: 'utf8' }).trim()) || 0;
    console.log(`\n${f}: ${(size / 1024).toFixed(0)} KiB, ${insns} instructions, objtool ${ARGS.join(' ')}`);
    // In-process steady state.
    const file = path.join(work, f);
    const cpu: number[] = [];
    for (let i = 0; i <= rounds; i++) {
      fs.copyFileSync(obj, file);
      const c0 = process.cpuUsage();
      runObjtool([...ARGS, f], {}, work);
      const c = process.cpuUsage(c0);
      if (i > 0) cpu.push((c.user + c.system) / 1000);
    }
    const ours: ProcRun[] = [];
    const bare: ProcRun[] = [];
    const theirs: ProcRun[] = [];
    const mod = path.join(ROOT, 'dist', 'objtool', 'objtool.js');
    const script = `const r = require(${JSON.stringify(mod)}).runObjtool(process.argv.slice(1)); process.exitCode = r.status;`;
    for (let i = 0; i < rounds; i++) {
      if (fs.existsSync(cli)) ours.push(runProcess(process.execPath, [cli, 'objtool', ...ARGS], obj, work));
      if (fs.existsSync(mod)) bare.push(runProcess(process.execPath, ['-e', script, '--', ...ARGS], obj, work));
      if (real) theirs.push(runProcess(real, ARGS, obj, work));
    }
    const oursMs = ours.length ? median(ours.map((r) => r.ms)) : NaN;
    const oursKb = ours.length ? median(ours.map((r) => r.kb)) : NaN;
    console.log(`  in-process (warm): ${median(cpu).toFixed(1)} ms CPU`);
    const oursCpu = ours.length ? median(ours.map((r) => r.cpuMs)) : NaN;
    if (ours.length) console.log(`  klp-lab objtool process: ${oursMs.toFixed(1)} ms wall, ${oursCpu.toFixed(0)} ms CPU, ${(oursKb / 1024).toFixed(1)} MiB peak RSS`);
    else console.log(`  klp-lab objtool process: ${cli} not built (npm run build)`);
    const bareMs = bare.length ? median(bare.map((r) => r.ms)) : NaN;
    const bareCpu = bare.length ? median(bare.map((r) => r.cpuMs)) : NaN;
    const bareKb = bare.length ? median(bare.map((r) => r.kb)) : NaN;
    if (bare.length) console.log(`  objtool module alone (node -e, no CLI): ${bareMs.toFixed(1)} ms wall, ${bareCpu.toFixed(0)} ms CPU, ${(bareKb / 1024).toFixed(1)} MiB peak RSS`);
    if (theirs.length) {
      const ms = median(theirs.map((r) => r.ms));
      const kb = median(theirs.map((r) => r.kb));
      const cpuC = median(theirs.map((r) => r.cpuMs));
      console.log(`  Linux 6.1 objtool:       ${ms.toFixed(1)} ms wall, ${cpuC.toFixed(0)} ms CPU, ${(kb / 1024).toFixed(1)} MiB peak RSS`);
      if (ours.length) {
        console.log(`  ratio (ours/C): CLI process wall ${(oursMs / ms).toFixed(2)}x, CPU ${(oursCpu / Math.max(cpuC, 1)).toFixed(2)}x, ` +
          `peak memory ${(oursKb / kb).toFixed(2)}x; module process wall ${(bareMs / ms).toFixed(2)}x; ` +
          `warm in-process CPU vs C wall ${(median(cpu) / ms).toFixed(2)}x (GNU time's CPU figures have 10 ms resolution)`);
      }
    }
  }
  fs.rmSync(work, { recursive: true, force: true });
}

if (require.main === module) run();
