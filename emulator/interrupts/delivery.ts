/**
 * Exception and interrupt delivery through the long-mode IDT (SDM vol. 3 §6.14): 16-byte gates,
 * privilege-level change with the stack from TSS.RSPn, IST stacks, the 64-bit frame
 * (SS, RSP, RFLAGS, CS, RIP, error code), IF cleared by interrupt gates; the double-fault and
 * triple-fault rules (§6.15, table 6-5); and IRETQ. A triple fault stops the machine (TripleFault).
 */
import type { Cpu } from '../cpu/cpu';
import { ATTR_L, ATTR_DPL, ATTR_P, STOP_TRIPLE } from '../cpu/cpu';
import type { InterruptDelivery } from '../cpu/cpuLinks';
import { RSP } from '../cpu/registers';
import { CS, SS } from '../cpu/modes';
import { IF, TF, NT, RF, VM, AC, IOPL, ID, STATUS_FLAGS, DF as DF_FLAG, VIF, VIP } from '../cpu/flags';
import { GuestFault, DF, GP, NP, TS, SS as SS_FAULT, PF, BP, OF, hasErrorCode, isContributory, EXCEPTION_NAMES } from './guestFault';

/** Kinds of event. */
export const EV_FAULT = 0, EV_TRAP = 1, EV_SOFT_INT = 2, EV_EXTERNAL = 3;

export interface DeliveryRecord {
  icount: number; vector: number; errorCode: number; rip: number; cpl: number; cr2: number; kind: number;
}

export type InterruptHook = (vector: number, errorCode: number, kind: number) => void;

/** Raised to the run loop when the machine must stop on a triple fault. */
export class TripleFault {
  constructor(readonly reason: string) {}
}

export class InterruptController implements InterruptDelivery {
  /** Last deliveries (newest last), for reports. */
  readonly recent: DeliveryRecord[] = [];
  hook: InterruptHook | null = null;
  /** Observer used by the ground-truth tracker (frame pushed at `rsp` for `vector`). */
  onFrame: ((vector: number, frameRsp: number, fromCpl: number) => void) | null = null;
  onIret: ((ripSlot: number) => void) | null = null;
  delivered = 0;

  constructor(private readonly c: Cpu) {}

  /** The last deliveries and their count (the run report shows them); the hooks are host-side. */
  saveState(): { recent: DeliveryRecord[]; delivered: number } {
    return { recent: this.recent.map((r) => ({ ...r })), delivered: this.delivered };
  }

  loadState(s: { recent: DeliveryRecord[]; delivered: number }): void {
    this.recent.length = 0;
    for (const r of s.recent) this.recent.push({ ...r });
    this.delivered = s.delivered;
  }

  private record(vector: number, errorCode: number, kind: number): void {
    const c = this.c;
    this.recent.push({ icount: c.icount, vector, errorCode, rip: c.rip, cpl: c.cpl, cr2: c.cr2, kind });
    if (this.recent.length > 16) this.recent.shift();
  }

  /**
   * Deliver an exception raised by the instruction at c.insnStart (c.rip already rewound for faults,
   * pointing past the instruction for traps/INT n), applying the #DF/triple-fault rules.
   */
  raise(f: GuestFault, kind: number): void {
    const c = this.c;
    let vector = f.vector, ec = hasErrorCode(vector) ? (f.errorCode < 0 ? 0 : f.errorCode) : -1;
    if (vector === PF) c.cr2 = f.address;
    for (let depth = 0; ; depth++) {
      try {
        this.deliver(vector, ec, kind);
        return;
      } catch (e) {
        if (!(e instanceof GuestFault)) throw e;
        const second = e.vector;
        if (vector === DF) throw new TripleFault(`fault ${e} while delivering #DF`);
        if (depth > 3) throw new TripleFault(`nested faults while delivering ${EXCEPTION_NAMES[vector] ?? vector}`);
        if ((isContributory(vector) && isContributory(second)) ||
          (vector === PF && (second === PF || isContributory(second)))) {
          vector = DF; ec = 0;
        } else {
          vector = second; ec = hasErrorCode(second) ? Math.max(0, e.errorCode) : -1;
          if (second === PF) c.cr2 = e.address;
        }
        kind = EV_FAULT;
      }
    }
  }

  /** Deliver one vector through the IDT; throws GuestFault if the delivery itself faults. */
  deliver(vector: number, errorCode: number, kind: number): void {
    const c = this.c;
    this.record(vector, errorCode, kind);
    this.delivered++;
    if (this.hook !== null) this.hook(vector, errorCode, kind);
    if (!c.longMode) throw new TripleFault(`${EXCEPTION_NAMES[vector] ?? 'vector ' + vector} in 32-bit protected mode (no IDT support before long mode)`);
    const ext = kind === EV_EXTERNAL ? 1 : 0;
    const gateEc = vector * 8 + 2 + ext;
    if (vector * 16 + 15 > c.idtLimit) throw new GuestFault(GP, gateEc);
    const ga = c.idtBase + vector * 16;
    const w0 = c.mmu.sysRead32(ga), w1 = c.mmu.sysRead32(ga + 4), w2 = c.mmu.sysRead32(ga + 8);
    const type = (w1 >>> 8) & 0xf, dpl = (w1 >>> 13) & 3, present = (w1 >>> 15) & 1;
    if (type !== 0xe && type !== 0xf) throw new GuestFault(GP, gateEc);
    if (kind === EV_SOFT_INT && dpl < c.cpl) throw new GuestFault(GP, gateEc);
    if (!present) throw new GuestFault(NP, gateEc);
    const selector = w0 >>> 16;
    const offset = (w2 | 0) * 4294967296 + (((w1 & 0xffff0000) | (w0 & 0xffff)) >>> 0);
    const ist = w1 & 7;
    // Target code segment.
    if ((selector & ~3) === 0) throw new GuestFault(GP, ext);
    c.readDescriptor(selector, GP);
    const dhi = c.mmu.hi;
    const attr = ((dhi >>> 8) & 0xff) | (((dhi >>> 20) & 0xf) << 12);
    if ((attr & 0x18) !== 0x18 || (attr & ATTR_L) === 0) throw new GuestFault(GP, (selector & 0xfffc) | ext);
    if ((attr & ATTR_P) === 0) throw new GuestFault(NP, (selector & 0xfffc) | ext);
    const newCpl = (attr & ATTR_DPL) >>> 5;
    if (newCpl > c.cpl) throw new GuestFault(GP, (selector & 0xfffc) | ext);
    const oldCpl = c.cpl;
    const oldSs = c.sel[SS];
    const oldRspLo = c.regs.u32[RSP << 1], oldRspHi = c.regs.u32[(RSP << 1) | 1];
    let rsp: number;
    if (ist !== 0) rsp = this.tssRead64(0x24 + 8 * (ist - 1));
    else if (newCpl < oldCpl) rsp = this.tssRead64(4 + 8 * newCpl);
    else rsp = c.regs.addr(RSP);
    if (rsp < -0x800000000000 || rsp >= 0x800000000000) throw new GuestFault(SS_FAULT, ext);
    rsp -= ((rsp % 16) + 16) % 16; // 64-bit mode aligns the new stack on 16 bytes
    const flags = c.flags.get();
    const rip = c.rip;
    // Build the frame with supervisor accesses (the pushes belong to the new privilege level).
    const m = c.mmu;
    let sp = rsp;
    m.sysWrite64(sp - 8, oldSs, 0);
    m.sysWrite64(sp - 16, oldRspLo, oldRspHi);
    m.sysWrite64(sp - 24, flags, 0);
    m.sysWrite64(sp - 32, c.sel[CS], 0);
    m.sysWrite64(sp - 40, rip >>> 0, Math.floor(rip / 4294967296) >>> 0);
    sp -= 40;
    if (errorCode >= 0) { m.sysWrite64(sp - 8, errorCode >>> 0, 0); sp -= 8; }
    // Commit.
    c.regs.setAddr(RSP, sp);
    c.sel[CS] = (selector & ~3) | newCpl;
    c.segAttr[CS] = attr;
    if (newCpl !== oldCpl) { c.sel[SS] = newCpl; c.segAttr[SS] = 0; }
    c.setCpl(newCpl);
    c.updateMode();
    let nf = flags & ~(TF | NT | RF | VM);
    if (type === 0xe) nf &= ~IF;
    c.flags.set(nf);
    c.rip = offset;
    c.halted = false;
    c.exit = true;
    if (this.onFrame !== null) this.onFrame(vector, errorCode >= 0 ? sp + 8 : sp, oldCpl);
  }

  private tssRead64(off: number): number {
    const c = this.c;
    if (off + 7 > c.trLimit) throw new GuestFault(TS, c.trSel & 0xfffc);
    const lo = c.mmu.sysRead32(c.trBase + off), hi = c.mmu.sysRead32(c.trBase + off + 4);
    return (hi | 0) * 4294967296 + lo;
  }

  /** IRET in 64-bit mode (IRETQ, or IRETD with 32-bit pops): always pops SS:RSP. */
  iret(size: number): void {
    const c = this.c, m = c.mmu;
    const sp = c.regs.addr(RSP);
    const ripLo = m.read(size, sp), ripHi = size === 8 ? m.hi : 0;
    const cs = m.read(size, sp + size) & 0xffff;
    const fl = m.read(size, sp + 2 * size);
    const rspLo = m.read(size, sp + 3 * size), rspHi = size === 8 ? m.hi : 0;
    const ss = m.read(size, sp + 4 * size) & 0xffff;
    const newCpl = cs & 3;
    if (newCpl < c.cpl) throw new GuestFault(GP, cs & 0xfffc);
    const target = (ripHi | 0) * 4294967296 + ripLo;
    const old = c.flags.get();
    let mask = STATUS_FLAGS | TF | DF_FLAG | NT | AC | ID | RF;
    if (c.cpl === 0) mask |= IOPL | VIF | VIP;
    if (c.cpl <= ((old & IOPL) >>> 12)) mask |= IF;
    c.loadSegment(CS, cs);
    if (c.bits === 64 && (target < -0x800000000000 || target >= 0x800000000000)) throw new GuestFault(GP, 0);
    c.flags.set((old & ~mask) | (fl & mask));
    if ((ss & ~3) === 0 && newCpl !== 3 && c.bits === 64) { c.sel[SS] = ss; c.segAttr[SS] = 0; }
    else c.loadSegment(SS, ss);
    c.regs.set64(RSP, rspLo, rspHi);
    if (size !== 8) c.regs.u32[(RSP << 1) | 1] = 0;
    c.rip = c.bits === 64 ? target : ripLo >>> 0;
    c.exit = true;
    if (this.onIret !== null) this.onIret(sp);
  }
}

export { STOP_TRIPLE, BP, OF };
