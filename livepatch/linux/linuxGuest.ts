// What the host reads of a running real Linux for live patching: its tasks (pid, comm, kind,
// patch_state, TIF_PATCH_PENDING, saved stack pointer), the current task, each task's true stack
// from the emulator's ground truth, and the livepatch core's structures (klp_patch, klp_object,
// klp_func). Every offset comes from the kernel layout (emulator/kernel: BTF and kallsyms) or from
// the image's BTF here; nothing is typed in for one build. Reads go through the guest's page tables.
import { Btf } from '../../elf/btf';
import { ElfFile } from '../../elf/elfFile';
import { ElfError } from '../../elf/elfError';
import { KernelSymbols, readKallsyms } from '../../elf/kallsyms';
import { currentTaskPointerAt, taskKindOf, type Field, type KernelLayout, type TaskKind } from '../../emulator/kernel/kernelLayout';
import { btfField, linuxLayout } from '../../emulator/kernel/linuxLayout';
import type { Machine } from '../../emulator/machine';
import { RSP } from '../../emulator/cpu/registers';
import { FRAME_CALL } from '../../emulator/truth/callStacks';
import { userModeCs } from '../unwind/ptRegs';

/** The walk of the task list stops here (a corrupt list must not hang the host). */
const MAX_TASKS = 4096;

/** The klp structures' fields the host reads (include/linux/livepatch.h, 6.1). */
interface KlpFields {
  patchMod: Field; patchObjList: Field;
  objNode: Field; objFuncList: Field; objName: Field;
  funcNode: Field; funcOldName: Field; funcNewFunc: Field; funcOldFunc: Field; funcOldSize: Field; funcNewSize: Field; funcNop: Field;
  moduleName: Field; moduleList: Field; moduleBase: Field; moduleTextSize: Field; moduleKallsyms: Field;
  kallsymsSymtab: Field; kallsymsCount: Field; kallsymsStrtab: Field;
}

/** A Linux image read once (layout, BTF, kallsyms), shared by every run on it. */
export class LinuxImage {
  readonly layout: KernelLayout;
  readonly symbols: KernelSymbols;
  readonly klp: KlpFields;

  constructor(readonly file: string) {
    const elf = ElfFile.read(file);
    const layout = linuxLayout(elf);
    if (layout === null) throw new ElfError(file, 'no .BTF: not a Linux image klp-lab can read');
    this.layout = layout;
    this.symbols = new KernelSymbols(readKallsyms(elf));
    const btf = Btf.parse(elf.section('.BTF')!.data, file);
    const f = (s: string, p: string) => btfField(btf, s, p, file);
    this.klp = {
      patchMod: f('klp_patch', 'mod'), patchObjList: f('klp_patch', 'obj_list'),
      objNode: f('klp_object', 'node'), objFuncList: f('klp_object', 'func_list'), objName: f('klp_object', 'name'),
      funcNode: f('klp_func', 'node'), funcOldName: f('klp_func', 'old_name'), funcNewFunc: f('klp_func', 'new_func'),
      funcOldFunc: f('klp_func', 'old_func'), funcOldSize: f('klp_func', 'old_size'), funcNewSize: f('klp_func', 'new_size'),
      funcNop: f('klp_func', 'nop'), moduleName: f('module', 'name'), moduleList: f('module', 'list'),
      moduleBase: f('module', 'core_layout.base'), moduleTextSize: f('module', 'core_layout.text_size'), moduleKallsyms: f('module', 'kallsyms'),
      kallsymsSymtab: f('mod_kallsyms', 'symtab'), kallsymsCount: f('mod_kallsyms', 'num_symtab'), kallsymsStrtab: f('mod_kallsyms', 'strtab'),
    };
  }

  /** A kernel symbol's address (a missing one is an error: the image is not the kernel this expects). */
  need(name: string): number {
    const s = this.symbols.get(name);
    if (s === undefined) throw new ElfError(this.file, `kallsyms has no ${name}`);
    return s.address;
  }

  /** "name+0xoff" for a kernel text address, or null outside vmlinux. */
  symbolize(address: number): string | null {
    const l = this.symbols.lookup(address);
    if (l === undefined || (l.size > 0 && l.offset >= l.size) || l.offset > 0x100000) return null;
    return l.offset === 0 ? l.symbol.name : `${l.symbol.name}+0x${l.offset.toString(16)}`;
  }
}

export interface LinuxTask {
  address: number;
  pid: number;
  comm: string;
  kind: TaskKind;
  patchState: number;
  /** TIF_PATCH_PENDING */
  pending: boolean;
  /** thread.sp: where __switch_to_asm left the stack */
  savedSp: number;
}

export interface KlpFuncInfo { oldName: string; oldFunc: number; oldSize: number; newFunc: number; newSize: number; nop: boolean }

/** A loaded module's functions, sorted by address. */
interface ModuleText { name: string; base: number; end: number; funcs: { address: number; name: string }[] }

/** Elf64_Sym: st_name (4), st_info (1), st_other (1), st_shndx (2), st_value (8), st_size (8). */
const ELF64_SYM_SIZE = 24;
const STT_FUNC = 2;

/** Reads of one running machine. */
export class LinuxGuest {
  private readonly moduleTexts = new Map<number, ModuleText>();

  constructor(readonly image: LinuxImage, readonly machine: Machine) {}

  /**
   * "name+0xoff [module]" for an address in a loaded module's text, from the module's own kallsyms
   * (the `modules` list, each module's core text and its symtab/strtab), or null.
   */
  moduleSymbol(address: number): string | null {
    const k = this.image.klp;
    const head = this.image.symbols.get('modules')?.address;
    if (head === undefined) return null;
    let node = this.ptr(head);
    for (let n = 0; n < 1024 && node !== null && node !== head; n++, node = this.ptr(node)) {
      const mod = node - k.moduleList.offset;
      const base = this.ptr(mod + k.moduleBase.offset);
      const size = this.uint(mod + k.moduleTextSize.offset, 4);
      if (base === null || size === null || address < base || address >= base + size) continue;
      let text = this.moduleTexts.get(mod);
      if (text === undefined || text.base !== base) {
        text = { name: this.string(mod + k.moduleName.offset, k.moduleName.size) ?? '?', base, end: base + size, funcs: this.moduleFuncs(mod) };
        this.moduleTexts.set(mod, text);
      }
      let best: { address: number; name: string } | undefined;
      for (const f of text.funcs) if (f.address <= address && (best === undefined || f.address > best.address)) best = f;
      const off = best ? address - best.address : address - base;
      return `${best?.name ?? ''}+0x${off.toString(16)} [${text.name}]`;
    }
    return null;
  }

  private moduleFuncs(mod: number): { address: number; name: string }[] {
    const k = this.image.klp;
    const ks = this.ptr(mod + k.moduleKallsyms.offset);
    if (ks === null) return [];
    const symtab = this.ptr(ks + k.kallsymsSymtab.offset);
    const count = this.uint(ks + k.kallsymsCount.offset, 4);
    const strtab = this.ptr(ks + k.kallsymsStrtab.offset);
    if (symtab === null || count === null || strtab === null) return [];
    const out: { address: number; name: string }[] = [];
    for (let i = 0; i < Math.min(count, 4096); i++) {
      const at = symtab + i * ELF64_SYM_SIZE;
      const info = this.uint(at + 4, 1);
      const nameOff = this.uint(at, 4);
      const value = this.ptr(at + 8);
      if (info === null || nameOff === null || value === null || (info & 0xf) !== STT_FUNC) continue;
      out.push({ address: value, name: this.string(strtab + nameOff, 128) ?? '?' });
    }
    return out;
  }

  private bytes(va: number, n: number): Uint8Array | null { return this.machine.virtRead(va, n); }

  /** An unsigned field of up to 4 bytes, or null when unmapped. */
  uint(va: number, size: number): number | null {
    const b = this.bytes(va, size);
    if (b === null) return null;
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + b[i];
    return v;
  }

  /** A 64-bit pointer as a canonical signed number, or null when unmapped or not canonical. */
  ptr(va: number): number | null {
    const b = this.bytes(va, 8);
    if (b === null) return null;
    const lo = (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
    const hi = b[4] | (b[5] << 8) | (b[6] << 16) | (b[7] << 24);
    if (hi >= 0x8000 || hi < -0x8000) return null;
    return hi * 0x100000000 + lo;
  }

  /** A NUL-terminated string of at most `max` bytes. */
  string(va: number, max = 64): string | null {
    const b = this.bytes(va, max);
    if (b === null) return null;
    const end = b.indexOf(0);
    return Buffer.from(b.subarray(0, end < 0 ? max : end)).toString('latin1');
  }

  private field(task: number, f: Field): number | null { return this.uint(task + f.offset, Math.min(f.size, 4)); }

  task(address: number): LinuxTask | null {
    const t = this.image.layout.task;
    const pid = this.field(address, t.pid);
    const comm = this.string(address + t.comm.offset, t.comm.size);
    const flags = t.pfFlags ? this.field(address, t.pfFlags) : null;
    const tif = this.uint(address + t.tifFlags.offset, 4);
    const state = this.field(address, t.patchState);
    const sp = this.ptr(address + t.sp.offset);
    if (pid === null || comm === null || tif === null || state === null) return null;
    return {
      address, pid, comm: comm.replace(/[^\x20-\x7e]/g, '?'),
      kind: taskKindOf(this.image.layout, pid, null, flags),
      patchState: state | 0,
      pending: ((tif >>> this.image.layout.constants.tifPatchPending) & 1) === 1,
      savedSp: sp ?? 0,
    };
  }

  /** Every task from init_task (the idle task of CPU 0) around the task list. */
  tasks(): LinuxTask[] {
    const L = this.image.layout;
    const head = L.initTask + L.task.tasks.offset;
    const out: LinuxTask[] = [];
    let at = L.initTask;
    for (let n = 0; n < MAX_TASKS; n++) {
      const t = this.task(at);
      if (t === null) break;
      out.push(t);
      const next = this.ptr(at + L.task.tasks.offset + L.listNext.offset);
      if (next === null || next === head) break;
      at = next - L.task.tasks.offset;
    }
    return out;
  }

  currentAddress(): number | null {
    const at = currentTaskPointerAt(this.image.layout, (va) => this.ptr(va));
    return at === null ? null : this.ptr(at);
  }

  /** "comm:pid" of the running task. */
  currentName(): string {
    const a = this.currentAddress();
    const t = a === null ? null : this.task(a);
    return t ? `${t.comm}:${t.pid}` : '?';
  }

  /**
   * A task's true stack, innermost first: the instruction pointer when it runs (the current task),
   * then every active return address and interrupted instruction pointer the ground truth holds
   * on its kernel stack, up to its entry from user mode.
   */
  trueStack(task: LinuxTask | null): number[] {
    const m = this.machine;
    const truth = m.truth;
    if (truth === null) return [];
    const current = task === null || task.address === this.currentAddress();
    const sp = current ? m.cpu.regs.addr(RSP) : task.savedSp;
    if (sp === 0) return [];
    const out = current ? [m.cpu.rip] : [];
    for (const f of truth.framesAt(sp)) {
      if (f.kind !== FRAME_CALL) {
        const cs = this.ptr(f.sp + 8);
        if (cs !== null && userModeCs(cs)) break;
      }
      const a = this.ptr(f.sp);
      if (a !== null) out.push(a);
    }
    return out;
  }

  /** The functions of a klp_patch (every object, loaded or not), and its module's name. */
  patch(address: number): { name: string; funcs: KlpFuncInfo[] } {
    const k = this.image.klp;
    const mod = this.ptr(address + k.patchMod.offset);
    const name = (mod !== null ? this.string(mod + k.moduleName.offset, k.moduleName.size) : null) ?? '?';
    const funcs: KlpFuncInfo[] = [];
    for (const obj of this.list(address + k.patchObjList.offset, k.objNode.offset)) {
      for (const fn of this.list(obj + k.objFuncList.offset, k.funcNode.offset)) {
        const oldNamePtr = this.ptr(fn + k.funcOldName.offset);
        funcs.push({
          oldName: (oldNamePtr !== null ? this.string(oldNamePtr, 128) : null) ?? '?',
          oldFunc: this.ptr(fn + k.funcOldFunc.offset) ?? 0,
          oldSize: this.ptr(fn + k.funcOldSize.offset) ?? 0,
          newFunc: this.ptr(fn + k.funcNewFunc.offset) ?? 0,
          newSize: this.ptr(fn + k.funcNewSize.offset) ?? 0,
          nop: (this.uint(fn + k.funcNop.offset, 1) ?? 0) !== 0,
        });
      }
    }
    return { name, funcs };
  }

  /** The entries of a list_head list (their addresses: node minus `nodeOffset`), bounded. */
  private list(head: number, nodeOffset: number): number[] {
    const out: number[] = [];
    let node = this.ptr(head);
    for (let n = 0; n < 1024 && node !== null && node !== head; n++) {
      out.push(node - nodeOffset);
      node = this.ptr(node);
    }
    return out;
  }
}
