// Locating committed fixture files from tests.

import * as fs from 'fs';
import * as path from 'path';
import { execFileSync } from 'child_process';

/** The repository root: the nearest folder above this file with a package.json (works from dist/ too). */
export const REPO_ROOT = findRepoRoot(__dirname);
export const FIXTURES = path.join(REPO_ROOT, 'fixtures');
export const GOLDEN = path.join(REPO_ROOT, 'test', 'golden');

/**
 * Every committed ELF file under fixtures/ (*.o and *.elf), relative to fixtures/, sorted.
 * Build directories (ignored by git, absent from a fresh clone) are skipped.
 */
export function fixtureElfFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== 'build') walk(full);
      else if (/\.(o|elf)$/.test(entry.name)) out.push(path.relative(FIXTURES, full));
    }
  };
  walk(FIXTURES);
  return out.sort();
}

/** Whether a host tool is on PATH. */
export function haveTool(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function findRepoRoot(from: string): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, 'package.json')) || path.basename(dir) === 'dist') {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}
