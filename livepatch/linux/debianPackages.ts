// Debian packages by name: the version apt would install, downloaded with `apt-get download` and
// unpacked with `dpkg-deb -x` (nothing is installed on the host). Every failure is one line.
import * as fs from 'fs';
import * as path from 'path';
import { execFileSync } from 'child_process';

export class PackageError extends Error {}

/** Runs a host tool; a failure becomes a PackageError with the tool's last line of stderr. */
export function runTool(cmd: string, args: string[], cwd?: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    const why = (err.stderr ?? '').trim().split('\n').pop() || err.message.split('\n')[0];
    throw new PackageError(`${cmd} ${args.join(' ')}: ${why}`);
  }
}

function sleep(ms: number): void { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); }

/** apt-get/apt-cache with one `apt-get update` when the first try fails, waiting while another apt holds the lock. */
export function apt(cmd: string, args: string[], cwd?: string): string {
  let updated = false;
  for (let attempt = 0; ; attempt++) {
    try {
      return runTool(cmd, args, cwd);
    } catch (e) {
      const msg = (e as Error).message;
      if (/lock/i.test(msg) && attempt < 60) { sleep(2000); continue; }
      if (!updated) { updated = true; try { runTool('apt-get', ['update', '-qq']); } catch { /* the retry reports */ } continue; }
      throw e;
    }
  }
}

/** The version apt would install. */
export function candidateVersion(pkg: string): string {
  return candidateVersions([pkg])[0];
}

/**
 * The versions apt would install, in the order asked, from one `apt-cache show` (each call costs
 * about half a second: one per package made every real-kernel command start seconds late).
 */
export function candidateVersions(pkgs: readonly string[]): string[] {
  const out = apt('apt-cache', ['show', '--no-all-versions', ...pkgs]);
  const versions = new Map<string, string>();
  for (const record of out.split(/\n\s*\n/)) {
    const name = /^Package: (.+)$/m.exec(record), version = /^Version: (.+)$/m.exec(record);
    if (name && version && !versions.has(name[1].trim())) versions.set(name[1].trim(), version[1].trim());
  }
  return pkgs.map((p) => {
    const v = versions.get(p);
    if (v === undefined) throw new PackageError(`apt-cache show ${p}: no version`);
    return v;
  });
}

/** The newest linux-image-6.1.0-<abi>-cloud-amd64-unsigned package apt knows (Debian retires ABI numbers). */
export function newestKernelPackage(): string {
  const search = (): string[] => runTool('apt-cache', ['search', '--names-only', '^linux-image-6\\.1\\.0-[0-9]+-cloud-amd64-unsigned$'])
    .split('\n').map((l) => l.split(' ')[0]).filter((n) => /^linux-image-6\.1\.0-\d+-cloud-amd64-unsigned$/.test(n));
  let names = search();
  if (names.length === 0) { apt('apt-get', ['update', '-qq']); names = search(); }
  if (names.length === 0) throw new PackageError('apt-cache search lists no linux-image-6.1.0-*-cloud-amd64-unsigned package');
  const abi = (n: string): number => Number(/6\.1\.0-(\d+)-/.exec(n)![1]);
  return names.sort((a, b) => abi(a) - abi(b))[names.length - 1];
}

/** Downloads a package into `into`/deb, unpacks it into `into`/root, returns that root. */
export function fetchPackage(pkg: string, version: string, into: string): string {
  const dl = path.join(into, 'deb');
  fs.mkdirSync(dl, { recursive: true });
  apt('apt-get', ['download', `${pkg}=${version}`], dl);
  const deb = fs.readdirSync(dl).find((f) => f.endsWith('.deb'));
  if (deb === undefined) throw new PackageError(`apt-get download ${pkg}: no .deb file`);
  const root = path.join(into, 'root');
  fs.mkdirSync(root, { recursive: true });
  runTool('dpkg-deb', ['-x', path.join(dl, deb), root]);
  return root;
}
