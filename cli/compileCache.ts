// V8's code cache for klp-lab's own modules, so that a second `klp-lab` process does not parse and
// compile the emulator's JavaScript again (about a sixth of a short run's CPU time). Node 22.1+ has
// this built in (module.enableCompileCache), and it is used when present; on Node 20 each module
// klp-lab loads (its own and its dependencies') is compiled through vm.Script with the cached data of its previous compilation,
// and what was compiled (including the functions that ran) is written back when the process exits.
//
// The cache is one file per module path in a directory of the user's own: os.tmpdir()/
// klp-lab-compile-cache-UID, created with mode 0700 and used only if it is a real directory owned by
// this user that nobody else can write (cached code runs as whoever loads it). Each file starts with
// a digest of the module's source and the Node version, then one of the cached data; any mismatch,
// a short file or V8 refusing the data means an ordinary compile (and the entry is rewritten). Set KLP_LAB_COMPILE_CACHE to another directory, or to 0 (also
// NODE_DISABLE_COMPILE_CACHE, as in Node 22) to compile as usual.

import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vm from 'vm';
// eslint-disable-next-line @typescript-eslint/no-require-imports
import Module = require('module');

const DIGEST_BYTES = 20;

interface InternalModule {
  _compile(content: string, filename: string): unknown;
  require(id: string): unknown;
}

interface ModuleStatics {
  prototype: InternalModule;
  wrap(content: string): string;
  enableCompileCache?: (dir?: string) => unknown;
  _extensions: unknown;
  _cache: unknown;
}

function cacheDirectory(): string | null {
  const setting = process.env.KLP_LAB_COMPILE_CACHE;
  if (setting === '0' || process.env.NODE_DISABLE_COMPILE_CACHE) return null;
  const uid = process.getuid?.() ?? 0;
  return setting || path.join(os.tmpdir(), `klp-lab-compile-cache-${uid}`);
}

/** `dir`, created if missing, when it is this user's own and writable by nobody else; else null. */
function privateDirectory(dir: string): string | null {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(dir);
    if (!st.isDirectory() || (st.mode & 0o022) !== 0) return null;
    if (process.getuid && st.uid !== process.getuid()) return null;
    return dir;
  } catch {
    return null;
  }
}

function sourceDigest(content: string): Buffer {
  return crypto.createHash('sha1').update(process.version).update('\0').update(content).digest();
}

function dataDigest(data: Uint8Array): Buffer {
  return crypto.createHash('sha1').update(data).digest();
}

function entryFile(dir: string, filename: string): string {
  return path.join(dir, `${crypto.createHash('sha1').update(filename).digest('hex')}.v8`);
}

function writeAtomically(file: string, parts: Uint8Array[]): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, Buffer.concat(parts), { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch {
    try { fs.unlinkSync(tmp); } catch { /* never written */ }
  }
}

/** Installs the cache for the modules loaded from now on (call before requiring them). */
export function enableCompileCache(): void {
  const wanted = cacheDirectory();
  if (wanted === null) return;
  const M = Module as unknown as ModuleStatics;
  if (typeof M.enableCompileCache === 'function') {
    M.enableCompileCache(wanted);
    return;
  }
  const dir = privateDirectory(wanted);
  if (dir === null) return;
  const toWrite: { file: string; digest: Buffer; script: vm.Script }[] = [];
  M.prototype._compile = function compileWithCache(this: InternalModule, content: string, filename: string): unknown {
    const file = entryFile(dir, filename);
    const digest = sourceDigest(content);
    let cachedData: Buffer | undefined;
    try {
      const entry = fs.readFileSync(file);
      const data = entry.subarray(2 * DIGEST_BYTES);
      // V8 checks its data's version and flags but (in release builds) not its bytes: we do.
      if (data.length > 0 && entry.subarray(0, DIGEST_BYTES).equals(digest) &&
          entry.subarray(DIGEST_BYTES, 2 * DIGEST_BYTES).equals(dataDigest(data))) cachedData = data;
    } catch { /* not cached yet */ }
    // A "#!" line is valid only at the very start of a file, not inside the module wrapper.
    const body = content.startsWith('#!') ? `//${content.slice(2)}` : content;
    const script = new vm.Script(M.wrap(body), { filename, cachedData });
    if (cachedData === undefined || script.cachedDataRejected === true) toWrite.push({ file, digest, script });
    const compiled = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
    const ownRequire = Object.assign((id: string) => this.require(id), Module.createRequire(filename), {
      main: require.main,
      extensions: M._extensions,
      cache: M._cache,
    });
    const exportsObject = (this as unknown as { exports: unknown }).exports;
    return compiled.call(exportsObject, exportsObject, ownRequire, this, filename, path.dirname(filename));
  };
  process.once('exit', () => {
    for (const { file, digest, script } of toWrite) {
      const data = script.createCachedData();
      writeAtomically(file, [digest, dataDigest(data), data]);
    }
  });
}
