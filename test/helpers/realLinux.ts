// The real-Linux fixture for tests: Debian's 6.1 cloud kernel, fetched by package name and cached
// outside git. KLP_LINUX_DIR names a directory holding `vmlinux`; missing, the test fails loudly.
import * as fs from 'fs';
import * as path from 'path';

export interface RealLinux { vmlinux: string }

export function realLinux(): RealLinux {
  const dir = process.env.KLP_LINUX_DIR ?? path.resolve(__dirname, '..', '..', '.klp-tmp', 'linux');
  const vmlinux = path.join(dir, 'vmlinux');
  if (!fs.existsSync(vmlinux)) throw new Error(`no real-Linux fixture at ${vmlinux}: run fixtures/linux/fetch first (.ci/run does)`);
  return { vmlinux };
}
