/**
 * 16550A UART at 0x3F8 (COM1), the console. Transmit goes straight to a sink; the transmitter is
 * always empty (LSR.THRE|TEMT), so polling drivers never wait. Divisor latch, IER, FCR/IIR, LCR, MCR
 * (with loopback), LSR, MSR and the scratch register behave as on the chip; receive data can be
 * queued by the host (`input`), raising IRQ 4 through the PIC when IER.RDA is set.
 */
import type { PortDevice } from './ioBus';

interface UartState {
  dll: number; dlm: number; ier: number; lcr: number; mcr: number; scr: number; fcr: number; rx: number[];
  thrEmptyIrq: boolean;
}

export class Uart16550 implements PortDevice {
  private dll = 0x0c; private dlm = 0; private ier = 0; private lcr = 0x03; private mcr = 0;
  private scr = 0; private fcr = 0; private readonly rx: number[] = [];
  private thrEmptyIrq = false;
  /** Raise/lower the IRQ line (wired to the PIC by the machine). */
  irq: (level: boolean) => void = () => {};

  constructor(readonly base: number, private readonly sink: (byte: number) => void) {}

  /** Registers, the receive queue and the pending THR-empty interrupt (the sink is host-side). */
  saveState(): UartState {
    return { dll: this.dll, dlm: this.dlm, ier: this.ier, lcr: this.lcr, mcr: this.mcr, scr: this.scr, fcr: this.fcr,
      rx: [...this.rx], thrEmptyIrq: this.thrEmptyIrq };
  }

  loadState(s: UartState): void {
    this.dll = s.dll; this.dlm = s.dlm; this.ier = s.ier; this.lcr = s.lcr; this.mcr = s.mcr; this.scr = s.scr;
    this.fcr = s.fcr; this.rx.length = 0; this.rx.push(...s.rx); this.thrEmptyIrq = s.thrEmptyIrq;
  }

  input(bytes: Uint8Array): void { for (const b of bytes) this.rx.push(b); this.update(); }

  private update(): void {
    const pending = ((this.ier & 1) !== 0 && this.rx.length > 0) || ((this.ier & 2) !== 0 && this.thrEmptyIrq);
    this.irq(pending);
  }

  read(port: number): number {
    const off = port - this.base, dlab = (this.lcr & 0x80) !== 0;
    switch (off) {
      case 0: if (dlab) return this.dll; { const v = this.rx.shift() ?? 0; this.update(); return v; }
      case 1: return dlab ? this.dlm : this.ier;
      case 2: {
        let iir = 0x01;
        if ((this.ier & 1) && this.rx.length > 0) iir = 0x04;
        else if ((this.ier & 2) && this.thrEmptyIrq) { iir = 0x02; this.thrEmptyIrq = false; this.update(); }
        return iir | ((this.fcr & 1) ? 0xc0 : 0);
      }
      case 3: return this.lcr;
      case 4: return this.mcr;
      case 5: return 0x60 | (this.rx.length > 0 ? 1 : 0);
      case 6:
        if (this.mcr & 0x10) return ((this.mcr & 0x0c) << 4) | ((this.mcr & 0x01) << 5) | ((this.mcr & 0x02) << 3);
        return 0xb0; // DCD, DSR, CTS
      default: return this.scr;
    }
  }

  write(port: number, _size: number, v: number): void {
    const off = port - this.base, dlab = (this.lcr & 0x80) !== 0;
    v &= 0xff;
    switch (off) {
      case 0:
        if (dlab) { this.dll = v; return; }
        if (this.mcr & 0x10) this.rx.push(v); else this.sink(v);
        this.thrEmptyIrq = true; this.update();
        return;
      case 1: if (dlab) { this.dlm = v; return; } this.ier = v & 0x0f; this.thrEmptyIrq = (v & 2) !== 0; this.update(); return;
      case 2: this.fcr = v; if (v & 2) this.rx.length = 0; return;
      case 3: this.lcr = v; return;
      case 4: this.mcr = v & 0x1f; return;
      case 7: this.scr = v; return;
      default: return;
    }
  }
}
