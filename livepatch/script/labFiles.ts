// The files a scenario script reads and writes, served from the lab: sysfs
// (/sys/kernel/livepatch/<patch>/{enabled,transition,force,<object>/patched},
// /sys/module/<mod>/{refcnt,parameters/<p>}), procfs (/proc/cmdline, /proc/meminfo, the guest's
// show functions), the kernel log (/dev/kmsg) and /dev/null. Modes are the kernel's, for
// check_sysfs_rights.

import type { LivepatchLab } from '../guest/livepatchLab';

export type FileRead = { text: string } | { error: string };

/** What a write did: 0, or an errno (the shell reports "write error: <strerror>"). */
export type FileWrite = number;

export interface LabFileOptions {
  /** Writes to sysfs files, run where the kernel runs them (a kthread, see LivepatchLab.inKthread). */
  lab: LivepatchLab;
  /** A line written to /dev/kmsg. */
  kmsg: (text: string) => void;
}

export class LabFiles {
  constructor(private readonly o: LabFileOptions) {}

  private get lab(): LivepatchLab {
    return this.o.lab;
  }

  private livePatch(name: string) {
    const p = this.lab.patch(name);
    return p && !p.freed ? p : undefined;
  }

  /** The file's mode as `stat --format %A` prints it, or undefined when it does not exist. */
  mode(path: string): string | undefined {
    const p = normalize(path);
    if (p === '/dev/null' || p === '/dev/kmsg') return 'crw-rw-rw-';
    if (p === '/proc/cmdline' || p === '/proc/meminfo') return '-r--r--r--';
    let m = /^\/sys\/kernel\/livepatch\/([^/]+)(?:\/(.*))?$/.exec(p);
    if (m) {
      const patch = this.livePatch(m[1]);
      if (!patch) return undefined;
      const rest = m[2] ?? '';
      if (rest === '') return 'drwxr-xr-x';
      if (rest === 'enabled') return '-rw-r--r--';
      if (rest === 'transition') return '-r--r--r--';
      if (rest === 'force') return '--w-------';
      const o = /^([^/]+)(?:\/(.*))?$/.exec(rest)!;
      const obj = patch.objects.find((x) => x.displayName === o[1] && !x.dynamic);
      if (!obj) return undefined;
      if (o[2] === undefined) return 'drwxr-xr-x';
      if (o[2] === 'patched') return '-r--r--r--';
      const f = /^([^/,]+),(\d+)$/.exec(o[2]);
      if (f && obj.funcs.some((fn) => !fn.nop && fn.oldName === f[1] && Math.max(1, fn.oldSympos) === Number(f[2]))) return 'drwxr-xr-x';
      return undefined;
    }
    m = /^\/sys\/module\/([^/]+)(?:\/(.*))?$/.exec(p);
    if (m) {
      const mod = this.lab.modules.get(m[1]);
      if (!mod) return undefined;
      const rest = m[2] ?? '';
      if (rest === '') return 'drwxr-xr-x';
      if (rest === 'refcnt') return '-r--r--r--';
      if (rest === 'parameters') return mod.params?.length ? 'drwxr-xr-x' : undefined;
      const q = /^parameters\/([^/]+)$/.exec(rest);
      const param = q ? mod.params?.find((x) => x.name === q[1] && x.perm !== 0) : undefined;
      return param ? modeString(param.perm) : undefined;
    }
    if (p === '/sys/kernel/livepatch' || p === '/sys/module' || p === '/proc' || p === '/dev') return 'drwxr-xr-x';
    return undefined;
  }

  exists(path: string): boolean {
    return this.mode(path) !== undefined;
  }

  read(path: string): FileRead {
    const p = normalize(path);
    const mode = this.mode(p);
    if (mode === undefined) return { error: 'No such file or directory' };
    if (mode.startsWith('d')) return { error: 'Is a directory' };
    if (p === '/dev/null') return { text: '' };
    if (p === '/dev/kmsg') return { error: 'Invalid argument' };
    if (p === '/proc/cmdline') return { text: this.lab.readProc('cmdline') };
    if (p === '/proc/meminfo') return { text: this.lab.readProc('meminfo') };
    if (mode[1] !== 'r') return { error: 'Permission denied' };
    let m = /^\/sys\/kernel\/livepatch\/([^/]+)\/(.*)$/.exec(p);
    if (m) {
      const patch = this.livePatch(m[1])!;
      if (m[2] === 'enabled') return { text: `${patch.enabled ? 1 : 0}\n` };
      if (m[2] === 'transition') return { text: `${this.lab.core.readTransition(patch) ? 1 : 0}\n` };
      const o = /^([^/]+)\/patched$/.exec(m[2]);
      const obj = o ? patch.objects.find((x) => x.displayName === o[1] && !x.dynamic) : undefined;
      if (obj) return { text: `${obj.patched ? 1 : 0}\n` };
    }
    m = /^\/sys\/module\/([^/]+)\/(.*)$/.exec(p);
    if (m) {
      if (m[2] === 'refcnt') return { text: `${this.lab.moduleRefcount(m[1])}\n` };
      const q = /^parameters\/([^/]+)$/.exec(m[2]);
      const v = q ? this.lab.readParam(m[1], q[1]) : undefined;
      if (v !== undefined) return { text: `${v}\n` };
    }
    return { error: 'Invalid argument' };
  }

  /** Writes `text` (what echo wrote, with its newline). Returns 0 or a positive errno. */
  write(path: string, text: string): FileWrite {
    const p = normalize(path);
    if (p === '/dev/null') return 0;
    if (p === '/dev/kmsg') {
      for (const line of text.replace(/\n$/, '').split('\n')) this.o.kmsg(line);
      return 0;
    }
    const mode = this.mode(p);
    if (mode === undefined) return p.startsWith('/sys/') || p.startsWith('/proc/') ? 2 /* ENOENT */ : 13 /* EACCES: no other files */;
    if (mode.startsWith('d')) return 21; // EISDIR
    if (mode[2] !== 'w') return 13;
    let m = /^\/sys\/kernel\/livepatch\/([^/]+)\/(enabled|force)$/.exec(p);
    if (m) {
      const value = kstrtobool(text);
      if (value === null) return 22;
      const name = m[1];
      const kind = m[2];
      const err = this.lab.inKthread(() => (kind === 'enabled' ? this.lab.writeEnabled(name, value) : value ? this.lab.writeForce(name) : 0));
      return err < 0 ? -err : 0;
    }
    m = /^\/sys\/module\/([^/]+)\/parameters\/([^/]+)$/.exec(p);
    if (m) {
      const err = this.lab.writeParam(m[1], m[2], text);
      return err < 0 ? -err : 0;
    }
    return 22;
  }
}

/** Paths as the scripts spell them: repeated and trailing slashes do not matter. */
export function normalize(path: string): string {
  const p = path.replace(/\/+/g, '/');
  return p.length > 1 ? p.replace(/\/$/, '') : p;
}

function modeString(perm: number): string {
  const bits = 'rwxrwxrwx';
  let out = '-';
  for (let i = 0; i < 9; i++) out += perm & (1 << (8 - i)) ? bits[i] : '-';
  return out;
}

/** kstrtobool: the first character decides (y/Y/1, n/N/0), "on"/"off". */
export function kstrtobool(text: string): boolean | null {
  const t = text.replace(/\n$/, '');
  const c = t[0];
  if (c === 'y' || c === 'Y' || c === '1') return true;
  if (c === 'n' || c === 'N' || c === '0') return false;
  if (/^o[nN]/.test(t)) return true;
  if (/^o[fF]/.test(t)) return false;
  return null;
}
