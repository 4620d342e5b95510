// The real-Linux kernel for tests that only read the image (kallsyms, BTF layout, patch modules):
// the fixture's vmlinux (test/helpers/linux/linuxFixture.ts: Debian's newest 6.1 cloud kernel,
// fetched by package name and cached), or the one in KLP_LINUX_DIR when that names a directory.
import * as path from 'path';
import { linuxKernel } from './linux/linuxFixture';

export interface RealLinux { vmlinux: string }

export function realLinux(): RealLinux {
  const dir = process.env.KLP_LINUX_DIR;
  return { vmlinux: dir !== undefined ? path.join(dir, 'vmlinux') : linuxKernel().vmlinux };
}
