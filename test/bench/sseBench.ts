// bench/sseBench.ts: the cost of SSE instructions in the emulator. Each loop runs one kind of SSE
// instruction (8 per iteration, plus DEC/JNZ) from a direct 64-bit start; its MIPS is printed beside
// an integer loop of the same shape (ADD) measured in the same run, as a ratio, and the same loop's
// time on the host CPU (compiled with gcc when present) gives the ratio against native execution.
// Never run from tests. Usage: node dist/test/bench/sseBench.js
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { Code, Encoder, Instruction, Register } from 'iced-x86';
import { Machine, STOP_EXIT } from '../../emulator/machine';
import { startDirect64 } from '../../emulator/loader/direct64';

const ITER = 200000;
const X = (n: number): Register => (Register.XMM0 + n) as Register;

interface Loop { name: string; asm: string; body: () => Instruction[]; xmm?: number[] }
const pairs = (code: Code): Instruction[] => [0, 2, 4, 6, 8, 10, 12, 14].map((r) => Instruction.createRegReg(code, X(r), X(r + 1)));
const ONE = 0x3ff00000; // 1.0 in a binary64 high word (+1: 1 + 2^-20)

const LOOPS: Loop[] = [
  { name: 'add r64 (integer reference)', asm: 'add %%r8, %%r9',
    body: () => [0, 1, 2, 3, 4, 5, 6, 7].map(() => Instruction.createRegReg(Code.Add_rm64_r64, Register.R9, Register.R8)) },
  { name: 'paddd', asm: 'paddd %%xmm1, %%xmm0', body: () => pairs(Code.Paddd_xmm_xmmm128) },
  { name: 'addsd', asm: 'addsd %%xmm1, %%xmm0', body: () => pairs(Code.Addsd_xmm_xmmm64) },
  { name: 'mulpd', asm: 'mulpd %%xmm1, %%xmm0', body: () => pairs(Code.Mulpd_xmm_xmmm128) },
  { name: 'addps', asm: 'addps %%xmm1, %%xmm0', body: () => pairs(Code.Addps_xmm_xmmm128) },
  { name: 'divsd', asm: 'divsd %%xmm1, %%xmm0', body: () => pairs(Code.Divsd_xmm_xmmm64) },
  { name: 'sqrtsd', asm: 'sqrtsd %%xmm1, %%xmm0', body: () => pairs(Code.Sqrtsd_xmm_xmmm64) },
  { name: 'cvtsi2sd', asm: 'cvtsi2sd %%rax, %%xmm0',
    body: () => [0, 1, 2, 3, 4, 5, 6, 7].map((r) => Instruction.createRegReg(Code.Cvtsi2sd_xmm_rm64, X(r), Register.RAX)) },
];

function machineFor(loop: Loop): Machine {
  const enc = new Encoder(64);
  const base = 0x100000;
  const insns = [Instruction.createRegU32(Code.Mov_r32_imm32, Register.ECX, ITER), ...loop.body(),
    Instruction.createReg(Code.Dec_rm32, Register.ECX)];
  let at = base, top = 0;
  for (const [i, insn] of insns.entries()) { if (i === 1) top = at; at += enc.encode(insn, BigInt(at)); insn.free(); }
  const jnz = Instruction.createBranch(Code.Jne_rel32_64, BigInt(top));
  at += enc.encode(jnz, BigInt(at)); jnz.free();
  const code = Uint8Array.from([...enc.takeBuffer(), 0xb0, 0x00, 0xe6, 0xf4]); // mov al, 0; out 0xf4, al
  const m = new Machine({ memory: 16 << 20 });
  startDirect64(m, { code: Buffer.from(code) });
  const x = m.cpu.regs.xmm;
  // Operands that keep every lane a normal number for the whole loop (the common case, not the
  // special-value paths): binary64 lanes 1 + 2^-20, binary32 lanes 1 + 2^-20.
  const single = /ps$/.test(loop.name);
  for (let r = 0; r < 16; r++) {
    for (let i = 0; i < 4; i += 2) {
      if (single) { x[r * 4 + i] = 0x3f800008; x[r * 4 + i + 1] = 0x3f800008; } else { x[r * 4 + i] = 0; x[r * 4 + i + 1] = ONE + 1; }
    }
  }
  m.regWrite('rax', 12345n);
  return m;
}

function emulatorMs(loop: Loop): { ms: number; insns: number } {
  const m = machineFor(loop);
  const t0 = process.hrtime.bigint();
  const r = m.run(1e10);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.reason !== STOP_EXIT) throw new Error(`${loop.name}: did not exit (${m.describeStop(r)})`);
  return { ms, insns: r.instructions };
}

/** ns per instruction on the host CPU for each loop (gcc inline asm), or null without gcc. */
function hostNs(): number[] | null {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ssebench-'));
  try {
    const fns = LOOPS.map((l, i) => `static void f${i}(void) { for (long k = 0; k < 20000000; k++) __asm__ volatile(` +
      `${JSON.stringify(`${l.asm}\n\t`.repeat(8))} ::: "xmm0", "r9", "memory"); }`).join('\n');
    const src = `#include <stdio.h>\n#include <time.h>\n${fns}\nstatic double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }\n` +
      `int main(void) { void (*f[])(void) = { ${LOOPS.map((_, i) => `f${i}`).join(', ')} };\n` +
      `  __asm__ volatile("mov $1, %%r8d\\n\\tmov $12345, %%eax\\n\\tpcmpeqd %%xmm1, %%xmm1\\n\\tpsrlq $2, %%xmm1\\n\\tmovapd %%xmm1, %%xmm0" ::: "r8", "rax", "xmm0", "xmm1");\n` +
      `  for (unsigned i = 0; i < sizeof f / sizeof f[0]; i++) { double t = now(); f[i](); printf("%f\\n", (now() - t) / 160000000.0); } return 0; }\n`;
    fs.writeFileSync(path.join(dir, 'b.c'), src);
    const cc = spawnSync('gcc', ['-O1', '-o', path.join(dir, 'b'), path.join(dir, 'b.c')], { encoding: 'utf8' });
    if (cc.status !== 0) return null;
    const r = spawnSync(path.join(dir, 'b'), [], { encoding: 'utf8' });
    return r.stdout.trim().split('\n').map(Number);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function run(): void {
  console.log(`host: ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  for (const l of LOOPS) emulatorMs(l); // warm-up (JIT)
  const ours = LOOPS.map((l) => emulatorMs(l));
  const host = hostNs();
  const ref = ours[0].insns / ours[0].ms;
  for (const [i, l] of LOOPS.entries()) {
    const o = ours[i], mips = o.insns / o.ms / 1000, nsPer = (o.ms * 1e6) / o.insns;
    const vsHost = host ? `, ${(nsPer / host[i]).toFixed(0)}x the host CPU (${host[i].toFixed(2)} ns)` : '';
    console.log(`${l.name.padEnd(28)} ${mips.toFixed(1).padStart(6)} MIPS, ${(o.insns / o.ms / ref).toFixed(2)}x the integer loop's rate${vsHost}`);
  }
  if (host === null) console.log('gcc not available: no host ratio');
}

if (require.main === module) run();
