// bench/startupBench.ts: the whole `klp-lab run IMAGE` process on the empty benchmark image
// (fixtures/emu/empty.elf, a PVH image whose first instruction exits through isa-debug-exit), against
// the whole `qemu-system-x86_64 ... -kernel IMAGE` process on the same image. Both are spawned the
// same number of times, alternating, and timed from spawn to exit; the figures are min/median/max wall
// milliseconds and the ratio of the medians, with the average CPU time (user + system) of each
// process, which a loaded machine disturbs less. Node's own start-up (`node -e 0`) is printed beside
// them as the floor that no change in klp-lab can go below.
// Usage: npm run bench startup (or node dist/test/bench/startupBench.js [ROUNDS]).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';

const DEFAULT_ROUNDS = 15;

function findRoot(): string {
  for (let d = __dirname; d !== path.dirname(d); d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'fixtures', 'emu', 'empty.elf')) && fs.existsSync(path.join(d, 'package.json'))) return d;
  }
  throw new Error('cannot find the repository root (fixtures/emu/empty.elf)');
}

interface Spread { min: number; median: number; max: number }

function spread(xs: number[]): Spread {
  const s = xs.slice().sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
}

const show = (s: Spread) => `min ${s.min.toFixed(0)} / median ${s.median.toFixed(0)} / max ${s.max.toFixed(0)} ms`;

/**
 * CPU milliseconds (user + system) of this process's waited-for children so far, from
 * /proc/self/stat (Linux; null elsewhere). Less sensitive than wall time to a shared machine's load.
 */
function childrenCpuMs(): number | null {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 16 and 17 of proc(5) (cutime, cstime), counted from field 3 here; in clock ticks (USER_HZ = 100).
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return null;
  }
}

interface Timing { wall: number[]; cpuMs: number }

/** Times one more process into `t` (wall ms from spawn to exit, and CPU); throws unless it exits with `status`. */
function timeProcess(t: Timing, cmd: string, args: string[], status: number): void {
  const c0 = childrenCpuMs();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60000 });
  t.wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
  const c1 = childrenCpuMs();
  t.cpuMs += c0 === null || c1 === null ? NaN : c1 - c0;
  if (r.error) throw r.error;
  if (r.status !== status) throw new Error(`${cmd} ${args.join(' ')}: exit status ${r.status}, expected ${status}: ${r.stderr}`);
}

function qemuInstalled(): boolean {
  return !spawnSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' }).error;
}

export function run(): void {
  const rounds = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? DEFAULT_ROUNDS);
  const root = findRoot();
  const image = path.join(root, 'fixtures', 'emu', 'empty.elf');
  const main = path.join(root, 'dist', 'cli', 'main.js');
  // The guest writes 0 to port 0xF4: status (0 << 1) | 1 = 1 for both.
  const qemuArgs = ['-machine', 'q35', '-accel', 'tcg', '-cpu', 'max', '-m', '128', '-smp', '1', '-display', 'none',
    '-no-reboot', '-monitor', 'none', '-serial', 'null', '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-kernel', image];
  const haveQemu = qemuInstalled();
  const k: Timing = { wall: [], cpuMs: 0 }, q: Timing = { wall: [], cpuMs: 0 }, n: Timing = { wall: [], cpuMs: 0 };
  const ours = (t: Timing) => timeProcess(t, process.execPath, [main, 'run', image], 1);
  const qemu = (t: Timing) => timeProcess(t, 'qemu-system-x86_64', qemuArgs, 1);
  const nodeFloor = (t: Timing) => timeProcess(t, process.execPath, ['-e', '0'], 0);

  console.log(`host: ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; ${rounds} rounds each, alternating`);
  // Warm the page cache (and klp-lab's code cache, as any second run finds it).
  const warm: Timing = { wall: [], cpuMs: 0 };
  ours(warm); nodeFloor(warm); if (haveQemu) qemu(warm);
  for (let i = 0; i < rounds; i++) {
    ours(k);
    if (haveQemu) qemu(q);
    nodeFloor(n);
  }
  const cpu = (t: Timing) => Number.isFinite(t.cpuMs) ? `; CPU ${(t.cpuMs / rounds).toFixed(0)} ms a run` : '';
  const ks = spread(k.wall), ns = spread(n.wall);
  console.log(`klp-lab run empty.elf        ${show(ks)}${cpu(k)}`);
  console.log(`node -e 0 (floor)            ${show(ns)}${cpu(n)}`);
  if (!haveQemu) {
    console.log('qemu-system-x86_64 not installed: no QEMU ratio');
    return;
  }
  const qs = spread(q.wall);
  console.log(`qemu-system-x86_64 -kernel   ${show(qs)}${cpu(q)}`);
  console.log(`ratio klp-lab / QEMU: ${(ks.median / qs.median).toFixed(2)}x median (${(ks.min / qs.min).toFixed(2)}x min, ${(ks.max / qs.max).toFixed(2)}x max)` +
    `${Number.isFinite(k.cpuMs) ? `, ${(k.cpuMs / q.cpuMs).toFixed(2)}x CPU` : ''}; target: klp-lab at most 300 ms`);
  console.log(`load average after: ${os.loadavg()[0].toFixed(2)}`);
}

if (require.main === module) run();
