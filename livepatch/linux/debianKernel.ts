// Debian's Linux 6.1 cloud kernel by package name (linux-image-6.1.0-<abi>-cloud-amd64-unsigned):
// its ELF vmlinux (extracted from the packaged bzImage), System.map and config, cached under
// .klp-tmp/linux. Also the release of any such vmlinux, read from its banner, which names the
// headers its out-of-tree modules are built against.
import * as fs from 'fs';
import * as path from 'path';
import { ElfFile } from '../../elf/elfFile';
import { extractVmlinux } from './bzImage';
import { candidateVersion, fetchPackage, newestKernelPackage } from './debianPackages';
import { LINUX_CACHE, cached } from './labFiles';

export interface LinuxKernel {
  /** Debian package name and version, e.g. linux-image-6.1.0-57-cloud-amd64-unsigned 6.1.192-3. */
  package: string;
  version: string;
  /** Kernel release, e.g. 6.1.0-57-cloud-amd64. */
  release: string;
  vmlinux: string;
  /** As packaged: Debian ships a one-line placeholder (the real map is in the -dbg package). */
  systemMap: string;
  config: string;
}

export class NotDebianKernelError extends Error {}

export function linuxKernel(pkg = newestKernelPackage()): LinuxKernel {
  const version = candidateVersion(pkg);
  const release = /^linux-image-(.+)-unsigned$/.exec(pkg)![1];
  const dir = path.join(LINUX_CACHE, `${pkg}_${version}-v2`);
  cached(dir, (tmp) => {
    const work = path.join(tmp, 'pkg');
    const root = fetchPackage(pkg, version, work);
    const boot = path.join(root, 'boot');
    const bz = fs.readFileSync(path.join(boot, `vmlinuz-${release}`));
    fs.writeFileSync(path.join(tmp, 'vmlinux'), extractVmlinux(bz));
    fs.copyFileSync(path.join(boot, `System.map-${release}`), path.join(tmp, 'System.map'));
    fs.copyFileSync(path.join(boot, `config-${release}`), path.join(tmp, 'config'));
    fs.rmSync(work, { recursive: true, force: true });
  });
  return { package: pkg, version, release, vmlinux: path.join(dir, 'vmlinux'), systemMap: path.join(dir, 'System.map'), config: path.join(dir, 'config') };
}

export interface DebianRelease {
  /** The ABI number: 57 in 6.1.0-57-cloud-amd64. */
  abi: string;
  release: string;
}

/** The release a Debian 6.1 cloud vmlinux announces in its banner ("Linux version 6.1.0-57-cloud-amd64 ..."). */
export function debianRelease(vmlinux: string): DebianRelease {
  const rodata = ElfFile.read(vmlinux).section('.rodata');
  const text = rodata === undefined ? '' : Buffer.from(rodata.data.subarray(0, 4 << 20)).toString('latin1');
  const m = /Linux version (6\.1\.0-(\d+)-cloud-amd64) /.exec(text);
  if (m === null) throw new NotDebianKernelError(`${vmlinux}: not a Debian Linux 6.1 cloud kernel (no "Linux version 6.1.0-N-cloud-amd64" banner)`);
  return { abi: m[2], release: m[1] };
}
