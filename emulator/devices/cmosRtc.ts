/**
 * The MC146818 CMOS RTC at ports 0x70 (index, bit 7 = NMI mask) and 0x71 (data), IRQ 8, with QEMU
 * 7.2's behaviour (hw/rtc/mc146818rtc.c) for `-rtc base=DATE,clock=vm`: the clock starts at the base
 * date when virtual time is 0 and advances with virtual time. Time registers in BCD or binary and in
 * 12- or 24-hour form per register B; SET freezes the registers for the guest to write a new time;
 * update-in-progress (register A bit 7) during the last 244 us of each second; periodic, alarm
 * (with "don't care" values 0xC0-0xFF; the periodic flag only while PIE is set, as QEMU) and
 * update-ended flags in register C, raising IRQ 8 when
 * enabled in register B until register C is read; register D reports valid RAM.
 *
 * CMOS memory starts as QEMU's pc machine and SeaBIOS leave it (hw/i386/pc.c `pc_cmos_init`):
 * base and extended memory sizes, memory above 16 MiB and above 4 GiB, century (0x32, BCD),
 * equipment byte, boot order, CPU count. 14 clock bytes + 114 bytes of RAM, as Linux reports.
 */
import type { PortDevice } from './ioBus';

const REG_A = 0x0a, REG_B = 0x0b, REG_C = 0x0c, REG_D = 0x0d, REG_CENTURY = 0x32;
const B_SET = 0x80, B_PIE = 0x40, B_AIE = 0x20, B_UIE = 0x10, B_DM_BINARY = 0x04, B_24H = 0x02;
const C_IRQF = 0x80, C_PF = 0x40, C_AF = 0x20, C_UF = 0x10;
const NS = 1e9;
/** UIP is set this long before each second boundary (8 cycles of the 32768 Hz clock). */
export const UIP_HOLD_NS = Math.floor((8 * NS) / 32768);

export interface CmosMemoryLayout { belowFourG: number; aboveFourG: number; cpus: number }

export class CmosRtc implements PortDevice {
  readonly cmos = new Uint8Array(128);
  private index = 0;
  /** Port 0x70 bit 7 (the NMI mask of the PC; this machine raises no NMIs). */
  nmiMasked = false;
  /** Seconds since the epoch at `epochAt` (virtual ns) plus whole seconds since then. */
  private epochSeconds: number;
  private epochAt = 0;
  /** Virtual time up to which register C's flags have been accounted. */
  private flagsAt = 0;
  private irqLevel = false;
  nextEvent = Infinity;
  irq: (level: boolean) => void = () => {};
  onReprogram: () => void = () => {};

  /** `baseSeconds`: the clock at virtual time 0, in seconds since 1970-01-01 UTC. */
  constructor(baseSeconds: number, layout: CmosMemoryLayout, private readonly now: () => number) {
    this.epochSeconds = Math.floor(baseSeconds);
    const c = this.cmos;
    c[REG_A] = 0x26; c[REG_B] = B_24H; c[REG_C] = 0; c[REG_D] = 0x80;
    c[0x10] = 0x50; // floppy drive A: type 5 (QEMU's default drive, no disk), as QEMU reports it
    c[0x14] = 0x07; // equipment: floppy drive, FPU, PS/2 mouse
    c[0x15] = 0x80; c[0x16] = 0x02; // 640 KiB base memory
    const extKb = Math.min(65535, Math.floor(layout.belowFourG / 1024) - 1024);
    c[0x17] = extKb & 0xff; c[0x18] = extKb >> 8; c[0x30] = extKb & 0xff; c[0x31] = extKb >> 8;
    const above16m = layout.belowFourG > 16 << 20 ? Math.min(65535, Math.floor((layout.belowFourG - (16 << 20)) / 65536)) : 0;
    c[0x34] = above16m & 0xff; c[0x35] = above16m >> 8;
    const above4g = Math.floor(layout.aboveFourG / 65536);
    c[0x5b] = above4g & 0xff; c[0x5c] = (above4g >> 8) & 0xff; c[0x5d] = Math.floor(above4g / 65536) & 0xff;
    c[0x5f] = layout.cpus - 1;
    c[0x3d] = 0x12; c[0x38] = 0x30; // boot order "cad": disk, floppy, CD-ROM
    this.writeTimeRegisters();
    c[0x37] = c[REG_CENTURY]; // the IBM PS/2 century byte, set alongside
  }

  // ---- the clock ---------------------------------------------------------------------------------------
  private running(): boolean { return (this.cmos[REG_B] & B_SET) === 0 && (this.cmos[REG_A] & 0x70) <= 0x20; }
  /** Seconds since the epoch now, and the nanoseconds into the current second. */
  private clockAt(t: number): { sec: number; nsec: number } {
    const d = t - this.epochAt;
    const whole = Math.floor(d / NS);
    return { sec: this.epochSeconds + whole, nsec: d - whole * NS };
  }
  private toReg(v: number): number { return (this.cmos[REG_B] & B_DM_BINARY) ? v : ((Math.floor(v / 10) << 4) | (v % 10)); }
  private fromReg(v: number): number { return (this.cmos[REG_B] & B_DM_BINARY) ? v : ((v >> 4) * 10 + (v & 0x0f)); }
  private hourToReg(h: number): number {
    if (this.cmos[REG_B] & B_24H) return this.toReg(h);
    const h12 = h % 12 === 0 ? 12 : h % 12;
    return this.toReg(h12) | (h >= 12 ? 0x80 : 0);
  }
  private hourFromReg(v: number): number {
    if (this.cmos[REG_B] & B_24H) return this.fromReg(v & 0x7f);
    const h = this.fromReg(v & 0x7f) % 12;
    return (v & 0x80) ? h + 12 : h;
  }

  /** Copy the running clock into registers 0-9 and the century byte. */
  private writeTimeRegisters(): void {
    const d = new Date(this.clockAt(this.now()).sec * 1000);
    const c = this.cmos;
    c[0] = this.toReg(d.getUTCSeconds()); c[2] = this.toReg(d.getUTCMinutes()); c[4] = this.hourToReg(d.getUTCHours());
    c[6] = this.toReg(d.getUTCDay() + 1); c[7] = this.toReg(d.getUTCDate()); c[8] = this.toReg(d.getUTCMonth() + 1);
    c[9] = this.toReg(d.getUTCFullYear() % 100); c[REG_CENTURY] = this.toReg(Math.floor(d.getUTCFullYear() / 100));
  }

  /** Set the clock from registers 0-9 and the century byte; the new second starts now. */
  private readTimeRegisters(): void {
    const c = this.cmos;
    const year = this.fromReg(c[REG_CENTURY]) * 100 + this.fromReg(c[9]);
    const ms = Date.UTC(year, this.fromReg(c[8]) - 1, this.fromReg(c[7]), this.hourFromReg(c[4]), this.fromReg(c[2]), this.fromReg(c[0]));
    if (!Number.isFinite(ms)) return;
    this.epochSeconds = Math.floor(ms / 1000);
    this.epochAt = this.now();
  }

  private updateInProgress(): boolean {
    return this.running() && this.clockAt(this.now()).nsec >= NS - UIP_HOLD_NS;
  }

  private periodNs(): number {
    let rs = this.cmos[REG_A] & 0x0f;
    if (rs === 0) return 0;
    if (rs <= 2) rs += 7;
    return ((1 << (rs - 1)) * NS) / 32768;
  }

  private alarmMatches(sec: number): boolean {
    const d = new Date(sec * 1000);
    const c = this.cmos;
    const ok = (alarm: number, v: number): boolean => (alarm & 0xc0) === 0xc0 || alarm === v;
    return ok(c[1], this.toReg(d.getUTCSeconds())) && ok(c[3], this.toReg(d.getUTCMinutes())) && ok(c[5], this.hourToReg(d.getUTCHours()));
  }

  /** Add to register C the flags of the events between the last accounting and `t`. */
  private accrueFlags(t: number): void {
    const from = this.flagsAt;
    this.flagsAt = t;
    if (t <= from) return;
    const c = this.cmos;
    const period = this.periodNs();
    // The periodic flag only runs with PIE set (QEMU runs its periodic timer only then).
    if (period > 0 && (c[REG_B] & B_PIE) && Math.floor(t / period) > Math.floor(from / period)) c[REG_C] |= C_PF;
    if (this.running()) {
      const s0 = this.clockAt(from).sec, s1 = this.clockAt(t).sec;
      if (s1 > s0) {
        c[REG_C] |= C_UF;
        for (let s = Math.max(s0 + 1, s1 - 86400); s <= s1; s++) if (this.alarmMatches(s)) { c[REG_C] |= C_AF; break; }
      }
    }
    if (c[REG_C] & c[REG_B] & (C_PF | C_AF | C_UF)) c[REG_C] |= C_IRQF;
    this.setIrq((c[REG_C] & C_IRQF) !== 0);
  }

  private setIrq(level: boolean): void {
    if (level !== this.irqLevel) { this.irqLevel = level; this.irq(level); }
  }

  /** Next time an enabled interrupt source fires (periodic boundary or second boundary). */
  private reschedule(): void {
    const now = this.now(), b = this.cmos[REG_B];
    let t = Infinity;
    const period = this.periodNs();
    if ((b & B_PIE) && period > 0) t = (Math.floor(now / period) + 1) * period;
    if ((b & (B_UIE | B_AIE)) && this.running()) {
      const { nsec } = this.clockAt(now);
      t = Math.min(t, now + (NS - nsec));
    }
    t = Math.ceil(t);
    if (t !== this.nextEvent) { this.nextEvent = t; this.onReprogram(); }
  }

  onEvent(now: number): void {
    this.accrueFlags(now);
    this.reschedule();
  }

  // ---- ports ---------------------------------------------------------------------------------------------
  read(port: number): number {
    if (port === 0x70) return 0xff;
    const i = this.index;
    switch (i) {
      case 0: case 2: case 4: case 6: case 7: case 8: case 9: case REG_CENTURY:
        if (this.running()) this.writeTimeRegisters();
        return this.cmos[i];
      case REG_A: return (this.cmos[REG_A] & 0x7f) | (this.updateInProgress() ? 0x80 : 0);
      case REG_C: {
        this.accrueFlags(this.now());
        const v = this.cmos[REG_C];
        this.cmos[REG_C] = 0;
        this.setIrq(false);
        this.reschedule();
        return v;
      }
      default: return this.cmos[i];
    }
  }

  write(port: number, _size: number, v: number): void {
    v &= 0xff;
    if (port === 0x70) { this.index = v & 0x7f; this.nmiMasked = (v & 0x80) !== 0; return; }
    const i = this.index;
    switch (i) {
      case 0: case 2: case 4: case 6: case 7: case 8: case 9: case REG_CENTURY:
        if (this.running()) this.writeTimeRegisters();
        this.cmos[i] = v;
        if (this.running()) this.readTimeRegisters();
        break;
      case REG_A:
        this.accrueFlags(this.now());
        this.cmos[REG_A] = (v & 0x7f) | (this.cmos[REG_A] & 0x80);
        break;
      case REG_B: {
        this.accrueFlags(this.now());
        const old = this.cmos[REG_B];
        if (!(old & B_SET) && (v & B_SET)) this.writeTimeRegisters();      // freeze the current time
        if ((old & B_SET) && !(v & B_SET)) { this.cmos[REG_B] = v; this.readTimeRegisters(); }
        if (v & B_SET) v &= ~B_UIE; // SET stops updates, and with them the update interrupt
        this.cmos[REG_B] = v;
        if (this.cmos[REG_C] & v & (C_PF | C_AF | C_UF)) this.cmos[REG_C] |= C_IRQF;
        this.setIrq((this.cmos[REG_C] & C_IRQF) !== 0);
        break;
      }
      case REG_C: case REG_D: break; // read-only
      default: this.cmos[i] = v;
    }
    this.reschedule();
  }

  saveState(): object {
    return {
      cmos: Array.from(this.cmos), index: this.index, nmiMasked: this.nmiMasked, epochSeconds: this.epochSeconds,
      epochAt: this.epochAt, flagsAt: this.flagsAt, irqLevel: this.irqLevel,
    };
  }

  loadState(s: any): void {
    this.cmos.set(s.cmos);
    Object.assign(this, { index: s.index, nmiMasked: s.nmiMasked, epochSeconds: s.epochSeconds, epochAt: s.epochAt, flagsAt: s.flagsAt, irqLevel: s.irqLevel });
    this.nextEvent = NaN;
    this.reschedule();
  }
}
