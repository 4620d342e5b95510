// The real-Linux comparison fixture, built from Debian package names at test time and cached under
// .klp-tmp/linux/ (ignored by git; nothing downloaded is committed):
//   - the newest linux-image-6.1.0-<abi>-cloud-amd64-unsigned that apt-cache lists (Debian retires
//     ABI numbers), through livepatch/linux/debianKernel.ts;
//   - a deterministic initramfs: busybox-static and bash-static with fixtures/linux/init as /init,
//     the scenario QEMU's console was recorded on (the lab's own is livepatch/linux/labInitramfs.ts).
// Anything that fails (no package, no network, apt errors) throws with one clear line: a test that
// needs the fixture fails loudly, never skips.

import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { FIXTURES } from '../fixtures';
import { buildCpio, type CpioEntry } from '../../../livepatch/linux/cpioNewc';
import { PackageError, candidateVersion, fetchPackage } from '../../../livepatch/linux/debianPackages';
import { linuxKernel, type LinuxKernel } from '../../../livepatch/linux/debianKernel';
import { LINUX_CACHE, cached } from '../../../livepatch/linux/labFiles';
import { LINUX_CMDLINE } from '../../../livepatch/linux/linuxBoot';

export { LINUX_CACHE, LINUX_CMDLINE, linuxKernel, type LinuxKernel };
/** Failures of the fixture: one line (a download, a build, a missing peer). */
export const LinuxFixtureError = PackageError;

export const INIT_SCRIPT = path.join(FIXTURES, 'linux', 'init');

export interface LinuxFixture {
  kernel: LinuxKernel;
  initramfs: string;
  /** Versions of the user-space packages in the initramfs. */
  userPackages: string[];
}

/** Busybox applets /init and the scenarios call by name (links to /bin/busybox). */
const APPLETS = ['awk', 'cat', 'echo', 'gunzip', 'gzip', 'head', 'ls', 'mount', 'printf', 'reboot', 'seq', 'sh',
  'sha256sum', 'sort', 'tr', 'uname', 'wc'];

/** The initramfs image (gzip of a newc cpio) for fixtures/linux/init. */
export function linuxInitramfs(): { path: string; packages: string[] } {
  const busyboxVersion = candidateVersion('busybox-static'), bashVersion = candidateVersion('bash-static');
  const init = fs.readFileSync(INIT_SCRIPT);
  const key = crypto.createHash('sha256').update(`${busyboxVersion}\0${bashVersion}\0${APPLETS.join(',')}\0`).update(init).digest('hex').slice(0, 16);
  const dir = path.join(LINUX_CACHE, `initramfs-${key}`);
  cached(dir, (tmp) => {
    const busybox = fetchPackage('busybox-static', busyboxVersion, path.join(tmp, 'busybox'));
    const bash = fetchPackage('bash-static', bashVersion, path.join(tmp, 'bash'));
    const entries: CpioEntry[] = [
      { name: 'bin', kind: 'dir' }, { name: 'dev', kind: 'dir' }, { name: 'proc', kind: 'dir' },
      { name: 'sys', kind: 'dir' }, { name: 'tmp', kind: 'dir', mode: 0o1777 }, { name: 'root', kind: 'dir', mode: 0o700 },
      { name: 'dev/console', kind: 'chardev', major: 5, minor: 1 },
      { name: 'dev/null', kind: 'chardev', major: 1, minor: 3, mode: 0o666 },
      { name: 'dev/fd', kind: 'symlink', target: '/proc/self/fd' }, // bash's process substitution needs it
      { name: 'bin/busybox', kind: 'file', data: fs.readFileSync(path.join(busybox, 'bin', 'busybox')) },
      { name: 'bin/bash', kind: 'file', data: fs.readFileSync(path.join(bash, 'bin', 'bash-static')) },
      { name: 'init', kind: 'file', data: init },
      ...APPLETS.map((a): CpioEntry => ({ name: `bin/${a}`, kind: 'symlink', target: 'busybox' })),
    ];
    const gz = zlib.gzipSync(buildCpio(entries), { level: 9 }); // zlib's header: no name, mtime 0
    fs.writeFileSync(path.join(tmp, 'initramfs.cpio.gz'), gz);
    fs.writeFileSync(path.join(tmp, 'packages'), `busybox-static ${busyboxVersion}\nbash-static ${bashVersion}\n`);
    fs.rmSync(path.join(tmp, 'busybox'), { recursive: true, force: true });
    fs.rmSync(path.join(tmp, 'bash'), { recursive: true, force: true });
  });
  return { path: path.join(dir, 'initramfs.cpio.gz'), packages: fs.readFileSync(path.join(dir, 'packages'), 'utf8').trim().split('\n') };
}

export function linuxFixture(): LinuxFixture {
  const kernel = linuxKernel();
  const initramfs = linuxInitramfs();
  return { kernel, initramfs: initramfs.path, userPackages: initramfs.packages };
}

/** A scratch directory for one test (removed by the caller). */
export function scratchDir(): string { return fs.mkdtempSync(path.join(os.tmpdir(), 'klp-linux-')); }

// `node dist/test/helpers/linux/linuxFixture.js`: fetch and build everything, print the paths.
if (require.main === module) {
  try {
    const f = linuxFixture();
    process.stdout.write(`kernel    ${f.kernel.package} ${f.kernel.version}\nvmlinux   ${f.kernel.vmlinux}\nSystem.map ${f.kernel.systemMap}\n` +
      `initramfs ${f.initramfs} (${f.userPackages.join(', ')})\n`);
  } catch (e) {
    process.stderr.write(`linux fixture: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
