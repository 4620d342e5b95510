// The files a many-object objtool run works on, from its FILE and DIR arguments.
//
// A file argument is taken as it is (even one that does not exist or is no object: objtool
// then prints its own error for it). A directory argument stands for every `.o` and `.ko`
// file under it, in byte order of their paths, which does not depend on the file system.
// Symbolic links to files are followed; links to directories are not (no cycles). A path that
// appears twice (the same file named twice, or found under two arguments) is run once, at its
// first place: two runs would write the same object.

import * as fs from 'fs';
import * as path from 'path';

export interface BatchFile {
  /** The path as objtool names it in its messages: the argument, or DIR/relative for a file found in DIR. */
  path: string;
  /** Size in bytes (0 when unknown): larger files are started first. */
  size: number;
  /** Set for a directory that cannot be listed: its one-line error takes its place in the output. */
  error?: string;
}

const OBJECT_SUFFIXES = ['.o', '.ko'];

function isObjectName(name: string): boolean {
  return OBJECT_SUFFIXES.some((s) => name.endsWith(s));
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Every object under `dir` (relative paths, byte order); throws when `dir` cannot be listed. */
function walk(root: string): { rel: string; size: number }[] {
  const found: { rel: string; size: number }[] = [];
  const pending = [''];
  while (pending.length) {
    const rel = pending.pop()!;
    const entries = fs.readdirSync(path.join(root, rel), { withFileTypes: true });
    for (const e of entries) {
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        pending.push(childRel);
        continue;
      }
      if (!isObjectName(e.name)) continue;
      let st: fs.Stats;
      try {
        st = fs.statSync(path.join(root, childRel));
      } catch {
        continue; // a dangling link
      }
      if (st.isFile()) found.push({ rel: childRel, size: st.size });
    }
  }
  return found.sort((a, b) => byteOrder(a.rel, b.rel));
}

function statOrNull(p: string): fs.Stats | null {
  try {
    return fs.statSync(p);
  } catch {
    return null;
  }
}

/** Expands the arguments, relative to `cwd`, keeping their order. */
export function expandOperands(args: string[], cwd: string): BatchFile[] {
  const files: BatchFile[] = [];
  const seen = new Set<string>();
  const add = (display: string, size: number): void => {
    const key = path.resolve(cwd, display);
    if (seen.has(key)) return;
    seen.add(key);
    files.push({ path: display, size });
  };
  for (const arg of args) {
    const st = statOrNull(path.resolve(cwd, arg));
    if (!st || !st.isDirectory()) {
      add(arg, st ? st.size : 0);
      continue;
    }
    let found: { rel: string; size: number }[];
    try {
      found = walk(path.resolve(cwd, arg));
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why = err.code === 'EACCES' ? 'Permission denied' : err.code ?? err.message;
      files.push({ path: arg, size: 0, error: `error: objtool: can't list directory '${arg}': ${why}` });
      continue;
    }
    const prefix = arg.endsWith('/') ? arg : `${arg}/`;
    for (const f of found) add(prefix + f.rel, f.size);
  }
  return files;
}
