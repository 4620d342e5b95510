// `klp-lab run IMAGE --trace FILE` then `klp-lab trace FILE ...`, through the built command line:
// the console is unchanged by tracing, the filters print what they promise, bad input is one line.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { FIXTURES, REPO_ROOT } from '../helpers/fixtures';

jest.setTimeout(120_000);

const MAIN = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');
const KERNEL = path.join(FIXTURES, 'kernel', 'kernel.elf');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-trace-cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function klp(...args: string[]): { out: string; err: string; status: number | null } {
  const r = spawnSync('node', [MAIN, ...args], { maxBuffer: 1 << 30 });
  return { out: r.stdout.toString('latin1'), err: r.stderr.toString(), status: r.status };
}

const kernelTrace = path.join(dir, 'kernel.trace');
const traced = klp('run', KERNEL, '--trace', kernelTrace);

test('run --trace FILE: same console and status as without, one line about the trace', () => {
  const plain = klp('run', KERNEL);
  expect(traced.out).toBe(plain.out);
  expect(traced.status).toBe(plain.status);
  expect(traced.err).toMatch(new RegExp(`^klp-lab: trace of \\d+ instructions written to ${kernelTrace.replace(/[.]/g, '\\.')} \\(\\d+ bytes\\)\n$`));
  expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
});

test('trace --image --from SYMBOL: that function\'s instructions, symbolized and disassembled', () => {
  const r = klp('trace', kernelTrace, '--image', KERNEL, '--from', 'chain_a4');
  expect(r.status).toBe(0);
  const lines = r.out.trimEnd().split('\n');
  expect(lines.length).toBeGreaterThan(20);
  for (const l of lines) expect(l).toMatch(/^ +\d+  5 kworker\/chain-a +ffffffff[0-9a-f]{8} chain_a4\+0x[0-9a-f]+\/0x30 +\S/);
  // its first instruction, the -mfentry call
  expect(lines[0]).toMatch(/ chain_a4\+0x0\/0x30 +call 0xffffffff[0-9a-f]+$/);
  const limited = klp('trace', kernelTrace, '--image', KERNEL, '--from', 'chain_a4', '--limit', '3');
  expect(limited.out.trimEnd().split('\n')).toEqual(lines.slice(0, 3));
  // the same range as hexadecimal addresses, without symbols
  const m = / ([0-9a-f]{16}) chain_a4\+0x0\//.exec(lines[0])!;
  const start = BigInt('0x' + m[1]);
  const byAddr = klp('trace', kernelTrace, '--from', m[1], '--to', '0x' + (start + 0x30n).toString(16));
  expect(byAddr.out.trimEnd().split('\n').length).toBe(lines.length);
});

test('trace --task NAME --exceptions: that task\'s exceptions, interrupts and syscalls only', () => {
  const r = klp('trace', kernelTrace, '--image', KERNEL, '--task', 'ufaulter', '--exceptions');
  expect(r.status).toBe(0);
  const lines = r.out.trimEnd().split('\n');
  for (const l of lines) expect(l).toMatch(/^ +\d+  14 ufaulter +[0-9a-f]{16} .*(>>|<<) /);
  // ufaulter touches fresh user pages: page faults from user mode with their CR2
  expect(lines.filter((l) => />> #PF exception, error 0x6, cr2 0x[0-9a-f]{16} \(from user mode\)$/.test(l)).length).toBeGreaterThan(5);
  expect(lines.some((l) => / >> syscall$/.test(l))).toBe(true);
  expect(klp('trace', kernelTrace, '--task', '14', '--exceptions').out.split('\n').length).toBe(lines.length + 1);
});

test('pagefault.elf: its page faults show up as lines of their own between the instructions', () => {
  const file = path.join(dir, 'pagefault.trace');
  const image = path.join(FIXTURES, 'boot', 'pagefault.elf');
  expect(klp('run', image, '--trace', file).status).toBe(1);
  const all = klp('trace', file, '--image', image).out.trimEnd().split('\n');
  const faults = all.map((l, i) => [l, i] as const).filter(([l]) => />> #PF exception, error 0x[0-9a-f]+, cr2 0x/.test(l));
  expect(faults.length).toBeGreaterThan(3);
  // the line after a fault is the handler's first instruction, at the same count
  const [line, i] = faults[0];
  const count = (l: string) => Number(l.trim().split(/\s+/)[0]);
  expect(count(all[i + 1])).toBe(count(line));
  expect(klp('trace', file, '--task', '1').err).toMatch(/^klp-lab: .*pagefault\.trace: the trace has no task names .*\n$/);
});

test('run --trace without FILE still prints every instruction to stderr', () => {
  const r = klp('run', path.join(FIXTURES, 'boot', 'hello.elf'), '--trace');
  expect(r.status).toBe(1);
  const lines = r.err.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^0000000000100000  cli +\[fa\]$/);
  expect(lines.length).toBeGreaterThan(1000);
});

test('bad input: one line and status 1', () => {
  const cut = path.join(dir, 'cut.trace');
  fs.writeFileSync(cut, fs.readFileSync(kernelTrace).subarray(0, 100_000));
  const r = klp('trace', cut);
  expect(r.status).toBe(1);
  expect(r.out).toBe('');
  expect(r.err).toMatch(new RegExp(`^klp-lab: ${cut.replace(/[.]/g, '\\.')}: truncated trace: .* \\(offset 0x[0-9a-f]+\\)\n$`));
  const notTrace = klp('trace', KERNEL);
  expect(notTrace.status).toBe(1);
  expect(notTrace.err).toBe(`klp-lab: ${KERNEL}: not a klp-lab trace file (bad magic)\n`);
  expect(klp('trace', path.join(dir, 'missing.trace')).err).toBe(`klp-lab: ${path.join(dir, 'missing.trace')}: No such file\n`);
  expect(klp('trace', kernelTrace, '--from', 'chain_a4').err).toBe('klp-lab: --from chain_a4: a symbol needs --image\n');
  expect(klp('trace', kernelTrace, '--image', KERNEL, '--from', 'no_such_fn').err).toBe('klp-lab: --from no_such_fn: no symbol no_such_fn in the image\n');
  expect(klp('trace', kernelTrace, '--limit', '0').err).toBe('klp-lab: --limit must be a positive whole number\n');
  const noDir = path.join(dir, 'no', 'such', 'x.trace');
  const w = klp('run', path.join(FIXTURES, 'boot', 'hello.elf'), '--trace', noDir);
  expect(w.status).toBe(1);
  expect(w.err).toBe(`klp-lab: ${noDir}: cannot write the trace (ENOENT)\n`);
});

test('another image given with --image: a warning, then the trace', () => {
  const r = klp('trace', kernelTrace, '--image', path.join(FIXTURES, 'kernel', 'kernel-nofp.elf'), '--limit', '1');
  expect(r.status).toBe(0);
  expect(r.err).toMatch(/^klp-lab: warning: .*kernel\.trace was recorded from .*kernel\.elf, not .*kernel-nofp\.elf \(the symbols may not match\)\n$/);
  expect(r.out.split('\n').length).toBe(2);
});
