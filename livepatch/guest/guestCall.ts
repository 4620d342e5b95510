// Calls a guest function synchronously from host code, as the kernel calls a livepatch
// callback in the middle of klp_enable_patch: the registers are saved, a frame whose return
// address is a sentinel is built below the current stack pointer, and the machine runs until
// the function returns to the sentinel on that same stack (other tasks may run meanwhile, as
// they would if the callback slept); then the registers are restored. The value in %rax is
// returned. Calls nest.

import { HOOK_CODE } from '../../emulator/hooks/registry';
import { STOP_HOST, STOP_NONE, type Machine } from '../../emulator/machine';
import { RAX, RCX, RDI, RDX, RSI, RSP, R8, R9 } from '../../emulator/cpu/registers';
import { hex, type GuestAccess } from './guestAccess';

const ARG_REGS = [RDI, RSI, RDX, RCX, R8, R9];
/** Stack the host leaves untouched below the interrupted frame before building its own. */
const STACK_GAP = 256;

export class GuestCallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GuestCallError';
  }
}

export class GuestCaller {
  private readonly returnSp: number[] = [];
  private returned = false;

  constructor(private readonly machine: Machine, private readonly access: GuestAccess, readonly sentinel: number) {
    machine.hookAdd(HOOK_CODE, () => {
      const want = this.returnSp.at(-1);
      if (want !== undefined && machine.cpu.regs.addr(RSP) === want) {
        this.returned = true;
        machine.stop('guest call returned');
      }
    }, sentinel, sentinel);
  }

  /** fn(args...) in the guest; `budget` bounds the instructions it may take. */
  call(fn: number, args: number[], budget = 500_000_000): number {
    const m = this.machine;
    const c = m.cpu;
    const saved = c.regs.u32.slice();
    const savedRip = c.rip;
    const savedFlags = c.flags.get();
    const savedMessage = m.stopMessage;

    let sp = c.regs.addr(RSP) - STACK_GAP;
    sp -= ((sp % 16) + 16) % 16; // 16-byte aligned before the return address is pushed (SysV)
    sp -= 8;
    this.access.writeU64(sp, this.sentinel);
    c.regs.setAddr(RSP, sp);
    args.forEach((a, i) => c.regs.setAddr(ARG_REGS[i], a));
    c.rip = fn;
    this.returnSp.push(sp + 8);
    try {
      this.returned = false;
      let left = budget;
      while (!this.returned) {
        const before = m.instructions;
        const r = m.run(left);
        left -= m.instructions - before;
        if (this.returned) break;
        if (r.reason !== STOP_HOST || left <= 0) {
          throw new GuestCallError(`guest call to ${hex(fn)} did not return: ${m.describeStop(r)}`);
        }
      }
      return c.regs.addr(RAX);
    } finally {
      this.returnSp.pop();
      this.returned = this.returnSp.length === 0 ? false : this.returned;
      c.regs.u32.set(saved);
      c.rip = savedRip;
      c.flags.set(savedFlags);
      c.stopReason = STOP_NONE;
      m.stopMessage = savedMessage;
    }
  }
}
