// Shared by the trace tests: a traced run of an image (the writer on the fast, chained/compiled path)
// and a reference run of the same image that watches every instruction with a code hook (the hooked,
// one-instruction-at-a-time path) and every delivery with an interrupt hook. The emulator is
// deterministic, so both runs execute the same instructions.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ElfFile } from '../../../elf/elfFile';
import { Machine, HOOK_CODE, HOOK_INTR, type MachineOptions, type RunResult } from '../../../emulator/machine';
import { loadPvh } from '../../../emulator/loader/pvh';
import { TraceWriter, type TraceSummary } from '../../../emulator/trace/traceWriter';
import { traceTaskSource } from '../../../emulator/trace/traceTasks';
import { TraceFile, type TraceItem } from '../../../emulator/trace/traceReader';
import { FIXTURES } from '../../helpers/fixtures';

export const KERNEL = path.join(FIXTURES, 'kernel', 'kernel.elf');

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'klp-trace-'));
}

export interface TracedRun { m: Machine; elf: ElfFile; result: RunResult; summary: TraceSummary; file: string }

export function tracedRun(image: string, insns: number, file: string, opts: MachineOptions & { withCodeHook?: boolean } = {}): TracedRun {
  const bytes = fs.readFileSync(image);
  const m = new Machine({ onConsole: () => undefined, ...opts });
  loadPvh(m, bytes, image);
  const elf = ElfFile.parse(bytes, image);
  const w = TraceWriter.start(m, file, { imageName: image, ...(traceTaskSource(elf, m) ?? {}) });
  if (opts.withCodeHook) m.hookAdd(HOOK_CODE, () => undefined);
  const result = m.run(insns);
  return { m, elf, result, summary: w.finish(m.describeStop(result)), file };
}

export interface ReferenceDelivery { icount: number; vector: number; errorCode: number; rip: number; cr2: number | null }

/** Retired instructions as [icount, address] pairs, and every delivery, seen by hooks. */
export function referenceRun(image: string, insns: number, opts: MachineOptions = {}): { insns: number[]; deliveries: ReferenceDelivery[]; m: Machine } {
  const bytes = fs.readFileSync(image);
  const m = new Machine({ onConsole: () => undefined, ...opts });
  loadPvh(m, bytes, image);
  const c = m.cpu;
  const out: number[] = [];
  const deliveries: ReferenceDelivery[] = [];
  m.hookAdd(HOOK_CODE, (a: number) => {
    const ic = c.icount - c.idleNs;
    // The hook runs before an instruction even if it then faults; the next hook at the same count
    // (the handler's first instruction) is the one that retired there.
    if (out.length > 0 && out[out.length - 2] === ic) out[out.length - 1] = a;
    else out.push(ic, a);
  });
  m.hookAdd(HOOK_INTR, (vector: number, errorCode: number) => {
    deliveries.push({ icount: c.icount - c.idleNs, vector, errorCode, rip: c.rip, cr2: vector === 14 ? c.cr2 : null });
  });
  m.run(insns);
  return { insns: out, deliveries, m };
}

export function readTrace(file: string): { items: TraceItem[]; trace: TraceFile } {
  const trace = TraceFile.parse(fs.readFileSync(file), file);
  const items: TraceItem[] = [];
  trace.forEach((it) => { items.push(it); });
  return { items, trace };
}

/** First index where two flat arrays differ (-1: equal). */
export function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}
