// objtool over many objects in one process, on twenty modules of Debian's Linux 6.1 cloud
// kernel (fetched by package name, ORC sections stripped) against Linux 6.1's objtool run once
// per file: the same lines for every file, in argument order, the same per-file status, the
// largest as the exit status, and the same ORC tables written. Also: --jobs 1 and --jobs 2 give
// identical output, the --summary table and the --json report hold what was printed, and a bad
// file among good ones gets its one-line error while the others are still processed.
//
// The multi-thread runs use the built CLI (`npm test` builds it first): worker threads run
// the compiled JavaScript.

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runObjtool } from '../../objtool/objtool';
import { fileWarnings, warningKind } from '../../objtool/batch/summary';
import { FIXTURES, REPO_ROOT } from '../helpers/fixtures';
import { MODULE_SAMPLE, debianModuleTree, linuxObjtoolOrFetch, stripOrcInto } from './debianModules';

jest.setTimeout(300_000);

const CLI = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');

interface Run {
  stdout: string;
  stderr: string;
  status: number;
}

interface JsonReport {
  args: string[];
  status: number;
  totals: { files: number; filesWithWarnings: number; warnings: number; filesFailed: number };
  byKind: { kind: string; count: number; files: number }[];
  files: { path: string; status: number; stdout: string; stderr: string; warnings: { text: string; kind: string }[] }[];
}

function klpLab(args: string[], cwd: string): Run {
  const r = spawnSync(process.execPath, [CLI, 'objtool', ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, OBJTOOL_ARGS: '' } });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

function cTool(bin: string, args: string[], cwd: string): Run {
  const r = spawnSync(bin, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, OBJTOOL_ARGS: '' } });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

function copyTree(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true });
}

let work: string;
let sample: string;
let realObjtool: string;

beforeAll(() => {
  expect(fs.existsSync(CLI)).toBe(true); // npm test builds dist/ before jest
  realObjtool = linuxObjtoolOrFetch();
  const { kernelDir } = debianModuleTree();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-objtool-tree-'));
  sample = path.join(work, 'sample');
  stripOrcInto(kernelDir, MODULE_SAMPLE, sample);
});
afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const SORTED_SAMPLE = [...MODULE_SAMPLE].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

describe.each([
  ['module build (ORC written)', ['--orc', '--uaccess', '--sls', '--module']],
  ['frame-pointer rules with backtraces', ['--stackval', '--uaccess', '--backtrace', '--sec-address', '--dry-run']],
])('the sample as one directory, %s', (_name, args) => {
  test('each file prints, returns and writes what Linux 6.1 objtool does for it alone', () => {
    const ours = path.join(work, `ours-${args.join('')}`);
    const theirs = path.join(work, `theirs-${args.join('')}`);
    copyTree(sample, ours);
    copyTree(sample, theirs);
    const report = path.join(work, `report-${args.join('')}.json`);
    const r = klpLab(['--jobs', '2', '--json', report, ...args, '.'], ours);

    const expected = SORTED_SAMPLE.map((m) => ({ path: `./${m}`, ...cTool(realObjtool, [...args, `./${m}`], theirs) }));
    // The whole output: each file's lines together, in the files' sorted order.
    expect(r.stderr).toBe(expected.map((e) => e.stderr).join(''));
    expect(r.stdout).toBe(expected.map((e) => e.stdout).join(''));
    expect(r.status).toBe(Math.max(...expected.map((e) => e.status)));
    // File by file, from the report.
    const json = JSON.parse(fs.readFileSync(report, 'utf8')) as JsonReport;
    expect(json.files.map((f) => [f.path, f.status, f.stderr, f.stdout])).toEqual(expected.map((e) => [e.path, e.status, e.stderr, e.stdout]));
    // The sample has warnings to compare (the test would prove little otherwise).
    expect(json.totals.warnings).toBeGreaterThan(0);
    // The ORC tables written, as Linux 6.1 objtool dumps them.
    let withOrc = 0;
    for (const m of SORTED_SAMPLE) {
      const a = cTool(realObjtool, ['--dump=orc', m], ours);
      const b = cTool(realObjtool, ['--dump=orc', m], theirs);
      expect([m, a.stdout, a.stderr, a.status]).toEqual([m, b.stdout, b.stderr, b.status]);
      if (a.stdout.length > 0) withOrc++;
    }
    // Files objtool gives up on (an unannotated intra-function call) get no tables, in both.
    if (args.includes('--orc')) expect(withOrc).toBeGreaterThan(SORTED_SAMPLE.length / 2);
    else expect(withOrc).toBe(0);
  });
});

test('--jobs 1 and --jobs 2 give the same output, report and written objects', () => {
  const args = ['--summary', '--orc', '--uaccess', '--sls', '--stackval', '--backtrace'];
  const one = path.join(work, 'jobs1');
  const two = path.join(work, 'jobs2');
  copyTree(sample, one);
  copyTree(sample, two);
  // Files named one by one, in an order that is not sorted, and a directory.
  const named = ['lib/raid6/raid6_pq.ko', 'drivers/watchdog/watchdog.ko', 'arch', 'fs/fat/fat.ko'];
  const r1 = klpLab(['--jobs', '1', '--json', 'r.json', ...args, ...named], one);
  const r2 = klpLab(['--jobs=2', '--json=r.json', ...args, ...named], two);
  expect(r2).toEqual(r1);
  expect(fs.readFileSync(path.join(two, 'r.json'), 'utf8')).toBe(fs.readFileSync(path.join(one, 'r.json'), 'utf8'));
  const json = JSON.parse(fs.readFileSync(path.join(one, 'r.json'), 'utf8')) as JsonReport;
  const archModules = SORTED_SAMPLE.filter((m) => m.startsWith('arch/'));
  expect(json.files.map((f) => f.path)).toEqual([named[0], named[1], ...archModules.map((m) => `arch/${m.slice(5)}`), named[3]]);
  for (const f of json.files) {
    expect(fs.readFileSync(path.join(two, f.path)).equals(fs.readFileSync(path.join(one, f.path)))).toBe(true);
  }
});

test('--summary counts the warnings printed, by kind and by file; --json holds the same', () => {
  const dir = path.join(work, 'summary');
  copyTree(sample, dir);
  const r = klpLab(['--jobs', '2', '--summary', '--json', 'out/report.json', '--stackval', '--uaccess', '--dry-run', '.'], dir);
  // A report that cannot be written is one error line and status 1, after the output.
  expect(r.stderr.trim().split('\n').pop()).toBe("error: objtool: can't write 'out/report.json': ENOENT");
  expect(r.status).toBe(1);
  fs.mkdirSync(path.join(dir, 'out'));
  const s = klpLab(['--jobs', '2', '--summary', '--json', 'out/report.json', '--stackval', '--uaccess', '--dry-run', '.'], dir);
  expect(s.status).toBe(0);
  expect(fs.readdirSync(path.join(dir, 'out'))).toEqual(['report.json']); // no temporary file left
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'out', 'report.json'), 'utf8')) as JsonReport;

  // Warnings counted from the printed lines, independently of the report's own counting.
  const warningLines = s.stderr.split('\n').filter((l) => /: warning: objtool: (?! {2})/.test(l));
  expect(json.totals.warnings).toBe(warningLines.length);
  expect(json.totals.files).toBe(MODULE_SAMPLE.length);
  expect(json.byKind.reduce((n, k) => n + k.count, 0)).toBe(warningLines.length);
  const framePointer = warningLines.filter((l) => l.endsWith(': call without frame pointer save/setup')).length;
  expect(framePointer).toBeGreaterThan(0);
  expect(json.byKind.find((k) => k.kind === 'call without frame pointer save/setup')?.count).toBe(framePointer);
  for (const f of json.files) expect(f.warnings.length).toBe(warningLines.filter((l) => l.startsWith(`${f.path}: `)).length);

  // The table: a totals line, then the kinds, then the files, as the report has them.
  const table = s.stdout.split('\n');
  expect(table[0]).toBe(`objtool summary: ${MODULE_SAMPLE.length} files, ${warningLines.length} warnings in ${json.totals.filesWithWarnings} files, 0 files failed, exit status 0`);
  const kindsAt = table.indexOf('warnings by kind:');
  const filesAt = table.indexOf('warnings by file:');
  expect(kindsAt).toBeGreaterThan(0);
  expect(table.slice(kindsAt + 2, kindsAt + 2 + json.byKind.length).map((l) => l.trim().split(/\s+/).slice(0, 2).map(Number))).toEqual(json.byKind.map((k) => [k.count, k.files]));
  const listed = table.slice(filesAt + 2).filter((l) => l !== '');
  expect(listed).toHaveLength(json.totals.filesWithWarnings);
  const counts = listed.map((l) => Number(l.trim().split(/\s+/)[0]));
  expect(counts).toEqual([...counts].sort((a, b) => b - a));
});

test('warning kinds: the location, function names and numbers are left out', () => {
  expect(warningKind('foo+0x1a: call to bar() with UACCESS enabled')).toBe('call to *() with UACCESS enabled');
  expect(warningKind('foo.cold+0x3 (.text.unlikely+0x40): unreachable instruction')).toBe('unreachable instruction');
  expect(warningKind('f+0x9: stack state mismatch: cfa1=4+16 cfa2=4+8')).toBe('stack state mismatch: cfa1=*+* cfa2=*+*');
  expect(warningKind('a() falls through to next function b()')).toBe('*() falls through to next function *()');
  const f = { path: 'x.o', status: 0, stdout: '', stderr: 'x.o: warning: objtool: f+0x1: return with modified stack frame\nx.o: warning: objtool:   f+0x0: <=== (sym)\n' };
  expect(fileWarnings(f).map((w) => w.kind)).toEqual(['return with modified stack frame']);
});

test('bad files among good ones: each gets its own error, the others are processed, the status is the largest', () => {
  const dir = path.join(work, 'bad');
  fs.mkdirSync(path.join(dir, 'objs', 'sub'), { recursive: true });
  const bad = ['notelf.o', 'empty.o', 'truncated.o', 'badshoff.o', 'undecodable.o'];
  for (const b of bad) fs.copyFileSync(path.join(FIXTURES, 'objtool', 'bad', b), path.join(dir, 'objs', b));
  fs.copyFileSync(path.join(FIXTURES, 'objtool', 'obj', 'ret_modified.o'), path.join(dir, 'objs', 'sub', 'ret_modified.o'));
  fs.copyFileSync(path.join(FIXTURES, 'objtool', 'obj', 'good.o'), path.join(dir, 'objs', 'good.o'));
  fs.writeFileSync(path.join(dir, 'objs', 'notes.txt'), 'not an object, not looked at\n');
  const before = new Map(bad.map((b) => [b, fs.readFileSync(path.join(dir, 'objs', b))]));
  const reference = path.join(work, 'bad-reference');
  copyTree(dir, reference);

  const r = klpLab(['--jobs', '2', '--orc', 'objs', 'missing.o', 'objs/good.o'], dir);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  // Per file exactly what a run on that file alone gives (objtoolBadInput.test.ts holds those to 6.1).
  const files = ['objs/badshoff.o', 'objs/empty.o', 'objs/good.o', 'objs/notelf.o', 'objs/sub/ret_modified.o', 'objs/truncated.o', 'objs/undecodable.o', 'missing.o'];
  const alone = files.map((f) => runObjtool(['--orc', f], {}, reference));
  expect(r.stderr).toBe(alone.map((a) => a.stderr).join(''));
  expect(r.status).toBe(Math.max(...alone.map((a) => a.status)));
  expect(r.status).toBe(1);
  expect(r.stderr).toContain("objtool: Can't open 'missing.o': No such file or directory\n");
  // Bad files untouched; good ones got their ORC tables (objs/good.o named twice, run once).
  for (const b of bad) expect(fs.readFileSync(path.join(dir, 'objs', b)).equals(before.get(b)!)).toBe(true);
  for (const g of ['objs/good.o', 'objs/sub/ret_modified.o']) {
    expect(fs.readFileSync(path.join(dir, g)).equals(fs.readFileSync(path.join(reference, g)))).toBe(true);
  }
  expect(fs.readdirSync(path.join(dir, 'objs')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
});

test('bad arguments: objtool\'s usage once, or one line for a bad --jobs', () => {
  const u = klpLab(['--bogus', 'a.o', 'b.o'], os.tmpdir());
  expect(u.status).toBe(129);
  expect(u.stderr).toMatch(/^ {2}Error: unknown option `bogus'\n\n Usage: objtool/);
  const j = klpLab(['--jobs', 'zero', '--orc', 'a.o'], os.tmpdir());
  expect(j.stderr).toBe("klp-lab: objtool: --jobs takes a number of threads from 1 to 1024, not 'zero'\n");
  expect(j.status).toBe(1);
  const n = klpLab(['--jobs', '2', '--ibt', 'a.o', 'b.o'], os.tmpdir());
  expect(n.stderr.split('\n').filter((l) => l)).toHaveLength(1);
  expect(n.status).toBe(1);
});
