// Port I/O on a bare Machine for device tests: byte in/out and idle time.
import { Machine, type MachineOptions } from '../../../emulator/machine';

export interface PortIo { m: Machine; outb(port: number, v: number): void; inb(port: number): number; idle(ns: number): void }

export function portIo(opts: MachineOptions = {}): PortIo {
  const m = new Machine({ memory: 4 << 20, ...opts });
  return {
    m,
    outb: (port, v) => m.io.write(port, 1, v),
    inb: (port) => m.io.read(port, 1),
    idle: (ns) => m.advanceIdle(ns),
  };
}

/** Vector-base programming of the 8259A pair as Linux's init_8259A does it (ICW1-ICW4, all masked). */
export function initPic(io: PortIo, autoEoi = false): void {
  const { outb } = io;
  outb(0x21, 0xff); outb(0xa1, 0xff);
  outb(0x20, 0x11); outb(0x21, 0x30); outb(0x21, 0x04); outb(0x21, autoEoi ? 0x03 : 0x01);
  outb(0xa0, 0x11); outb(0xa1, 0x38); outb(0xa1, 0x02); outb(0xa1, 0x01);
}
