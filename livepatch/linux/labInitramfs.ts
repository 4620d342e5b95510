// The lab initramfs for real Linux (fixtures/linux/lab-init as /init): what the kernel's livepatch
// selftests and klp-lab's patch runs need, all fetched by Debian package name and cached under
// .klp-tmp/linux:
//   - busybox-static (the shell's small tools) and bash-static (the selftests are bash scripts);
//   - the GNU and kmod tools functions.sh calls with options busybox lacks (REAL-LINUX.md): kmod as
//     modprobe/insmod/rmmod/modinfo (one finit_module call, kmod's error text), coreutils' comm,
//     stat and mktemp, diffutils' diff, procps' sysctl; dynamically linked, so with the shared
//     libraries their DT_NEEDED entries name, found in the same packages (a missing one fails);
//   - tools/testing/selftests/livepatch/*.sh unmodified in /selftests, and the test_klp_* modules,
//     klp-lab's own (linuxModules.ts) and any extra modules the caller gives (a user's patch module)
//     in /lib/modules/RELEASE/extra with kmod's indexes (modules.dep.bin...).
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { execFileSync } from 'child_process';
import { buildCpio, type CpioEntry } from './cpioNewc';
import { PackageError, candidateVersions, fetchPackage } from './debianPackages';
import { debianRelease, linuxKernel } from './debianKernel';
import { LAB_FIXTURES, LINUX_CACHE, cached } from './labFiles';
import { labPatchModules, modulesIn, selftestFiles } from './linuxModules';

export const LAB_INIT = path.join(LAB_FIXTURES, 'linux', 'lab-init');

/** [package, [path in the package, path in the initramfs]...]: the tools, under the names functions.sh calls. */
const TOOLS: [string, [string, string][]][] = [
  ['kmod', [['bin/kmod', 'sbin/kmod']]],
  ['coreutils', [['usr/bin/comm', 'usr/bin/comm'], ['usr/bin/stat', 'bin/stat'], ['bin/mktemp', 'usr/bin/mktemp']]],
  ['diffutils', [['usr/bin/diff', 'usr/bin/diff']]],
  ['procps', [['sbin/sysctl', 'sbin/sysctl']]],
];
/** Packages that hold the shared libraries those tools need. */
const LIBRARIES = ['libc6', 'liblzma5', 'libzstd1', 'libssl3', 'libselinux1', 'libpcre2-8-0'];
const KMOD_NAMES = ['modprobe', 'insmod', 'rmmod', 'modinfo', 'lsmod', 'depmod'];
/** /init's interpreter; /init installs busybox's other applets itself. */
const APPLETS = ['sh'];

/** DT_NEEDED names of a dynamically linked ELF file. */
export function neededLibraries(bytes: Uint8Array): string[] {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shoff = Number(b.readBigUInt64LE(0x28)), shentsize = b.readUInt16LE(0x3a), shnum = b.readUInt16LE(0x3c);
  const sections = Array.from({ length: shnum }, (_, i) => {
    const at = shoff + i * shentsize;
    return { type: b.readUInt32LE(at + 4), offset: Number(b.readBigUInt64LE(at + 0x18)), size: Number(b.readBigUInt64LE(at + 0x20)), link: b.readUInt32LE(at + 0x28) };
  });
  const dynamic = sections.find((s) => s.type === 6 /* SHT_DYNAMIC */);
  if (dynamic === undefined) return [];
  const strtab = sections[dynamic.link];
  const out: string[] = [];
  for (let at = dynamic.offset; at + 16 <= dynamic.offset + dynamic.size; at += 16) {
    const tag = Number(b.readBigInt64LE(at));
    if (tag === 0) break;
    if (tag === 1 /* DT_NEEDED */) {
      const s = strtab.offset + Number(b.readBigUInt64LE(at + 8));
      out.push(b.toString('latin1', s, b.indexOf(0, s)));
    }
  }
  return out;
}

export interface LabInitramfs {
  path: string;
  /** "name version" of every Debian package in it. */
  packages: string[];
}

/**
 * The lab initramfs (gzip of a newc cpio) for a Debian 6.1 cloud vmlinux, built once per kernel
 * release, package versions, modules and scripts. `extraModules` (.ko files) join the lab's own in
 * /lib/modules/RELEASE/extra, loadable by name with modprobe.
 */
export function labInitramfs(vmlinux: string, opts: { extraModules?: string[] } = {}): LabInitramfs {
  const kernel = debianRelease(vmlinux);
  const selftests = selftestFiles(kernel.abi);
  const lab = labPatchModules(kernel.abi);
  const names = ['busybox-static', 'bash-static', ...TOOLS.map((t) => t[0]), ...LIBRARIES];
  const packages = candidateVersions(names).map((v, i) => `${names[i]} ${v}`);
  const init = fs.readFileSync(LAB_INIT);
  const modFiles = [...modulesIn(selftests.modules), ...modulesIn(lab)];
  for (const extra of opts.extraModules ?? []) {
    const name = path.basename(extra);
    if (!name.endsWith('.ko')) throw new PackageError(`${extra}: a kernel module's file name ends in .ko`);
    if (modFiles.some((f) => path.basename(f) === name)) throw new PackageError(`${extra}: the lab initramfs already has a module named ${name}`);
    modFiles.push(extra);
  }
  const scripts = selftests.scripts;
  const hash = crypto.createHash('sha256').update(`lab-initramfs 4\0${kernel.release}\0${packages.join(',')}\0${APPLETS.join(',')}\0`).update(init);
  hash.update(`${modFiles.map((f) => path.basename(f)).join(',')}\0`);
  for (const f of [...modFiles, ...fs.readdirSync(scripts).map((s) => path.join(scripts, s))]) hash.update(fs.readFileSync(f));
  const dir = path.join(LINUX_CACHE, `lab-initramfs-${hash.digest('hex').slice(0, 16)}`);
  cached(dir, (tmp) => {
    const roots = new Map<string, string>();
    for (const p of packages) {
      const [name, version] = p.split(' ');
      roots.set(name, fetchPackage(name, version, path.join(tmp, 'pkg', name)));
    }
    const entries: CpioEntry[] = [
      ...['bin', 'sbin', 'usr', 'usr/bin', 'usr/sbin', 'lib', 'lib/x86_64-linux-gnu', 'lib64', 'dev', 'proc', 'sys', 'selftests',
        'lib/modules', `lib/modules/${kernel.release}`, `lib/modules/${kernel.release}/extra`].map((name): CpioEntry => ({ name, kind: 'dir' })),
      { name: 'tmp', kind: 'dir', mode: 0o1777 }, { name: 'root', kind: 'dir', mode: 0o700 },
      { name: 'dev/console', kind: 'chardev', major: 5, minor: 1 },
      { name: 'dev/null', kind: 'chardev', major: 1, minor: 3, mode: 0o666 },
      { name: 'bin/busybox', kind: 'file', data: fs.readFileSync(path.join(roots.get('busybox-static')!, 'bin', 'busybox')) },
      { name: 'bin/bash', kind: 'file', data: fs.readFileSync(path.join(roots.get('bash-static')!, 'bin', 'bash-static')) },
      { name: 'init', kind: 'file', data: init },
      ...APPLETS.map((a): CpioEntry => ({ name: `bin/${a}`, kind: 'symlink', target: 'busybox' })),
      ...KMOD_NAMES.map((a): CpioEntry => ({ name: `sbin/${a}`, kind: 'symlink', target: 'kmod' })),
    ];
    // The tools, then every library they need (transitively), from the fetched packages.
    const needed = new Set<string>();
    const queue: Uint8Array[] = [];
    for (const [pkg, files] of TOOLS) {
      for (const [from, to] of files) {
        const data = fs.readFileSync(path.join(roots.get(pkg)!, from));
        entries.push({ name: to, kind: 'file', data });
        queue.push(data);
      }
    }
    const findLibrary = (name: string): string => {
      for (const root of roots.values()) {
        for (const d of ['lib/x86_64-linux-gnu', 'usr/lib/x86_64-linux-gnu', 'lib64']) {
          const p = path.join(root, d, name);
          if (fs.existsSync(p)) return fs.realpathSync(p);
        }
      }
      throw new PackageError(`lab initramfs: no package of ${LIBRARIES.join(', ')} holds ${name}`);
    };
    while (queue.length > 0) {
      for (const lib of neededLibraries(queue.pop()!)) {
        if (needed.has(lib)) continue;
        needed.add(lib);
        const data = fs.readFileSync(findLibrary(lib));
        entries.push({ name: `lib/x86_64-linux-gnu/${lib}`, kind: 'file', data });
        queue.push(data);
      }
    }
    entries.push({ name: 'lib64/ld-linux-x86-64.so.2', kind: 'file', data: fs.readFileSync(findLibrary('ld-linux-x86-64.so.2')) });
    for (const s of fs.readdirSync(scripts).sort()) entries.push({ name: `selftests/${s}`, kind: 'file', data: fs.readFileSync(path.join(scripts, s)) });
    // The modules and the indexes kmod's modprobe reads (modules.dep.bin and the others), made by
    // the fetched kmod's own depmod, run through the fetched dynamic loader and libraries.
    const tree = path.join(tmp, 'tree');
    const modDir = path.join(tree, 'lib', 'modules', kernel.release);
    fs.mkdirSync(path.join(modDir, 'extra'), { recursive: true });
    for (const f of modFiles) fs.copyFileSync(f, path.join(modDir, 'extra', path.basename(f)));
    const libDir = path.join(tmp, 'libs');
    fs.mkdirSync(libDir);
    for (const e of entries) if (e.kind === 'file' && e.name.startsWith('lib/x86_64-linux-gnu/')) fs.writeFileSync(path.join(libDir, path.basename(e.name)), e.data);
    const depmod = path.join(tmp, 'depmod');
    fs.symlinkSync(path.join(roots.get('kmod')!, 'bin', 'kmod'), depmod);
    execFileSync(findLibrary('ld-linux-x86-64.so.2'), ['--library-path', libDir, '--argv0', 'depmod', depmod, '-b', tree, kernel.release],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    for (const f of fs.readdirSync(modDir).sort()) {
      if (f === 'extra') continue;
      entries.push({ name: `lib/modules/${kernel.release}/${f}`, kind: 'file', data: fs.readFileSync(path.join(modDir, f)), mode: 0o644 });
    }
    for (const f of modFiles) entries.push({ name: `lib/modules/${kernel.release}/extra/${path.basename(f)}`, kind: 'file', data: fs.readFileSync(f), mode: 0o644 });
    fs.writeFileSync(path.join(tmp, 'initramfs.cpio.gz'), zlib.gzipSync(buildCpio(entries), { level: 9 }));
    fs.writeFileSync(path.join(tmp, 'packages'), `${packages.join('\n')}\n`);
    for (const d of ['pkg', 'tree', 'libs', 'depmod']) fs.rmSync(path.join(tmp, d), { recursive: true, force: true });
  });
  return { path: path.join(dir, 'initramfs.cpio.gz'), packages: fs.readFileSync(path.join(dir, 'packages'), 'utf8').trim().split('\n') };
}

// `node dist/livepatch/linux/labInitramfs.js`: fetch and build the lab initramfs (selftests,
// modules, user space) for the newest Debian 6.1 cloud kernel, print its path. .ci/run does this
// before the tests.
if (require.main === module) {
  try {
    const lab = labInitramfs(linuxKernel().vmlinux);
    process.stdout.write(`lab initramfs ${lab.path} (${lab.packages.length} packages)\n`);
  } catch (e) {
    process.stderr.write(`lab initramfs: ${(e as Error).message.split('\n')[0]}\n`);
    process.exitCode = 1;
  }
}
