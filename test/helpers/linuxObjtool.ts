// Where Linux 6.1's objtool (the reference for klp-lab's port) is on this machine, if anywhere.

import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT } from './fixtures';

const KBUILD_BINARY = 'usr/lib/linux-kbuild-6.1/tools/objtool/objtool';

/**
 * The first that exists of: $OBJTOOL, $KLP_OBJTOOL_61 (set by .ci/run), the copy .ci/run
 * unpacks into .klp-tmp/kbuild, an unpacked copy in /tmp/kbuild/x, the installed package.
 * null when none does: tests then compare with golden files only.
 */
export function linuxObjtool61(): string | null {
  const candidates = [
    process.env.OBJTOOL,
    process.env.KLP_OBJTOOL_61,
    path.join(REPO_ROOT, '.klp-tmp', 'kbuild', KBUILD_BINARY),
    path.join('/tmp/kbuild/x', KBUILD_BINARY),
    path.join('/', KBUILD_BINARY),
  ];
  return candidates.find((p): p is string => !!p && fs.existsSync(p)) ?? null;
}
