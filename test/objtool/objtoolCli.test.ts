// `klp-lab objtool ...`: the command hands everything after the word `objtool` to objtool's
// own parser and passes stdout, stderr and the exit status through unchanged.

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { commands } from '../../cli/commands';
import { objtoolCommand } from '../../cli/commands/objtool';
import { FIXTURES, REPO_ROOT } from '../helpers/fixtures';

function runCli(args: string[], cwd: string): { out: string; err: string; status: number | undefined } {
  const saved = { argv: process.argv, cwd: process.cwd(), exitCode: process.exitCode };
  let out = '';
  let err = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    process.chdir(cwd);
    process.argv = ['node', 'klp-lab', 'objtool', ...args];
    process.exitCode = undefined;
    (objtoolCommand.handler as (a: object) => void)({});
    return { out, err, status: process.exitCode as number | undefined };
  } finally {
    o.mockRestore();
    e.mockRestore();
    process.chdir(saved.cwd);
    process.argv = saved.argv;
    process.exitCode = saved.exitCode;
  }
}

test('klp-lab objtool -s --backtrace prints objtool\'s warnings and exits 0', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-objtool-cli-'));
  fs.copyFileSync(path.join(FIXTURES, 'objtool', 'obj', 'ret_modified.o'), path.join(dir, 'ret_modified.o'));
  const r = runCli(['-s', '--backtrace', 'ret_modified.o'], dir);
  expect(r.err.split('\n')[0]).toBe('ret_modified.o: warning: objtool: ret_pushed+0x1: return with modified stack frame');
  expect(r.err).toContain('ret_modified.o: warning: objtool:   ret_pushed+0x0: <=== (sym)');
  expect(r.status).toBe(0);
  const d = runCli(['--orc', 'ret_modified.o'], dir);
  expect(d.status).toBe(0);
  expect(runCli(['--dump=orc', 'ret_modified.o'], dir).out.split('\n')[0]).toBe('.text+0: sp:sp+8 bp:(und) type:call end:0');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('klp-lab objtool with a bad option exits 129 with objtool\'s usage', () => {
  const r = runCli(['--bogus', 'x.o'], os.tmpdir());
  expect(r.err).toMatch(/^ {2}Error: unknown option `bogus'/);
  expect(r.status).toBe(129);
});

test('the command index describes each command as its module does', () => {
  for (const c of commands) {
    const m = c.load();
    expect([c.command, c.describe]).toEqual([m.command, m.describe]);
  }
});

test('klp-lab objtool loads objtool and the ELF layer only (no yargs, emulator or livepatch code)', () => {
  // The built CLI (npm test builds it first), run as a child; the modules it loaded are listed at exit.
  const main = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');
  const script = `process.on('exit', () => console.log(JSON.stringify(Object.keys(require.cache)))); ` +
    `process.argv = [process.argv[0], ${JSON.stringify(main)}, 'objtool', '--dump=orc', ${JSON.stringify(path.join(FIXTURES, 'objtool', 'obj', 'good.o'))}]; ` +
    `require(${JSON.stringify(main)});`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  // node_modules/<package>/... wherever the packages live (node_modules may be a symbolic link).
  const loaded = (JSON.parse(r.stdout.trim().split('\n').pop()!) as string[])
    .map((f) => (f.includes('/node_modules/') ? 'node_modules/' + f.split('/node_modules/').pop() : path.relative(REPO_ROOT, f)));
  // elfy (and its endian-reader) is the ELF layer's section-name cross-check.
  expect(loaded.filter((f) => !/^(dist\/(cli|objtool|elf)\/|node_modules\/(elfy|endian-reader)\/)/.test(f))).toEqual([]);
  expect(loaded.filter((f) => f.startsWith('dist/cli/commands/'))).toEqual(['dist/cli/commands/index.js', 'dist/cli/commands/objtool.js']);
});
