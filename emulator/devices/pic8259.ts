/**
 * The 8259A master/slave pair (ports 0x20-0x21 and 0xA0-0xA1) as the PC wires them (slave on master
 * IRQ 2), with QEMU 7.2's behaviour (hw/intc/i8259.c, i8259_common.c): ICW1-ICW4 (ICW1 resets the chip
 * but keeps level-triggered requests), IMR (OCW1), non-specific, specific and rotating EOIs (OCW2),
 * IRR/ISR select, poll and special mask (OCW3), auto-EOI, special fully nested mode, and the ELCR edge/
 * level registers at 0x4D0/0x4D1 (QEMU pc masks: 0xF8 master, 0xDE slave). An acknowledge with nothing
 * pending returns IRQ 7 of that chip (the spurious interrupt Linux's i8259 driver detects by reading
 * ISR). An edge-triggered request stays in IRR when its line falls again (as on the chip and QEMU).
 */
import type { PortDevice } from './ioBus';

export class PicChip {
  irr = 0; isr = 0; imr = 0; base = 0; lastIrr = 0; elcr = 0; priorityAdd = 0;
  initState = 0; init4 = false; singleMode = false; autoEoi = false; rotateOnAutoEoi = false;
  readIsr = false; poll = false; specialMask = false; specialFullyNested = false;

  constructor(readonly elcrMask: number, readonly isMaster: boolean) {
    // Firmware leaves the pair initialised (vectors 0x08 and 0x70, as SeaBIOS) and masked; klp-lab masks
    // every line, where SeaBIOS leaves its own few open: guests initialise the pair before enabling it.
    this.base = isMaster ? 0x08 : 0x70;
    this.imr = 0xff;
    // SeaBIOS makes the PCI interrupt lines (IRQs 10 and 11 on pc) level-triggered.
    if (!isMaster) this.elcr = 0x0c;
  }

  private priorityOf(mask: number): number {
    if (mask === 0) return 8;
    let p = 0;
    while ((mask & (1 << ((p + this.priorityAdd) & 7))) === 0) p++;
    return p;
  }

  /** Highest-priority pending IRQ (0-7) not blocked by an in-service one, or -1. */
  pending(): number {
    const p = this.priorityOf(this.irr & ~this.imr);
    if (p === 8) return -1;
    let mask = this.isr;
    if (this.specialMask) mask &= ~this.imr;
    if (this.specialFullyNested && this.isMaster) mask &= ~(1 << 2);
    return p < this.priorityOf(mask) ? (p + this.priorityAdd) & 7 : -1;
  }

  /** INTA for `irq`: into ISR (unless auto-EOI), out of IRR unless level-triggered. */
  intack(irq: number): void {
    if (this.autoEoi) { if (this.rotateOnAutoEoi) this.priorityAdd = (irq + 1) & 7; }
    else this.isr |= 1 << irq;
    if ((this.elcr & (1 << irq)) === 0) this.irr &= ~(1 << irq);
  }

  setLine(irq: number, level: boolean): void {
    const mask = 1 << irq;
    if (this.elcr & mask) {
      if (level) { this.irr |= mask; this.lastIrr |= mask; } else { this.irr &= ~mask; this.lastIrr &= ~mask; }
    } else if (level) {
      if ((this.lastIrr & mask) === 0) this.irr |= mask;
      this.lastIrr |= mask;
    } else this.lastIrr &= ~mask;
  }

  private initReset(): void {
    this.lastIrr = 0; this.irr &= this.elcr; this.imr = 0; this.isr = 0; this.priorityAdd = 0; this.base = 0;
    this.readIsr = false; this.poll = false; this.specialMask = false; this.initState = 0; this.autoEoi = false;
    this.rotateOnAutoEoi = false; this.specialFullyNested = false; this.init4 = false; this.singleMode = false;
  }

  write(port: number, v: number): void {
    if ((port & 1) === 0) {
      if (v & 0x10) { // ICW1
        this.initReset();
        this.initState = 1; this.init4 = (v & 1) !== 0; this.singleMode = (v & 2) !== 0;
      } else if (v & 0x08) { // OCW3
        if (v & 0x04) this.poll = true;
        if (v & 0x02) this.readIsr = (v & 1) !== 0;
        if (v & 0x40) this.specialMask = ((v >> 5) & 1) !== 0;
      } else { // OCW2
        const cmd = v >> 5;
        switch (cmd) {
          case 0: case 4: this.rotateOnAutoEoi = cmd === 4; break;
          case 1: case 5: { // non-specific EOI (5: and rotate)
            const p = this.priorityOf(this.isr);
            if (p !== 8) {
              const irq = (p + this.priorityAdd) & 7;
              this.isr &= ~(1 << irq);
              if (cmd === 5) this.priorityAdd = (irq + 1) & 7;
            }
            break;
          }
          case 3: this.isr &= ~(1 << (v & 7)); break;                                        // specific EOI
          case 6: this.priorityAdd = ((v & 7) + 1) & 7; break;                                // set priority
          case 7: this.isr &= ~(1 << (v & 7)); this.priorityAdd = ((v & 7) + 1) & 7; break;   // specific EOI + rotate
          default: break;
        }
      }
      return;
    }
    switch (this.initState) {
      case 0: this.imr = v; return;
      case 1: this.base = v & 0xf8; this.initState = this.singleMode ? (this.init4 ? 3 : 0) : 2; return;
      case 2: this.initState = this.init4 ? 3 : 0; return; // ICW3: the cascade wiring is fixed
      default:
        this.specialFullyNested = ((v >> 4) & 1) !== 0; this.autoEoi = ((v >> 1) & 1) !== 0; this.initState = 0;
        return;
    }
  }

  saveState(): object { return { ...this }; }
  loadState(s: any): void { Object.assign(this, s); }
}

export class Pic8259 implements PortDevice {
  readonly master = new PicChip(0xf8, true);
  readonly slave = new PicChip(0xde, false);
  /** Notified when the interrupt output may have changed. */
  onChange: () => void = () => {};
  /** Cached INTR output (recomputed on every state change), read by the run loop per block. */
  intr = false;
  private recompute(): void { this.intr = this.master.pending() >= 0; this.onChange(); }

  read(port: number): number {
    if (port === 0x4d0) return this.master.elcr;
    if (port === 0x4d1) return this.slave.elcr;
    const chip = (port & 0x80) ? this.slave : this.master;
    if ((port & 1) === 1) return chip.imr;
    if (chip.poll) {
      chip.poll = false;
      const v = this.pollRead(chip);
      this.recompute();
      return v;
    }
    return chip.readIsr ? chip.isr : chip.irr;
  }

  write(port: number, _size: number, v: number): void {
    v &= 0xff;
    if (port === 0x4d0) this.master.elcr = v & this.master.elcrMask;
    else if (port === 0x4d1) this.slave.elcr = v & this.slave.elcrMask;
    else if (port & 0x80) this.slave.write(port, v); else this.master.write(port, v);
    this.refreshCascade();
    this.recompute();
  }

  /** OCW3 poll: 0x80 | IRQ of the highest pending request (acknowledged), or 0. */
  private pollRead(chip: PicChip): number {
    const irq = chip.pending();
    if (irq < 0) return 0;
    if (chip === this.master && irq === 2) {
      const sirq = this.slave.pending();
      if (sirq >= 0) this.slave.intack(sirq);
      chip.intack(2);
      this.refreshCascade();
      return 0x80 | 2;
    }
    chip.intack(irq);
    this.refreshCascade();
    return 0x80 | irq;
  }

  private refreshCascade(): void { this.master.setLine(2, this.slave.pending() >= 0); }

  /** Drive IRQ line 0-15. */
  setIrq(irq: number, level: boolean): void {
    if (irq < 8) this.master.setLine(irq, level); else { this.slave.setLine(irq - 8, level); this.refreshCascade(); }
    this.recompute();
  }
  /** A rising then falling edge (the PIT's output in mode 2): the request stays latched in IRR. */
  pulse(irq: number): void { this.setIrq(irq, true); this.setIrq(irq, false); }

  hasInterrupt(): boolean { return this.intr; }

  /** INTA: the vector of the highest-priority request, moving it from IRR to ISR. */
  acknowledge(): number {
    const m = this.master, s = this.slave;
    let vector: number;
    const irq = m.pending();
    if (irq < 0) vector = m.base + 7; // spurious IRQ 7
    else if (irq === 2) {
      const sirq = s.pending();
      if (sirq >= 0) { s.intack(sirq); vector = s.base + sirq; } else vector = s.base + 7; // spurious IRQ 15
      m.intack(2);
      this.refreshCascade();
    } else {
      m.intack(irq);
      vector = m.base + irq;
    }
    this.recompute();
    return vector;
  }

  saveState(): object { return { master: this.master.saveState(), slave: this.slave.saveState() }; }
  loadState(s: any): void { this.master.loadState(s.master); this.slave.loadState(s.slave); this.recompute(); }
}
