/**
 * 16550A UART at 0x3F8 (COM1, IRQ 4), the console, with QEMU 7.2's behaviour (hw/char/serial.c):
 * divisor latch, IER, IIR with the chip's priorities (line status > character timeout > received data
 * > THR empty > modem status), FCR with 16-byte receive and transmit FIFOs and the receive trigger
 * level, LCR, MCR with loopback (transmit goes to the receiver, MSR shows the modem outputs: Linux's
 * 8250 autoconfig checks this), LSR, MSR and the scratch register.
 *
 * Transmit is instantaneous, as QEMU's under icount: the byte goes to the sink at once, THRE and TEMT
 * stay set, and a THR-empty interrupt is pending right after each write when IER.THRI is set.
 *
 * Receive: host bytes wait on the line and enter the receiver one per character time (start, data,
 * parity and stop bits at the programmed divisor: 86.8 us at 115200 8N1) of virtual time, while
 * the receiver has room, never earlier than the virtual time they were queued for. With the FIFO on,
 * a character-timeout interrupt comes four character times after the last byte arrived or was read
 * if bytes remain below the trigger level. So a run is deterministic for given input bytes and times.
 * `queueInput` queues bytes for given times (tests, interactive terminals); `inputSource` is a
 * pull source (pipes) read only while the guest listens (IER.RDI set) and the receiver is empty, at
 * those same character-time points, so its bytes arrive at the same virtual times whatever the host
 * timing. Loopback mode ignores the line, as QEMU does.
 */
import type { PortDevice } from './ioBus';

/** A pull source of host bytes: returns the next byte, or -1 at end of input (may block). */
export interface SerialInputSource { readByte(): number }

const LSR_DR = 0x01, LSR_OE = 0x02, LSR_BI = 0x10, LSR_THRE = 0x20, LSR_TEMT = 0x40, LSR_INT_ANY = 0x1e;
const IER_RDI = 0x01, IER_THRI = 0x02, IER_RLSI = 0x04, IER_MSI = 0x08;
const IIR_NO_INT = 0x01, IIR_MSI = 0x00, IIR_THRI = 0x02, IIR_RDI = 0x04, IIR_RLSI = 0x06, IIR_CTI = 0x0c, IIR_FE = 0xc0;
const MCR_LOOP = 0x10;
const MSR_ANY_DELTA = 0x0f;
const FCR_FE = 0x01, FCR_RFR = 0x02, FCR_XFR = 0x04;
export const UART_FIFO_LENGTH = 16;

export class Uart16550 implements PortDevice {
  private divider = 0x0c; private rbr = 0; private ier = 0; private iir = IIR_NO_INT; private lcr = 0;
  private mcr = 0x08; // OUT2, as QEMU's reset leaves it
  private lsr = LSR_TEMT | LSR_THRE; private msr = 0xb0; private scr = 0; private fcr = 0;
  private thrPending = false; private timeoutPending = false; private triggerLevel = 1;
  private recv: number[] = [];
  private xmitCount = 0;
  /** Bytes waiting on the line, each with the earliest virtual time it may arrive. */
  private line: { byte: number; at: number }[] = [];
  /** Virtual time the last byte entered the receiver (character-time pacing). */
  private lastRx = -Infinity;
  private fifoTimeoutAt = Infinity;
  private sourceEnded = false;
  /** Virtual time of this device's next event (reception or FIFO timeout), or Infinity. */
  nextEvent = Infinity;
  /** Pull source of host input (pipes), or null. */
  inputSource: SerialInputSource | null = null;
  /** Raise/lower the IRQ line (wired to the PIC by the machine). */
  irq: (level: boolean) => void = () => {};
  /** Told when nextEvent changed (the machine re-reads it). */
  onReprogram: () => void = () => {};
  private irqLevel = false;

  constructor(readonly base: number, private readonly sink: (byte: number) => void, private readonly now: () => number = () => 0) {}

  /** Nanoseconds one character takes on the line at the programmed divisor and frame. */
  get charTime(): number {
    const dataBits = (this.lcr & 3) + 5, parity = (this.lcr & 0x08) ? 1 : 0, stop = (this.lcr & 0x04) ? 2 : 1;
    return Math.floor(1e9 / Math.floor(115200 / this.divider)) * (1 + dataBits + parity + stop);
  }

  /** Queue host bytes to arrive on the line no earlier than virtual time `at` (default: now). */
  queueInput(bytes: Uint8Array | number[], at = this.now()): void {
    for (const b of bytes) this.line.push({ byte: b & 0xff, at });
    this.reschedule();
  }

  /** True once a pull source reported end of input. */
  get inputEnded(): boolean { return this.sourceEnded; }
  /** Bytes queued on the line and not yet received. */
  get lineBacklog(): number { return this.line.length; }

  private canReceive(): boolean {
    if (this.mcr & MCR_LOOP) return false;
    return (this.fcr & FCR_FE) ? this.recv.length < UART_FIFO_LENGTH : (this.lsr & LSR_DR) === 0;
  }

  private wantsSource(): boolean {
    return this.inputSource !== null && !this.sourceEnded && (this.ier & IER_RDI) !== 0 && (this.lsr & LSR_DR) === 0;
  }

  private reschedule(): void {
    let t = this.fifoTimeoutAt;
    if (this.canReceive() && (this.line.length > 0 || this.wantsSource())) {
      let rx = this.lastRx + this.charTime;
      if (this.line.length > 0 && this.line[0].at > rx) rx = this.line[0].at;
      const now = this.now();
      if (rx < now) rx = now;
      if (rx < t) t = rx;
    }
    if (t !== this.nextEvent) { this.nextEvent = t; this.onReprogram(); }
  }

  /** Run the events due at `now`: FIFO timeout, then at most one byte from the line. */
  onEvent(now: number): void {
    if (now >= this.fifoTimeoutAt) {
      this.fifoTimeoutAt = Infinity;
      if (this.recv.length > 0) { this.timeoutPending = true; this.updateIrq(); }
    }
    if (this.canReceive() && now >= this.lastRx + this.charTime) {
      if (this.line.length === 0 && this.wantsSource()) {
        const b = this.inputSource!.readByte();
        if (b < 0) this.sourceEnded = true; else this.line.push({ byte: b & 0xff, at: now });
      }
      if (this.line.length > 0 && this.line[0].at <= now) {
        this.receive(this.line.shift()!.byte);
        this.lastRx = now;
      }
    }
    this.reschedule();
  }

  private receive(b: number): void {
    if (this.fcr & FCR_FE) {
      if (this.recv.length >= UART_FIFO_LENGTH) this.lsr |= LSR_OE;
      else this.recv.push(b);
      this.lsr |= LSR_DR;
      this.fifoTimeoutAt = this.now() + this.charTime * 4;
    } else {
      if (this.lsr & LSR_DR) this.lsr |= LSR_OE;
      this.rbr = b;
      this.lsr |= LSR_DR;
    }
    this.updateIrq();
    this.reschedule();
  }

  private updateIrq(): void {
    let id = IIR_NO_INT;
    if ((this.ier & IER_RLSI) && (this.lsr & LSR_INT_ANY)) id = IIR_RLSI;
    else if ((this.ier & IER_RDI) && this.timeoutPending) id = IIR_CTI;
    else if ((this.ier & IER_RDI) && (this.lsr & LSR_DR) && (!(this.fcr & FCR_FE) || this.recv.length >= this.triggerLevel)) id = IIR_RDI;
    else if ((this.ier & IER_THRI) && this.thrPending) id = IIR_THRI;
    else if ((this.ier & IER_MSI) && (this.msr & MSR_ANY_DELTA)) id = IIR_MSI;
    this.iir = id | (this.iir & 0xf0);
    const level = id !== IIR_NO_INT;
    if (level !== this.irqLevel) { this.irqLevel = level; this.irq(level); }
  }

  read(port: number): number {
    const off = port - this.base;
    switch (off) {
      case 0: {
        if (this.lcr & 0x80) return this.divider & 0xff;
        let v: number;
        if (this.fcr & FCR_FE) {
          v = this.recv.length === 0 ? 0 : this.recv.shift()!;
          if (this.recv.length === 0) { this.lsr &= ~(LSR_DR | LSR_BI); this.fifoTimeoutAt = Infinity; }
          else this.fifoTimeoutAt = this.now() + this.charTime * 4;
          this.timeoutPending = false;
        } else {
          v = this.rbr;
          this.lsr &= ~(LSR_DR | LSR_BI);
        }
        this.updateIrq();
        this.reschedule();
        return v;
      }
      case 1: return (this.lcr & 0x80) ? (this.divider >> 8) & 0xff : this.ier;
      case 2: {
        const v = this.iir;
        if ((v & 0x0f) === IIR_THRI) { this.thrPending = false; this.updateIrq(); }
        return v;
      }
      case 3: return this.lcr;
      case 4: return this.mcr;
      case 5: {
        const v = this.lsr;
        if (this.lsr & (LSR_BI | LSR_OE)) { this.lsr &= ~(LSR_BI | LSR_OE); this.updateIrq(); }
        return v;
      }
      case 6: {
        if (this.mcr & MCR_LOOP) return ((this.mcr & 0x0c) << 4) | ((this.mcr & 0x02) << 3) | ((this.mcr & 0x01) << 5);
        const v = this.msr;
        if (this.msr & MSR_ANY_DELTA) { this.msr &= 0xf0; this.updateIrq(); }
        return v;
      }
      default: return this.scr;
    }
  }

  write(port: number, _size: number, v: number): void {
    const off = port - this.base;
    v &= 0xff;
    switch (off) {
      case 0:
        if (this.lcr & 0x80) { this.divider = (this.divider & 0xff00) | v; this.reschedule(); return; }
        this.transmit(v);
        return;
      case 1: {
        if (this.lcr & 0x80) { this.divider = (this.divider & 0x00ff) | (v << 8); this.reschedule(); return; }
        const changed = (this.ier ^ v) & 0x0f;
        this.ier = v & 0x0f;
        // Turning THRI on with THR empty raises the interrupt again (QEMU, as Bochs and Windows expect).
        if (changed & IER_THRI) this.thrPending = (this.ier & IER_THRI) !== 0 && (this.lsr & LSR_THRE) !== 0;
        if (changed) this.updateIrq();
        this.reschedule();
        return;
      }
      case 2: {
        if ((v ^ this.fcr) & FCR_FE) v |= FCR_XFR | FCR_RFR; // enabling or disabling flushes both FIFOs
        if (v & FCR_RFR) {
          this.lsr &= ~(LSR_DR | LSR_BI); this.fifoTimeoutAt = Infinity; this.timeoutPending = false; this.recv = [];
        }
        if (v & FCR_XFR) { this.lsr |= LSR_THRE; this.thrPending = true; this.xmitCount = 0; }
        this.fcr = v & 0xc9;
        if (this.fcr & FCR_FE) {
          this.iir |= IIR_FE;
          this.triggerLevel = [1, 4, 8, 14][this.fcr >> 6];
        } else this.iir &= ~IIR_FE;
        this.updateIrq();
        this.reschedule();
        return;
      }
      case 3: this.lcr = v; this.reschedule(); return;
      case 4: this.mcr = v & 0x1f; this.reschedule(); return;
      case 7: this.scr = v; return;
      default: return; // LSR and MSR are read-only
    }
  }

  private transmit(v: number): void {
    this.thrPending = false;
    this.lsr &= ~(LSR_THRE | LSR_TEMT);
    this.updateIrq();
    // The byte moves to the shift register and out at once: THR (and the FIFO) are empty again.
    this.xmitCount = 0;
    this.lsr |= LSR_THRE;
    this.thrPending = true; // pending whenever THRE is reached; IER.THRI masks it (QEMU's thr_ipending)
    this.updateIrq();
    if (this.mcr & MCR_LOOP) this.receive(v); else this.sink(v);
    this.lsr |= LSR_TEMT;
  }

  saveState(): object {
    return {
      divider: this.divider, rbr: this.rbr, ier: this.ier, iir: this.iir, lcr: this.lcr, mcr: this.mcr, lsr: this.lsr,
      msr: this.msr, scr: this.scr, fcr: this.fcr, thrPending: this.thrPending, timeoutPending: this.timeoutPending,
      triggerLevel: this.triggerLevel, recv: [...this.recv], xmitCount: this.xmitCount,
      line: this.line.map((e) => [e.byte, e.at]), lastRx: finiteOrNull(this.lastRx),
      fifoTimeoutAt: finiteOrNull(this.fifoTimeoutAt), sourceEnded: this.sourceEnded, irqLevel: this.irqLevel,
    };
  }

  loadState(s: any): void {
    Object.assign(this, {
      divider: s.divider, rbr: s.rbr, ier: s.ier, iir: s.iir, lcr: s.lcr, mcr: s.mcr, lsr: s.lsr, msr: s.msr, scr: s.scr,
      fcr: s.fcr, thrPending: s.thrPending, timeoutPending: s.timeoutPending, triggerLevel: s.triggerLevel,
      recv: [...s.recv], xmitCount: s.xmitCount, sourceEnded: s.sourceEnded, irqLevel: s.irqLevel,
    });
    this.line = s.line.map(([byte, at]: [number, number]) => ({ byte, at }));
    this.lastRx = s.lastRx ?? -Infinity;
    this.fifoTimeoutAt = s.fifoTimeoutAt ?? Infinity;
    this.nextEvent = NaN; // force the notification
    this.reschedule();
  }
}

function finiteOrNull(v: number): number | null { return Number.isFinite(v) ? v : null; }
