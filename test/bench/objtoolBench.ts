// objtool speed and memory beside Linux 6.1's objtool, in the same run, on the largest corpus
// objects: the three largest big-* objects and huge.o (a 10 MB relocatable link with 4.3 MB of
// text, committed gzipped), where Node's start-up is amortised.
//
// For each object, medians of several runs on a fresh copy:
// - process: `node dist/cli/main.js objtool --stackval --orc` and the C binary as child
//   processes: wall time (measured here), CPU time (user + system) and peak RSS (GNU time's
//   %U %S %M, when /usr/bin/time exists; its CPU figures have 10 ms resolution) — what a build
//   would see, Node start-up included;
// - warm in-process: runObjtool() after a warm-up run, CPU time — the steady-state cost of the
//   port itself, set against the C tool's CPU time (its wall time below 100 ms, where GNU
//   time's 10 ms ticks say little; the C tool is single-threaded, so the two agree).
// Ratios are ours / C. Benchmarks print; they never pass or fail on time.
// Run: npm run bench -- objtool [objtool-binary]

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gunzipSync } from 'zlib';
import * as C from '../../elf/constants';
import { ElfFile } from '../../elf/elfFile';
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
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

interface ProcRun {
  ms: number;
  /** user + system CPU of the child (GNU time) */
  cpuMs: number;
  /** peak RSS in KiB (GNU time), NaN if unknown */
  kb: number;
}

const GNU_TIME = '/usr/bin/time';

/** One child-process run on a fresh copy of `bytes` named `name` in `work`. */
function runProcess(cmd: string, args: string[], bytes: Buffer, name: string, work: string): ProcRun {
  fs.writeFileSync(path.join(work, name), bytes);
  const timed = fs.existsSync(GNU_TIME);
  const t0 = process.hrtime.bigint();
  const r = timed
    ? spawnSync(GNU_TIME, ['-f', '%U %S %M', cmd, ...args, name], { cwd: work, encoding: 'latin1', maxBuffer: 1 << 28 })
    : spawnSync(cmd, [...args, name], { cwd: work, maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (!timed) return { ms, cpuMs: NaN, kb: NaN };
  const lines = String(r.stderr || '').trim().split('\n');
  const [u, sy, m] = lines[lines.length - 1].split(' ').map(Number);
  return { ms, cpuMs: (u + sy) * 1000, kb: m || NaN };
}

function summary(runs: ProcRun[]): ProcRun {
  return { ms: median(runs.map((r) => r.ms)), cpuMs: median(runs.map((r) => r.cpuMs)), kb: median(runs.map((r) => r.kb)) };
}

function cell(v: number, digits = 0): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '-';
}
function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : '-';
}

/** The bench objects, largest first: the three largest plain objects, then the packed ones. */
function benchObjects(): { name: string; bytes: Buffer }[] {
  const plain = fs.readdirSync(OBJ).filter((f) => f.endsWith('.o'))
    .map((f) => ({ name: f, size: fs.statSync(path.join(OBJ, f)).size }))
    .sort((a, b) => b.size - a.size)
    .slice(0, 3)
    .map(({ name }) => ({ name, bytes: fs.readFileSync(path.join(OBJ, name)) }));
  const packed = fs.readdirSync(OBJ).filter((f) => f.endsWith('.o.gz'))
    .map((f) => ({ name: f.slice(0, -3), bytes: gunzipSync(fs.readFileSync(path.join(OBJ, f))) }));
  return [...plain, ...packed];
}

export function run(): void {
  const real = process.argv.find((a) => a.endsWith('/objtool') && fs.existsSync(a)) ?? linuxObjtool61();
  const cli = path.join(ROOT, 'dist', 'cli', 'main.js');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'objtool-bench-'));
  console.log(`load average: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} on ${os.cpus().length} CPUs; node ${process.version}`);
  if (!real) console.log('Linux 6.1 objtool not found (set OBJTOOL, or run .ci/run once): ours only');
  if (!fs.existsSync(GNU_TIME)) console.log('no /usr/bin/time: CPU time and peak RSS of the processes unknown');
  const node = process.execPath;
  try {
    for (const { name, bytes } of benchObjects()) {
      const rounds = bytes.length > 4 << 20 ? 3 : 7;
      const file = path.join(work, name);
      fs.writeFileSync(file, bytes);
      const stats = runObjtool(['--stackval', '--stats', '--dry-run', name], {}, work).stdout;
      const insns = /nr_insns: (\d+)/.exec(stats)?.[1] ?? '?';
      const elf = ElfFile.parse(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), name);
      const text = elf.sections.filter((s) => s.flags & C.SHF_EXECINSTR).reduce((n, s) => n + s.size, 0);
      console.log(`\n${name}: ${(bytes.length / 1024).toFixed(0)} KiB (${(text / 1024).toFixed(0)} KiB of text), ${insns} instructions, objtool ${ARGS.join(' ')}`);

      // Warm in-process CPU: one warm-up run, then `rounds` measured ones.
      const warm: number[] = [];
      for (let i = 0; i <= rounds; i++) {
        fs.writeFileSync(file, bytes);
        const c0 = process.cpuUsage();
        runObjtool([...ARGS, name], {}, work);
        const c = process.cpuUsage(c0);
        if (i > 0) warm.push((c.user + c.system) / 1000);
      }
      // Child processes, interleaved so that a change in machine load hits both alike.
      const ours: ProcRun[] = [];
      const theirs: ProcRun[] = [];
      for (let i = 0; i < rounds; i++) {
        if (fs.existsSync(cli)) ours.push(runProcess(node, [cli, 'objtool', ...ARGS], bytes, name, work));
        if (real) theirs.push(runProcess(real, ARGS, bytes, name, work));
      }
      const o = summary(ours);
      const t = summary(theirs);
      const w = median(warm);
      console.log('                               wall ms   CPU ms   peak RSS MiB');
      if (real) console.log(`  Linux 6.1 objtool          ${cell(t.ms).padStart(8)} ${cell(t.cpuMs).padStart(8)} ${cell(t.kb / 1024, 1).padStart(14)}`);
      if (ours.length) console.log(`  klp-lab objtool process    ${cell(o.ms).padStart(8)} ${cell(o.cpuMs).padStart(8)} ${cell(o.kb / 1024, 1).padStart(14)}`);
      else console.log(`  klp-lab objtool process: ${cli} not built (npm run build)`);
      console.log(`  klp-lab warm, in-process          ${cell(w, 1).padStart(8)}`);
      if (real && ours.length) {
        const cCpu = t.cpuMs >= 100 ? t.cpuMs : t.ms;
        console.log(`  ratio (ours/C): process wall ${ratio(o.ms, t.ms)}, CPU ${ratio(o.cpuMs, cCpu)}, peak RSS ${ratio(o.kb, t.kb)}; ` +
          `warm in-process CPU ${ratio(w, cCpu)}`);
      }
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) run();
