// Where klp-lab finds its own files and keeps what it fetches for real Linux: the repository root
// (fixtures/ holds the guest scripts and the patch modules' sources), and the cache .klp-tmp/ under
// it (ignored by git), which the module build scripts in fixtures/linux use as well.
import * as fs from 'fs';
import * as path from 'path';

function findRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'fixtures'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`klp-lab: no installation root (package.json and fixtures/) above ${__dirname}`);
    dir = up;
  }
}

/** The installation root: the repository, whether running from the sources or from dist/. */
export const LAB_ROOT = findRoot();
export const LAB_FIXTURES = path.join(LAB_ROOT, 'fixtures');
/** What klp-lab fetches and builds for real Linux (Debian packages, initramfs images, modules). */
export const LAB_CACHE = path.join(LAB_ROOT, '.klp-tmp');
export const LINUX_CACHE = path.join(LAB_CACHE, 'linux');

/**
 * Builds `dir` through a temporary sibling renamed into place, so readers never see half of it and
 * an interrupted build leaves nothing behind but a temporary directory it removes.
 */
export function cached(dir: string, build: (tmp: string) => void): void {
  if (fs.existsSync(path.join(dir, '.complete'))) return;
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const tmp = fs.mkdtempSync(`${dir}.tmp-`);
  try {
    build(tmp);
    fs.writeFileSync(path.join(tmp, '.complete'), '');
    try { fs.renameSync(tmp, dir); } catch (e) {
      // Another process finished first: keep its copy.
      if (!fs.existsSync(path.join(dir, '.complete'))) throw e;
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
