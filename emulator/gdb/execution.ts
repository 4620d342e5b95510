/**
 * Running the machine for gdb: single steps and continue slices, and what a stop means to gdb.
 *
 * Continue runs in slices of SLICE_INSNS so the server can poll the socket for Ctrl-C between them;
 * time is virtual, so slicing does not change what the guest does. A single step is run(1) with a no-op
 * code hook on the current RIP: that sends the instruction through the machine's hooked path, which
 * also resets the machine's "resume past a hook that stopped here" marker (otherwise, after gdb steps
 * off a breakpoint without the hook path, a later return to that address would skip the breakpoint).
 * An interrupt or exception delivered during a step stops at the handler's first instruction (an
 * interrupt hook asks for the stop), like the trap flag; QEMU instead masks IRQs while stepping.
 */
import { Machine, STOP_EXIT, STOP_LIMIT, STOP_TRIPLE, STOP_HALTED, STOP_HOST, HOOK_CODE, HOOK_INTR } from '../machine';
import type { Breakpoints, PointHit } from './breakpoints';

export const SLICE_INSNS = 200_000;

export const SIGINT = 2, SIGTRAP = 5, SIGSEGV = 11;

export type StopEvent =
  | { kind: 'signal'; signal: number; hit: PointHit | null; why: string }
  | { kind: 'exited'; code: number; why: string }
  | { kind: 'terminated'; signal: number; why: string };

export class Execution {
  /** Set once the guest exited or the machine died: nothing runs any more. */
  dead: StopEvent | null = null;

  constructor(private readonly m: Machine, private readonly bps: Breakpoints) {}

  private classify(reason: number, message: string, exitStatus: number): StopEvent | null {
    const hit = this.bps.hit;
    this.bps.hit = null;
    switch (reason) {
      case STOP_LIMIT: return null;
      case STOP_EXIT: this.dead = { kind: 'exited', code: exitStatus & 0xff, why: `guest exit status ${exitStatus}` }; return this.dead;
      case STOP_TRIPLE: this.dead = { kind: 'terminated', signal: SIGSEGV, why: message }; return this.dead;
      case STOP_HALTED: return { kind: 'signal', signal: SIGTRAP, hit: null, why: message };
      case STOP_HOST: return { kind: 'signal', signal: SIGTRAP, hit, why: message };
      default: return { kind: 'signal', signal: SIGTRAP, hit, why: message };
    }
  }

  /** Execute one instruction (or enter one interrupt/exception handler). */
  step(): StopEvent {
    if (this.dead !== null) return this.dead;
    const rip = Number(BigInt.asIntN(64, this.m.regRead('rip')));
    const codeId = this.m.hookAdd(HOOK_CODE, () => {}, rip, rip);
    const intrId = this.m.hookAdd(HOOK_INTR, () => { this.m.stop('interrupt entered while stepping'); });
    let r;
    try { r = this.m.run(1); } finally { this.m.hookDel(codeId); this.m.hookDel(intrId); }
    const ev = this.classify(r.reason, r.message, r.exitStatus);
    return ev ?? { kind: 'signal', signal: SIGTRAP, hit: null, why: 'step' };
  }

  /** Run one continue slice; null when the slice ended without a stop (keep going). */
  slice(insns = SLICE_INSNS): StopEvent | null {
    if (this.dead !== null) return this.dead;
    const r = this.m.run(insns);
    return this.classify(r.reason, r.message, r.exitStatus);
  }
}
