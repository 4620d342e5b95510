// bench/startupBench.ts: the whole `klp-lab run IMAGE` process on the empty benchmark image
// (fixtures/emu/empty.elf, a PVH image whose first instruction exits through isa-debug-exit), against
// the whole `qemu-system-x86_64 ... -kernel IMAGE` process on the same image. Both are spawned the
// same number of times, alternating, and timed from spawn to exit; the figures are min/median/max wall
// milliseconds and the ratio of the medians. Node's own start-up (`node -e 0`) is printed beside them
// as the floor that no change in klp-lab can go below.
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

/** Wall milliseconds of one process from spawn to exit; throws unless it exits with `status`. */
function timeProcess(cmd: string, args: string[], status: number): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60000 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error) throw r.error;
  if (r.status !== status) throw new Error(`${cmd} ${args.join(' ')}: exit status ${r.status}, expected ${status}: ${r.stderr}`);
  return ms;
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
  const ours = () => timeProcess(process.execPath, [main, 'run', image], 1);
  const qemuArgs = ['-machine', 'q35', '-accel', 'tcg', '-cpu', 'max', '-m', '128', '-smp', '1', '-display', 'none',
    '-no-reboot', '-monitor', 'none', '-serial', 'null', '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-kernel', image];
  const qemu = qemuInstalled() ? () => timeProcess('qemu-system-x86_64', qemuArgs, 1) : null;
  const nodeFloor = () => timeProcess(process.execPath, ['-e', '0'], 0);

  console.log(`host: ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; ${rounds} rounds each, alternating`);
  ours(); nodeFloor(); if (qemu) qemu(); // warm the page cache
  const k: number[] = [], q: number[] = [], n: number[] = [];
  for (let i = 0; i < rounds; i++) {
    k.push(ours());
    if (qemu) q.push(qemu());
    n.push(nodeFloor());
  }
  const ks = spread(k), ns = spread(n);
  console.log(`klp-lab run empty.elf        ${show(ks)}`);
  console.log(`node -e 0 (floor)            ${show(ns)}`);
  if (qemu === null) {
    console.log('qemu-system-x86_64 not installed: no QEMU ratio');
    return;
  }
  const qs = spread(q);
  console.log(`qemu-system-x86_64 -kernel   ${show(qs)}`);
  console.log(`ratio klp-lab / QEMU: ${(ks.median / qs.median).toFixed(2)}x median (${(ks.min / qs.min).toFixed(2)}x min, ${(ks.max / qs.max).toFixed(2)}x max); ` +
    `target: klp-lab at most 300 ms`);
  console.log(`load average after: ${os.loadavg()[0].toFixed(2)}`);
}

if (require.main === module) run();
