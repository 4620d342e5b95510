// The real kernel's patch modules, built out of tree (fixtures/linux/livepatch/build.sh) for the ABI
// of the fetched vmlinux and cached in .klp-tmp/linux-modules/ABI; built here when missing.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ElfFile } from '../../elf/elfFile';

const ROOT = path.resolve(__dirname, '..', '..');

/** The ABI number of a Debian 6.1 cloud vmlinux, from its banner ("Linux version 6.1.0-57-cloud-amd64"). */
export function debianAbi(vmlinux: string): string {
  const rodata = ElfFile.read(vmlinux).section('.rodata')!;
  const m = /Linux version 6\.1\.0-(\d+)-cloud-amd64/.exec(Buffer.from(rodata.data.subarray(0, 4 << 20)).toString('latin1'));
  if (m === null) throw new Error(`${vmlinux}: not a Debian 6.1 cloud kernel (no banner)`);
  return m[1];
}

/** The directory holding klp_lab_*.ko for this vmlinux. */
export function linuxPatchModules(vmlinux: string): string {
  const abi = debianAbi(vmlinux);
  const dir = path.join(ROOT, '.klp-tmp', 'linux-modules', abi);
  if (!fs.existsSync(path.join(dir, 'klp_lab_workload.ko'))) {
    execFileSync(path.join(ROOT, 'fixtures', 'linux', 'livepatch', 'build.sh'), [abi], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return dir;
}
