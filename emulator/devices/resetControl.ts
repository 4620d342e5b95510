/**
 * The reset sources of QEMU's pc machine besides the i8042 and a triple fault: the PIIX3 reset control
 * register at 0xCF9 (hw/isa/piix3.c: writing a value with bit 2 set requests a reset; bit 1, the
 * reset type, is kept and read back; Linux's `reboot=pci` writes 0x02 then 0x06) and the fast-A20/reset
 * port 0x92 (hw/i386/port92.c: a rising edge of bit 0 resets; bit 1 is A20). `klp-lab run` treats a
 * reset request as QEMU's `-no-reboot` does: the run ends.
 */
import type { PortDevice } from './ioBus';

export class ResetControl implements PortDevice {
  private rcr = 0;
  private port92 = 0x02; // A20 on, as firmware leaves it

  constructor(private readonly requestReset: (source: string) => void) {}

  read(port: number): number { return port === 0xcf9 ? this.rcr : this.port92; }

  write(port: number, _size: number, v: number): void {
    v &= 0xff;
    if (port === 0xcf9) {
      if (v & 4) { this.requestReset('reset control register 0xcf9'); return; }
      this.rcr = v & 2;
      return;
    }
    const old = this.port92;
    this.port92 = v;
    if ((v & 1) && !(old & 1)) this.requestReset('port 0x92 fast reset');
  }

  saveState(): object { return { rcr: this.rcr, port92: this.port92 }; }
  loadState(s: any): void { this.rcr = s.rcr; this.port92 = s.port92; }
}
