/**
 * What the CPU and its instruction handlers need of the parts attached to it: interrupt delivery
 * (interrupts/delivery.ts) and the ground-truth call-stack recorder (truth/callStacks.ts). Declared
 * here, on the CPU's side, so that those parts depend on the CPU and never the other way round.
 */
import type { GuestFault } from '../interrupts/guestFault';

/** Exception and interrupt delivery as the CPU and the handlers use it. */
export interface InterruptDelivery {
  /** Deliver an exception or software interrupt of `kind` (interrupts/delivery.ts EV_*). */
  raise(f: GuestFault, kind: number): void;
  /** IRET with a stack operand size of `size` bytes. */
  iret(size: number): void;
}

/** The ground-truth recorder, told of each near call and return (installed only while truth is on). */
export interface CallObserver {
  /** After a near CALL at `from` pushed its return address and jumped to `to`. */
  onCall(from: number, to: number): void;
  /** After a near RET. */
  onRet(): void;
}
