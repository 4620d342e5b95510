/**
 * The 8254 PIT at ports 0x40-0x43, with QEMU 7.2's behaviour (hw/timer/i8254.c, i8254_common.c):
 * counts derived from the load time (no per-tick state), the six modes' OUT functions, counter and
 * status latches (control word and read-back), LSB/MSB/word access with its read and write toggles,
 * and the gate inputs (channel 2's from port 0x61, see systemControlPortB.ts; channels 0 and 1 are
 * tied high). Channel 0's rising OUT edges are IRQ 0. The clock is 1.193182 MHz of virtual time, and
 * virtual time is the retired-instruction count at 1 instruction = 1 ns, so a divisor of 11932 fires
 * about every 10,000,151 instructions (100 Hz), whatever the host speed.
 *
 * Channel 0 follows OUT the way QEMU's IRQ timer does (pit_irq_timer_update): at each transition
 * time it sets the IRQ line to OUT and computes the next transition, converting between nanoseconds
 * and PIT ticks with truncating integer arithmetic (muldiv64) both ways, and evaluating OUT at the
 * scheduled time. The round trip matters: in mode 2 the scheduled time of the tick after a period
 * boundary truncates back onto the boundary, so IRQ 0 rises one PIT tick (838 ns) after the period
 * boundary, and every later interrupt keeps that phase. Interrupts then arrive at the same
 * instruction as under QEMU -icount.
 *
 * One deliberate difference: QEMU's channel 0 counts from reset (and SeaBIOS leaves it at 18.2 Hz);
 * here channel 0 raises no interrupt until the guest programs it, so a guest that never programs the
 * PIT has no timer (`klp-lab run` then reports a HLT that can never wake instead of hanging).
 */
import type { PortDevice } from './ioBus';

export const PIT_HZ = 1193182;
export const NS_PER_SECOND = 1e9;

/** floor(a * b / c) for non-negative integers, exact beyond 2^53 (QEMU's muldiv64). */
export function mulDiv(a: number, b: number, c: number): number {
  const p = a * b;
  if (p <= Number.MAX_SAFE_INTEGER) return (p - (p % c)) / c;
  return Number((BigInt(a) * BigInt(b)) / BigInt(c));
}

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
  /** Absolute virtual time (ns) when tick() must run next (the next transition, plus any jitter), or Infinity. */
  next = Infinity;
  /** Absolute virtual time (ns) of channel 0's next OUT transition (QEMU's next_transition_time), or Infinity. */
  transition = Infinity;
  /** The IRQ 0 line: channel 0's OUT as of its last transition. */
  level = false;
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

  private ticks(ns: number): number { return mulDiv(ns, PIT_HZ, NS_PER_SECOND); }
  private nsOf(ticks: number): number { return mulDiv(ticks, NS_PER_SECOND, PIT_HZ); }
  private elapsed(c: PitChannel, at = this.now()): number { return this.ticks(at - c.loadTime); }

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

  /** The OUT pin (pit_get_out), now or at time `at`. */
  outOf(c: PitChannel, at = this.now()): boolean {
    if (!c.running) return false;
    const d = this.elapsed(c, at);
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
      case RW_LSB: default: return v & 0xff;
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
      case RW_LSB: default: this.load(idx, v); return;
    }
  }

  private load(idx: number, value: number): void {
    const c = this.ch[idx];
    // QEMU's channel 0 has run since reset in mode 3 with count 0x10000: the IRQ line the first load
    // starts from is that square wave's level now (high in each first half period).
    if (idx === 0 && !c.running) this.level = this.ticks(this.now()) % 0x10000 < 0x8000;
    c.count = value === 0 ? 0x10000 : value;
    c.loadTime = this.now();
    c.running = true;
    if (idx === 0) this.schedule();
  }

  /** Channel 0's next OUT transition after `now` (pit_get_next_transition_time), or Infinity. */
  private nextTransition(c: PitChannel, now: number): number {
    const d = this.elapsed(c, now);
    let next: number;
    switch (c.mode) {
      case 2: case 6: {
        const base = d - (d % c.count);
        next = d === base && d !== 0 ? base + c.count : base + c.count + 1;
        break;
      }
      case 3: case 7: {
        const base = d - (d % c.count), half = (c.count + 1) >> 1;
        next = d - base < half ? base + half : base + c.count;
        break;
      }
      case 4: case 5:
        if (d < c.count) next = c.count;
        else if (d === c.count) next = c.count + 1;
        else return Infinity;
        break;
      default:
        if (d < c.count) next = c.count;
        else return Infinity;
    }
    const t = c.loadTime + this.nsOf(next);
    return t <= now ? now + 1 : t; // QEMU's guard against rounding onto the present
  }

  /** pit_irq_timer_update at `now`: IRQ 0 follows OUT (a rising edge interrupts), then the next transition. */
  private update(now: number): void {
    const c = this.ch[0];
    if (!c.running) { this.transition = Infinity; this.next = Infinity; this.onReprogram(); return; }
    const level = this.outOf(c, now);
    if (level && !this.level) this.irq0();
    this.level = level;
    this.transition = this.nextTransition(c, now);
    // Jitter delays rising edges only: the transitions themselves stay on QEMU's schedule.
    this.next = this.transition === Infinity || !this.outOf(c, this.transition) ? this.transition : this.transition + this.delay();
    this.onReprogram();
  }

  private schedule(): void {
    this.update(this.now());
  }

  /** Runs channel 0's transition that is due (the machine calls this once `next` is reached). */
  tick(now: number): void {
    if (now < this.next) return;
    this.update(this.transition);
  }

  private delay(): number {
    return this.jitter === null ? 0 : Math.max(0, Math.floor(this.jitter()));
  }

  /** Times are numbers (Infinity when nothing is due; a null read back from plain JSON means the same). */
  saveState(): object {
    return { channels: this.ch.map((c) => ({ ...c })), next: this.next, transition: this.transition, level: this.level };
  }

  loadState(s: any): void {
    s.channels.forEach((cs: PitChannel, i: number) => Object.assign(this.ch[i], cs));
    this.next = s.next ?? Infinity;
    this.transition = s.transition ?? Infinity;
    this.level = s.level;
    this.onReprogram();
  }
}
