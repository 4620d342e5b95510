// The real-Linux fixture, built from Debian package names at test time and cached under
// .klp-tmp/linux/ (ignored by git; nothing downloaded is committed):
//   - the newest linux-image-6.1.0-<abi>-cloud-amd64-unsigned that apt-cache lists (Debian retires
//     ABI numbers): its ELF vmlinux (extracted from the bzImage here) and System.map;
//   - a deterministic initramfs: busybox-static and bash-static with fixtures/linux/init as /init.
// Anything that fails (no package, no network, apt errors) throws with one clear line: a test that
// needs the fixture fails loudly, never skips.

import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { execFileSync } from 'child_process';
import { REPO_ROOT, FIXTURES } from '../fixtures';
import { extractVmlinux } from './bzImage';
import { buildCpio, type CpioEntry } from './cpioNewc';

export const LINUX_CACHE = path.join(REPO_ROOT, '.klp-tmp', 'linux');
export const INIT_SCRIPT = path.join(FIXTURES, 'linux', 'init');
/** The command line of every comparison boot (REAL-LINUX.md: no ACPI, no PCI, reboot by triple fault). */
export const LINUX_CMDLINE = 'console=ttyS0 acpi=off pci=off reboot=t panic=-1';

export class LinuxFixtureError extends Error {}

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

export interface LinuxFixture {
  kernel: LinuxKernel;
  initramfs: string;
  /** Versions of the user-space packages in the initramfs. */
  userPackages: string[];
}

function run(cmd: string, args: string[], cwd?: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    const why = (err.stderr ?? '').trim().split('\n').pop() || err.message.split('\n')[0];
    throw new LinuxFixtureError(`${cmd} ${args.join(' ')}: ${why}`);
  }
}

/** apt-get with one `apt-get update` when the first try fails, and waits while another apt holds the lock. */
export function apt(cmd: string, args: string[], cwd?: string): string {
  let updated = false;
  for (let attempt = 0; ; attempt++) {
    try {
      return run(cmd, args, cwd);
    } catch (e) {
      const msg = (e as Error).message;
      if (/lock/i.test(msg) && attempt < 60) { sleep(2000); continue; }
      if (!updated) { updated = true; try { run('apt-get', ['update', '-qq']); } catch { /* the retry reports */ } continue; }
      throw e;
    }
  }
}

function sleep(ms: number): void { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); }

export function candidateVersion(pkg: string): string {
  const out = apt('apt-cache', ['show', '--no-all-versions', pkg]);
  const m = /^Version: (.+)$/m.exec(out);
  if (!m) throw new LinuxFixtureError(`apt-cache show ${pkg}: no version`);
  return m[1].trim();
}

/** The newest linux-image-6.1.0-<abi>-cloud-amd64-unsigned package apt knows. */
export function newestKernelPackage(): string {
  const search = (): string[] => run('apt-cache', ['search', '--names-only', '^linux-image-6\\.1\\.0-[0-9]+-cloud-amd64-unsigned$'])
    .split('\n').map((l) => l.split(' ')[0]).filter((n) => /^linux-image-6\.1\.0-\d+-cloud-amd64-unsigned$/.test(n));
  let names = search();
  if (names.length === 0) { apt('apt-get', ['update', '-qq']); names = search(); }
  if (names.length === 0) throw new LinuxFixtureError('apt-cache search lists no linux-image-6.1.0-*-cloud-amd64-unsigned package');
  const abi = (n: string): number => Number(/6\.1\.0-(\d+)-/.exec(n)![1]);
  return names.sort((a, b) => abi(a) - abi(b))[names.length - 1];
}

/** Downloads a package into a fresh directory, unpacks it, returns the unpacked root. */
export function fetchPackage(pkg: string, version: string, into: string): string {
  const dl = path.join(into, 'deb');
  fs.mkdirSync(dl, { recursive: true });
  apt('apt-get', ['download', `${pkg}=${version}`], dl);
  const deb = fs.readdirSync(dl).find((f) => f.endsWith('.deb'));
  if (deb === undefined) throw new LinuxFixtureError(`apt-get download ${pkg}: no .deb file`);
  const root = path.join(into, 'root');
  fs.mkdirSync(root, { recursive: true });
  run('dpkg-deb', ['-x', path.join(dl, deb), root]);
  return root;
}

/** Builds `dir` through a temporary sibling renamed into place, so readers never see half of it. */
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
