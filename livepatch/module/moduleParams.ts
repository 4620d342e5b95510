// Module parameters (kernel/params.c): the records module_param() leaves in a module's __param
// section (fixtures/include/livepatch.h: name, variable, type, sysfs mode), read from the
// relocated image; "name=value" words as modprobe passes them; values parsed and printed as
// param_set_int/param_set_bool and param_get_int/param_get_bool do.

import type { LoadedModule } from './moduleLoader';

export const KPARAM_TYPE_INT = 1;
export const KPARAM_TYPE_BOOL = 2;

export interface ModuleParam {
  name: string;
  /** Guest address of the variable. */
  address: number;
  type: 'int' | 'bool';
  /** The sysfs file's mode (0: no /sys/module/<mod>/parameters/<name>). */
  perm: number;
}

/** The kernel_param layout (KPARAM_* symbols of the kernel image; these are the defaults). */
export interface KparamLayout {
  name: number;
  arg: number;
  type: number;
  perm: number;
  size: number;
}

export const DEFAULT_KPARAM_LAYOUT: KparamLayout = { name: 0, arg: 8, type: 16, perm: 20, size: 24 };

/** The parameters a loaded module declares, in section order. */
export function moduleParams(module: LoadedModule, L: KparamLayout = DEFAULT_KPARAM_LAYOUT): ModuleParam[] {
  const section = module.sections.find((s) => s.name === '__param');
  if (!section) return [];
  const view = new DataView(module.image.buffer, module.image.byteOffset, module.image.byteLength);
  const at = (address: number) => address - module.base;
  const u64 = (offset: number) => view.getInt32(offset + 4, true) * 0x1_0000_0000 + view.getUint32(offset, true);
  const out: ModuleParam[] = [];
  for (let off = at(section.address); off + L.size <= at(section.address) + section.size; off += L.size) {
    const namePtr = u64(off + L.name);
    let name = '';
    for (let i = at(namePtr); i >= 0 && i < module.image.length && module.image[i] !== 0; i++) name += String.fromCharCode(module.image[i]);
    const type = view.getUint32(off + L.type, true);
    if (!name || (type !== KPARAM_TYPE_INT && type !== KPARAM_TYPE_BOOL)) continue;
    out.push({ name, address: u64(off + L.arg), type: type === KPARAM_TYPE_INT ? 'int' : 'bool', perm: view.getUint32(off + L.perm, true) });
  }
  return out;
}

/** One "name=value" (or a bare "name", which means "name=Y" for a bool) from modprobe's arguments. */
export function parseParamArg(arg: string): { name: string; value: string | null } {
  const eq = arg.indexOf('=');
  const name = (eq < 0 ? arg : arg.slice(0, eq)).replace(/-/g, '_');
  return { name, value: eq < 0 ? null : arg.slice(eq + 1) };
}

/**
 * param_set_int (kstrtoint, base 0) and param_set_bool (kstrtobool: y/Y/1/n/N/0, on/off):
 * the value to store, or null when the text is not a valid value (-EINVAL).
 */
export function parseParamValue(param: ModuleParam, text: string | null): number | null {
  if (param.type === 'bool') {
    if (text === null || text === '') return 1;
    const t = text.replace(/\n$/, '');
    const c = t[0];
    if (c === 'y' || c === 'Y' || c === '1') return 1;
    if (c === 'n' || c === 'N' || c === '0') return 0;
    if (/^o[nN]/i.test(t)) return 1;
    if (/^o[fF]/i.test(t)) return 0;
    return null;
  }
  if (text === null) return null;
  const m = /^\s*([+-]?)(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)\n?$/i.exec(text);
  if (!m) return null;
  const body = m[2];
  const magnitude = /^0x/i.test(body) ? parseInt(body.slice(2), 16) : body.length > 1 && body[0] === '0' ? parseInt(body, 8) : parseInt(body, 10);
  const v = m[1] === '-' ? -magnitude : magnitude;
  return v >= -0x8000_0000 && v <= 0x7fff_ffff ? v : null;
}

/** param_get_int / param_get_bool: what reading the sysfs file shows (without the newline). */
export function formatParamValue(param: ModuleParam, raw: number): string {
  return param.type === 'bool' ? (raw ? 'Y' : 'N') : String(raw | 0);
}

/** The .modinfo strings ("tag=value") of a module object, as modinfo lists them. */
export function modinfo(data: Uint8Array | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!data) return out;
  for (const entry of Buffer.from(data).toString('latin1').split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) out.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return out;
}
