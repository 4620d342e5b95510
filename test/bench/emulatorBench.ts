// bench/emulatorBench.ts: MIPS (retired guest instructions per second) on CPU-bound guests, and the
// ratio to QEMU's wall time on the same PVH image when qemu-system-x86_64 is installed.
//   - fixtures/emu/bench.bin: hand-written loop (loads, stores, ALU, rotate, call/ret, imul), direct 64-bit start
//   - fixtures/emu/cpubench.elf: C (sieve, CRC-32, insertion sort, 64-bit mul/div) booted through PVH
//   - fixtures/emu/cpubench-long.elf: the same for 60 rounds, for the ratio to QEMU
//   - fixtures/kernel/kernel.elf: the fixture kernel (QEMU with -icount shift=0,sleep=off)
// Each with the JIT and with the interpreter (MachineOptions.jit = false, --no-jit).
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

/** MachineOptions.jit for a bench run (true: the default JIT; false: the interpreter, --no-jit). */
export function benchLoop(jit = true): BenchFigure {
  const m = new Machine({ memory: 16 << 20, jit });
  startDirect64(m, { code: fs.readFileSync(path.join(ROOT, 'fixtures', 'emu', 'bench.bin')) });
  m.cpu.cr4 |= 0x200;
  return timed('bench.bin (direct 64-bit)', m);
}

export const CPUBENCH = path.join(ROOT, 'fixtures', 'emu', 'cpubench.elf');
export const KERNEL = path.join(ROOT, 'fixtures', 'kernel', 'kernel.elf');

export const CPUBENCH_LONG = path.join(ROOT, 'fixtures', 'emu', 'cpubench-long.elf');

export function benchCpubench(jit = true, image = CPUBENCH): BenchFigure {
  const m = new Machine({ jit });
  loadPvh(m, fs.readFileSync(image), image);
  return timed(`${path.basename(image)} (PVH boot)`, m);
}

/** The fixture kernel (multitasking, user tasks, timer): a realistic mix, when it exists. */
export function benchKernel(jit = true): BenchFigure | null {
  if (!fs.existsSync(KERNEL)) return null;
  const m = new Machine({ jit });
  loadPvh(m, fs.readFileSync(KERNEL), KERNEL);
  return timed('kernel.elf (fixture kernel)', m);
}

/**
 * Wall time of QEMU (TCG) on an image, or null when QEMU is not installed. `icount` runs it as the
 * fixture kernel's reference runs (-icount shift=0,sleep=off: virtual time counts instructions, idle
 * time is skipped), which a timer-driven guest needs to do the same work as in klp-lab.
 */
export function qemuMs(image: string, icount = false): number | null {
  const args = ['-machine', 'q35', '-accel', 'tcg', '-cpu', 'max', '-m', '128', '-smp', '1', '-display', 'none',
    '-no-reboot', '-monitor', 'none', '-serial', 'null', '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-kernel', image];
  if (icount) args.push('-icount', 'shift=0,sleep=off');
  const t0 = process.hrtime.bigint();
  const r = spawnSync('qemu-system-x86_64', args, { stdio: 'ignore', timeout: 60000 });
  if (r.error) return null;
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Best of `n` QEMU runs minus the best start-up (a guest that exits at once: fixtures/boot/hello.elf). */
function qemuNetMs(image: string, icount: boolean, n = 3): { net: number; whole: number; startup: number } | null {
  const hello = path.join(ROOT, 'fixtures', 'boot', 'hello.elf');
  const whole: number[] = [], startup: number[] = [];
  for (let i = 0; i < n; i++) {
    const w = qemuMs(image, icount), s = qemuMs(hello, icount);
    if (w === null || s === null) return null;
    whole.push(w); startup.push(s);
  }
  const w = Math.min(...whole), s = Math.min(...startup);
  return { net: Math.max(1, w - s), whole: w, startup: s };
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

function line(f: BenchFigure, mode: string): string {
  return `${f.name.padEnd(28)} ${mode.padEnd(11)} ${String(f.instructions).padStart(10)} instructions in ${f.ms.toFixed(0).padStart(6)} ms wall = ` +
    `${f.mips.toFixed(1).padStart(6)} MIPS; ${f.cpuMs.toFixed(0)} ms CPU = ${f.cpuMips.toFixed(1)} MIPS per CPU-second`;
}

function best(a: BenchFigure, b: BenchFigure): BenchFigure { return a.ms <= b.ms ? a : b; }

export function run(): void {
  console.log(`host: ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}, ` +
    `calibration ${calibrate().toFixed(2)} ns/loop iteration (lower is faster)`);
  benchLoop(); benchCpubench(); // warm-up (V8)
  const rows: { jit: BenchFigure; interp: BenchFigure; image: string | null }[] = [];
  rows.push({ jit: best(benchLoop(), benchLoop()), interp: benchLoop(false), image: null });
  rows.push({ jit: best(benchCpubench(), benchCpubench()), interp: benchCpubench(false), image: null });
  // Long enough (about 165 M instructions) that QEMU's start-up is a small part of its time.
  rows.push({ jit: benchCpubench(true, CPUBENCH_LONG), interp: benchCpubench(false, CPUBENCH_LONG), image: CPUBENCH_LONG });
  const k1 = benchKernel(), k2 = benchKernel(), kInterp = benchKernel(false);
  if (k1 !== null && k2 !== null && kInterp !== null) rows.push({ jit: best(k1, k2), interp: kInterp, image: KERNEL });
  // Warm: what each run of a study costs once V8 has optimized both modes' code (and the JIT's
  // translations are shared): best of three more runs in each mode.
  const warm = (jit: boolean): BenchFigure | null => {
    let b: BenchFigure | null = null;
    for (let i = 0; i < 3; i++) { const f = benchKernel(jit); if (f !== null && (b === null || f.ms < b.ms)) b = f; }
    return b === null ? null : { ...b, name: 'kernel.elf warm (best of 3)' };
  };
  const kWarm = warm(true), kWarmInterp = warm(false);
  if (kWarm !== null && kWarmInterp !== null) rows.push({ jit: kWarm, interp: kWarmInterp, image: null });
  for (const r of rows) {
    console.log(line(r.jit, 'JIT'));
    console.log(line(r.interp, 'interpreter'));
    console.log(`${''.padEnd(28)} JIT/interpreter speed ratio ${(r.interp.ms / r.jit.ms).toFixed(2)}x`);
  }
  for (const r of rows) {
    if (r.image === null) continue;
    const icount = r.image === KERNEL;
    const q = qemuNetMs(r.image, icount);
    if (q === null) { console.log('qemu-system-x86_64 not installed: no QEMU ratio'); break; }
    const qMips = r.jit.instructions / q.net / 1000;
    console.log(`${path.basename(r.image)}: QEMU TCG${icount ? ' -icount shift=0,sleep=off' : ''} ${q.whole.toFixed(0)} ms whole, ` +
      `${q.startup.toFixed(0)} ms start-up (hello.elf), ${q.net.toFixed(0)} ms net = ${qMips.toFixed(0)} MIPS; ` +
      `klp-lab/QEMU speed: JIT ${(r.jit.mips / qMips).toFixed(3)}x, interpreter ${(r.interp.mips / qMips).toFixed(3)}x`);
  }
  console.log(`calibration after: ${calibrate().toFixed(2)} ns/loop iteration, load average ${os.loadavg()[0].toFixed(2)}`);
}

if (require.main === module) run();
