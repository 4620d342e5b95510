// Function redirection as ftrace does it for livepatch: registering an original function
// rewrites the 5-byte `call __fentry__` at its start (a site listed in __mcount_loc) into a
// call to a host trampoline; a code hook there runs klp_ftrace_handler's decision for the
// current task and, when a new version must run, rewrites the return address on the stack,
// so the trampoline's `ret` lands in the new function with the caller's return address on
// top, exactly as after ftrace's regs->ip change. Unregistering restores the original call.

import * as C from '../../elf/constants';
import type { ElfFile } from '../../elf/elfFile';
import { HOOK_CODE } from '../../emulator/hooks/registry';
import type { Machine } from '../../emulator/machine';
import { RSP } from '../../emulator/cpu/registers';
import type { PatchState } from '../patchState';
import { klpFtraceHandler } from '../redirect/ftraceHandler';
import type { FentryControl, KlpOps } from '../redirect/klpOps';
import { hex, type GuestAccess } from './guestAccess';

const CALL_LEN = 5;

export class FentryRedirect implements FentryControl {
  private readonly sites = new Set<number>();
  private readonly bySite = new Map<number, KlpOps>();
  /** WARN_ON_ONCE texts of the handler, for the tests. */
  readonly warnings: string[] = [];
  /** Redirections made, for reports. */
  redirections = 0;

  constructor(
    private readonly machine: Machine,
    private readonly access: GuestAccess,
    image: ElfFile,
    private readonly fentry: number,
    /** Where the trampoline lives: one `ret` the host owns. */
    readonly trampoline: number,
    private readonly currentPatchState: () => PatchState,
  ) {
    for (const site of mcountSites(image)) this.sites.add(site);
    machine.hookAdd(HOOK_CODE, () => this.onTrampoline(), trampoline, trampoline);
  }

  /** The kernel.ftrace_enabled sysctl: with 0, no ftrace ops can be registered. */
  ftraceEnabled = true;

  hasLocation(oldFunc: number): boolean {
    return this.sites.has(oldFunc);
  }

  /** A module's fentry sites (its __mcount_loc) join the kernel's while it is loaded. */
  addSites(sites: readonly number[]): void {
    for (const s of sites) this.sites.add(s);
  }

  removeSites(sites: readonly number[]): void {
    for (const s of sites) this.sites.delete(s);
  }

  /** Whether any redirection is installed (livepatch's ops are FTRACE_OPS_FL_PERMANENT). */
  get anyRegistered(): boolean {
    return this.bySite.size > 0;
  }

  /** Writing kernel.ftrace_enabled: 0 or -EBUSY (a permanent ops is registered). */
  setFtraceEnabled(enabled: boolean): number {
    if (!enabled && this.anyRegistered) return -16;
    this.ftraceEnabled = enabled;
    return 0;
  }

  register(ops: KlpOps): number {
    if (!this.ftraceEnabled) return -16; // -EBUSY: ftrace_startup() while ftrace is disabled
    const site = ops.oldFunc;
    const expected = callBytes(site, this.fentry);
    const actual = this.access.bytes(site, CALL_LEN);
    if (!expected.every((b, i) => b === actual[i])) {
      throw new Error(`internal: the fentry site at ${hex(site)} does not call __fentry__`);
    }
    this.access.write(site, callBytes(site, this.trampoline));
    this.bySite.set(site, ops);
    return 0;
  }

  unregister(ops: KlpOps): void {
    this.access.write(ops.oldFunc, callBytes(ops.oldFunc, this.fentry));
    this.bySite.delete(ops.oldFunc);
  }

  private onTrampoline(): void {
    const rsp = this.machine.cpu.regs.addr(RSP);
    const site = this.access.u64(rsp) - CALL_LEN;
    const ops = this.bySite.get(site);
    if (!ops) return; // a call site that was restored while a task was inside it
    const decision = klpFtraceHandler(ops, this.currentPatchState);
    if (decision.warning && !this.warnings.includes(decision.warning)) this.warnings.push(decision.warning);
    if (decision.target === undefined) return;
    this.access.writeU64(rsp, decision.target);
    this.redirections++;
  }
}

/** `call target` encoded at `site`. */
export function callBytes(site: number, target: number): Uint8Array {
  const b = new Uint8Array(CALL_LEN);
  b[0] = 0xe8;
  new DataView(b.buffer).setInt32(1, target - (site + CALL_LEN), true);
  return b;
}

/** The fentry call sites recorded in __mcount_loc (-mrecord-mcount), as addresses. */
export function mcountSites(image: ElfFile): number[] {
  const section = image.section('__mcount_loc');
  if (!section || section.type === C.SHT_NOBITS) return [];
  const v = new DataView(section.data.buffer, section.data.byteOffset, section.data.byteLength);
  const out: number[] = [];
  for (let at = 0; at + 8 <= section.size; at += 8) out.push(v.getInt32(at + 4, true) * 0x1_0000_0000 + v.getUint32(at, true));
  return out;
}
