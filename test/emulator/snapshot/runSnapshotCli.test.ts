// `klp-lab run IMAGE --snapshot-save T FILE` then `klp-lab run [IMAGE] --snapshot-restore FILE`:
// the restored run prints the rest of the uninterrupted run's console and ends with its status;
// a bad snapshot file is one line and status 1.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCommand } from '../../../cli/commands/run';
import { UserError, describeFailure } from '../../../cli/userError';
import { TraceFile } from '../../../emulator/trace/traceReader';
import { FIXTURES } from '../../helpers/fixtures';

const KERNEL = path.join(FIXTURES, 'kernel', 'kernel.elf');
const HELLO = path.join(FIXTURES, 'boot', 'hello.elf');

function invoke(args: Record<string, unknown>): { out: string; err: string; status: number | undefined } {
  let out = '', err = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { out += Buffer.from(s as Uint8Array).toString('latin1'); return true; });
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => { err += String(s); return true; });
  const saved = process.exitCode;
  process.exitCode = undefined;
  try {
    (runCommand.handler as (a: unknown) => void)({ 'max-insns': 1e10, seed: 1, ...args });
    return { out, err, status: process.exitCode as number | undefined };
  } finally {
    o.mockRestore(); e.mockRestore();
    process.exitCode = saved;
  }
}

/** The one line a failing command prints, as cli/main.ts prints it. */
function failure(args: Record<string, unknown>): string {
  let err: unknown = null;
  try { invoke(args); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(UserError);
  const { message, status } = describeFailure(err);
  expect(status).toBe(1);
  expect(message).not.toMatch(/\n|internal error/);
  return message;
}

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-snapshot-cli-')); });
afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }); });

test('save at 12ms, restore: the rest of the same console and the same exit status', () => {
  const file = path.join(dir, 'k.snap');
  const whole = invoke({ image: KERNEL });
  const saving = invoke({ image: KERNEL, 'snapshot-save': ['12ms', file] });
  expect(saving.out).toBe(whole.out);
  expect(saving.status).toBe(whole.status);
  expect(saving.err).toMatch(/^klp-lab: snapshot at 12000000 ns of virtual time \(\d+ instructions\) written to .*k\.snap \(\d+ bytes\)\n$/);
  expect(whole.out).toContain('all checks passed');
  for (const image of [undefined, KERNEL]) {
    const restored = invoke({ image, 'snapshot-restore': file });
    expect(restored.out.length).toBeGreaterThan(100);
    expect(restored.out.length).toBeLessThan(whole.out.length);
    expect(whole.out.endsWith(restored.out)).toBe(true);
    expect(restored.status).toBe(whole.status);
    expect(restored.err).toBe('');
  }
  // --max-insns counts from the restore; the report counts the machine's instructions since boot.
  const atSnapshot = Number(/\((\d+) instructions\)/.exec(saving.err)![1]);
  const limited = invoke({ 'snapshot-restore': file, 'max-insns': 1000 });
  expect(limited.status).toBe(2);
  expect(limited.err).toMatch(new RegExp(`instruction limit reached after ${atSnapshot + 1000} instructions`));
}, 60000);

/** A trace's instructions and events from retired instruction `from` on, one string each. */
function traceItems(file: string, from: number): string[] {
  const out: string[] = [];
  TraceFile.parse(fs.readFileSync(file), file).forEach((it) => {
    if (it.icount < from) return;
    out.push(it.kind === 'insn' ? `${it.icount} ${it.va} ${it.task?.pid}` : `${it.icount} ${it.name} ${it.vector} ${it.va} ${it.task?.pid}`);
  });
  return out;
}

test('the restored run records the same trace as the saving run from the snapshot on', () => {
  const file = path.join(dir, 't.snap'), a = path.join(dir, 'a.trace'), b = path.join(dir, 'b.trace');
  const saving = invoke({ image: KERNEL, 'snapshot-save': ['20ms', file], trace: a });
  const restored = invoke({ image: KERNEL, 'snapshot-restore': file, trace: b });
  expect(restored.status).toBe(saving.status);
  const atSnapshot = Number(/\((\d+) instructions\)/.exec(saving.err)![1]);
  const after = traceItems(a, atSnapshot);
  expect(after.length).toBeGreaterThan(50_000);
  expect(after.filter((x) => x.split(' ').length === 5).length).toBeGreaterThan(10); // interrupts and exceptions
  // A trace knows the current task from its first block on: an event before it has none yet.
  const restoredItems = traceItems(b, 0);
  const untasked = (x: string) => x.replace(/ \S+$/, '');
  expect(untasked(restoredItems[0])).toBe(untasked(after[0]));
  expect(restoredItems.slice(1)).toEqual(after.slice(1));
}, 120000);

test('bad snapshot files and arguments: one line, status 1, no file left behind', () => {
  const file = path.join(dir, 'good.snap');
  invoke({ image: KERNEL, 'snapshot-save': ['2000000', file], 'max-insns': 3_000_000 });
  const good = fs.readFileSync(file);
  const bad = path.join(dir, 'bad.snap');
  fs.writeFileSync(bad, good.subarray(0, good.length - 1));
  expect(failure({ 'snapshot-restore': bad })).toMatch(/bad\.snap: snapshot checksum mismatch/);
  fs.writeFileSync(bad, 'hello');
  expect(failure({ 'snapshot-restore': bad })).toMatch(/bad\.snap: not a klp-lab snapshot/);
  expect(failure({ 'snapshot-restore': path.join(dir, 'missing.snap') })).toMatch(/missing\.snap: No such file/);
  expect(failure({ image: HELLO, 'snapshot-restore': file })).toMatch(/good\.snap: the snapshot is of another image \(kernel\.elf/);
  expect(failure({})).toMatch(/name an IMAGE/);
  expect(failure({ 'snapshot-restore': file, trace: path.join(dir, 't.trace') })).toMatch(/need the IMAGE/);
  expect(failure({ image: KERNEL, 'snapshot-save': ['soon', path.join(dir, 'x.snap')] })).toMatch(/--snapshot-save takes a virtual time/);
  expect(failure({ image: KERNEL, 'snapshot-save': ['1ms'] })).toMatch(/--snapshot-save takes a virtual time and a file/);
  // The guest exits before T: the console and status of the run, then the one-line refusal, no file.
  const late = path.join(dir, 'late.snap');
  expect(failure({ image: HELLO, 'snapshot-save': ['5s', late] })).toMatch(/the run ended at \d+ ns of virtual time \(guest exit status \d+\), before 5000000000: no snapshot written/);
  expect(fs.existsSync(late)).toBe(false);
  expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
}, 60000);
