// The real-Linux fixture for tests: Debian's 6.1 cloud kernel, fetched by package name and cached
// outside git (test/helpers/linux/linuxFixture.ts: the newest cloud-amd64 image apt lists).
// KLP_LINUX_DIR may name a directory holding another `vmlinux` instead. Any failure throws: the test
// fails loudly, never skips.
import * as fs from 'fs';
import * as path from 'path';
import { linuxKernel } from './linux/linuxFixture';

export interface RealLinux { vmlinux: string }

export function realLinux(): RealLinux {
  const dir = process.env.KLP_LINUX_DIR;
  if (dir !== undefined && dir !== '') {
    const vmlinux = path.join(dir, 'vmlinux');
    if (!fs.existsSync(vmlinux)) throw new Error(`KLP_LINUX_DIR: no vmlinux at ${vmlinux}`);
    return { vmlinux };
  }
  return { vmlinux: linuxKernel().vmlinux };
}
