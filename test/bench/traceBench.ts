// bench/traceBench.ts: what `klp-lab run --trace FILE` costs on the fixture kernel (scale=4, about 32
// million instructions): MIPS without and with the binary trace, alternating runs in one process so
// both see the same JIT state, the median of each; the trace's size per million instructions; and how
// fast `klp-lab trace` reads it back (records walked, instructions expanded).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ElfFile } from '../../elf/elfFile';
import { Machine } from '../../emulator/machine';
import { loadPvh } from '../../emulator/loader/pvh';
import { TraceWriter } from '../../emulator/trace/traceWriter';
import { traceTaskSource } from '../../emulator/trace/traceTasks';
import { TraceFile } from '../../emulator/trace/traceReader';

function findRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

const ROUNDS = 5;

function once(bytes: Uint8Array, file: string | null): { mips: number; instructions: number; bytes: number } {
  const m = new Machine({ onConsole: () => undefined });
  loadPvh(m, bytes, 'kernel.elf', 'scale=4');
  const w = file === null ? null : TraceWriter.start(m, file, { imageName: 'kernel.elf', ...(traceTaskSource(ElfFile.parse(bytes, 'kernel.elf'), m) ?? {}) });
  const t0 = process.hrtime.bigint();
  const r = m.run();
  const s = w === null ? null : w.finish(m.describeStop(r));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { mips: m.instructions / ms / 1000, instructions: m.instructions, bytes: s?.bytes ?? 0 };
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export function run(): void {
  const bytes = fs.readFileSync(path.join(findRoot(), 'fixtures', 'kernel', 'kernel.elf'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-trace-bench-'));
  const file = path.join(dir, 'kernel.trace');
  try {
    once(bytes, null); // warm-up
    const plain: number[] = [], traced: number[] = [];
    let last = { mips: 0, instructions: 0, bytes: 0 };
    for (let i = 0; i < ROUNDS; i++) {
      plain.push(once(bytes, null).mips);
      last = once(bytes, file);
      traced.push(last.mips);
    }
    const p = median(plain), t = median(traced);
    console.log(`kernel.elf scale=4, ${last.instructions} instructions, median of ${ROUNDS}: ${p.toFixed(1)} MIPS plain, ` +
      `${t.toFixed(1)} MIPS with --trace FILE (${((1 - t / p) * 100).toFixed(1)}% slower)`);
    console.log(`trace file: ${last.bytes} bytes = ${(last.bytes / last.instructions).toFixed(3)} bytes per instruction, ` +
      `${(last.bytes / last.instructions).toFixed(2)} MB per million instructions`);
    const t0 = process.hrtime.bigint();
    const trace = TraceFile.parse(fs.readFileSync(file), file);
    const totals = trace.validate();
    const t1 = process.hrtime.bigint();
    let n = 0;
    trace.forEach((it) => { if (it.kind === 'insn') n++; });
    const t2 = process.hrtime.bigint();
    console.log(`reading: ${totals.records} records checked in ${(Number(t1 - t0) / 1e6).toFixed(0)} ms; ` +
      `${n} instructions expanded in ${(Number(t2 - t1) / 1e6).toFixed(0)} ms`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
