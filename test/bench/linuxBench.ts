// bench/linuxBench.ts: the real-Linux boot (Debian's 6.1 cloud kernel with the busybox initramfs,
// test/helpers/linux) in klp-lab and in QEMU on the same run: klp-lab's wall time and MIPS to
// "Run /init as init process" and to the end of the scenario, QEMU's wall time (a fresh run, with
// icount, whole process), the interpreter's boot to /init (in a fresh process of its own), and the
// ratios. Prints; never passes or fails on time.
// Usage: npm run bench -- linux
import * as os from 'os';
import { spawnSync } from 'child_process';
import { linuxFixture } from '../helpers/linux/linuxFixture';
import { qemuLinuxConsole } from '../helpers/linux/qemuLinux';
import { bootLinux, describeStop } from '../../livepatch/linux/linuxBoot';
import { setJitDefault } from '../../emulator/jit/jitDefault';
import type { Machine } from '../../emulator/machine';

/** CPU seconds of this process (all threads: V8 optimizes on background threads) since `from`. */
function cpuSince(from: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1e6;
}

export function run(): void {
  const f = linuxFixture();
  console.log(`${f.kernel.package} ${f.kernel.version}; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const q = qemuLinuxConsole(f, undefined, { fresh: true });
  let initAt: ToInit | null = null;
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  let machine: { cpu: { icount: number } } | null = null;
  const k = bootLinux(f.kernel.vmlinux, f.initramfs, {
    onLine: (line) => {
      if (initAt === null && line.includes('Run /init as init process') && machine !== null) {
        initAt = { instructions: machine.cpu.icount, seconds: Number(process.hrtime.bigint() - t0) / 1e9, cpu: cpuSince(c0) };
      }
    },
    onMachine: (m) => { machine = m; },
  });
  const init = initAt as ToInit | null;
  if (init !== null) {
    console.log(`to /init:  klp-lab ${init.seconds.toFixed(1)} s for ${(init.instructions / 1e6).toFixed(0)} M instructions = ${(init.instructions / init.seconds / 1e6).toFixed(1)} MIPS` +
      `; ${init.cpu.toFixed(1)} s of CPU = ${(init.instructions / init.cpu / 1e6).toFixed(1)} MIPS per CPU-second`);
  } else console.log('to /init:  not reached');
  console.log(`to end:    klp-lab ${k.seconds.toFixed(1)} s for ${(k.instructions / 1e6).toFixed(0)} M instructions = ${(k.instructions / k.seconds / 1e6).toFixed(1)} MIPS (${describeStop(k.result)})`);
  console.log(`QEMU (TCG, icount, whole process): ${q.seconds.toFixed(1)} s to the end; klp-lab/QEMU ratio ${(k.seconds / q.seconds).toFixed(1)}x` +
    (init !== null ? ` (to /init alone klp-lab takes ${(init.seconds / q.seconds).toFixed(1)}x QEMU's whole run)` : ''));
  // The interpreter (--no-jit) to /init only: the JIT's gain on the real-Linux boot. In a process of
  // its own: after the JIT's boot in this one, V8's code for the run loop and the handlers carries the
  // JIT run's feedback, and the interpreter ran 15% slower than in a fresh process.
  const ai = interpreterToInit();
  if (ai !== null) {
    console.log(`to /init, interpreter (--no-jit, a fresh process): ${ai.seconds.toFixed(1)} s for ${(ai.instructions / 1e6).toFixed(0)} M instructions = ` +
      `${(ai.instructions / ai.seconds / 1e6).toFixed(1)} MIPS; ${ai.cpu.toFixed(1)} s of CPU` +
      (init !== null ? `; JIT/interpreter speed ratio ${(ai.seconds / init.seconds).toFixed(2)}x wall, ${(ai.cpu / init.cpu).toFixed(2)}x CPU` : ''));
  } else console.log('to /init, interpreter: not reached');
  // QEMU's speed on the same work: with -icount it retires the same instructions as klp-lab's run
  // to the end (virtual time counts them), so its MIPS is that count over its whole process time.
  const qMips = k.instructions / q.seconds / 1e6;
  const jitMips = init !== null ? init.instructions / init.seconds / 1e6 : NaN;
  const interpMips = ai !== null ? ai.instructions / ai.seconds / 1e6 : NaN;
  console.log(`QEMU TCG: ${(k.instructions / 1e6).toFixed(0)} M instructions in ${q.seconds.toFixed(1)} s = ${qMips.toFixed(0)} MIPS; ` +
    `klp-lab/QEMU speed to /init: JIT ${(jitMips / qMips).toFixed(3)}x, interpreter ${(interpMips / qMips).toFixed(3)}x`);
}

interface ToInit { instructions: number; seconds: number; cpu: number }

/** The interpreter's boot to /init, measured in a child process (this file with --interpreter-to-init). */
function interpreterToInit(): ToInit | null {
  const r = spawnSync(process.execPath, [__filename, '--interpreter-to-init'], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`the interpreter's boot failed: ${(r.stderr ?? '').trim().split('\n').pop()}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as ToInit | null;
}

/** In the child: boot with the interpreter until "Run /init", print the figures as JSON. */
function bootInterpreterToInit(): void {
  const f = linuxFixture();
  setJitDefault(false);
  let m: Machine | null = null;
  let at: ToInit | null = null;
  const t1 = process.hrtime.bigint();
  const c1 = process.cpuUsage();
  bootLinux(f.kernel.vmlinux, f.initramfs, {
    onMachine: (x) => { m = x; },
    onLine: (line) => {
      if (at === null && m !== null && line.includes('Run /init as init process')) {
        at = { instructions: m.cpu.icount, seconds: Number(process.hrtime.bigint() - t1) / 1e9, cpu: cpuSince(c1) };
        m.stop('reached /init');
      }
    },
  });
  console.log(JSON.stringify(at));
}

if (require.main === module) {
  if (process.argv.includes('--interpreter-to-init')) bootInterpreterToInit();
  else run();
}
