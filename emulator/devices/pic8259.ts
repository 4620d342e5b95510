/**
 * The 8259A master/slave pair (ports 0x20-0x21 and 0xA0-0xA1), as the PC wires them: slave on master
 * IRQ 2. ICW1-ICW4 initialisation, IMR (OCW1), non-specific and specific EOI (OCW2), IRR/ISR read
 * (OCW3), auto-EOI, fixed priority (IRQ 0 highest). Edge-triggered inputs.
 */
import type { PortDevice } from './ioBus';

interface ChipState {
  irr: number; isr: number; imr: number; base: number; initStep: number; icw4: boolean; autoEoi: boolean;
  readIsr: boolean; lines: number;
}

class Chip {
  irr = 0; isr = 0; imr = 0xff; base = 0; initStep = 0; icw4 = false; autoEoi = false; readIsr = false;
  lines = 0;

  /** Highest-priority pending IRQ (0-7) not blocked by an in-service one, or -1. */
  pending(): number {
    const p = this.irr & ~this.imr;
    if (p === 0) return -1;
    const irq = 31 - Math.clz32(p & -p);
    const inService = this.isr;
    if (inService !== 0 && (31 - Math.clz32(inService & -inService)) <= irq) return -1;
    return irq;
  }

  read(port: number): number {
    if ((port & 1) === 1) return this.imr;
    return this.readIsr ? this.isr : this.irr;
  }

  write(port: number, v: number): void {
    if ((port & 1) === 0) {
      if (v & 0x10) { // ICW1
        this.initStep = 1; this.icw4 = (v & 1) !== 0; this.imr = 0; this.isr = 0; this.irr = 0; this.readIsr = false;
        return;
      }
      if ((v & 0x18) === 0x08) { // OCW3
        if (v & 2) this.readIsr = (v & 1) !== 0;
        return;
      }
      // OCW2
      const cmd = v >> 5;
      if (cmd === 1) { if (this.isr) this.isr &= this.isr - 1; } // non-specific EOI: lowest set bit = highest priority
      else if (cmd === 3) this.isr &= ~(1 << (v & 7));           // specific EOI
      return;
    }
    switch (this.initStep) {
      case 1: this.base = v & 0xf8; this.initStep = 2; return;
      case 2: this.initStep = this.icw4 ? 3 : 0; return; // ICW3 (cascade wiring is fixed)
      case 3: this.autoEoi = (v & 2) !== 0; this.initStep = 0; return;
      default: this.imr = v; return;
    }
  }

  saveState(): ChipState {
    return { irr: this.irr, isr: this.isr, imr: this.imr, base: this.base, initStep: this.initStep, icw4: this.icw4,
      autoEoi: this.autoEoi, readIsr: this.readIsr, lines: this.lines };
  }

  loadState(s: ChipState): void {
    this.irr = s.irr; this.isr = s.isr; this.imr = s.imr; this.base = s.base; this.initStep = s.initStep;
    this.icw4 = s.icw4; this.autoEoi = s.autoEoi; this.readIsr = s.readIsr; this.lines = s.lines;
  }

  setLine(irq: number, level: boolean): void {
    const bit = 1 << irq;
    if (level) { if ((this.lines & bit) === 0) this.irr |= bit; this.lines |= bit; }
    else { this.lines &= ~bit; this.irr &= ~bit; }
  }
}

export class Pic8259 implements PortDevice {
  readonly master = new Chip();
  readonly slave = new Chip();
  /** Notified when the interrupt output may have changed. */
  onChange: () => void = () => {};
  /** Cached INTR output (recomputed on every state change), read by the run loop per block. */
  intr = false;
  private recompute(): void { this.intr = this.master.pending() >= 0; this.onChange(); }

  read(port: number): number { return (port & 0x80) ? this.slave.read(port) : this.master.read(port); }
  write(port: number, _size: number, v: number): void {
    if (port & 0x80) this.slave.write(port, v & 0xff); else this.master.write(port, v & 0xff);
    this.refreshCascade();
    this.recompute();
  }

  private refreshCascade(): void { this.master.setLine(2, this.slave.pending() >= 0); }

  /** Drive IRQ line 0-15. An edge sets the request. */
  setIrq(irq: number, level: boolean): void {
    if (irq < 8) this.master.setLine(irq, level); else { this.slave.setLine(irq - 8, level); this.refreshCascade(); }
    this.recompute();
  }
  /** A rising then falling edge (the PIT's output in mode 2). */
  pulse(irq: number): void { this.setIrq(irq, true); this.setIrq(irq, false); this.keep(irq); }
  private keep(irq: number): void {
    // pulse leaves IRR set (edge latched) even though the line is low again.
    if (irq < 8) this.master.irr |= 1 << irq; else { this.slave.irr |= 1 << (irq - 8); this.refreshCascade(); }
    this.recompute();
  }

  hasInterrupt(): boolean { return this.intr; }

  saveState(): { master: ChipState; slave: ChipState } {
    return { master: this.master.saveState(), slave: this.slave.saveState() };
  }

  loadState(s: { master: ChipState; slave: ChipState }): void {
    this.master.loadState(s.master);
    this.slave.loadState(s.slave);
    this.intr = this.master.pending() >= 0;
  }

  /** INTA: the vector of the highest-priority request, moving it from IRR to ISR. */
  acknowledge(): number {
    const v = this.ack();
    this.recompute();
    return v;
  }

  private ack(): number {
    const m = this.master;
    let irq = m.pending();
    if (irq < 0) return m.base + 7; // spurious
    if (irq === 2) {
      const s = this.slave;
      const sirq = s.pending();
      m.irr &= ~(1 << 2);
      if (!m.autoEoi) m.isr |= 1 << 2;
      if (sirq < 0) return s.base + 7;
      s.irr &= ~(1 << sirq);
      if (!s.autoEoi) s.isr |= 1 << sirq;
      this.refreshCascade();
      return s.base + sirq;
    }
    m.irr &= ~(1 << irq);
    if (!m.autoEoi) m.isr |= 1 << irq;
    irq = irq | 0;
    return m.base + irq;
  }
}
