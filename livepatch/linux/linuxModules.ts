// Out-of-tree modules for a Debian 6.1 cloud kernel, built against the headers of its ABI (fetched
// by package name: fixtures/linux/headers.sh) by the build scripts in fixtures/linux, and cached
// per ABI under .klp-tmp:
//   - the kernel's own livepatch selftests: tools/testing/selftests/livepatch/*.sh and the
//     test_klp_* modules of lib/livepatch, from linux-source-6.1 (fixtures/linux/selftests/build.sh);
//   - klp-lab's patch modules and their workload (fixtures/linux/livepatch/build.sh).
import * as fs from 'fs';
import * as path from 'path';
import { execFileSync } from 'child_process';
import { PackageError } from './debianPackages';
import { LAB_FIXTURES } from './labFiles';

function build(script: string, abi: string): string {
  try {
    const out = execFileSync(path.join(LAB_FIXTURES, 'linux', script), [abi], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
    return out.trim().split('\n').pop()!;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    const why = (err.stderr ?? '').trim().split('\n').pop() || err.message.split('\n')[0];
    throw new PackageError(`fixtures/linux/${script} ${abi}: ${why}`);
  }
}

export interface SelftestFiles {
  /** The unmodified scripts (functions.sh and test-*.sh). */
  scripts: string;
  /** test_klp_*.ko */
  modules: string;
}

export function selftestFiles(abi: string): SelftestFiles {
  const dir = build('selftests/build.sh', abi);
  return { scripts: path.join(dir, 'scripts'), modules: path.join(dir, 'modules') };
}

/** The directory holding klp_lab_*.ko for this ABI. */
export function labPatchModules(abi: string): string {
  return build('livepatch/build.sh', abi);
}

/** The .ko files of a directory, sorted. */
export function modulesIn(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.ko')).sort().map((f) => path.join(dir, f));
}
