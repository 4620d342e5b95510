/**
 * Port 0x61, the PC's system control port B, as QEMU 7.2's pcspk device has it: bit 0 (written) is the
 * 8254 channel 2 gate, bit 1 the speaker data enable; a read returns the gate, the speaker enable,
 * the refresh-request bit 4, which toggles on every read (QEMU's dummy refresh clock: loops that wait
 * for it to change terminate), and channel 2's OUT in bit 5. Linux's PIT calibrations
 * (`pit_calibrate_tsc`, `pit_hpet_ptimer_calibrate_cpu`) gate channel 2 here and poll bit 5.
 */
import type { PortDevice } from './ioBus';
import type { Pit8254 } from './pit8254';

export class SystemControlPortB implements PortDevice {
  private speakerData = false;
  private refreshToggle = 0;

  constructor(private readonly pit: Pit8254) {}

  read(): number {
    const ch2 = this.pit.ch[2];
    this.refreshToggle ^= 0x10;
    return (ch2.gate ? 1 : 0) | (this.speakerData ? 2 : 0) | this.refreshToggle | (this.pit.outOf(ch2) ? 0x20 : 0);
  }

  write(_port: number, _size: number, v: number): void {
    this.speakerData = (v & 2) !== 0;
    this.pit.setGate(2, (v & 1) !== 0);
  }

  saveState(): object { return { speakerData: this.speakerData, refreshToggle: this.refreshToggle }; }
  loadState(s: any): void { this.speakerData = s.speakerData; this.refreshToggle = s.refreshToggle; }
}
