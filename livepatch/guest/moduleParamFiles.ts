// A module's parameters as the kernel keeps them (module_param): set from modprobe's name=value
// words (parse_args), read and written through /sys/module/<name>/parameters/<param>.
import type { KlpLog } from '../klpLog';
import { formatParamValue, parseParamArg, parseParamValue, type ModuleParam } from '../module/moduleParams';
import { EINVAL } from '../patchState';
import type { GuestAccess } from './guestAccess';
import type { LoadedPatchModule } from './loadedPatchModule';

const ENOENT = 2;

export class ModuleParamFiles {
  constructor(private readonly access: GuestAccess, private readonly log: () => KlpLog) {}

  /** Reading the file: the value as the kernel prints it, or undefined when there is none. */
  read(record: LoadedPatchModule | undefined, param: string): string | undefined {
    const p = record?.params?.find((q) => q.name === param);
    if (!p) return undefined;
    const raw = p.type === 'bool' ? this.access.bytes(p.address, 1)[0] : this.access.i32(p.address);
    return formatParamValue(p, raw);
  }

  /** Writing the file: 0, -ENOENT (no such file) or -EINVAL. */
  write(record: LoadedPatchModule | undefined, param: string, text: string): number {
    const p = record?.params?.find((q) => q.name === param && q.perm !== 0);
    if (!p) return -ENOENT;
    const v = parseParamValue(p, text);
    if (v === null) return -EINVAL;
    this.store(p, v);
    return 0;
  }

  /** parse_args on modprobe's "name=value" words: unknown names are ignored, bad values refuse the module. */
  setFromArgs(record: LoadedPatchModule, args: readonly string[]): number {
    for (const arg of args) {
      const { name, value } = parseParamArg(arg);
      const p = record.params?.find((q) => q.name === name);
      if (!p) {
        this.log().print('warn', `${record.name}: unknown parameter '${name}' ignored`);
        continue;
      }
      const v = parseParamValue(p, value);
      if (v === null) {
        this.log().print('err', `${record.name}: '${value ?? ''}' invalid for parameter '${name}'`);
        return -EINVAL;
      }
      this.store(p, v);
    }
    return 0;
  }

  private store(p: ModuleParam, v: number): void {
    if (p.type === 'bool') this.access.write(p.address, new Uint8Array([v ? 1 : 0]));
    else this.access.writeI32(p.address, v);
  }
}
