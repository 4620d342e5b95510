// The modules of Debian's Linux 6.1 cloud kernel, as inputs for objtool over many objects, and
// Linux 6.1's objtool from Debian's linux-kbuild-6.1 to compare with. Both are fetched by
// package name with apt-get at test time and cached under .klp-tmp/ (never committed). A
// failed download throws: the tests that need them fail loudly rather than skip.
//
// The modules were built with objtool, so they already carry ORC tables; the copies made here
// have the ORC sections removed with objcopy, so that `objtool --orc` has its work to do.

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT } from '../helpers/fixtures';
import { linuxObjtool61 } from '../helpers/linuxObjtool';

const CACHE = path.join(REPO_ROOT, '.klp-tmp');
const PACKAGE_PATTERN = /^linux-image-6\.1\.0-(\d+)-cloud-amd64-unsigned$/;
const ORC_SECTIONS = ['.orc_unwind', '.orc_unwind_ip', '.rela.orc_unwind_ip'];

/**
 * Twenty modules of the package, chosen for what they exercise: AVX code (VEX instructions
 * after calls), static call trampolines, unreachable-instruction and uaccess warnings, jump
 * tables, and ordinary drivers of every size.
 */
export const MODULE_SAMPLE = [
  'arch/x86/crypto/aesni-intel.ko',
  'arch/x86/crypto/camellia-aesni-avx2.ko',
  'arch/x86/crypto/poly1305-x86_64.ko',
  'arch/x86/crypto/sha256-ssse3.ko',
  'arch/x86/kvm/kvm-amd.ko',
  'crypto/nhpoly1305.ko',
  'drivers/block/loop.ko',
  'drivers/char/virtio_console.ko',
  'drivers/md/dm-mod.ko',
  'drivers/net/virtio_net.ko',
  'drivers/scsi/virtio_scsi.ko',
  'drivers/watchdog/watchdog.ko',
  'drivers/xen/xen-evtchn.ko',
  'fs/fat/fat.ko',
  'fs/isofs/isofs.ko',
  'lib/crypto/libchacha20poly1305.ko',
  'lib/raid6/raid6_pq.ko',
  'net/key/af_key.ko',
  'net/sched/sch_cake.ko',
  'net/vmw_vsock/vsock.ko',
];

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Runs an apt command, waiting and retrying while another apt holds its lock. */
function apt(cmd: string, args: string[], cwd: string): string {
  for (let attempt = 1; ; attempt++) {
    try {
      return run(cmd, args, cwd);
    } catch (e) {
      const text = String((e as { stderr?: string }).stderr ?? (e as Error).message);
      if (attempt >= 20 || !/lock/i.test(text)) throw e;
      sleepMs(3000);
    }
  }
}

/** apt-get download, with one `apt-get update` and a retry when the first attempt fails. */
function aptDownload(pkg: string, dir: string): void {
  try {
    apt('apt-get', ['download', pkg], dir);
  } catch {
    try {
      apt('apt-get', ['update', '-qq'], dir);
      apt('apt-get', ['download', pkg], dir);
    } catch (e) {
      throw new Error(`could not download Debian package ${pkg} with apt-get: ${(e as Error).message.split('\n')[0]}`);
    }
  }
}

/** The newest linux-image-6.1.0-N-cloud-amd64-unsigned that apt knows. */
function newestKernelPackage(): string {
  fs.mkdirSync(CACHE, { recursive: true });
  const list = (): string[] => apt('apt-cache', ['pkgnames', 'linux-image-6.1.0-'], CACHE).split('\n').filter((n) => PACKAGE_PATTERN.test(n));
  let names = list();
  if (names.length === 0) {
    apt('apt-get', ['update', '-qq'], CACHE);
    names = list();
  }
  if (names.length === 0) throw new Error('apt knows no linux-image-6.1.0-*-cloud-amd64-unsigned package');
  return names.sort((a, b) => Number(PACKAGE_PATTERN.exec(b)![1]) - Number(PACKAGE_PATTERN.exec(a)![1]))[0];
}

/** Downloads and unpacks a package into `dest` unless it is there; returns dest. */
function unpacked(pkg: string, dest: string): string {
  if (fs.existsSync(dest)) return dest;
  fs.mkdirSync(CACHE, { recursive: true });
  const work = fs.mkdtempSync(path.join(CACHE, 'download-'));
  try {
    aptDownload(pkg, work);
    const deb = fs.readdirSync(work).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg} left no .deb`);
    fs.mkdirSync(path.join(work, 'x'));
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    run('dpkg', ['-x', deb, 'x'], work);
    try {
      fs.renameSync(path.join(work, 'x'), dest); // atomic: a concurrent run finds all or nothing
    } catch (e) {
      if (!fs.existsSync(dest)) throw e;
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return dest;
}

/** The module tree (…/lib/modules/VERSION/kernel) of the newest cloud kernel package. */
export function debianModuleTree(): { pkg: string; kernelDir: string } {
  const pkg = newestKernelPackage();
  const root = unpacked(pkg, path.join(CACHE, 'debian', pkg));
  const versions = fs.readdirSync(path.join(root, 'lib', 'modules'));
  if (versions.length !== 1) throw new Error(`${pkg}: expected one lib/modules version, found ${versions.join(', ')}`);
  return { pkg, kernelDir: path.join(root, 'lib', 'modules', versions[0], 'kernel') };
}

/** Every module path under the tree, relative, in byte order. */
export function allModules(kernelDir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(kernelDir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (e.name.endsWith('.ko')) out.push(r);
    }
  };
  walk('');
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Copies the named modules (relative paths) from the tree into `dest`, keeping their
 * relative paths, with their ORC sections removed.
 */
export function stripOrcInto(kernelDir: string, modules: string[], dest: string): void {
  const removes = ORC_SECTIONS.flatMap((s) => ['--remove-section', s]);
  for (const m of modules) {
    const src = path.join(kernelDir, m);
    if (!fs.existsSync(src)) throw new Error(`module ${m} is not in ${kernelDir}`);
    fs.mkdirSync(path.dirname(path.join(dest, m)), { recursive: true });
    run('objcopy', [...removes, src, path.join(dest, m)], dest);
  }
}

/** Linux 6.1's objtool: the one the environment names, or linux-kbuild-6.1 fetched into .klp-tmp/kbuild. */
export function linuxObjtoolOrFetch(): string {
  const found = linuxObjtool61();
  if (found) return found;
  const dest = unpacked('linux-kbuild-6.1', path.join(CACHE, 'kbuild'));
  const bin = path.join(dest, 'usr', 'lib', 'linux-kbuild-6.1', 'tools', 'objtool', 'objtool');
  if (!fs.existsSync(bin)) throw new Error(`linux-kbuild-6.1 has no ${bin}`);
  return bin;
}
