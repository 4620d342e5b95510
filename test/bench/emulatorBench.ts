// bench/emulatorBench.ts: MIPS (retired guest instructions per second) on CPU-bound guests, and the
// ratio to QEMU's wall time on the same PVH image when qemu-system-x86_64 is installed.
//   - fixtures/emu/bench.bin: hand-written loop (loads, stores, ALU, rotate, call/ret, imul), direct 64-bit start
//   - fixtures/emu/cpubench.elf: C (sieve, CRC-32, insertion sort, 64-bit mul/div) booted through PVH
// Also prints a host-speed calibration (ns per iteration of a fixed JS loop) and the load average, because
// this machine is shared: figures taken under load are not comparable with figures taken idle.
// Never run from tests. Usage: node dist/bench/emulatorBench.js
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { Machine, STOP_EXIT } from '../../emulator/machine';
import { startDirect64 } from '../../emulator/loader/direct64';
import { loadPvh } from '../../emulator/loader/pvh';

/** The repository root (this file runs from bench/ under ts-node/jest or from dist/bench/ when built). */
function findRoot(): string {
  for (let d = __dirname; d !== path.dirname(d); d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'fixtures', 'emu', 'bench.bin'))) return d;
  }
  return process.cwd();
}
const ROOT = findRoot();

export interface BenchFigure { name: string; instructions: number; ms: number; mips: number; cpuMs: number; cpuMips: number }

function timed(name: string, m: Machine): BenchFigure {
  const t0 = process.hrtime.bigint();
  const u0 = process.cpuUsage();
  const r = m.run(1e10);
  const u = process.cpuUsage(u0);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpuMs = (u.user + u.system) / 1000;
  if (r.reason !== STOP_EXIT) throw new Error(`${name}: guest did not exit: ${m.describeStop(r)}`);
  return { name, instructions: r.instructions, ms, mips: r.instructions / ms / 1000, cpuMs, cpuMips: r.instructions / cpuMs / 1000 };
}

export function benchLoop(): BenchFigure {
  const m = new Machine({ memory: 16 << 20 });
  startDirect64(m, { code: fs.readFileSync(path.join(ROOT, 'fixtures', 'emu', 'bench.bin')) });
  m.cpu.cr4 |= 0x200;
  return timed('bench.bin (direct 64-bit)', m);
}

export function benchCpubench(): BenchFigure {
  const image = path.join(ROOT, 'fixtures', 'emu', 'cpubench.elf');
  const m = new Machine();
  loadPvh(m, fs.readFileSync(image), image);
  return timed('cpubench.elf (PVH boot)', m);
}

/** The fixture kernel (multitasking, user tasks, timer): a realistic mix, when it exists. */
export function benchKernel(): BenchFigure | null {
  const image = path.join(ROOT, 'fixtures', 'kernel', 'kernel.elf');
  if (!fs.existsSync(image)) return null;
  const m = new Machine();
  loadPvh(m, fs.readFileSync(image), image);
  return timed('kernel.elf (fixture kernel)', m);
}

/** Wall time of QEMU (TCG) on the same image, or null when QEMU is not installed. */
export function qemuMs(image: string): number | null {
  const args = ['-machine', 'q35', '-accel', 'tcg', '-cpu', 'max', '-m', '128', '-smp', '1', '-display', 'none',
    '-no-reboot', '-monitor', 'none', '-serial', 'null', '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-kernel', image];
  const t0 = process.hrtime.bigint();
  const r = spawnSync('qemu-system-x86_64', args, { stdio: 'ignore', timeout: 60000 });
  if (r.error) return null;
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** ns per iteration of a fixed integer JS loop: a rough host-speed index for comparing runs. */
export function calibrate(): number {
  let s = 0;
  const n = 5e7;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) s = (s + i * 3) | 0;
  const ns = Number(process.hrtime.bigint() - t0) / n;
  if (s === 42) console.log('');
  return ns;
}

export function run(): void {
  console.log(`host: ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}, ` +
    `calibration ${calibrate().toFixed(2)} ns/loop iteration (lower is faster)`);
  benchLoop(); benchCpubench(); // warm-up (JIT)
  const figures = [benchLoop(), benchLoop(), benchCpubench(), benchCpubench()];
  const k = benchKernel();
  if (k !== null) figures.push(k);
  for (const f of figures) {
    console.log(`${f.name.padEnd(28)} ${String(f.instructions).padStart(10)} instructions in ${f.ms.toFixed(0).padStart(6)} ms wall = ${f.mips.toFixed(1)} MIPS; ` +
      `${f.cpuMs.toFixed(0)} ms CPU = ${f.cpuMips.toFixed(1)} MIPS per CPU-second`);
  }
  const best = Math.max(...figures.map((f) => f.mips));
  const bestCpu = Math.max(...figures.map((f) => f.cpuMips));
  console.log(`best: ${best.toFixed(1)} MIPS wall, ${bestCpu.toFixed(1)} MIPS per CPU-second (first target: 30 MIPS)`);
  const image = path.join(ROOT, 'fixtures', 'emu', 'cpubench.elf');
  const q = qemuMs(image);
  const ours = Math.min(...figures.filter((f) => f.name.startsWith('cpubench')).map((f) => f.ms));
  if (q === null) console.log('qemu-system-x86_64 not installed: no QEMU ratio');
  else console.log(`cpubench.elf: klp-lab ${ours.toFixed(0)} ms, QEMU (TCG, whole process incl. start-up) ${q.toFixed(0)} ms, ratio ${(ours / q).toFixed(1)}x`);
  console.log(`calibration after: ${calibrate().toFixed(2)} ns/loop iteration, load average ${os.loadavg()[0].toFixed(2)}`);
}

if (require.main === module) run();
