// The code cache of the klp-lab process (cli/compileCache.ts): a second run compiles from it and
// behaves exactly as an uncached run; a damaged entry is compiled afresh and rewritten; a directory
// others can write is never used. Through the built command line (npm test builds dist/ first).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FIXTURES, REPO_ROOT } from '../helpers/fixtures';

const CLI = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');
const HELLO = path.join(FIXTURES, 'boot', 'hello.elf');
const fixtureMissing = path.join(FIXTURES, 'boot', 'no-such-image.elf');
const nodeHasItsOwn = typeof (require('module') as { enableCompileCache?: unknown }).enableCompileCache === 'function';

function klp(cache: string, ...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, KLP_LAB_COMPILE_CACHE: cache };
  delete env.NODE_DISABLE_COMPILE_CACHE;
  const r = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'latin1', timeout: 60_000 });
  return { out: r.stdout, err: r.stderr, status: r.status };
}

const entries = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.v8')).sort();
const mtimes = (dir: string) => entries(dir).map((f) => fs.statSync(path.join(dir, f)).mtimeMs);

let work: string;
beforeAll(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-compile-cache-')); });
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

test('runs from the cache print, exit and report as an uncached run; damaged entries are compiled afresh', () => {
  const plain = klp('0', 'run', HELLO);
  expect(plain.status).toBe(1);
  expect(plain.out).toContain('hello from klp-lab');

  const dir = path.join(work, 'cache');
  expect(klp(dir, 'run', HELLO)).toEqual(plain);
  expect(klp(dir, 'run', HELLO)).toEqual(plain);
  expect(klp(dir, 'run', fixtureMissing)).toEqual(klp('0', 'run', fixtureMissing));
  if (nodeHasItsOwn) return; // Node's own cache (22.1+): its files are its business
  const written = entries(dir);
  expect(written.length).toBeGreaterThan(50); // the emulator's modules, the loader, yargs
  expect(fs.statSync(dir).mode & 0o777).toBe(0o700);

  // V8 took every entry: nothing was compiled afresh, so nothing was written back.
  const before = mtimes(dir);
  expect(klp(dir, 'run', HELLO)).toEqual(plain);
  expect(entries(dir)).toEqual(written);
  expect(mtimes(dir)).toEqual(before);

  // Damaged entries (cut short, or bytes of the code flipped) are compiled afresh and rewritten.
  written.forEach((f, i) => {
    const file = path.join(dir, f);
    const b = fs.readFileSync(file);
    if (i % 2 === 0) fs.writeFileSync(file, b.subarray(0, 30));
    else { for (let j = 48; j < b.length; j += 7) b[j] ^= 0x5a; fs.writeFileSync(file, b); }
  });
  expect(klp(dir, 'run', HELLO)).toEqual(plain);
  for (const f of written) expect(fs.statSync(path.join(dir, f)).size).toBeGreaterThan(30);
  const rewritten = mtimes(dir);
  expect(klp(dir, 'run', HELLO)).toEqual(plain);
  expect(mtimes(dir)).toEqual(rewritten);
}, 120_000);

test('a cache directory that others can write is not used', () => {
  const dir = path.join(work, 'shared');
  fs.mkdirSync(dir);
  fs.chmodSync(dir, 0o777);
  const r = klp(dir, 'run', HELLO);
  expect(r.status).toBe(1);
  expect(r.out).toContain('hello from klp-lab');
  if (!nodeHasItsOwn) expect(entries(dir)).toEqual([]);
}, 60_000);
