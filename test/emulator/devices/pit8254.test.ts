// The 8254 and port 0x61 driven through port I/O as Linux's drivers drive them; expected values are
// QEMU 7.2's (hw/timer/i8254*.c, hw/audio/pcspk.c; see also test/golden/pc/pcprobe-*.txt).
import { portIo } from './portIo';
import { PIT_HZ } from '../../../emulator/devices/pit8254';

const nsForTicks = (t: number): number => Math.ceil((t * 1e9) / PIT_HZ);

test('pit_calibrate_tsc: channel 2 gated on in mode 0, OUT (port 0x61 bit 5) rises at the terminal count', () => {
  const io = portIo();
  const latch = Math.floor(PIT_HZ / (1000 / 50)); // CAL_LATCH, 50 ms
  io.outb(0x61, (io.inb(0x61) & ~0x02) | 0x01);
  io.outb(0x43, 0xb0);
  io.outb(0x42, latch & 0xff); io.outb(0x42, latch >> 8);
  expect(io.inb(0x61) & 0x21).toBe(0x01);          // gate on, OUT low
  io.idle(nsForTicks(latch) - 1000);
  expect(io.inb(0x61) & 0x20).toBe(0);
  io.idle(1000);
  expect(io.inb(0x61) & 0x20).toBe(0x20);
  io.outb(0x43, 0xe8);                               // read-back status of channel 2
  expect(io.inb(0x42)).toBe(0xb0);                   // OUT high, LSB/MSB, mode 0, binary
});

test('counter latch: the latched count survives time until both bytes are read; a second latch is ignored', () => {
  const io = portIo();
  io.outb(0x43, 0xb0); io.outb(0x42, 0x00); io.outb(0x42, 0x40); // 0x4000
  io.idle(nsForTicks(0x100));
  io.outb(0x43, 0x80);
  io.idle(nsForTicks(0x50));
  io.outb(0x43, 0x80);                               // ignored: the first latch is still unread
  const lo = io.inb(0x42), hi = io.inb(0x42);
  expect((hi << 8) | lo).toBe(0x4000 - 0x100);
  const lo2 = io.inb(0x42), hi2 = io.inb(0x42);      // live count again
  expect((hi2 << 8) | lo2).toBe(0x4000 - 0x150);
});

test('read-back command latches count and status of several channels at once', () => {
  const io = portIo();
  io.outb(0x43, 0x34); io.outb(0x40, 0x10); io.outb(0x40, 0x27); // ch0 mode 2, 10000
  io.outb(0x43, 0xb6); io.outb(0x42, 0x00); io.outb(0x42, 0x10); // ch2 mode 3, 4096
  io.idle(nsForTicks(100));
  io.outb(0x43, 0xc2 | 0x08);                        // read-back count+status, channels 0 and 2
  expect(io.inb(0x40)).toBe(0x34);                   // status first: LSB/MSB, mode 2 (OUT low)
  expect(io.inb(0x40) | (io.inb(0x40) << 8)).toBe(10000 - 100);
  expect(io.inb(0x42) & 0x3f).toBe(0x36);            // mode 3
  expect(io.inb(0x42) | (io.inb(0x42) << 8)).toBe(4096 - 200); // mode 3 counts down by two
});

test('LSB-only and MSB-only access', () => {
  const io = portIo();
  io.outb(0x43, 0x90); io.outb(0x42, 0x80);          // ch2 LSB only, mode 0: count 0x80
  expect(io.inb(0x42)).toBe(0x80);
  expect(io.inb(0x42)).toBe(0x80);                   // every read is the LSB
  io.outb(0x43, 0xa0); io.outb(0x42, 0x12);          // MSB only: count 0x1200
  expect(io.inb(0x42)).toBe(0x12);
});

test('channel 0 in mode 2 at 100 Hz raises IRQ 0 once per period; mode 4 (Linux oneshot) once', () => {
  const io = portIo();
  let irqs = 0;
  const orig = io.m.pit.irq0;
  io.m.pit.irq0 = () => { irqs++; orig(); };
  const div = Math.round(PIT_HZ / 100);
  io.outb(0x43, 0x34); io.outb(0x40, div & 0xff); io.outb(0x40, div >> 8);
  io.idle(1e9);
  expect(irqs).toBe(Math.floor(1e9 / nsForTicks(div)));
  expect(io.m.pic.master.irr & 1).toBe(1);           // latched in the PIC
  irqs = 0;
  io.outb(0x43, 0x38); io.outb(0x40, 0x00); io.outb(0x40, 0x10); // mode 4, 4096 ticks
  io.idle(100e6);
  expect(irqs).toBe(1);
});

test('gate: a rising edge restarts channel 2 in mode 2; port 0x61 reads gate, speaker and a toggling refresh bit', () => {
  const io = portIo();
  io.outb(0x61, 0x01);
  io.outb(0x43, 0xb4); io.outb(0x42, 0x00); io.outb(0x42, 0x20); // mode 2, 0x2000
  io.idle(nsForTicks(0x1000));
  io.outb(0x43, 0x80);
  expect(io.inb(0x42) | (io.inb(0x42) << 8)).toBe(0x1000);
  io.outb(0x61, 0x00); io.outb(0x61, 0x03);          // gate low, then high (restart), speaker on
  io.outb(0x43, 0x80);
  expect(io.inb(0x42) | (io.inb(0x42) << 8)).toBe(0x2000);
  const a = io.inb(0x61), b = io.inb(0x61);
  expect(a & 0x03).toBe(0x03);
  expect((a ^ b) & 0x10).toBe(0x10);
  expect(io.inb(0x43)).toBe(0);                      // control register is write-only
});
