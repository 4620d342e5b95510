// klp-lab's readelf against GNU readelf -W on every fixture ELF file: recorded golden output
// when it exists (test/golden/readelf, written by fixtures/record-readelf.sh), otherwise the
// live binutils tool. The comparison is line for line.

import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { execFileSync, spawnSync } from 'child_process';
import { ElfError, ElfFile } from '../../elf/elfFile';
import { formatReadelf, type ReadelfPart } from '../../elf/readelfFormat';
import { FIXTURES, GOLDEN, REPO_ROOT, fixtureElfFiles, haveTool } from '../helpers/fixtures';

const OPTIONS: Array<[string, ReadelfPart]> = [
  ['h', 'file-header'],
  ['S', 'section-headers'],
  ['s', 'symbols'],
  ['r', 'relocs'],
  ['n', 'notes'],
];
const liveReadelf = haveTool('readelf');

/** What readelf said on stderr about a fixture ('' when it read the file without complaint). */
function readelfComplaints(fixture: string): string {
  const golden = path.join(GOLDEN, 'readelf', `${fixture}.errors.txt`);
  if (fs.existsSync(golden)) return fs.readFileSync(golden, 'latin1');
  if (fs.existsSync(path.join(GOLDEN, 'readelf', `${fixture}.h.txt.gz`))) return '';
  if (!liveReadelf) throw new Error(`no golden files for ${fixture} and no readelf to compare it with`);
  const r = spawnSync('readelf', ['-W', '-h', '-S', '-s', '-r', '-n', path.join(FIXTURES, fixture)], {
    env: { ...process.env, LC_ALL: 'C' },
    maxBuffer: 64 << 20,
  });
  return r.stderr.toString('latin1');
}

function expected(fixture: string, opt: string): string {
  const golden = path.join(GOLDEN, 'readelf', `${fixture}.${opt}.txt.gz`);
  if (fs.existsSync(golden)) return zlib.gunzipSync(fs.readFileSync(golden)).toString('latin1');
  if (!liveReadelf) throw new Error(`no golden file ${golden} and no readelf to compare ${fixture} with`);
  return execFileSync('readelf', ['-W', `-${opt}`, path.join(FIXTURES, fixture)], {
    env: { ...process.env, LC_ALL: 'C' },
    maxBuffer: 64 << 20,
  }).toString('latin1');
}

const fixtures = fixtureElfFiles();

test('there are fixtures to compare', () => {
  expect(fixtures.length).toBeGreaterThanOrEqual(3);
});

const clean = fixtures.filter((f) => readelfComplaints(f) === '');
const refused = fixtures.filter((f) => readelfComplaints(f) !== '');

describe.each(clean)('%s', (fixture) => {
  const file = ElfFile.read(path.join(FIXTURES, fixture));
  test.each(OPTIONS)('-%s matches GNU readelf', (opt, part) => {
    const ours = formatReadelf(file, new Set([part])).split('\n');
    const theirs = expected(fixture, opt).split('\n');
    expect(ours).toEqual(theirs);
  });
});

// Where readelf reports an error, klp-lab refuses the file with one line naming it.
// (test/elf/corruption.test.ts covers refusal whether or not such fixtures exist.)
if (refused.length > 0) test.each(refused)('%s is refused, as readelf complains about it', (fixture) => {
  const name = path.join(FIXTURES, fixture);
  expect(() => ElfFile.read(name)).toThrow(ElfError);
  expect(() => ElfFile.read(name)).toThrow(new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: [^\n]+$`));
});

describe('the readelf command', () => {
  const main = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');
  const sample = path.join(FIXTURES, 'elf', 'sample.o');

  test('prints several parts in readelf order, like readelf -W -h -S -r -s', () => {
    const ours = execFileSync('node', [main, 'readelf', '-s', '-r', '-S', '-h', sample]).toString('latin1');
    const parts = new Set<ReadelfPart>(['file-header', 'section-headers', 'relocs', 'symbols']);
    expect(ours).toBe(formatReadelf(ElfFile.read(sample), parts));
    if (liveReadelf) {
      expect(ours).toBe(execFileSync('readelf', ['-W', '-h', '-S', '-r', '-s', sample]).toString('latin1'));
    }
  });

  test('a bad file gives one line on stderr and status 1', () => {
    let status = 0;
    let stderr = '';
    try {
      execFileSync('node', [main, 'readelf', '-h', path.join(FIXTURES, 'elf', 'sample.c')], { stdio: 'pipe' });
    } catch (err) {
      const e = err as { status: number; stderr: Buffer; stdout: Buffer };
      status = e.status;
      stderr = e.stderr.toString();
      expect(e.stdout.length).toBe(0);
    }
    expect(status).toBe(1);
    expect(stderr).toMatch(/^klp-lab: .*sample\.c: not an ELF file \(bad magic\)\n$/);
  });
});
