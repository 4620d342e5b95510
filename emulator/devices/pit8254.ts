/**
 * The 8254 PIT (ports 0x40-0x43; port 0x61 bit 5 reports channel 2's output). Channel 0 drives IRQ 0
 * in modes 0 (one shot), 2 (rate generator) and 3 (square wave); its clock is 1.193182 MHz of virtual
 * time. Virtual time is the retired-instruction count at 1 instruction = 1 ns, so a divisor of 11932
 * fires every 10,000,151 instructions (100 Hz), whatever the host speed.
 */
import type { PortDevice } from './ioBus';

export const PIT_HZ = 1193182;
export const NS_PER_SECOND = 1e9;

class Channel {
  mode = 3; access = 3; reload = 0x10000; start = 0; armed = false; bcd = false;
  writeLow = true; readLow = true; latched = -1; pendingLow = 0; gate = true;

  saveState(): ChannelState {
    return { mode: this.mode, access: this.access, reload: this.reload, start: this.start, armed: this.armed, bcd: this.bcd,
      writeLow: this.writeLow, readLow: this.readLow, latched: this.latched, pendingLow: this.pendingLow, gate: this.gate };
  }

  loadState(s: ChannelState): void {
    this.mode = s.mode; this.access = s.access; this.reload = s.reload; this.start = s.start; this.armed = s.armed;
    this.bcd = s.bcd; this.writeLow = s.writeLow; this.readLow = s.readLow; this.latched = s.latched;
    this.pendingLow = s.pendingLow; this.gate = s.gate;
  }
}

interface ChannelState {
  mode: number; access: number; reload: number; start: number; armed: boolean; bcd: boolean;
  writeLow: boolean; readLow: boolean; latched: number; pendingLow: number; gate: boolean;
}

export class Pit8254 implements PortDevice {
  readonly ch = [new Channel(), new Channel(), new Channel()];
  /** Absolute virtual time (ns) of the next IRQ 0, or Infinity. */
  next = Infinity;
  private port61 = 0;
  irq0: () => void = () => {};
  onReprogram: () => void = () => {};
  /**
   * Extra delay (ns) of each channel-0 interrupt past its period boundary, or null: models
   * interrupt latency for studies that need interrupts to arrive at varied instructions. The
   * boundaries themselves stay on the programmed period, so delays do not accumulate.
   */
  jitter: (() => number) | null = null;

  constructor(private readonly now: () => number) {}

  /** The channels, port 0x61 and the time of the next IRQ 0 (which already includes its jitter). */
  saveState(): { channels: ChannelState[]; next: number; port61: number } {
    return { channels: this.ch.map((c) => c.saveState()), next: this.next, port61: this.port61 };
  }

  loadState(s: { channels: ChannelState[]; next: number; port61: number }): void {
    for (let i = 0; i < 3; i++) this.ch[i].loadState(s.channels[i]);
    this.next = s.next;
    this.port61 = s.port61;
  }

  private ticks(ns: number): number { return Math.floor((ns * PIT_HZ) / NS_PER_SECOND); }
  private nsOf(ticks: number): number { return Math.ceil((ticks * NS_PER_SECOND) / PIT_HZ); }

  private counterValue(c: Channel): number {
    if (!c.armed) return c.reload & 0xffff;
    const el = this.ticks(this.now() - c.start);
    if (c.mode === 0) return Math.max(0, c.reload - el) & 0xffff;
    return (c.reload - (el % c.reload)) & 0xffff;
  }

  read(port: number): number {
    if (port === 0x61) {
      const c = this.ch[2];
      const el = c.armed ? this.ticks(this.now() - c.start) : 0;
      const out = c.armed && (c.mode === 0 ? el >= c.reload : (el % c.reload) < c.reload / 2) ? 0x20 : 0;
      return (this.port61 & 0x0f) | out;
    }
    if (port === 0x43) return 0xff;
    const c = this.ch[port - 0x40];
    let v = c.latched >= 0 ? c.latched : this.counterValue(c);
    if (c.access === 1) { c.latched = -1; return v & 0xff; }
    if (c.access === 2) { c.latched = -1; return (v >> 8) & 0xff; }
    if (c.readLow) { c.readLow = false; return v & 0xff; }
    c.readLow = true; v = (v >> 8) & 0xff; c.latched = -1;
    return v;
  }

  write(port: number, _size: number, v: number): void {
    v &= 0xff;
    if (port === 0x61) { this.port61 = v; return; }
    if (port === 0x43) {
      const sel = v >> 6;
      if (sel === 3) { // read-back: latch counts of the selected channels
        for (let i = 0; i < 3; i++) if ((v & (2 << i)) && !(v & 0x20)) this.ch[i].latched = this.counterValue(this.ch[i]);
        return;
      }
      const c = this.ch[sel];
      const access = (v >> 4) & 3;
      if (access === 0) { c.latched = this.counterValue(c); c.readLow = true; return; }
      c.access = access; c.mode = (v >> 1) & 7; if (c.mode > 5) c.mode -= 4; c.bcd = (v & 1) !== 0;
      c.writeLow = true; c.readLow = true; c.armed = false;
      if (sel === 0) this.schedule();
      return;
    }
    const idx = port - 0x40, c = this.ch[idx];
    if (c.access === 3) {
      if (c.writeLow) { c.pendingLow = v; c.writeLow = false; return; }
      c.writeLow = true;
      this.load(idx, c.pendingLow | (v << 8));
    } else if (c.access === 1) this.load(idx, v);
    else this.load(idx, v << 8);
  }

  private load(idx: number, value: number): void {
    const c = this.ch[idx];
    c.reload = value === 0 ? 0x10000 : value;
    c.start = this.now();
    c.armed = true;
    if (idx === 0) this.schedule();
  }

  private schedule(): void {
    const c = this.ch[0];
    if (!c.armed) this.next = Infinity;
    else this.next = c.start + this.nsOf(c.reload) + this.delay();
    this.onReprogram();
  }

  /** Fire IRQ 0 for every period boundary reached by `now` (edges coalesce in the PIC's IRR). */
  tick(now: number): void {
    const c = this.ch[0];
    if (now < this.next) return;
    this.irq0();
    if (!c.armed || c.mode === 0 || c.mode === 1 || c.mode === 4 || c.mode === 5) { this.next = Infinity; return; }
    const periods = Math.floor(this.ticks(now - c.start) / c.reload) + 1;
    this.next = c.start + this.nsOf(periods * c.reload) + this.delay();
  }

  private delay(): number {
    return this.jitter === null ? 0 : Math.max(0, Math.floor(this.jitter()));
  }
}
