// The host's two ways into the fixture kernel (fixtures/kernel/hostcall.c):
// - host calls: the khostcall kthread runs fn(arg0, arg1) when host_call.requested moves past
//   host_call.done, in an ordinary kernel-thread context (module init and exit, the delayed
//   livepatch work); requests are queued here and handed over one at a time;
// - hypercalls: klp_hypercall(nr, arg) returns -ENOSYS by itself; a code hook on its RET
//   (klp_hypercall_ret) lets the host do the work and put the result in %rax.
// Delayed work (schedule_delayed_work) is a host timer on virtual time: when the timer tick
// after its expiry arrives, a host call makes khostcall enter the host through a hypercall,
// so the work runs where the kernel's would, in a kthread, with every other task switched out.

import { HOOK_CODE, HOOK_INTR } from '../../emulator/hooks/registry';
import type { Machine } from '../../emulator/machine';
import { RAX, RDI, RSI } from '../../emulator/cpu/registers';
import type { FixtureHostInterface } from '../../emulator/kernel/fixtureLayout';
import type { KernelImage } from '../unwind/kernelImage';
import type { GuestAccess } from './guestAccess';

/** The hypercall khostcall makes to run host work (a host-only number; the kernel knows 1). */
export const KLP_HC_HOST_WORK = 2;
const IRQ0_VECTOR = 0x20;

interface Request {
  fn: number;
  arg0: number;
  arg1: number;
  onDone?: (result: number) => void;
}

export class HostCalls {
  private readonly queue: Request[] = [];
  private inFlight: (Request & { ticket: number }) | null = null;
  private readonly handlers = new Map<number, (arg: number) => number>();
  private readonly work = new Map<number, () => void>();
  private timers: Array<{ due: number; id: number; posted: boolean }> = [];
  private nextWorkId = 1;
  /** icount at which the last hypercall was handled: a re-run of the hook there is skipped. */
  private handledAt = -1;
  /** struct host_call's fields (8-byte words), from the fixture's host interface. */
  private readonly layout: { fn: number; arg0: number; arg1: number; result: number; requested: number; done: number };
  readonly hypercallAddress: number;
  readonly hostCallAddress: number;

  constructor(private readonly machine: Machine, private readonly access: GuestAccess, image: KernelImage, host: FixtureHostInterface) {
    const need = (name: string) => {
      const v = image.symbol(name);
      if (v === undefined) throw new Error(`the kernel image does not export ${name} (fixtures/kernel/hostcall.c)`);
      return v;
    };
    this.hostCallAddress = need('host_call');
    this.hypercallAddress = need('klp_hypercall');
    const f = host.hostCall;
    this.layout = { fn: f.fn.offset, arg0: f.arg0.offset, arg1: f.arg1.offset, result: f.result.offset, requested: f.requested.offset, done: f.done.offset };
    const ret = need('klp_hypercall_ret');
    machine.hookAdd(HOOK_CODE, () => this.onHypercall(), ret, ret);
    machine.hookAdd(HOOK_INTR, (vector: number) => {
      if (vector === IRQ0_VECTOR) this.onTick();
    });
    this.handlers.set(KLP_HC_HOST_WORK, (id) => {
      const w = this.work.get(id);
      this.work.delete(id);
      w?.();
      return 0;
    });
  }

  /** Handles hypercall `nr` (the handler's return value goes to %rax). */
  onHypercallNr(nr: number, handler: (arg: number) => number): void {
    this.handlers.set(nr, handler);
  }

  /** Queues fn(arg0, arg1) for khostcall; onDone gets its return value. */
  post(fn: number, arg0: number, arg1: number, onDone?: (result: number) => void): void {
    this.queue.push({ fn, arg0, arg1, onDone });
    this.pump();
  }

  /** Whether any host call is queued or running. */
  get busy(): boolean {
    return this.inFlight !== null || this.queue.length > 0;
  }

  /** schedule_delayed_work: `work` runs in khostcall at the first tick `delayNs` from now. */
  scheduleWork(delayNs: number, work: () => void): void {
    const id = this.nextWorkId++;
    this.work.set(id, work);
    this.timers.push({ due: this.machine.cpu.icount + delayNs, id, posted: false });
  }

  /**
   * Runs `work` on khostcall as soon as it takes the next request (not a delayed work: the
   * host's own actions, such as a sysfs write, made from a kthread like the kernel's callers);
   * onDone follows when khostcall is back from the hypercall.
   */
  runWork(work: () => void, onDone?: () => void): void {
    const id = this.nextWorkId++;
    this.work.set(id, work);
    this.post(this.hypercallAddress, KLP_HC_HOST_WORK, id, () => onDone?.());
  }

  /** Cancels every pending delayed work (cancel_delayed_work). */
  cancelWork(): void {
    this.timers = this.timers.filter((t) => t.posted);
  }

  /** Checks completion of the running host call and starts the next (also run on every tick). */
  pump(): void {
    const L = this.layout;
    const base = this.hostCallAddress;
    if (this.inFlight) {
      const done = this.access.u64(base + L.done);
      if (done !== this.inFlight.ticket) return;
      const finished = this.inFlight;
      this.inFlight = null;
      finished.onDone?.(this.access.u64(base + L.result));
    }
    const next = this.queue.shift();
    if (!next) return;
    const ticket = this.access.u64(base + L.requested) + 1;
    this.access.writeU64(base + L.fn, next.fn);
    this.access.writeU64(base + L.arg0, next.arg0);
    this.access.writeU64(base + L.arg1, next.arg1);
    this.access.writeU64(base + L.requested, ticket); // last: khostcall polls this
    this.inFlight = { ...next, ticket };
  }

  private onTick(): void {
    const now = this.machine.cpu.icount;
    for (const t of this.timers) {
      if (!t.posted && t.due <= now) {
        t.posted = true;
        this.post(this.hypercallAddress, KLP_HC_HOST_WORK, t.id);
      }
    }
    this.timers = this.timers.filter((t) => !t.posted);
    this.pump();
  }

  private onHypercall(): void {
    const c = this.machine.cpu;
    if (c.icount === this.handledAt) return;
    this.handledAt = c.icount;
    const handler = this.handlers.get(c.regs.addr(RDI));
    if (!handler) return; // unknown number: klp_hypercall's own -ENOSYS stands
    const result = handler(c.regs.addr(RSI));
    c.regs.setAddr(RAX, result);
    this.handledAt = c.icount;
  }
}
