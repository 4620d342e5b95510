/**
 * The 8254 PIT at ports 0x40-0x43, with QEMU 7.2's behaviour (hw/timer/i8254.c, i8254_common.c):
 * counts derived from the load time (no per-tick state), the six modes' OUT functions, counter and
 * status latches (control word and read-back), LSB/MSB/word access with its read and write toggles,
 * and the gate inputs (channel 2's from port 0x61, see systemControlPortB.ts; channels 0 and 1 are
 * tied high). Channel 0's rising OUT edges are IRQ 0. The clock is 1.193182 MHz of virtual time, and
 * virtual time is the retired-instruction count at 1 instruction = 1 ns, so a divisor of 11932 fires
 * every 10,000,151 instructions (100 Hz), whatever the host speed.
 *
 * One deliberate difference: QEMU's channel 0 counts from reset (and SeaBIOS leaves it at 18.2 Hz);
 * here channel 0 raises no interrupt until the guest programs it, so a guest that never programs the
 * PIT has no timer (`klp-lab run` then reports a HLT that can never wake instead of hanging).
 */
import type { PortDevice } from './ioBus';

export const PIT_HZ = 1193182;
export const NS_PER_SECOND = 1e9;

/** Access modes (control word bits 5-4) and the read/write toggles of word access. */
const RW_LSB = 1, RW_MSB = 2, RW_WORD0 = 3, RW_WORD1 = 4;

export class PitChannel {
  /** Reload value, 1..0x10000. */
  count = 0x10000;
  /** Virtual time (ns) of the last load or gate trigger; counts are derived from it. */
  loadTime = 0;
  /** False only for channel 0 before the guest first loads it (see above). */
  running = true;
  mode = 3; bcd = false;
  rwMode = RW_WORD0; readState = RW_WORD0; writeState = RW_WORD0; writeLatch = 0;
  latchedCount = 0; countLatched = 0; status = 0; statusLatched = false;
  gate = true;
}

export class Pit8254 implements PortDevice {
  readonly ch = [new PitChannel(), new PitChannel(), new PitChannel()];
  /** Absolute virtual time (ns) of the next IRQ 0, or Infinity. */
  next = Infinity;
  irq0: () => void = () => {};
  onReprogram: () => void = () => {};
  /**
   * Extra delay (ns) of each channel-0 interrupt past its period boundary, or null: models
   * interrupt latency for studies that need interrupts to arrive at varied instructions. The
   * boundaries themselves stay on the programmed period, so delays do not accumulate.
   */
  jitter: (() => number) | null = null;

  constructor(private readonly now: () => number) {
    this.ch[0].running = false;
    this.ch[2].gate = false; // channel 2's gate is port 0x61 bit 0, low at reset
  }

  private ticks(ns: number): number { return Math.floor((ns * PIT_HZ) / NS_PER_SECOND); }
  private nsOf(ticks: number): number { return Math.ceil((ticks * NS_PER_SECOND) / PIT_HZ); }
  private elapsed(c: PitChannel): number { return this.ticks(this.now() - c.loadTime); }

  /** The current count (pit_get_count). */
  countOf(c: PitChannel): number {
    if (!c.running) return c.count & 0xffff;
    const d = this.elapsed(c);
    switch (c.mode) {
      case 0: case 1: case 4: case 5: return (c.count - d) & 0xffff;
      case 3: return (c.count - ((2 * d) % c.count)) & 0xffff; // counts down by two
      default: return (c.count - (d % c.count)) & 0xffff;
    }
  }

  /** The OUT pin (pit_get_out). */
  outOf(c: PitChannel): boolean {
    if (!c.running) return false;
    const d = this.elapsed(c);
    switch (c.mode) {
      case 1: return d < c.count;
      case 2: return d % c.count === 0 && d !== 0;
      case 3: return d % c.count < ((c.count + 1) >> 1);
      case 4: case 5: return d === c.count;
      default: return d >= c.count;
    }
  }

  /** Gate input of channel 2 (port 0x61 bit 0): a rising edge restarts modes 1, 2, 3 and 5. */
  setGate(idx: number, level: boolean): void {
    const c = this.ch[idx];
    if (!c.gate && level && c.mode !== 0 && c.mode !== 4) {
      c.loadTime = this.now();
      if (idx === 0) this.schedule();
    }
    c.gate = level;
  }

  read(port: number): number {
    if (port === 0x43) return 0; // the control register is write-only
    const c = this.ch[port - 0x40];
    if (c.statusLatched) { c.statusLatched = false; return c.status; }
    if (c.countLatched !== 0) {
      switch (c.countLatched) {
        case RW_MSB: c.countLatched = 0; return (c.latchedCount >> 8) & 0xff;
        case RW_WORD0: c.countLatched = RW_MSB; return c.latchedCount & 0xff;
        default: c.countLatched = 0; return c.latchedCount & 0xff;
      }
    }
    const v = this.countOf(c);
    switch (c.readState) {
      case RW_MSB: return (v >> 8) & 0xff;
      case RW_WORD0: c.readState = RW_WORD1; return v & 0xff;
      case RW_WORD1: c.readState = RW_WORD0; return (v >> 8) & 0xff;
      default: return v & 0xff;
    }
  }

  private latchCount(c: PitChannel): void {
    if (c.countLatched === 0) { c.latchedCount = this.countOf(c); c.countLatched = c.rwMode; }
  }

  write(port: number, _size: number, v: number): void {
    v &= 0xff;
    if (port === 0x43) {
      const sel = v >> 6;
      if (sel === 3) { // read-back: bit 5 clear latches counts, bit 4 clear latches status
        for (let i = 0; i < 3; i++) {
          if ((v & (2 << i)) === 0) continue;
          const c = this.ch[i];
          if ((v & 0x20) === 0) this.latchCount(c);
          if ((v & 0x10) === 0 && !c.statusLatched) {
            c.status = ((this.outOf(c) ? 1 : 0) << 7) | (c.rwMode << 4) | (c.mode << 1) | (c.bcd ? 1 : 0);
            c.statusLatched = true;
          }
        }
        return;
      }
      const c = this.ch[sel];
      const access = (v >> 4) & 3;
      if (access === 0) { this.latchCount(c); return; }
      c.rwMode = access; c.readState = access; c.writeState = access;
      c.mode = (v >> 1) & 7; c.bcd = (v & 1) !== 0;
      return;
    }
    const idx = port - 0x40, c = this.ch[idx];
    switch (c.writeState) {
      case RW_MSB: this.load(idx, v << 8); return;
      case RW_WORD0: c.writeLatch = v; c.writeState = RW_WORD1; return;
      case RW_WORD1: c.writeState = RW_WORD0; this.load(idx, c.writeLatch | (v << 8)); return;
      default: this.load(idx, v); return;
    }
  }

  private load(idx: number, value: number): void {
    const c = this.ch[idx];
    c.count = value === 0 ? 0x10000 : value;
    c.loadTime = this.now();
    c.running = true;
    if (idx === 0) this.schedule();
  }

  private schedule(): void {
    const c = this.ch[0];
    if (!c.running) this.next = Infinity;
    else if (c.mode === 4 || c.mode === 5 || c.mode === 0 || c.mode === 1) {
      // One rising edge: at the terminal count (modes 0, 4), never again in mode 1/5 without a trigger.
      this.next = c.mode === 1 ? Infinity : c.loadTime + this.nsOf(c.count) + this.delay();
    } else this.next = c.loadTime + this.nsOf(c.count) + this.delay();
    this.onReprogram();
  }

  /** Fire IRQ 0 for every period boundary reached by `now` (edges coalesce in the PIC's IRR). */
  tick(now: number): void {
    const c = this.ch[0];
    if (now < this.next) return;
    this.irq0();
    if (!c.running || c.mode === 0 || c.mode === 1 || c.mode === 4 || c.mode === 5) { this.next = Infinity; return; }
    const periods = Math.floor(this.ticks(now - c.loadTime) / c.count) + 1;
    this.next = c.loadTime + this.nsOf(periods * c.count) + this.delay();
  }

  private delay(): number {
    return this.jitter === null ? 0 : Math.max(0, Math.floor(this.jitter()));
  }

  saveState(): object {
    return { next: this.next === Infinity ? null : this.next, ch: this.ch.map((c) => ({ ...c })) };
  }

  loadState(s: any): void {
    this.next = s.next === null ? Infinity : s.next;
    s.ch.forEach((cs: PitChannel, i: number) => Object.assign(this.ch[i], cs));
  }
}
