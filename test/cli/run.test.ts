// `klp-lab run`: console on stdout, the guest's exit status, the report and klp-lab's own statuses.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { runCommand, RUN_STATUS_LIMIT } from '../../cli/commands/run';
import { UserError } from '../../cli/userError';

const ROOT = path.resolve(__dirname, '..', '..');
const HELLO = path.join(ROOT, 'fixtures', 'boot', 'hello.elf');

function invoke(args: Record<string, unknown>): { out: string; err: string; status: number | undefined } {
  let out = '', err = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { out += Buffer.from(s as Uint8Array).toString('latin1'); return true; });
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => { err += String(s); return true; });
  const saved = process.exitCode;
  const savedTty = process.stdin.isTTY;
  process.exitCode = undefined;
  // Stdin as a non-terminal, even when jest runs in band from a terminal: the run stays synchronous.
  process.stdin.isTTY = false;
  try {
    (runCommand.handler as (a: unknown) => void)({ 'max-insns': 1e10, seed: 1, ...args });
    return { out, err, status: process.exitCode as number | undefined };
  } finally {
    o.mockRestore(); e.mockRestore();
    process.exitCode = saved;
    process.stdin.isTTY = savedTty;
  }
}

test('hello.elf: console on stdout and the guest status, as QEMU', () => {
  const r = invoke({ image: HELLO });
  expect(r.out).toBe(fs.readFileSync(path.join(ROOT, 'test', 'golden', 'qemu', 'hello.txt'), 'latin1'));
  expect(r.status).toBe(Number(fs.readFileSync(path.join(ROOT, 'test', 'golden', 'qemu', 'hello.status'), 'utf8').trim()));
  expect(r.err).toBe('');
});

test('instruction limit: status 2 and a report with RIP, its instruction and the seed', () => {
  const r = invoke({ image: HELLO, 'max-insns': 5000, seed: 42 });
  expect(r.status).toBe(RUN_STATUS_LIMIT);
  expect(r.err).toMatch(/instruction limit reached after 5000 instructions/);
  expect(r.err).toMatch(/^seed 42$/m);
  expect(r.err).toMatch(/^rip [0-9a-f]{16}  \S+/m);
});

test('bad files are one-line user errors', () => {
  expect(() => invoke({ image: path.join(ROOT, 'nonexistent.elf') })).toThrow(UserError);
  expect(() => invoke({ image: path.join(ROOT, 'fixtures', 'emu', 'bench.bin') })).toThrow(/not an ELF|bad magic/);
});

test('a reader that closes stdout early ends the run quietly, with the status of SIGPIPE', () => {
  // The whole process, its stdout a pipe whose reader takes one line and exits (as `| head -1`).
  const cli = path.join(ROOT, 'dist', 'cli', 'main.js');
  const image = path.join(ROOT, 'fixtures', 'boot', 'pitphase.elf');
  const s = spawnSync('bash', ['-c', `"${process.execPath}" "${cli}" run "${image}" | head -n 1; echo "klp-lab status \${PIPESTATUS[0]}"`], { encoding: 'utf8' });
  expect(s.stdout).toMatch(/^mode 2 divisor +2 spinning: \d+/);
  expect(s.stdout).toMatch(/klp-lab status 141\n$/);
  expect(s.stderr).toBe('');
});
