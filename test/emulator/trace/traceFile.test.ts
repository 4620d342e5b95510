// The trace file as a file: bad and truncated files are refused with one line, never half-read; the
// writer replaces FILE atomically and leaves nothing behind when the run or a write fails.
import * as fs from 'fs';
import * as path from 'path';
import { FIXTURES } from '../../helpers/fixtures';
import { Machine } from '../../../emulator/machine';
import { loadPvh } from '../../../emulator/loader/pvh';
import { TraceFile } from '../../../emulator/trace/traceReader';
import { TraceFormatError, TAG_BLOCK_SHORT, TAG_BLOCK_DEF, TAG_END, TAG_TASK, putVarint, putI64 } from '../../../emulator/trace/traceFormat';
import { TraceWriter, TraceWriteError } from '../../../emulator/trace/traceWriter';
import { KERNEL, tempDir, tracedRun } from './traceRun';

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const good = path.join(dir, 'exceptions.trace');
const run = tracedRun(path.join(FIXTURES, 'boot', 'exceptions.elf'), 1e8, good);
const bytes = fs.readFileSync(good);

function problem(b: Uint8Array): string {
  try {
    TraceFile.parse(b, 'x.trace').validate();
  } catch (e) {
    expect(e).toBeInstanceOf(TraceFormatError);
    const msg = (e as Error).message;
    expect(msg.split('\n').length).toBe(1);
    return msg;
  }
  return 'accepted';
}

test('the good file reads back with the counts the writer reported', () => {
  const t = TraceFile.parse(bytes, good);
  expect(t.validate().instructions).toBe(run.summary.instructions);
  expect(t.validate().records).toBe(run.summary.records);
  expect(bytes.length).toBe(run.summary.bytes);
  expect(t.header.imageName).toBe(path.join(FIXTURES, 'boot', 'exceptions.elf'));
});

test('every proper prefix of a trace is refused as truncated', () => {
  const cuts = new Set<number>([0, 1, 5, 8, 11, 20, bytes.length - 1, bytes.length - 2, bytes.length - 5]);
  for (let at = 13; at < bytes.length; at += 97) cuts.add(at);
  for (const at of [...cuts].sort((a, b) => a - b)) {
    const msg = problem(bytes.subarray(0, at));
    expect({ at, msg }).toEqual({ at, msg: at === 0 ? 'x.trace: not a klp-lab trace file (bad magic)' : expect.stringMatching(/^x\.trace: truncated trace: /) });
  }
});

/** A hand-made trace: header, then the given records, then END with the right record count. */
function synthetic(records: number[][], timed: number): Uint8Array {
  const buf = new Uint8Array(4096);
  let p = 0;
  for (const ch of 'KLPTRACE') buf[p++] = ch.charCodeAt(0);
  buf[p++] = 1; buf[p++] = 0; buf[p++] = 0; buf[p++] = 0;
  p = putVarint(buf, p, 0);
  p = putVarint(buf, p, 0);
  p += 32;
  for (const r of records) { buf.set(r, p); p += r.length; }
  buf[p++] = TAG_END; p = putVarint(buf, p, 0); p = putVarint(buf, p, timed); p = putVarint(buf, p, 0);
  return buf.subarray(0, p);
}

/** BLOCK_DEF of block `id`: `n` one-byte NOPs at 0x1000. */
function nops(id: number, n: number): number[] {
  const b = new Uint8Array(64);
  let p = 0;
  b[p++] = TAG_BLOCK_DEF; p = putVarint(b, p, id); p = putI64(b, p, 0x1000); b[p++] = 64; p = putVarint(b, p, n);
  for (let i = 0; i < n; i++) b[p++] = 1;
  for (let i = 0; i < n; i++) b[p++] = 0x90;
  return [...b.subarray(0, p)];
}

test('hand-made traces: well formed, then each consistency check', () => {
  const ok = synthetic([nops(0, 3), [TAG_BLOCK_SHORT | 0, 0], [TAG_BLOCK_SHORT | 3, 0]], 2);
  expect(problem(ok)).toBe('accepted');
  const t = TraceFile.parse(ok, 'x.trace');
  const seen: string[] = [];
  t.forEach((it) => { seen.push(`${it.kind} ${it.icount} ${it.va.toString(16)}`); });
  // END says nothing ran after the second entry: its block contributes no instruction.
  expect(seen).toEqual(['insn 0 1000', 'insn 1 1001', 'insn 2 1002']);
  expect(problem(synthetic([nops(0, 3), [TAG_BLOCK_SHORT | 0, 5]], 1))).toMatch(/^x\.trace: bad trace: block 5 used before it is described \(offset 0x[0-9a-f]+\)$/);
  expect(problem(synthetic([nops(0, 3), [TAG_BLOCK_SHORT | 0, 0], [TAG_BLOCK_SHORT | 4, 0]], 2)))
    .toMatch(/^x\.trace: bad trace: 4 instructions counted for block 0 of 3 instructions \(offset 0x[0-9a-f]+\)$/);
  expect(problem(synthetic([nops(1, 3)], 0))).toMatch(/^x\.trace: bad trace: block 1 described out of order \(expected 0\)/);
  expect(problem(synthetic([nops(0, 3), [TAG_BLOCK_SHORT | 0, 0]], 7))).toMatch(/^x\.trace: bad trace: END says 7 records, the file has 1/);
  expect(problem(synthetic([[TAG_BLOCK_SHORT | 2, 0]], 1))).toMatch(/^x\.trace: bad trace: block 0 used before it is described/);
  expect(problem(synthetic([[TAG_TASK, 3, 0, 0, 0, 0, 0, 0, 0, 0]], 1))).toMatch(/^x\.trace: bad trace: 3 instructions retired outside any block/);
});

test('wrong magic, an unknown version, data after END, a corrupt record: one line each', () => {
  expect(problem(Buffer.from('ELF\x7fthis is not a trace at all'))).toBe('x.trace: not a klp-lab trace file (bad magic)');
  const v2 = Buffer.from(bytes); v2[8] = 2;
  expect(problem(v2)).toBe('x.trace: trace format version 2 (this klp-lab reads version 1)');
  expect(problem(Buffer.concat([bytes, Buffer.from([0x80, 0])]))).toMatch(/^x\.trace: bad trace: data after the END record \(offset 0x[0-9a-f]+\)$/);
  const headerEnd = 8 + 4 + 1 + 1 + bytes[13] + 32;
  const unknown = Buffer.from(bytes); unknown[headerEnd] = 0x42;
  expect(problem(unknown)).toBe(`x.trace: bad trace: unknown record tag 0x42 (offset 0x${headerEnd.toString(16)})`);
});

function boot(): Machine {
  const m = new Machine({ onConsole: () => undefined });
  loadPvh(m, fs.readFileSync(KERNEL), KERNEL);
  return m;
}

function leftovers(): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'));
}

test('FILE is replaced only when the trace is complete; abort leaves it as it was', () => {
  const file = path.join(dir, 'replace.trace');
  fs.writeFileSync(file, 'old contents');
  const m = boot();
  const w = TraceWriter.start(m, file, {});
  m.run(100_000);
  expect(fs.readFileSync(file, 'utf8')).toBe('old contents');
  expect(leftovers().length).toBe(1);
  w.abort();
  expect(fs.readFileSync(file, 'utf8')).toBe('old contents');
  expect(leftovers()).toEqual([]);
  expect(m.blockObserver).toBeNull();

  const w2 = TraceWriter.start(m, file, {});
  m.run(100_000);
  const s = w2.finish('done');
  expect(s.instructions).toBe(100_000);
  expect(TraceFile.parse(fs.readFileSync(file), file).validate().instructions).toBe(100_000);
  expect(leftovers()).toEqual([]);
});

test('a write that fails in the middle of the run stops it with one line and leaves no file', () => {
  const file = path.join(dir, 'full-disk.trace');
  const m = boot();
  const w = TraceWriter.start(m, file, { bufferBytes: 1 << 16 });
  // The file goes away under the writer (as a full disk or a lost mount would fail its writes).
  fs.closeSync((w as unknown as { fd: number }).fd);
  expect(() => m.run(2_000_000)).toThrow(new TraceWriteError(`${file}: writing the trace failed (EBADF); no file was written`));
  expect(fs.existsSync(file)).toBe(false);
  expect(leftovers()).toEqual([]);
  expect(m.blockObserver).toBeNull();
  expect(() => w.finish('x')).toThrow(TraceWriteError);
});

test('a trace into a directory that does not exist is refused at the start', () => {
  const file = path.join(dir, 'no', 'such', 'dir.trace');
  expect(() => TraceWriter.start(boot(), file, {})).toThrow(new TraceWriteError(`${file}: cannot write the trace (ENOENT)`));
});
